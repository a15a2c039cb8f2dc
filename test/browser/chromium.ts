/**
 * Debian's Chromium (never a downloaded one), launched by playwright-core with a fresh profile in a
 * temp dir that close() removes: for the example's test and its screenshot script. The flags are the
 * ones test/browser/harness.ts launches with (that file keeps its own copy; it exports CHROMIUM only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM } from './harness.js';

export { CHROMIUM };

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  context: BrowserContext;
  /** A new tab, its page errors and console errors printed to stderr. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(viewport = { width: 500, height: 560 }): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'kuzu-sync-chromium-'));
  let context: BrowserContext;
  try {
    // The profile goes in as --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    async newPage() {
      const p = await context.newPage();
      p.on('pageerror', (e) => console.error(`[page] ${e.message}`));
      p.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') console.error(`[page ${m.type()}] ${m.text()}`);
      });
      return p;
    },
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
