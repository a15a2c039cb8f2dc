/**
 * How live queries end, against a real server and real kuzu-wasm replicas: the client closing (a
 * query made meanwhile too), and listeners that unsubscribe or close during an emission.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { client, server } from '../helpers/sync.js';

/** What `p` settles to, or 'still waiting' after `ms`: a loop that never ends fails the test, not the run. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'still waiting'>((r) => (timer = setTimeout(() => r('still waiting'), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Runs a `for await` loop over `q`: what it got, and how it ended ('ended' or the error it threw). */
function loop(q: AsyncIterable<unknown[]>) {
  const got: unknown[][] = [];
  const ended = (async () => {
    try {
      for await (const rows of q) got.push(rows);
      return 'ended';
    } catch (e) {
      return e;
    }
  })();
  return { got, ended };
}

test('a live query made while the client closes is closed at once: no result, its loop ends', async () => {
  const s = await server();
  try {
    const c = await client(s);
    await c.whenSynced({ timeout: 10_000 });
    const closing = c.close();
    const q = c.live('RETURN 1 AS x');
    const seen: unknown[] = [];
    q.subscribe((rows) => seen.push(rows));
    const it = loop(q);
    await closing;
    assert.is(await within(it.ended, 5000), 'ended');
    assert.equal(seen, [], 'no subscriber heard a result');
    assert.equal(it.got, [], 'the loop got no result');
    assert.is(q.current, undefined);
  } finally {
    await s.close();
  }
});

test.run();
