import type { ErrorCode, Value } from '../../src/protocol/types.js';
import type { Rng } from './random.js';

/**
 * Seeded fuzz frames, each with the answer it must get, known by construction (the generator knows
 * what it broke), not by asking the decoder: a grammar of good messages, and mutations of each
 * part that must come back with a specific code.
 */
export type Expect =
  | { kind: 'error'; code: ErrorCode }
  /** A patch whose envelope (id, clientId, seq) is sound: it takes its seq, then gets this verdict. */
  | {
      kind: 'patch';
      status: 'accepted' | 'rejected' | 'ignored';
      code?: ErrorCode;
      stored?: { id: string; key: string; value: Value };
    };

export interface FuzzCase {
  name: string;
  frame: string | Buffer;
  binary?: boolean;
  expect: Expect;
  patchId?: string;
}

/** Characters that end or escape a Cypher token, and unicode that looks like them. */
const NASTY = [
  "'",
  '"',
  '`',
  ')',
  '(',
  '//',
  ';',
  '{',
  '}',
  '\\',
  '\n',
  '\u0000',
  ' ',
  '-',
  '.',
  ':',
  '$',
  '\u2019',
  '\uFF07',
  '\u202E',
  '😀',
  'é',
];
const WORDS = [
  'MATCH (n) DETACH DELETE n',
  'RETURN 1',
  'DROP TABLE Item',
  "' OR 1=1 --",
  '`) RETURN 1 //',
  'CALL db.clear()',
  '${x}',
  '\\u0027',
  '1; COPY',
  '*/',
];
const RESERVED = ['_Meta', '_Log', '_x', '_'];

export class FuzzGenerator {
  private seq = 0;
  private n = 0;

  constructor(
    private readonly rng: Rng,
    readonly clientId: string,
    private readonly maxBytes: number,
  ) {}

  private nasty(): string {
    const r = this.rng;
    const parts: string[] = [];
    const len = 1 + r.int(4);
    for (let i = 0; i < len; i++)
      parts.push(r.chance(0.3) ? r.pick(WORDS) : r.pick(NASTY) + (r.chance(0.5) ? 'x' : ''));
    return parts.join(r.chance(0.5) ? '' : ' ');
  }

  /** A label or key that must be refused: always holds a character outside [A-Za-z0-9_], or is reserved or too long. */
  private badIdentifier(): string {
    const r = this.rng;
    switch (r.int(5)) {
      case 0:
        return r.pick(RESERVED);
      case 1:
        return 'A'.repeat(65 + r.int(200));
      case 2:
        return `${r.int(10)}abc`;
      case 3:
        return '';
      default:
        return `Item${this.nasty()}`;
    }
  }

  private nextId(): string {
    return `f${++this.n}`;
  }

  private envelope(ops: unknown[]): { patch: Record<string, unknown>; id: string } {
    const seq = ++this.seq;
    const id = `${this.clientId}:${seq}`;
    return { patch: { id, clientId: this.clientId, seq, baseVersion: 0, ops }, id };
  }

  private patchFrame(
    ops: unknown[],
    status: 'accepted' | 'rejected',
    code?: ErrorCode,
    stored?: { id: string; key: string; value: Value },
  ): Omit<FuzzCase, 'name'> {
    const { patch, id } = this.envelope(ops);
    return {
      frame: JSON.stringify({ type: 'patch', patch }),
      patchId: id,
      expect: { kind: 'patch', status, ...(code ? { code } : {}), ...(stored ? { stored } : {}) },
    };
  }

