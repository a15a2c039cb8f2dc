import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeClientFrame,
  decodeClientMessage,
  decodeServerFrame,
  decodeServerMessage,
} from '../../src/protocol/decode.js';
import { assertLabel, assertPropertyKey } from '../../src/protocol/identifiers.js';
import { SyncError } from '../../src/protocol/errors.js';

const patch = (over: Record<string, unknown> = {}, op: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'patch',
    patch: {
      id: 'c1:1',
      clientId: 'c1',
      seq: 1,
      baseVersion: 0,
      ops: [{ op: 'create_node', label: 'Person', id: 'n1', properties: { name: 'A' }, ...op }],
      ...over,
    },
  });

const table: Array<[string, string | Buffer, string, { isBinary?: boolean; maxBytes?: number }?]> = [
  ['not JSON', '{"type": "patch"', 'bad_message'],
  ['empty frame', '', 'bad_message'],
  ['JSON array', '[1,2]', 'bad_message'],
  ['JSON string', '"patch"', 'bad_message'],
  ['no type', '{"patch": {}}', 'bad_message'],
  ['numeric type', '{"type": 7}', 'bad_message'],
  ['unknown type', '{"type": "drop_database"}', 'unknown_type'],
  ['binary frame', Buffer.from('{"type":"heartbeat","ts":1}'), 'bad_message', { isBinary: true }],
  [
    'oversized',
    JSON.stringify({ type: 'heartbeat', ts: 1, pad: 'x'.repeat(2000) }),
    'message_too_large',
    { maxBytes: 1000 },
  ],
  ['__proto__ key', '{"type":"heartbeat","ts":1,"__proto__":{"admin":true}}', 'bad_message'],
  ['constructor key deep', patch({}, { properties: { constructor: 'x' } }), 'invalid_identifier'],
  ['deeply nested', '{"type":"heartbeat","ts":1,"x":' + '['.repeat(100) + ']'.repeat(100) + '}', 'bad_message'],
  ['heartbeat without ts', '{"type":"heartbeat"}', 'bad_message'],
  ['sync_request bad version', '{"type":"sync_request","clientId":"c","fromVersion":-1,"protocol":1}', 'bad_message'],
  [
    'sync_request float version',
    '{"type":"sync_request","clientId":"c","fromVersion":1.5,"protocol":1}',
    'bad_message',
  ],
  ['sync_request wrong protocol', '{"type":"sync_request","clientId":"c","fromVersion":0,"protocol":0}', 'bad_message'],
  ['patch id mismatch', patch({ id: 'c1:2' }), 'bad_message'],
  ['patch seq zero', patch({ seq: 0, id: 'c1:0' }), 'bad_message'],
  ['patch seq 2^63', patch({ seq: 2 ** 63, id: `c1:${2 ** 63}` }), 'bad_message'],
  ['patch no ops', patch({ ops: [] }), 'bad_message'],
  ['unknown op', patch({}, { op: 'drop_table' }), 'bad_message'],
  ['label injection', patch({}, { label: 'Person) DETACH DELETE n //' }), 'invalid_identifier'],
  ['label backtick', patch({}, { label: 'P`erson' }), 'invalid_identifier'],
  ['label underscore', patch({}, { label: '_Meta' }), 'invalid_identifier'],
  ['label unicode', patch({}, { label: 'Pérson' }), 'invalid_identifier'],
  ['label too long', patch({}, { label: 'P' + 'x'.repeat(64) }), 'invalid_identifier'],
  ['key injection', patch({}, { properties: { 'name`: 1}) RETURN 1 //': 'x' } }), 'invalid_identifier'],
  ['key id reserved', patch({}, { properties: { id: 'x' } }), 'invalid_identifier'],
  ['keys differ by case', patch({}, { properties: { name: 'a', NAME: 'b' } }), 'invalid_identifier'],
  ['NaN via string hack', patch({}, { properties: { n: 'NaN' } }), 'ok'],
  ['1e309 parses to Infinity', patch({}, { properties: { n: 0 } }).replace('"n":0', '"n":1e309'), 'invalid_value'],
  ['-1e309 in a list', patch({}, { properties: { n: [0] } }).replace('"n":[0]', '"n":[1,-1e309]'), 'invalid_value'],
  ['mixed array', patch({}, { properties: { xs: [1, 'a'] } }), 'invalid_value'],
  ['nested array', patch({}, { properties: { xs: [[1]] } }), 'invalid_value'],
  ['object value', patch({}, { properties: { o: { a: 1 } } }), 'invalid_value'],
  ['null property in create', patch({}, { properties: { o: null } }), 'invalid_value'],
  ['empty id', patch({}, { id: '' }), 'invalid_value'],
  ['lone surrogate value', patch({}, { properties: { s: 'a\uD800b' } }), 'invalid_value'],
  ['lone surrogate id', patch({}, { id: '\uDC00' }), 'invalid_value'],
  ['numeric id', patch({}, { id: 5 }), 'invalid_value'],
  [
    'set_property bad target',
    patch({}, { op: 'set_property', target: 'graph', id: 'n1', key: 'a', value: 1 }),
    'bad_message',
  ],
  ['set_property no value', patch({}, { op: 'set_property', target: 'node', id: 'n1', key: 'a' }), 'bad_message'],
  ['valid patch', patch(), 'ok'],
  ['valid heartbeat', '{"type":"heartbeat","ts":5}', 'ok'],
  ['valid sync_request', '{"type":"sync_request","clientId":"c","fromVersion":0,"protocol":1}', 'ok'],
];

