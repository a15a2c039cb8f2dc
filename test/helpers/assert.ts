import * as assert from 'uvu/assert';

/** uvu has no async throws: await `p` and check it rejected, optionally with a SyncError code or message match. */
export async function rejects(p: Promise<unknown>, expect?: string | RegExp): Promise<Error> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  if (!error) assert.unreachable('expected a rejection');
  const e = error as Error & { code?: string };
  if (typeof expect === 'string') assert.is(e.code, expect, `code of: ${e.message}`);
  else if (expect) assert.match(e.message, expect);
  return e;
}
