/**
 * Whether Chromium took kuzu-wasm's compiled code from its code cache: a trace of V8's `v8.wasm`
 * events (a light category) while `action` runs, in the page and its workers. A module deserialized
 * from the cache shows `wasm.Deserialize`; one compiled from its bytes does not. For the bench: V8
 * decides when to write the cache (once enough optimized code exists), so no test asserts a hit.
 */
import type { Page } from 'playwright-core';

export interface WasmTrace<T> {
  result: T;
  /** A module came from Chromium's code cache. */
  cacheHit: boolean;
}

export async function traceWasm<T>(page: Page, action: () => Promise<T>): Promise<WasmTrace<T>> {
  const cdp = await page.context().newCDPSession(page);
  const names = new Set<string>();
  cdp.on('Tracing.dataCollected', (e) => {
    for (const event of e.value) names.add(String(event.name));
  });
  const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: ['v8.wasm'] }, transferMode: 'ReportEvents' });
  try {
    const result = await action();
    await cdp.send('Tracing.end');
    await complete;
    return { result, cacheHit: names.has('wasm.Deserialize') };
  } finally {
    await cdp.detach().catch(() => {});
  }
}