for (const [name, raw, code, opts] of table) {
  test(`decode: ${name} -> ${code}`, () => {
    const r = decodeClientMessage(raw, opts);
    if (code === 'ok') assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    else {
      assert.is(r.ok, false, 'should be refused');
      assert.is(!r.ok && r.error.code, code, JSON.stringify(!r.ok && r.error));
    }
  });
}

test('a refused patch names its id so the client can match the answer', () => {
  const r = decodeClientMessage(patch({}, { label: 'bad label' }));
  assert.is(!r.ok && r.error.patchId, 'c1:1');
});

test('an oversized patch still names its envelope, so the server can reject it and settle its seq', () => {
  const big = patch({}, { properties: { name: 'x'.repeat(2000) } });
  const r = decodeClientMessage(big, { maxBytes: 1000, envelopeOfOversized: true });
  assert.equal(!r.ok && [r.error.code, r.error.patchId, r.error.envelope], [
    'message_too_large',
    'c1:1',
    { clientId: 'c1', seq: 1 },
  ]);
  // Not for an envelope that does not hold together, nor for other messages.
  const unsound = decodeClientMessage(patch({ id: 'c1:2' }, { properties: { name: 'x'.repeat(2000) } }), {
    maxBytes: 1000,
    envelopeOfOversized: true,
  });
  assert.equal(!unsound.ok && [unsound.error.code, unsound.error.envelope], ['message_too_large', undefined]);
  const heartbeat = decodeClientMessage(JSON.stringify({ type: 'heartbeat', ts: 1, pad: 'x'.repeat(2000) }), {
    maxBytes: 1000,
    envelopeOfOversized: true,
  });
  assert.equal(!heartbeat.ok && [heartbeat.error.code, heartbeat.error.patchId, heartbeat.error.envelope], [
    'message_too_large',
    undefined,
    undefined,
  ]);
  // Not parsed at all unless asked (the server asks only once the connection has said who it is).
  const unasked = decodeClientMessage(big, { maxBytes: 1000 });
  assert.equal(!unasked.ok && [unasked.error.code, unasked.error.envelope], ['message_too_large', undefined]);
});