  /** A value that is stored as it is: injection strings, unicode, big and negative-zero numbers. */
  private goodValue(): { value: Value; key: string; stored: Value } {
    const r = this.rng;
    switch (r.int(6)) {
      case 0:
      case 1: {
        const s = this.nasty();
        return { key: 's', value: s, stored: s };
      }
      case 2: {
        const v = r.pick([2 ** 63, -(2 ** 63), 2 ** 53 + 1, Number.MAX_VALUE, Number.MIN_VALUE, 1e-300, -0, 0.1 + 0.2]);
        return { key: 'd', value: v, stored: Object.is(v, -0) ? 0 : v };
      }
      case 3: {
        const l = [this.nasty(), this.nasty()];
        return { key: 'sl', value: l, stored: l };
      }
      case 4: {
        const b = r.chance(0.5);
        return { key: 'b', value: b, stored: b };
      }
      default: {
        const s = 'x'.repeat(r.int(2000));
        return { key: 's', value: s, stored: s };
      }
    }
  }

  private badValue(): unknown {
    const r = this.rng;
    return r.pick<unknown>([
      { $gt: 1 },
      [1, 'a'],
      [[1]],
      [{}],
      [true, 0],
      '\ud800',
      `ok${'\udfff'}`,
      [null],
      null, // null is only a value of set_property
    ]);
  }

