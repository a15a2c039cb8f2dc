/**
 * A real Chromium (Debian's /usr/bin/chromium, never a downloaded one) driven by playwright-core,
 * and a static HTTP server on 127.0.0.1 serving the browser bundle and the test page.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import { bundleBrowser } from '../../scripts/bundle-browser.mjs';
import { type Chromium, launchChromium } from './chromium.js';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.html': 'text/html; charset=utf-8',
};

export interface Harness {
  base: string;
  page: Page;
  /** Opens another tab of the same browser on the test page. */
  newPage(): Promise<Page>;
  /** The bundle's sizes in bytes, as the bundle script printed them. */
  sizes: Record<string, { bytes: number; gzip: number }>;
  close(): Promise<void>;
}

/** Serves `dir`, and the test page at / (a module script: page.js, next to this file). */
function staticServer(dir: string): Promise<Server> {
  const page = readFileSync(new URL('./page.js', import.meta.url));
  const html =
    '<!doctype html><meta charset="utf-8"><title>kuzu-sync</title><script type="module" src="/page.js"></script>';
  const http = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let body: Buffer | string | undefined;
    if (path === '/') body = html;
    else if (path === '/page.js') body = page;
    else if (!path.includes('..') && existsSync(join(dir, path))) body = readFileSync(join(dir, path));
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? TYPES['.html']!, 'cache-control': 'no-store' });
    res.end(body);
  });
  return new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(http)));
}

export async function openHarness(): Promise<Harness> {
  const out = mkdtempSync(join(tmpdir(), 'kuzu-sync-bundle-'));
  const sizes = await bundleBrowser(out);
  const http = await staticServer(out);
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  let browser: Chromium;
  try {
    browser = await launchChromium();
  } catch (e) {
    http.close();
    rmSync(out, { recursive: true, force: true });
    throw e;
  }
  const newPage = async () => {
    const p = await browser.newPage();
    await p.goto(`${base}/`);
    await p.waitForFunction('window.kzReady === true');
    return p;
  };
  return {
    base,
    page: await newPage(),
    newPage,
    sizes,
    async close() {
      await browser.close();
      http.close();
      rmSync(out, { recursive: true, force: true });
    },
  };
}

/** Calls `kz.<fn>(...args)` in the page; arguments and result go as JSON. */
export function inPage<T = unknown>(page: Page, fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(`kz.${fn}(...${JSON.stringify(args)})`) as Promise<T>;
}