test('-0 is normalised to 0 (JSON cannot carry it; a client would differ from the server)', () => {
  const r = decodeClientMessage(patch({}, { properties: { z: -0, zs: [-0, 1] } }));
  assert.ok(r.ok);
  const op = r.ok && r.message.type === 'patch' ? r.message.patch.ops[0] : undefined;
  assert.ok(
    op && op.op === 'create_node' && Object.is(op.properties.z, 0) && Object.is((op.properties.zs as number[])[0], 0),
  );
});

test('a decoded patch carries only the fields of its op kind', () => {
  const r = decodeClientMessage(patch({ extra: 1 }, { sneaky: 'x' }));
  assert.ok(r.ok && r.message.type === 'patch');
  assert.equal(Object.keys((r as any).message.patch.ops[0]).sort(), ['id', 'label', 'op', 'properties']);
  assert.is((r as any).message.patch.extra, undefined);
});

test('the client refuses server messages with identifiers that would reach query text', () => {
  const bad = {
    type: 'sync_state',
    serverId: 's',
    mode: 'snapshot',
    fromVersion: 0,
    version: 1,
    lastSeq: 0,
    done: true,
    snapshot: { schema: { nodes: [{ label: 'P`) DROP', properties: {} }], edges: [] }, nodes: [], edges: [] },
  };
  const r = decodeServerMessage(JSON.stringify(bad));
  assert.is(r.ok, false);
  const badType = {
    ...bad,
    snapshot: {
      schema: { nodes: [{ label: 'P', properties: { a: 'INT64); DROP' } }], edges: [] },
      nodes: [],
      edges: [],
    },
  };
  assert.is(decodeServerMessage(JSON.stringify(badType)).ok, false);
  const ok = {
    ...bad,
    snapshot: {
      schema: { nodes: [{ label: 'P', properties: { a: 'STRING' } }], edges: [] },
      nodes: [{ label: 'P', id: 'x', properties: { a: 'b' } }],
      edges: [],
    },
  };
  assert.ok(decodeServerMessage(JSON.stringify(ok)).ok);
});

test('identifier assertions throw typed errors before anything runs', () => {
  for (const bad of ['', '1abc', 'a b', 'a-b', 'é', '_x', 'x'.repeat(65), 'a;b', 'a`b']) {
    try {
      assertLabel(bad);
      assert.unreachable(`accepted ${bad}`);
    } catch (e) {
      assert.instance(e, SyncError);
      assert.is((e as SyncError).code, 'invalid_identifier');
    }
  }
  assertLabel('Person_2');
  assertLabel('RETURN'); // a keyword is a fine name: every query quotes it
  try {
    assertPropertyKey('ID');
    assert.unreachable('id is reserved');
  } catch (e) {
    assert.is((e as SyncError).code, 'invalid_identifier');
  }
});

test('v2: a batch frame decodes each message on its own, in order; a bad one spoils only itself', () => {
  const good = JSON.parse(patch());
  const bad = { ...good, patch: { ...good.patch, ops: [{ op: 'create_node', label: 'RET`URN', id: 'n' }] } };
  const frame = JSON.stringify([good, { type: 'heartbeat', ts: 1 }, bad, { type: 'nope' }, 7]);
  const out = decodeClientFrame(frame);
  assert.equal(
    out.map((d) => (d.ok ? d.message.type : d.error.code)),
    ['patch', 'heartbeat', 'invalid_identifier', 'unknown_type', 'bad_message'],
  );
  // The bad patch keeps its envelope: the server settles its seq as a rejection.
  const spoiled = out[2]!;
  assert.equal(spoiled.ok ? undefined : spoiled.error.envelope, { clientId: good.patch.clientId, seq: good.patch.seq });
  // A batch of one is the same as the plain message; an empty batch is refused.
  assert.equal(decodeClientFrame(`[${patch()}]`), [decodeClientMessage(patch())]);
  assert.equal(
    decodeClientFrame('[]').map((d) => d.ok || d.error.code),
    ['bad_message'],
  );
  // The single-message decoder (v1) refuses a batch rather than drop all but one.
  const two = decodeClientMessage(`[${patch()},${patch()}]`);
  assert.is(two.ok ? 'ok' : two.error.code, 'bad_message');
});

