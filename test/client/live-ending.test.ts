/**
 * How live queries end, against a real server and real kuzu-wasm replicas: the client closing (a
 * query made meanwhile too), and listeners that unsubscribe or close during an emission.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncError } from '../../src/protocol/errors.js';
import { client, server, until } from '../helpers/sync.js';
import { trappableDriver } from '../helpers/trappable-driver.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

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

test('the client fails (its engine crashed) and closes: its live queries fail with its error; loops throw it', async () => {
  const s = await server();
  const { driver, trap } = trappableDriver('live-ending-test');
  const c = await client(s, { driver, logger: quiet });
  try {
    await c.whenSynced({ timeout: 10_000 });
    await c.createNode('Item', { n: 1 });
    const q = c.live('MATCH (i:Item) RETURN i.n AS n');
    const seen: unknown[] = [];
    const heard: unknown[] = [];
    q.subscribe(
      (rows) => seen.push(rows),
      (e) => heard.push(e),
    );
    await until(() => seen.length === 1, 10_000, 'the first result');
    const it = loop(q);
    const failures: SyncError[] = [];
    c.on('error', (e) => failures.push(e));

    await trap().catch(() => undefined);
    // The first write to meet the dead engine: its commit fails, and the client closes on its own.
    await c.createNode('Item', { n: 2 });
    await until(() => failures.length > 0, 10_000, 'the client to report the crash');
    assert.match(failures[0]!.message, /database engine crashed/);
    assert.is(await within(it.ended, 10_000), failures[0], 'the loop throws the client failure');
    assert.equal(heard, [failures[0]], 'onError hears it, once');
    await until(() => c.getStatus() === 'closed', 10_000, 'the client to close');

    // Subscribed to or iterated after the failure: its error at once, not its stale last result.
    const after: unknown[] = [];
    q.subscribe(
      (rows) => after.push(rows),
      (e) => after.push(e),
    );
    assert.equal(after, [failures[0]]);
    const again = loop(q);
    assert.is(await within(again.ended, 5000), failures[0]);
    assert.equal(again.got, []);

    // Made after the failure, a query fails with it too, at once.
    const late = c.live('MATCH (i:Item) RETURN i.n AS n');
    const lateHeard: unknown[] = [];
    late.subscribe(
      () => assert.unreachable('no result after the failure'),
      (e) => lateHeard.push(e),
    );
    assert.equal(lateHeard, [failures[0]]);
    assert.is(await within(loop(late).ended, 5000), failures[0]);
  } finally {
    await c.close();
    await s.close();
  }
});

test('a listener unsubscribed, or whose query closed, during an emission is not called with it', async () => {
  const s = await server();
  const c = await client(s);
  try {
    await c.whenSynced({ timeout: 10_000 });
    const cypher = 'MATCH (i:Item) RETURN i.n AS n';
    const heard: string[] = [];
    const q = c.live(cypher);
    let stopB = () => {};
    q.subscribe((rows) => {
      heard.push(`a ${rows.length}`);
      if (rows.length) stopB();
    });
    stopB = q.subscribe((rows) => heard.push(`b ${rows.length}`));
    const closing = c.live(cypher);
    closing.subscribe((rows) => {
      heard.push(`c ${rows.length}`);
      if (rows.length) closing.close();
    });
    closing.subscribe((rows) => heard.push(`d ${rows.length}`));
    await until(() => heard.length === 4, 10_000, 'the first results');

    await c.createNode('Item', { n: 1 });
    await until(() => q.current?.length === 1 && heard.includes('c 1'), 10_000, 'the write to show');
    // Confirmed: the write's result is told again with its new pending count (retell) by then.
    await c.whenSynced({ timeout: 10_000 });
    await c.query(cypher);
    assert.equal([...new Set(heard)].sort(), ['a 0', 'a 1', 'b 0', 'c 0', 'c 1', 'd 0']);
  } finally {
    await c.close();
    await s.close();
  }
});

test('iterating a closed query ends at once, with no value; subscribing to it hears nothing', async () => {
  const s = await server();
  const c = await client(s);
  try {
    await c.whenSynced({ timeout: 10_000 });
    const q = c.live('RETURN 1 AS x');
    await until(() => q.current !== undefined, 10_000, 'the first result');
    q.close();
    const it = loop(q);
    assert.is(await within(it.ended, 5000), 'ended');
    assert.equal(it.got, [], 'no stale result');
    q.subscribe(() => assert.unreachable('a closed query tells nothing'));
  } finally {
    await c.close();
    await s.close();
  }
});

test.run();
