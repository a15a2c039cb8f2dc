import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeClientMessage, decodeServerMessage } from '../../src/protocol/decode.js';
import {
  encodeAccepted,
  encodeError,
  encodeHeartbeat,
  encodeMessage,
  encodePatchBroadcast,
  encodePatchResponse,
  encodeSyncState,
  encodeVersionedPatch,
  toJson,
  type SyncStateHead,
} from '../../src/protocol/encode.js';
import type { ClientMessage, Patch, ServerMessage, SyncStateMessage } from '../../src/protocol/types.js';

const patch: Patch = {
  id: 'c"1:1',
  clientId: 'c"1',
  seq: 1,
  baseVersion: 0,
  ops: [{ op: 'create_node', label: 'Item', id: 'n\u2028"', properties: { name: 'a\\b', k: 1.5, tags: ['x'] } }],
};

/** encode -> decode gives back the message it encodes. */
function roundTrip(frame: string, expected: ServerMessage): void {
  const r = decodeServerMessage(frame);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  assert.equal(r.ok && r.message, expected);
}

test('error, heartbeat and patch_response round-trip', () => {
  roundTrip(encodeError('forbidden', 'no "way"'), { type: 'error', code: 'forbidden', message: 'no "way"' });
  roundTrip(encodeError('bad_message', 'm', 'c:2'), {
    type: 'error',
    code: 'bad_message',
    message: 'm',
    patchId: 'c:2',
  });
  roundTrip(encodeHeartbeat(12.5), { type: 'heartbeat', ts: 12.5 });
  for (const r of [
    { type: 'patch_response', patchId: 'c:1', status: 'accepted', version: 4 },
    { type: 'patch_response', patchId: 'c:1', status: 'rejected', code: 'conflict', reason: 'stale' },
    { type: 'patch_response', patchId: 'c:1', status: 'ignored', version: 2 },
    { type: 'patch_response', patchId: 'c:1', status: 'ignored', code: 'forbidden', reason: 'r' },
  ] as const) {
    roundTrip(encodePatchResponse(r), r);
  }
});

test('the spliced accepted patch_response is the same text as the encoded message, and round-trips', () => {
  for (const patchId of ['c:1', 'c"\\1:2', 'n\u2028:3']) {
    const r = { type: 'patch_response', patchId, status: 'accepted', version: 7 } as const;
    assert.is(encodeAccepted(patchId, 7), encodePatchResponse(r));
    roundTrip(encodeAccepted(patchId, 7), r);
  }
});

test('patch_broadcast spliced from stored patch text round-trips', () => {
  roundTrip(encodePatchBroadcast(toJson(patch), 9), { type: 'patch_broadcast', patch, version: 9 });
});

const head: SyncStateHead = { serverId: 's"1', mode: 'delta', fromVersion: 2, version: 5, lastSeq: 3 };

test('sync_state chunks round-trip: delta, snapshot, with and without outcomes', () => {
  const delta: SyncStateMessage = { type: 'sync_state', ...head, done: false, patches: [{ patch, version: 3 }] };
  roundTrip(encodeSyncState(head, false, { patches: [encodeVersionedPatch(toJson(patch), 3)] }), delta);
  const outcomes = [{ seq: 1, status: 'rejected' as const, code: 'forbidden' as const, reason: 'r' }];
  roundTrip(encodeSyncState(head, true, { patches: [] }, { outcomes }), {
    type: 'sync_state',
    ...head,
    outcomes,
    done: true,
    patches: [],
  });

  const schema = {
    nodes: [{ label: 'Item', properties: { name: 'STRING' as const } }],
    edges: [{ label: 'E', pairs: [['Item', 'Item']] as Array<[string, string]>, properties: {} }],
  };
  const node = { label: 'Item', id: 'n', properties: { name: 'x' } };
  const edge = { label: 'E', id: 'e', from: 'n', to: 'n', properties: {} };
  const snapHead = { ...head, mode: 'snapshot' as const };
  roundTrip(
    encodeSyncState(snapHead, true, {
      snapshot: { schema: toJson(schema), nodes: [toJson(node)], edges: [toJson(edge)] },
    }),
    { type: 'sync_state', ...snapHead, done: true, snapshot: { schema, nodes: [node], edges: [edge] } },
  );
  roundTrip(encodeSyncState(snapHead, false, { snapshot: { nodes: [], edges: [toJson(edge)] } }), {
    type: 'sync_state',
    ...snapHead,
    done: false,
    snapshot: { nodes: [], edges: [edge] },
  });
});

test('client messages round-trip through the server decoder', () => {
  const messages: ClientMessage[] = [
    { type: 'sync_request', clientId: 'c', fromVersion: 3, protocol: 1, ackedSeq: 2, serverId: 's' },
    { type: 'patch', patch },
    { type: 'heartbeat', ts: 1 },
  ];
  for (const m of messages) {
    const r = decodeClientMessage(encodeMessage(m));
    assert.equal(r.ok && r.message, m);
  }
});

test.run();