test('v2: a batch over the limit is read message by message: those too large refused under their ids, the rest decoded', async () => {
  const a = JSON.parse(patch());
  const b = { ...a, patch: { ...a.patch, seq: a.patch.seq + 1, id: `${a.patch.clientId}:${a.patch.seq + 1}` } };
  const frame = JSON.stringify([a, { type: 'heartbeat', ts: 1 }, b]);
  const refused = decodeClientFrame(frame, { maxBytes: 10, envelopeOfOversized: true });
  assert.equal(
    refused.map((d) => (d.ok ? 'ok' : [d.error.code, d.error.patchId, d.error.envelope?.seq])),
    [
      ['message_too_large', a.patch.id, a.patch.seq],
      ['message_too_large', undefined, undefined],
      ['message_too_large', b.patch.id, b.patch.seq],
    ],
  );
  // A sender whose limit is larger than ours: each message fits on its own, so each goes through.
  const each = Math.max(...[a, b].map((m) => JSON.stringify(m).length));
  assert.ok(frame.length > each + 20);
  const fits = decodeClientFrame(frame, { maxBytes: each + 20, envelopeOfOversized: true });
  assert.equal(
    fits.map((d) => (d.ok ? d.message.type : d.error.code)),
    ['patch', 'heartbeat', 'patch'],
  );
});

test('v2: a message with a prototype key or a depth bomb spoils only itself', () => {
  const a = JSON.parse(patch());
  const polluted = `{"type":"patch","patch":{"id":"c1:2","clientId":"c1","seq":2,"baseVersion":0,"ops":[],"x":{"constructor":1}}}`;
  const frame = `[${JSON.stringify(a)},${polluted},{"type":"heartbeat","ts":1,"d":${'['.repeat(40)}${']'.repeat(40)}}]`;
  const out = decodeClientFrame(frame);
  assert.equal(
    out.map((d) => (d.ok ? d.message.type : [d.error.code, d.error.envelope?.seq])),
    ['patch', ['bad_message', 2], ['bad_message', undefined]],
  );
});

test('a patch refused for a prototype key still names itself; as a label or key it is an invalid identifier', () => {
  const named = (frame: string) =>
    decodeClientFrame(frame).map((d) => (d.ok ? 'ok' : [d.error.code, d.error.patchId, d.error.envelope?.seq]));
  assert.equal(named(patch({}, { properties: { constructor: 'x' } })), [['invalid_identifier', 'c1:1', 1]]);
  assert.equal(named(patch({}, { properties: { prototype: 1 } })), [['invalid_identifier', 'c1:1', 1]]);
  const proto = patch({}, { properties: { a: 1 } }).replace('"a":1', '"__proto__":1');
  assert.equal(named(proto), [['invalid_identifier', 'c1:1', 1]]);
  // Anywhere else it is a bad message, still under the patch's id.
  const extra = patch().replace('"baseVersion":0', '"baseVersion":0,"x":{"constructor":1}');
  assert.equal(named(extra), [['bad_message', 'c1:1', 1]]);
  // A depth bomb inside a patch: read no further than its envelope.
  const bomb = patch().replace('"baseVersion":0', `"baseVersion":0,"d":${'['.repeat(40)}${']'.repeat(40)}`);
  assert.equal(named(bomb), [['bad_message', 'c1:1', 1]]);
});

test('v2: the client splits a server batch into its messages', () => {
  const frame = JSON.stringify([
    { type: 'heartbeat', ts: 1 },
    { type: 'patch_response', patchId: 'c:1', status: 'accepted', version: 3 },
    { type: 'patch_response', patchId: 'c:2', status: 'accepted' },
  ]);
  assert.equal(
    decodeServerFrame(frame).map((d) => (d.ok ? d.message.type : d.error.code)),
    ['heartbeat', 'patch_response', 'bad_message'],
  );
});

test.run();
