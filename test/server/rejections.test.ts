/**
 * A client learns every verdict, however old (#17, item 1): rejections outlive the log and go only
 * when their client acknowledges them; past the per-client bound an outcome is reported lost, never
 * accepted. Real server, raw protocol peers (the client's machinery would acknowledge on its own).
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PatchOutcome } from '../../src/protocol/types.js';
import type { SyncServer } from '../../src/server/sync-server.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { server } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

/** A set_property on a node nobody made: rejected `not_found`. */
const doomed = { op: 'set_property', target: 'node', id: 'nobody', key: 'x', value: 1 } as const;
const node = (id: string) => ({ op: 'create_node', label: 'Thing', id, properties: {} }) as const;

async function answers(peer: RawPeer, ops: Array<typeof doomed | ReturnType<typeof node>>): Promise<string[]> {
  const out: string[] = [];
  for (const op of ops) out.push((await peer.response(peer.patch([op]).id)).status);
  return out;
}

/** `others` accepted patches from another client: enough to compact a short log several times. */
async function churn(s: SyncServer, others: number): Promise<void> {
  const peer = await RawPeer.connect(s.url, `churn-${Date.now()}`);
  await peer.sync();
  for (let i = 0; i < others; i++) await peer.response(peer.patch([node(`${peer.clientId}-${i}`)]).id);
  await peer.close();
}

/** What the server says of `clientId`'s seqs after `ackedSeq`, in a fresh sync_request. */
async function outcomesAfter(s: SyncServer, clientId: string, ackedSeq: number): Promise<PatchOutcome[]> {
  const peer = await RawPeer.connect(s.url, clientId);
  try {
    const [first] = await peer.sync(0, { ackedSeq, serverId: s.serverId });
    return first?.outcomes ?? [];
  } finally {
    await peer.close();
  }
}

const brief = (o: PatchOutcome[]) => o.map((x) => `${x.seq}:${x.status}:${x.code ?? ''}`);

test('a rejection older than the log is still reported as rejected, with its code', async () => {
  const s = await server({ logRetention: 4 });
  try {
    const a = await RawPeer.connect(s.url, 'a');
    await a.sync();
    assert.equal(await answers(a, [doomed, node('a1')]), ['rejected', 'accepted']);
    await a.close(); // as if the answers were lost: `a` never acknowledges them
    await churn(s, 30);
    assert.ok(s.getVersion() - 4 > 1, 'the log has moved past both patches');
    assert.equal(brief(await outcomesAfter(s, 'a', 0)), ['1:rejected:not_found', '2:accepted:']);
  } finally {
    await s.close();
  }
});

test('past the bound the oldest outcome is lost, reported rejected/internal; acknowledged ones go; all of it survives a restart', async () => {
  const databasePath = join(tempDir(), 'server.kz');
  const options = { databasePath, logRetention: 4, rejectionRetention: 2 };
  let s = await server(options);
  try {
    const a = await RawPeer.connect(s.url, 'a');
    await a.sync();
    assert.equal(await answers(a, [doomed, doomed, doomed, node('a4')]), [
      'rejected',
      'rejected',
      'rejected',
      'accepted',
    ]);
    await a.close();
    await churn(s, 20);
    const expected = ['1:rejected:internal', '2:rejected:not_found', '3:rejected:not_found', '4:accepted:'];
    const lost = await outcomesAfter(s, 'a', 0);
    assert.equal(brief(lost), expected);
    assert.match(lost[0]!.reason!, /no longer keeps the outcome of seq 1/);

    await s.close();
    s = await server(options);
    assert.equal(brief(await outcomesAfter(s, 'a', 0)), expected, 'the same after a restart');

    // `a` acknowledges through seq 3; the next group commit drops its records for good.
    assert.equal(brief(await outcomesAfter(s, 'a', 3)), ['4:accepted:']);
    await churn(s, 1);
    const rows = await s.query('MATCH (r:_Rejection) RETURN r.id AS id');
    assert.equal(rows, [], 'acknowledged rejections leave the database');
    await s.close();
    s = await server(options);
    // A client that asks again about what it acknowledged is never told `accepted`.
    assert.equal(brief(await outcomesAfter(s, 'a', 0)), [
      '1:rejected:internal',
      '2:rejected:internal',
      '3:rejected:internal',
      '4:accepted:',
    ]);
  } finally {
    await s.close();
  }
});

test('a group of rejections does not move the log: compaction counts only the versions a group took', async () => {
  const s = await server({ logRetention: 10 });
  try {
    const a = await RawPeer.connect(s.url, 'a');
    await a.sync(0, { protocol: 2 });
    for (let i = 1; i <= 5; i++) await a.response(a.patch([node(`a${i}`)]).id);
    // Thirty doomed patches in one frame: one group, no version taken.
    const frame = Array.from({ length: 30 }, () => ({ type: 'patch', patch: a.makePatch([doomed], 5) }));
    a.send(frame);
    await a.response(frame.at(-1)!.patch.id);
    assert.is(s.getVersion(), 5);
    const [answer] = await a.sync(3);
    assert.is(answer!.mode, 'delta', 'versions 4 and 5 are still in the log');
    assert.equal(
      answer!.patches!.map((p) => p.version),
      [4, 5],
    );
    await a.close();
  } finally {
    await s.close();
  }
});

test.run();
