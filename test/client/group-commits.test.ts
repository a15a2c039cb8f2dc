/**
 * A burst of un-awaited writes commits in groups of at most 1,000 (GROUP_WRITES in
 * local-writes.ts), each sent once committed: the server works on the first group while the later
 * ones commit here. A group that fails to commit leaves the local view with every group staged
 * after it (they were planned on top of it); the groups before it are safe and go on as usual.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FaultDriver, writesValue } from '../../src/testing/fault-driver.js';
import { client, server, until } from '../helpers/sync.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const WRITES = 2500;

test('a burst goes on the wire group by group: the server has the first group while the second is still held at the database', async () => {
  const s = await server();
  const driver = new FaultDriver();
  const c = await client(s, { driver });
  try {
    await c.whenSynced({ timeout: 10_000 });
    driver.hold(writesValue('w1500'));
    const writes = Array.from({ length: WRITES }, (_, i) => c.createNode('Item', { n: i }, { id: `w${i}` }));
    await Promise.all(writes);
    const held = await driver.nextHeld();
    await until(() => s.getVersion() === 1000, 10_000, 'the server to accept the first group');
    await new Promise((r) => setTimeout(r, 200));
    assert.is(s.getVersion(), 1000, 'and nothing of the held group');
    held.release();
    driver.stopHolding();
    await c.whenSynced({ timeout: 30_000 });
    assert.is(s.getVersion(), WRITES);
  } finally {
    driver.stopHolding();
    await c.close();
    await s.close();
  }
});

test('a group that fails to commit takes the groups after it out of the local view; the ones before it stay and are accepted', async () => {
  const s = await server();
  const driver = new FaultDriver();
  const c = await client(s, { driver, logger: quiet });
  const rejected: string[] = [];
  c.on('rejected', (r) => rejected.push(r.patchId));
  try {
    await c.whenSynced({ timeout: 10_000 });
    driver.failNext(writesValue('w1500'), 'injected: the disk is full');
    const writes = Array.from({ length: WRITES }, (_, i) => c.createNode('Item', { n: i }, { id: `w${i}` }));
    await Promise.all(writes);
    await until(() => rejected.length === WRITES - 1000, 30_000, 'the writes of the failed groups to be rejected');
    await c.whenSynced({ timeout: 30_000 });
    assert.is(s.getVersion(), 1000, 'the first group reached the server');
    const [here] = await c.query('MATCH (i:Item) RETURN count(*) AS n, max(i.n) AS top');
    assert.equal([Number(here!.n), Number(here!.top)], [1000, 999], 'the local view holds the first group only');
    // Their seqs are given out again: the next write follows the first group's.
    await c.createNode('Item', { n: -1 }, { id: 'after' });
    await c.whenSynced({ timeout: 10_000 });
    assert.is(s.getVersion(), 1001);
  } finally {
    await c.close();
    await s.close();
  }
});

test.run();
