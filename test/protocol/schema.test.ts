import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeServerMessage } from '../../src/protocol/decode.js';
import { PatchResponseSchema, PatchSchema } from '../../src/protocol/messages.js';
import { FuzzGenerator } from '../helpers/fuzz-cases.js';
import { rng } from '../helpers/random.js';

const decodeServer = (m: unknown) => decodeServerMessage(JSON.stringify(m));
const refusal = (m: unknown) => {
  const r = decodeServer(m);
  return r.ok ? 'ok' : r.error.code;
};

test('patch_response is a union per status: what each status requires', () => {
  const base = { type: 'patch_response', patchId: 'c:1' };
  assert.is(refusal({ ...base, status: 'accepted', version: 3 }), 'ok');
  assert.is(refusal({ ...base, status: 'accepted' }), 'bad_message', 'accepted needs its version');
  assert.is(refusal({ ...base, status: 'accepted', version: -1 }), 'bad_message');
  assert.is(refusal({ ...base, status: 'rejected', code: 'conflict', reason: 'stale' }), 'ok');
  assert.is(refusal({ ...base, status: 'rejected', code: 'conflict' }), 'bad_message', 'rejected needs a reason');
  assert.is(refusal({ ...base, status: 'rejected', reason: 'stale' }), 'bad_message', 'rejected needs a code');
  assert.is(refusal({ ...base, status: 'rejected', code: 'no_such_code', reason: 'x' }), 'bad_message');
  assert.is(refusal({ ...base, status: 'rejected', code: 'conflict', reason: 7 }), 'bad_message', 'reason is checked');
  assert.is(refusal({ ...base, status: 'ignored' }), 'ok', 'ignored: everything optional');
  assert.is(refusal({ ...base, status: 'ignored', version: 2 }), 'ok');
  assert.is(refusal({ ...base, status: 'ignored', code: 'forbidden', reason: 'was rejected' }), 'ok');
  assert.is(refusal({ ...base, status: 'ignored', code: 'nope' }), 'bad_message');
  assert.is(refusal({ ...base, status: 'ignored', reason: ['x'] }), 'bad_message');
  assert.is(refusal({ ...base, status: 'maybe', version: 1 }), 'bad_message');
  assert.is(refusal({ type: 'patch_response', status: 'accepted', version: 1 }), 'bad_message', 'patchId');
});

test('reason and outcome codes in server messages are checked', () => {
  const state = {
    type: 'sync_state',
    serverId: 's',
    mode: 'delta',
    fromVersion: 0,
    version: 0,
    lastSeq: 0,
    done: true,
    patches: [],
  };
  assert.is(refusal({ ...state, outcomes: [{ seq: 1, status: 'rejected', code: 'forbidden', reason: 'no' }] }), 'ok');
  assert.is(
    refusal({ ...state, outcomes: [{ seq: 1, status: 'rejected', code: 'nonsense', reason: 'no' }] }),
    'bad_message',
  );
  assert.is(
    refusal({ ...state, outcomes: [{ seq: 1, status: 'rejected', code: 'forbidden', reason: {} }] }),
    'bad_message',
  );
  assert.is(refusal({ ...state, outcomes: [{ seq: 1, status: 'accepted', version: 'x' }] }), 'bad_message');
  assert.is(refusal({ type: 'error', code: 'forbidden', message: 'm', patchId: 3 }), 'bad_message');
  assert.is(refusal({ type: 'error', code: 'made_up', message: 'm' }), 'bad_message');
  assert.is(refusal({ type: 'heartbeat', ts: 'now' }), 'bad_message');
  assert.is(refusal({ type: 'sync_state_v9' }), 'unknown_type');
});

/** Every object and array inside a parsed frame, so each part of the corpus meets the fast paths. */
function parts(root: unknown): unknown[] {
  const out: unknown[] = [];
  const walk = (v: unknown, depth: number) => {
    if (typeof v !== 'object' || v === null || depth > 40) return;
    out.push(v);
    for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(root, 0);
  return out;
}

test('fast paths never accept what their schema refuses, and clean alike', () => {
  const gen = new FuzzGenerator(rng(7), 'fuzzer', 4096);
  let fastAccepted = 0;
  for (let i = 0; i < 3000; i++) {
    const c = gen.next();
    let parsed: unknown;
    try {
      parsed = JSON.parse(c.frame.toString());
    } catch {
      continue;
    }
    const candidates = parts(parsed);
    // Near misses of a good patch_response, which the corpus (client messages) lacks.
    const statuses = ['accepted', 'rejected', 'ignored', 'other'];
    candidates.push({
      type: 'patch_response',
      patchId: `p${i}`,
      status: statuses[i % 4],
      version: i % 3 ? i : undefined,
      code: i % 5 ? 'conflict' : 'x',
      reason: i % 7 ? 'r' : 1,
    });
    for (const v of candidates) {
      for (const schema of [PatchSchema, PatchResponseSchema]) {
        if (!schema.fast.accepts(v)) continue;
        fastAccepted++;
        assert.is(
          schema.general.check(v),
          null,
          `fast path accepted what the schema refuses: ${JSON.stringify(v).slice(0, 200)}`,
        );
        assert.equal(schema.clean(v as never), schema.general.clean(v as never));
      }
    }
  }
  assert.ok(fastAccepted > 500, `the corpus reaches the fast paths (${fastAccepted})`);
});

test('the hot messages take the fast path', () => {
  const patch = {
    id: 'c:1',
    clientId: 'c',
    seq: 1,
    baseVersion: 0,
    ops: [
      { op: 'create_node', label: 'Item', id: 'n', properties: { k: 1.5, name: 'x' } },
      { op: 'set_property', target: 'node', id: 'n', key: 'k', value: null },
      { op: 'create_edge', label: 'E', id: 'e', from: 'n', to: 'n', properties: {} },
      { op: 'delete_edge', id: 'e' },
      { op: 'delete_node', id: 'n' },
    ],
  };
  assert.ok(PatchSchema.fast.accepts(patch));
  assert.ok(
    PatchResponseSchema.fast.accepts({ type: 'patch_response', patchId: 'c:1', status: 'accepted', version: 1 }),
  );
  assert.ok(
    PatchResponseSchema.fast.accepts({
      type: 'patch_response',
      patchId: 'c:1',
      status: 'rejected',
      code: 'conflict',
      reason: 'r',
    }),
  );
});

test.run();