  /** Bytes of JSON whose numbers JSON.parse makes infinite or that are not JSON at all. */
  private numberTrick(): { text: string; code: ErrorCode; inValue: boolean } {
    const r = this.rng;
    const lit = r.pick(['NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '0x10', '01', '+1', '.5']);
    const infinite = lit === '1e400' || lit === '-1e400';
    return { text: lit, code: infinite ? 'invalid_value' : 'bad_message', inValue: infinite };
  }

  next(): FuzzCase {
    const r = this.rng;
    const kind = r.int(20);
    const c = this.make(kind);
    return { name: `#${kind}`, ...c } as FuzzCase;
  }

  private make(kind: number): Omit<FuzzCase, 'name'> {
    const r = this.rng;
    const valid = () => JSON.stringify({ type: 'heartbeat', ts: r.int(1e9) });
    switch (kind) {
      case 0: {
        // Broken JSON: a good message cut short, or with a byte changed into something illegal.
        const text = JSON.stringify({ type: 'patch', patch: this.envelopeNoSeq() });
        const cut = text.slice(0, r.int(text.length));
        return {
          frame: r.chance(0.5) ? cut : cut + r.pick(['\u0000', "'", ',,', 'undefined']),
          expect: { kind: 'error', code: 'bad_message' },
        };
      }
      case 1:
        return {
          // '[]' and '[1]': protocol v2 batches, but an empty one, or one whose message is no object.
          frame: r.pick(['null', '1', '"patch"', '[]', '[1]', '[null]', 'true', '-0']),
          expect: { kind: 'error', code: 'bad_message' },
        };
      case 2:
        return {
          frame: JSON.stringify({ type: this.nasty() + r.pick(['', 'patch', 'sync']) }),
          expect: { kind: 'error', code: 'unknown_type' },
        };
      case 3:
        return {
          frame: JSON.stringify({ type: r.pick<unknown>([1, null, true, ['patch'], { x: 1 }]) }),
          expect: { kind: 'error', code: 'bad_message' },
        };
      case 4: {
        // Forbidden keys at any depth, in any message.
        const key = r.pick(['__proto__', 'constructor', 'prototype']);
        const depth = r.int(4);
        let inner = `{"${key}":{"polluted":true}}`;
        for (let i = 0; i < depth; i++) inner = `{"k${i}":${inner}}`;
        if (r.chance(0.5))
          return {
            frame: `{"type":"heartbeat","ts":1,"extra":${inner}}`,
            expect: { kind: 'error', code: 'bad_message' },
          };
        // In a patch with a sound envelope: refused, but as a patch, under its id; it takes its seq.
        const { patch, id } = this.envelope([{ op: 'create_node', label: 'Item', id: 'z', properties: {} }]);
        return {
          frame: `{"type":"patch","patch":${JSON.stringify(patch).slice(0, -1)},"props":${inner}}}`,
          patchId: id,
          expect: { kind: 'patch', status: 'rejected', code: 'bad_message' },
        };
      }
      case 5: {
        const depth = 33 + r.int(2000);
        const [o, cl] = r.chance(0.5) ? ['[', ']'] : ['{"a":', '}'];
        return {
          frame: `{"type":"heartbeat","ts":1,"x":${o.repeat(depth)}1${cl.repeat(depth)}}`,
          expect: { kind: 'error', code: 'bad_message' },
        };
      }
      case 6: {
        // Oversized, by a little or a lot (below the hard limit, where the socket would be closed).
        const pad = this.maxBytes + 1 + r.int(this.maxBytes);
        return {
          frame: JSON.stringify({ type: 'heartbeat', ts: 1, pad: 'p'.repeat(pad) }),
          expect: { kind: 'error', code: 'message_too_large' },
        };
      }
      case 7:
        return {
          frame: Buffer.from(r.chance(0.5) ? valid() : [0xff, 0xfe, r.int(256), 0]),
          binary: true,
          expect: { kind: 'error', code: 'bad_message' },
        };
      case 8: {
        // Heartbeats and sync_requests with fields of the wrong type.
        const wrong = r.pick<unknown>(['1', null, [], {}, true, 2 ** 63 + 'x']);
        const frames: Array<[unknown, ErrorCode]> = [
          [{ type: 'heartbeat', ts: wrong }, 'bad_message'],
          [{ type: 'sync_request', clientId: this.clientId, fromVersion: wrong, protocol: 1 }, 'bad_message'],
          [
            { type: 'sync_request', clientId: this.clientId, fromVersion: r.pick([-1, 1.5, 2 ** 63]), protocol: 1 },
            'bad_message',
          ],
          [
            {
              type: 'sync_request',
              clientId: this.clientId,
              fromVersion: 0,
              protocol: r.pick<unknown>([0, -1, 1.5, '2', null]),
            },
            'bad_message',
          ],
          [
            {
              type: 'sync_request',
              clientId: r.pick<unknown>(['', null, 7, 'x'.repeat(257)]),
              fromVersion: 0,
              protocol: 1,
            },
            'bad_message',
          ],
          // A well-formed id, but not the one this connection syncs as.
          [{ type: 'sync_request', clientId: this.nasty(), fromVersion: 0, protocol: 1 }, 'forbidden'],
          [{ type: 'heartbeat' }, 'bad_message'],
        ];
        const [frame, code] = r.pick(frames);
        return { frame: JSON.stringify(frame), expect: { kind: 'error', code } };
      }
      case 9: {
        const t = this.numberTrick();
        if (t.inValue) {
          const frame = JSON.stringify({
            type: 'patch',
            patch: this.envelope([{ op: 'create_node', label: 'Item', id: this.nextId(), properties: { d: 0 } }]).patch,
          }).replace('"d":0', `"d":${t.text}`);
          return {
            frame,
            patchId: `${this.clientId}:${this.seq}`,
            expect: { kind: 'patch', status: 'rejected', code: 'invalid_value' },
          };
        }
        return { frame: `{"type":"heartbeat","ts":${t.text}}`, expect: { kind: 'error', code: 'bad_message' } };
      }
      case 10:
        return this.patchFrame(
          [{ op: 'create_node', label: this.badIdentifier(), id: this.nextId(), properties: {} }],
          'rejected',
          'invalid_identifier',
        );
      case 11: {
        const props: Record<string, unknown> = { [this.badIdentifier()]: 1 };
        return this.patchFrame(
          [{ op: 'create_node', label: 'Item', id: this.nextId(), properties: props }],
          'rejected',
          'invalid_identifier',
        );
      }
      case 12:
        return this.patchFrame(
          [{ op: 'set_property', target: 'node', id: this.nextId(), key: this.badIdentifier(), value: 1 }],
          'rejected',
          'invalid_identifier',
        );
      case 13:
        return this.patchFrame(
          [{ op: 'create_node', label: 'Item', id: this.nextId(), properties: { v: this.badValue() } }],
          'rejected',
          'invalid_value',
        );
      case 14: {
        // Ids are values, not identifiers: anything printable and short goes; empty or huge does not.
        const id = r.pick(['', 'x'.repeat(300 + r.int(1000)), 42 as unknown as string, null as unknown as string]);
        return this.patchFrame(
          [{ op: r.pick(['create_node', 'delete_node']), label: 'Item', id, properties: {} }],
          'rejected',
          'invalid_value',
        );
      }
      case 15:
        return this.patchFrame(
          [{ op: r.pick(['drop', 'CREATE_NODE', '', 'create_node; DROP']), label: 'Item', id: this.nextId() }],
          'rejected',
          'bad_message',
        );
      case 16: {
        // A broken envelope: nothing to reject as a patch, the seq is not taken.
        const p: Record<string, unknown> = {
          id: `${this.clientId}:${this.seq + 1}`,
          clientId: this.clientId,
          seq: this.seq + 1,
          baseVersion: 0,
          ops: [{ op: 'delete_node', id: 'x' }],
        };
        const which = r.int(5);
        if (which === 0) p.seq = r.pick<unknown>(['1', 0, -1, 1.5, 2 ** 63, null]);
        else if (which === 1) p.id = `${this.clientId}:${this.seq + 2}`;
        else if (which === 2) p.clientId = this.nasty();
        else if (which === 3) {
          // ... except that a sound envelope with bad ops is a patch, rejected, that takes its seq.
          const { patch, id } = this.envelope([]);
          patch.ops = r.pick<unknown>([[], {}, 'ops', null, [1], [null]]);
          return {
            frame: JSON.stringify({ type: 'patch', patch }),
            patchId: id,
            expect: { kind: 'patch', status: 'rejected', code: 'bad_message' },
          };
        } else
          return {
            frame: JSON.stringify({ type: 'patch', patch: r.pick<unknown>([null, [], 'p', 1]) }),
            expect: { kind: 'error', code: 'bad_message' },
          };
        return { frame: JSON.stringify({ type: 'patch', patch: p }), expect: { kind: 'error', code: 'bad_message' } };
      }
      case 17: {
        // Replays and gaps: exactly-once is part of the contract.
        if (this.seq > 0 && r.chance(0.5)) {
          const seq = 1 + r.int(this.seq);
          const patch = {
            id: `${this.clientId}:${seq}`,
            clientId: this.clientId,
            seq,
            baseVersion: 0,
            ops: [{ op: 'create_node', label: 'Item', id: this.nextId(), properties: {} }],
          };
          return {
            frame: JSON.stringify({ type: 'patch', patch }),
            patchId: patch.id,
            expect: { kind: 'patch', status: 'ignored' },
          };
        }
        const seq = this.seq + 2 + r.int(100);
        const patch = {
          id: `${this.clientId}:${seq}`,
          clientId: this.clientId,
          seq,
          baseVersion: 0,
          ops: [{ op: 'delete_node', id: 'x' }],
        };
        return {
          frame: JSON.stringify({ type: 'patch', patch }),
          patchId: patch.id,
          expect: { kind: 'patch', status: 'rejected', code: 'out_of_order' },
        };
      }
      default: {
        // Good patches carrying nasty values: accepted, and stored exactly.
        const id = r.chance(0.3) ? `${this.nasty()}${this.nextId()}` : this.nextId();
        const g = this.goodValue();
        return this.patchFrame(
          [{ op: 'create_node', label: 'Item', id, properties: { [g.key]: g.value } }],
          'accepted',
          undefined,
          { id, key: g.key, value: g.stored },
        );
      }
    }
  }

  /** An envelope that does not take a seq (for frames that must fail before it is read). */
  private envelopeNoSeq(): Record<string, unknown> {
    const seq = this.seq + 1;
    return {
      id: `${this.clientId}:${seq}`,
      clientId: this.clientId,
      seq,
      baseVersion: 0,
      ops: [{ op: 'create_node', label: 'Item', id: 'z', properties: {} }],
    };
  }
}
