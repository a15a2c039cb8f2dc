/**
 * Memory-first writes against a real server: a write resolves once it is in the local view, before
 * its group commit; reads wait for that commit; nothing goes on the wire before its row committed;
 * a group the database refuses leaves the local view with everything staged after it, and the
 * client carries on with the same seqs. The gate is the client's database driver (FaultDriver).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { RejectedEvent } from '../../src/client/options.js';
import { FaultDriver } from '../../src/testing/fault-driver.js';
import { assertConverged, client, server, until } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const items = async (c: { query: (q: string) => Promise<Array<Record<string, unknown>>> }) =>
  (await c.query('MATCH (i:Item) RETURN i.id AS id ORDER BY id')).map((r) => r.id);

test('a write resolves before its commit; a read waits for it; the wire waits for it too', async () => {
  const s = await server();
  const db = new FaultDriver();
  const c = await client(s, { driver: db });
  try {
    await c.whenSynced({ timeout: 10_000 });
    await c.createNode('Item', {}, { id: 'seed' });
    await c.whenSynced({ timeout: 10_000 });
    db.hold();
    await c.createNode('Item', {}, { id: 'a' });
    const run = await db.nextHeld();
    // Resolved, and its commit still waits at the gate: a second write joins the next group.
    await c.createNode('Item', {}, { id: 'b' });
    assert.is(c.getPendingPatchCount(), 2, 'both count as pending');
    let read: unknown[] | undefined;
    const reading = items(c).then((r) => (read = r));
    await new Promise((r) => setTimeout(r, 50));
    assert.is(read, undefined, 'the read waits for the group commit');
    assert.equal((await items(s)).sort(), ['seed'], 'nothing goes on the wire before its commit');
    run.release();
    (await db.nextHeld()).release();
    db.stopHolding();
    await reading;
    assert.equal(read, ['a', 'b', 'seed'], 'the read sees every write resolved before it');
    await assertConverged(s, c);
  } finally {
    db.stopHolding();
    await c.close();
    await s.close();
  }
});

test('where a commit is durable only once saved (a browser), a patch goes on the wire after the save, not the commit', async () => {
  const s = await server();
  const db = new FaultDriver(undefined, { savesLater: true });
  const c = await client(s, { driver: db });
  try {
    const saved = async (id: string) => {
      await c.createNode('Item', {}, { id });
      await db.until(() => db.pendingSaves > 0, 10_000, 'the client to wait for the save after its commit');
    };
    await saved('seed');
    db.save();
    await c.whenSynced({ timeout: 10_000 });
    await saved('a');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await items(s), ['seed'], 'committed and not saved: a crash now would give its seq again');
    db.save();
    await c.whenSynced({ timeout: 10_000 });
    assert.equal(await items(s), ['a', 'seed']);
  } finally {
    db.save();
    await c.close();
    await s.close();
  }
});

test('a refused group commit: its writes and those staged after it leave the local view, rejected', async () => {
  const s = await server();
  const db = new FaultDriver();
  const c = await client(s, { driver: db });
  const rejected: RejectedEvent[] = [];
  c.on('rejected', (r) => rejected.push(r));
  try {
    await c.whenSynced({ timeout: 10_000 });
    await c.createNode('Item', { n: 0 }, { id: 'kept' });
    await c.flush();
    db.hold();
    await c.createNode('Item', { n: 1 }, { id: 'lost1' });
    const run = await db.nextHeld();
    // Staged on top of the group at the gate: they go with it.
    await c.setProperty('node', 'lost1', 'n', 2);
    await c.createNode('Item', { n: 3 }, { id: 'lost2' });
    run.fail('injected: disk full');
    db.stopHolding();
    await until(() => rejected.length === 3, 10_000, 'three rejections');
    assert.ok(
      rejected.every((r) => r.code === 'internal' && r.reason.includes('disk full')),
      JSON.stringify(rejected),
    );
    assert.equal(await items(c), ['kept'], 'the local view is back to the last commit');
    // The seqs they had are given out again: the server sees no gap.
    await c.createNode('Item', { n: 4 }, { id: 'after' });
    await c.whenSynced({ timeout: 10_000 });
    assert.equal(await items(s), ['after', 'kept'], 'later writes reach the server, each once');
    await assertConverged(s, c);
  } finally {
    db.stopHolding();
    await c.close();
    await s.close();
  }
});

test('an awaited loop on a file survives close and reopen, and a second client polling sees it all', async () => {
  const s = await server();
  const path = join(tempDir(), 'loop.kz');
  const a = await client(s, { databasePath: path, clientId: 'looper', autoConnect: false });
  const b = await client(s);
  try {
    for (let i = 0; i < 300; i++) await a.createNode('Item', { n: i }, { id: `n${String(i).padStart(3, '0')}` });
    assert.is(a.getPendingPatchCount(), 300);
    await a.close();
    const again = await client(s, { databasePath: path, clientId: 'looper' });
    try {
      assert.is((await items(again)).length, 300, 'close() flushed every resolved write to the file');
      await until(async () => (await items(b)).length === 300, 20_000, 'the poller to see all 300');
      await assertConverged(s, again, b);
    } finally {
      await again.close();
    }
  } finally {
    await b.close();
    await s.close();
  }
});

test("a write made while others' patch is applied waits its turn, and later writes wait behind it", async () => {
  const s = await server();
  const db = new FaultDriver();
  const a = await client(s, { driver: db });
  const b = await client(s);
  try {
    await a.createNode('Item', { v: 'start' }, { id: 'x' });
    await assertConverged(s, a, b);
    // b's patch reaches a, whose transaction applying it waits at the gate: a's graph is changing.
    db.hold();
    await b.createNode('Other', {}, { id: 'o' });
    const run = await db.nextHeld();
    const waiting = a.setProperty('node', 'x', 'v', 'before');
    // Written as soon as a hears of b's patch: after 'before' in call order, so it must win.
    const fromListener = new Promise<void>((resolve) =>
      a.on('patch', () => void a.setProperty('node', 'x', 'v', 'after').then(resolve)),
    );
    db.stopHolding();
    run.release();
    await Promise.all([waiting, fromListener]);
    await assertConverged(s, a, b);
    const [row] = await a.query("MATCH (i:Item {id: 'x'}) RETURN i.v AS v");
    assert.is(row!.v, 'after', 'seqs follow the calls: the write queued first went first');
  } finally {
    db.stopHolding();
    await a.close();
    await b.close();
    await s.close();
  }
});

test('a burst of un-awaited writes: one frame actor carries it, its verdicts reach the root together, and it counts as pending at once', async () => {
  const s = await server();
  const frames: number[] = [];
  const patchActors = new Set<string>();
  const frameActors = new Set<string>();
  const done: number[] = [];
  const c = await client(s, {
    inspect: (e) => {
      const id = (e.actorRef as { systemId?: string }).systemId ?? '';
      if (id.startsWith('patch:')) patchActors.add(id);
      if (id.startsWith('frame:')) frameActors.add(id);
      if (e.type !== '@xstate.event') return;
      if (e.event.type === 'PATCH.COMMITTED') frames.push(e.event.patches.length);
      if (e.event.type === 'PATCH.DONE') done.push(e.event.done.length);
    },
  });
  try {
    await c.whenSynced({ timeout: 10_000 });
    const writes = Array.from({ length: 100 }, (_, i) => c.createNode('Item', { n: i }));
    assert.is(c.getPendingPatchCount(), 100, 'pending as soon as the calls return');
    await Promise.all(writes);
    await c.flush();
    assert.equal(frames, [100], 'one group commit, one PATCH.COMMITTED for the whole burst');
    await c.whenSynced({ timeout: 20_000 });
    assert.is((await items(s)).length, 100);
    assert.is(
      done.reduce((a, b) => a + b, 0),
      100,
      'every verdict reached the root',
    );
    assert.ok(done.length < 10, `the verdicts of a tick reach the root together (${done.length} events)`);
    assert.equal([...frameActors], ['frame:1'], 'one frame actor carried them');
    assert.equal([...patchActors], [], 'no patch left the common path: none had an actor of its own');
  } finally {
    await c.close();
    await s.close();
  }
});

test('one frame, mixed verdicts from a real server: the rejected patch leaves the frame and rolls back, the others settle on it', async () => {
  // The server's authorize refuses one label: the client cannot know, so the refusal comes as a verdict.
  const s = await server({
    authorize: (_p, patch) => (patch.ops.some((o) => 'label' in o && o.label === 'Secret') ? 'no secrets' : true),
  });
  const systemIds = new Set<string>();
  const c = await client(s, {
    clientId: 'mixed',
    inspect: (e) => systemIds.add((e.actorRef as { systemId?: string }).systemId ?? ''),
  });
  const accepted: string[] = [];
  const rejected: RejectedEvent[] = [];
  c.on('accepted', (a) => accepted.push(a.patchId));
  c.on('rejected', (r) => rejected.push(r));
  try {
    await c.whenSynced({ timeout: 10_000 });
    // One tick: one group commit, one frame actor for the three.
    await Promise.all([
      c.createNode('Item', {}, { id: 'a' }),
      c.createNode('Secret', {}, { id: 's' }),
      c.createNode('Item', {}, { id: 'b' }),
    ]);
    await c.whenSynced({ timeout: 10_000 });
    assert.equal(accepted.sort(), ['mixed:1', 'mixed:3']);
    assert.equal(
      rejected.map((r) => [r.patchId, r.code]),
      [['mixed:2', 'forbidden']],
    );
    assert.equal(await items(c), ['a', 'b'], 'the rejected write left the local graph; the others stay');
    const trace = await c.query('MATCH (x:Secret) RETURN x.id AS id').catch((e: { code?: string }) => e.code);
    assert.is(trace, 'unknown_label', 'no trace of it, its table neither');
    await assertConverged(s, c);
    const frames = [...systemIds].filter((id) => id.startsWith('frame:'));
    const own = [...systemIds].filter((id) => id.startsWith('patch:'));
    assert.is(frames.length, 1, `one frame actor carried the three: ${frames.join(', ')}`);
    assert.equal(own, ['patch:mixed:2'], 'only the rejected patch had an actor of its own');
  } finally {
    await c.close();
    await s.close();
  }
});

test('an awaited loop gives the event loop turns: timers and sockets are not starved until it ends', async () => {
  const s = await server();
  const c = await client(s);
  try {
    await c.whenSynced({ timeout: 10_000 });
    let firedAt = -1;
    let i = 0;
    setTimeout(() => (firedAt = i), 0);
    for (; i < 1000; i++) await c.createNode('Item', { n: i });
    assert.ok(firedAt >= 0 && firedAt < 1000, `a timer set before the loop fired at write ${firedAt}`);
    await c.whenSynced({ timeout: 20_000 });
    assert.is((await items(s)).length, 1000);
  } finally {
    await c.close();
    await s.close();
  }
});

test("a write the model refuses leaves no empty group behind: others' patches still apply", async () => {
  const s = await server();
  const a = await client(s);
  const b = await client(s);
  try {
    await a.createNode('Item', { n: 1 }, { id: 'x' });
    await a.flush();
    const refused = await a.setProperty('node', 'x', 'n', 'text').catch((e: { code: string }) => e.code);
    assert.is(refused, 'type_mismatch');
    await b.createNode('Item', { n: 2 }, { id: 'y' });
    await assertConverged(s, a, b);
    assert.is(a.getMetrics().snapshots, 0, 'no resync: the graph never went out of step');
  } finally {
    await a.close();
    await b.close();
    await s.close();
  }
});

test('a write after close() is refused with closed, not resolved and dropped', async () => {
  const s = await server();
  const c = await client(s);
  try {
    await c.createNode('Item', {}, { id: 'before' });
    await c.close();
    const code = await c.createNode('Item', {}, { id: 'after' }).then(
      () => 'resolved',
      (e: { code: string }) => e.code,
    );
    assert.is(code, 'closed');
  } finally {
    await s.close();
  }
});

test.run();
