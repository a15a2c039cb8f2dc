/**
 * visualizations/browser-example.png: `node --import tsx examples/browser/screenshot.ts [out.png]`.
 * Starts the example (an embedded sync server), opens its page twice side by side in Debian's
 * Chromium (/two.html: two iframes of the page, two clients, 1000 px wide), adds notes through both forms, then
 * switches the right one offline and adds one more there: it shows on the right with pending 1,
 * not on the left. About 10 s.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Frame, Page } from 'playwright-core';
import { launchChromium } from '../../test/browser/chromium.js';
import { startExample } from './serve.js';

const out =
  process.argv[2] ?? join(fileURLToPath(new URL('../../visualizations/', import.meta.url)), 'browser-example.png');

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function frame(page: Page, id: string): Promise<Frame> {
  const f = await (await page.$(`#${id}`))!.contentFrame();
  await f!.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return f!;
}

const count = (f: Frame) => f.$$eval('#notes li.note', (els) => els.length);
const text = (f: Frame, id: string) => f.$eval(`#${id}`, (e) => e.textContent ?? '');

async function add(f: Frame, note: string): Promise<void> {
  await f.fill('#text', note);
  await f.click('#submit');
}

const example = await startExample({ quiet: true });
const chromium = await launchChromium({ width: 1000, height: 470 });
try {
  const page = await chromium.newPage();
  await page.goto(`${example.url}two.html`);
  const [left, right] = [await frame(page, 'left'), await frame(page, 'right')];
  await until(
    async () => (await text(left, 'status')) === 'ready' && (await text(right, 'status')) === 'ready',
    'ready',
  );
  await add(left, 'Buy milk');
  await until(async () => (await count(right)) === 1, 'the first note on the right');
  await add(right, 'Call Alice about Friday');
  await add(left, 'Book the flights');
  await until(async () => (await count(left)) === 3 && (await count(right)) === 3, 'three notes on both');
  await until(async () => (await text(right, 'version')) === '3' && (await text(left, 'version')) === '3', 'v3');
  await right.check('#offline');
  await until(async () => (await text(right, 'status')) !== 'ready', 'the right one offline');
  await add(right, 'Water the plants (written offline)');
  await until(async () => (await text(right, 'pending')) === '1', 'one pending on the right');
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await chromium.close();
  await example.close();
}
