/**
 * Debian's Chromium (never a downloaded one), launched by playwright-core with a fresh profile in a
 * temp dir that close() removes: for every suite of test/browser, the example's screenshot script
 * and the browser bench.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Runs `suite` when there is a browser. Without one: under CI=true a failing test, never a skip;
 * elsewhere no test at all, and why (not test.skip: test/run.ts counts uvu's skips against its total).
 */
export function ifChromium(name: string, suite: () => void): void {
  if (existsSync(CHROMIUM)) return suite();
  const why = `no browser at ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.CI === 'true')
    test('a browser to test in', () => assert.unreachable(`${why}: under CI=true this fails, never skips`));
  else console.log(`${name} skipped: ${why}`);
  test.run();
}

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
