/**
 * A real Chromium (Debian's /usr/bin/chromium, never a downloaded one) driven by playwright-core,
 * and a static HTTP server on 127.0.0.1 serving the browser bundle and the test page.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { contentType, sendFile } from '../../examples/browser/static-file.js';
import { bundleBrowser } from '../../scripts/bundle-browser.mjs';
import { type Chromium, launchChromium } from './chromium.js';

export interface Harness {
  base: string;
  page: Page;
  /** Opens another tab of the same browser on the test page. */
  newPage(): Promise<Page>;
  /** The bundle's sizes in bytes, as the bundle script printed them. */
  sizes: Record<string, { bytes: number; gzip: number }>;
  /** The bundle's folder, which the server serves. */
  dir: string;
  /** Every request the server answered so far. */
  served: Served;
  close(): Promise<void>;
}

/** What the static server answered, in order: a path and its status. */
export type Served = Array<{ path: string; status: number }>;

/** Serves `dir`, and the test page at / (a module script: page.js, next to this file). */
function staticServer(dir: string, served: Served): Promise<Server> {
  const page = fileURLToPath(new URL('./page.js', import.meta.url));
  const html =
    '<!doctype html><meta charset="utf-8"><title>kuzu-sync</title><script type="module" src="/page.js"></script>';
  const http = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    res.on('finish', () => served.push({ path, status: res.statusCode }));
    const file = path === '/page.js' ? page : join(dir, path);
    if (path === '/') res.writeHead(200, { 'content-type': contentType(path), 'cache-control': 'no-store' }).end(html);
    else if (path === '/favicon.ico') res.writeHead(204).end();
    else if (path.includes('..') || !existsSync(file)) res.writeHead(404).end();
    else sendFile(req, res, file);
  });
  return new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(http)));
}

export async function openHarness(): Promise<Harness> {
  const out = mkdtempSync(join(tmpdir(), 'kuzu-sync-bundle-'));
  const sizes = await bundleBrowser(out);
  const served: Served = [];
  const http = await staticServer(out, served);
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
    dir: out,
    served,
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
