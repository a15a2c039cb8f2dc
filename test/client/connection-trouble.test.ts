/**
 * What keeps a client from connecting is said, not only retried: two live clients on one clientId
 * (the replaced one stops instead of taking turns with the other, each shadowing the other's
 * seqs), and an upgrade the server refuses with a status no retry gets past.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Logger } from '../../src/logger.js';
import type { ConnectionStatus } from '../../src/index.js';
import { SyncError } from '../../src/protocol/errors.js';
import { rejects } from '../helpers/assert.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { client, server, synced, until } from '../helpers/sync.js';

/** A logger that keeps what it is told, by level. */
function listening(): Logger & { lines: Record<'info' | 'warn', string[]> } {
  const lines = { info: [] as string[], warn: [] as string[] };
  const keep =
    (level: 'info' | 'warn') =>
    (...a: unknown[]) =>
      lines[level].push(a.map(String).join(' '));
  return { lines, debug() {}, info: keep('info'), warn: keep('warn'), error: keep('warn') };
}

test('a second live client on the same clientId replaces the first, which stops and says why; nothing written is lost', async () => {
  const s = await server();
  const first = await client(s, { clientId: 'shared', logger: listening() });
  const statuses: ConnectionStatus[] = [];
  const errors: SyncError[] = [];
  first.on('status', (st) => statuses.push(st));
  first.on('error', (e) => errors.push(e));
  try {
    await synced(first);
    await first.createNode('Item', {}, { id: 'from-first' });
    await synced(first);
    const second = await client(s, { clientId: 'shared', logger: listening() });
    try {
      await until(() => first.getStatus() === 'unauthorized');
      const e = await rejects(first.whenSynced({ timeout: 5_000 }), 'forbidden');
      assert.match(e.message, /another client connected with this clientId and replaced this one \(close 4000\)/);
      assert.ok(
        errors.some((x) => x.code === 'forbidden'),
        'an error event says it',
      );
      // Written while stopped: kept, pending, not sent under a seq the other client also uses.
      await first.createNode('Item', {}, { id: 'while-replaced' });
      await synced(second);
      await second.createNode('Item', {}, { id: 'from-second' });
      await synced(second);
      // The first stays down: no turn-taking with the second (each turn would replace the other).
      await new Promise((r) => setTimeout(r, 600));
      assert.is(first.getStatus(), 'unauthorized');
      assert.is(second.getStatus(), 'ready');
      assert.equal(
        statuses.filter((st) => st === 'ready'),
        ['ready'],
        'the first was ready once, before the second came',
      );
      assert.equal(
        (await s.query('MATCH (i:Item) RETURN i.id AS id ORDER BY id')).map((r) => r.id),
        ['from-first', 'from-second'],
      );
      assert.equal(
        first.pendingPatches().map((p) => p.ops.map((op) => ('id' in op ? op.id : '')).join()),
        ['while-replaced'],
      );
    } finally {
      await second.close();
    }
  } finally {
    await first.close();
    await s.close();
  }
});

test("a client's own stale socket never replaces its newer one: the newest accepted connection keeps the clientId, whatever order the sync_requests come in", async () => {
  const s = await server();
  try {
    // The socket a client gave up on (its sync_request held up on the way) and the one it opened next.
    const stale = await RawPeer.connect(s.url, 'me');
    const fresh = await RawPeer.connect(s.url, 'me');
    await fresh.sync(0);
    stale.send({ type: 'sync_request', clientId: 'me', fromVersion: 0, protocol: 1 });
    await until(() => stale.closed);
    assert.is(stale.closeCode, 4000, 'the stale one goes');
    assert.is(stale.received.length, 0, 'unanswered');
    fresh.send({ type: 'heartbeat', ts: 7 });
    await fresh.next((m) => m.type === 'heartbeat');
    assert.not.ok(fresh.closed, 'the newer one stays');
    // And the usual way round: a newer connection replaces an older one that already syncs.
    const newer = await RawPeer.connect(s.url, 'me');
    await newer.sync(0);
    await until(() => fresh.closed);
    assert.is(fresh.closeCode, 4000);
    assert.not.ok(newer.closed);
    newer.ws.close();
  } finally {
    await s.close();
  }
});

test('an upgrade refused with an HTTP status is a warning, once, and the wait that runs out names it', async () => {
  const s = await server();
  const logger = listening();
  const c = await client(`${s.url.replace(/\/sync$/, '')}/wrong-path`, { logger });
  try {
    const e = await rejects(c.whenSynced({ timeout: 1_500 }), 'timeout');
    assert.match(e.message, /last connection failure: ws:\S+\/wrong-path: cannot connect: HTTP 404/);
    const told = logger.lines.warn.filter((l) => l.includes('HTTP 404'));
    assert.is(told.length, 1, `told once, not per attempt: ${JSON.stringify(logger.lines.warn)}`);
    assert.match(told[0]!, /ws:\/\/127\.0\.0\.1:\d+\/wrong-path: cannot connect: HTTP 404 Not Found at the upgrade/);
  } finally {
    await c.close();
    await s.close();
  }
});

test('a server that is down is only info (it may come back), and the wait that runs out names the network error', async () => {
  const s = await server();
  const url = s.url;
  await s.close();
  const logger = listening();
  const c = await client(url, { logger });
  try {
    const e = await rejects(c.whenSynced({ timeout: 1_000 }), 'timeout');
    assert.match(e.message, /last connection failure: ws:\S+: cannot connect: connect ECONNREFUSED/);
    assert.equal(logger.lines.warn, []);
    assert.is(logger.lines.info.filter((l) => l.includes('ECONNREFUSED')).length, 1);
  } finally {
    await c.close();
  }
});

test('a token provider that throws is retried, and the wait that runs out names it; once it answers, the client connects', async () => {
  const s = await server();
  let down = true;
  const errors: SyncError[] = [];
  const c = await client(s, {
    logger: listening(),
    token: () => {
      if (down) throw new Error('vault unreachable');
      return 't';
    },
  });
  c.on('error', (e) => errors.push(e));
  try {
    const e = await rejects(c.whenSynced({ timeout: 1_000 }), 'timeout');
    assert.match(e.message, /last connection failure: the token provider: vault unreachable/);
    assert.ok(errors.some((x) => x.code === 'unauthorized' && /vault unreachable/.test(x.message)));
    assert.is.not(c.getStatus(), 'unauthorized', 'retried, not given up');
    down = false;
    await c.whenSynced({ timeout: 10_000 });
  } finally {
    await c.close();
    await s.close();
  }
});

test.run();
