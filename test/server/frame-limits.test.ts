/**
 * No frame the server sends is larger than maxMessageBytes: a patch is taken only if its message
 * leaves PATCH_ENVELOPE_BYTES for the envelopes it travels on in (patch_broadcast, a delta's
 * sync_state), as the server writes it; sync_state chunks are sized by the limit. The client's own
 * check of a write applies the same rule.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maxPatchMessageBytes, PATCH_ENVELOPE_BYTES } from '../../src/protocol/decode.js';
import type { Patch } from '../../src/protocol/types.js';
import { rejects } from '../helpers/assert.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { client, server, synced } from '../helpers/sync.js';

const LIMIT = 64 * 1024;
const MAX_PATCH = maxPatchMessageBytes(LIMIT);

/** A peer that keeps the size of every frame it gets, in bytes. */
async function measured(url: string, clientId: string, protocol = 1): Promise<{ p: RawPeer; sizes: number[] }> {
  const p = await RawPeer.connect(url, clientId);
  const sizes: number[] = [];
  p.ws.on('message', (d: Buffer) => sizes.push(d.length));
  await p.sync(0, { protocol });
  return { p, sizes };
}

const bytes = (p: Patch) => Buffer.byteLength(JSON.stringify({ type: 'patch', patch: p }));

/** A create_node patch whose message is exactly `size` bytes (a string of two-byte characters, padded). */
function patchOf(p: RawPeer, id: string, size: number, seq: number): Patch {
  const make = (s: string) => p.makePatch([{ op: 'create_node', label: 'Doc', id, properties: { s } }], 0, seq);
  const base = bytes(make(''));
  const n = size - base;
  return make('é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2));
}

test('a patch that fits with room for its envelopes is broadcast and sent in deltas within the limit; one byte more is rejected', async () => {
  const s = await server({ maxMessageBytes: LIMIT });
  const a = await measured(s.url, 'A');
  const b = await measured(s.url, 'B', 2);
  try {
    const fits = patchOf(a.p, 'd1', MAX_PATCH, 1);
    assert.is(bytes(fits), MAX_PATCH);
    a.p.send({ type: 'patch', patch: fits });
    assert.is((await a.p.response(fits.id)).status, 'accepted');
    await b.p.next((m) => m.type === 'patch_broadcast');
    const over = patchOf(a.p, 'd2', MAX_PATCH + 1, 2);
    a.p.send({ type: 'patch', patch: over });
    const r = await a.p.response(over.id);
    assert.equal([r.status, r.code], ['rejected', 'message_too_large'], 'within the frame limit, not its room');
    // A graph large enough that a delta from 0 beats a snapshot: 2,700 small nodes.
    for (let k = 0; k < 3; k++) {
      const ops = Array.from({ length: 900 }, (_, i) => ({
        op: 'create_node' as const,
        label: 'Doc',
        id: `f${k}-${i}`,
        properties: {},
      }));
      assert.is((await a.p.response(a.p.patch(ops, 1, 3 + k).id)).status, 'accepted');
    }
    // The first chunk of a delta from 0 holds the big patch, which does not fit beside its head.
    const c = await measured(s.url, 'C', 2);
    const state = await c.p.sync(0, { protocol: 2 });
    assert.ok(state.every((m) => m.mode === 'delta'));
    for (const [who, sizes] of [
      ['broadcast', b.sizes],
      ['delta', c.sizes],
    ] as const) {
      assert.ok(Math.max(...sizes) <= LIMIT, `${who} frames ${sizes.join(',')} within ${LIMIT}`);
    }
    assert.ok(Math.max(...b.sizes) > LIMIT - PATCH_ENVELOPE_BYTES, 'the broadcast really was near the limit');
  } finally {
    await Promise.all([a.p.close(), b.p.close()]);
    await s.close();
  }
});

test('the size judged is that of the patch as the server sends it on, not of the frame it came in', async () => {
  const s = await server({ maxMessageBytes: LIMIT });
  const a = await measured(s.url, 'A');
  const b = await measured(s.url, 'B');
  try {
    // 5,000 numbers written `1e20` (4 characters) that JSON.stringify writes in 21: 26 KB in, 110 KB out.
    const p = a.p.makePatch([{ op: 'create_node', label: 'Doc', id: 'n', properties: { xs: [0] } }], 0, 1);
    const frame = JSON.stringify({ type: 'patch', patch: p }).replace('[0]', `[${Array(5000).fill('1e20')}]`);
    assert.ok(Buffer.byteLength(frame) < MAX_PATCH);
    a.p.sendRaw(frame);
    const r = await a.p.response(p.id);
    assert.equal([r.status, r.code], ['rejected', 'message_too_large']);
    assert.ok(Math.max(...b.sizes) <= LIMIT, `B got frames of ${b.sizes.join(',')}`);
  } finally {
    await Promise.all([a.p.close(), b.p.close()]);
    await s.close();
  }
});

test('snapshot and delta chunks are sized by maxMessageBytes, counting bytes, not characters', async () => {
  const s = await server({ maxMessageBytes: LIMIT });
  const a = await measured(s.url, 'A', 2);
  try {
    // 40 nodes of 20,000 two-byte characters: 1.6 MB, in chunks of the old 256 K characters 512 KB frames.
    for (let i = 1; i <= 40; i++) {
      const p = a.p.makePatch([
        { op: 'create_node', label: 'Doc', id: `d${i}`, properties: { s: 'é'.repeat(10_000) } },
      ]);
      a.p.send({ type: 'patch', patch: p });
    }
    await a.p.response('A:40', 30_000);
    for (const extra of [{ snapshot: true }, {}]) {
      const c = await measured(s.url, `C${JSON.stringify(extra).length}`, 2);
      const from = c.sizes.length;
      const chunks = await c.p.sync(0, { protocol: 2, ...extra });
      const sizes = c.sizes.slice(from);
      assert.ok(chunks.length > 10, `${chunks.length} chunks (${chunks[0]!.mode})`);
      assert.ok(Math.max(...sizes) <= LIMIT, `${chunks[0]!.mode} frames ${sizes.join(',')} within ${LIMIT}`);
      await c.p.close();
    }
  } finally {
    await a.p.close();
    await s.close();
  }
});

test("the client's own check of a write uses the same rule", async () => {
  const s = await server({ maxMessageBytes: LIMIT });
  const c = await client(s, { clientId: 'c', maxMessageBytes: LIMIT });
  try {
    await synced(c);
    // About 200 bytes under the limit: the old check let it through, and the server rejected it.
    const e = await rejects(c.createNode('Doc', { s: 'x'.repeat(LIMIT - 400) }, { id: 'd' }), 'message_too_large');
    assert.match(e.message, `at most ${MAX_PATCH}`);
    assert.is(c.getPendingPatchCount(), 0);
    await c.createNode('Doc', { s: 'x'.repeat(MAX_PATCH - 400) }, { id: 'd' });
    await synced(c);
    assert.is(s.getVersion(), 1);
  } finally {
    await c.close();
    await s.close();
  }
});

test.run();
