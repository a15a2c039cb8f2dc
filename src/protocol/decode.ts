import { identifierProblem, idProblem } from './identifiers.js';
import {
  ERROR_CODES,
  type ClientMessage,
  type ColumnType,
  type ErrorCode,
  type PatchOutcome,
  type ServerMessage,
  type SnapshotChunk,
} from './types.js';
import { normalizePatch, patchProblem } from './validate.js';
import { propsProblem } from './values.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;
const MAX_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface DecodeError {
  code: ErrorCode;
  message: string;
  patchId?: string;
  /**
   * For a patch whose ops are bad (or that is too large) but whose id, clientId and seq are sound:
   * the server still processes it, as a rejection, so the client's later patches are not held up
   * as out of order.
   */
  envelope?: { clientId: string; seq: number };
}
export type Decoded<T> = { ok: true; message: T } | { ok: false; error: DecodeError };

const fail = (code: ErrorCode, message: string, patchId?: string): { ok: false; error: DecodeError } => ({
  ok: false,
  error: patchId === undefined ? { code, message } : { code, message, patchId },
});

type Raw = string | Buffer | ArrayBuffer | Buffer[];

function toText(raw: Raw): string {
  if (typeof raw === 'string') return raw;
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  // Buffer.from(aBuffer) would copy it first: every message, on both ends.
  return (Buffer.isBuffer(raw) ? raw : Buffer.from(raw)).toString('utf8');
}
export function byteLength(raw: Raw): number {
  if (typeof raw === 'string') return Buffer.byteLength(raw);
  if (Array.isArray(raw)) return raw.reduce((n, b) => n + b.length, 0);
  return raw.byteLength;
}

/** Walks the parsed tree without recursion: depth-bombs must not overflow our stack either. */
function structureProblem(root: unknown): string | null {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
    if (Array.isArray(v)) {
      for (const e of v) if (typeof e === 'object' && e !== null) stack.push([e, depth + 1]);
      continue;
    }
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(k)) return `key ${JSON.stringify(k)} is not allowed`;
      const e = (v as Record<string, unknown>)[k];
      if (typeof e === 'object' && e !== null) stack.push([e, depth + 1]);
    }
  }
  return null;
}

function parse(raw: Raw, maxBytes: number, isBinary: boolean): { ok: true; value: Record<string, unknown> } | { ok: false; error: DecodeError } {
  const size = byteLength(raw);
  if (size > maxBytes) return fail('message_too_large', `message of ${size} bytes exceeds the limit of ${maxBytes}`);
  if (isBinary) return fail('bad_message', 'binary frames are not part of protocol v1; send JSON text');
  let value: unknown;
  try {
    value = JSON.parse(toText(raw));
  } catch (e) {
    return fail('bad_message', `not JSON: ${(e as Error).message.slice(0, 120)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('bad_message', 'a message must be a JSON object');
  const sp = structureProblem(value);
  if (sp) return fail('bad_message', sp);
  const type = (value as Record<string, unknown>).type;
  if (typeof type !== 'string') return fail('bad_message', 'a message needs a string "type"');
  return { ok: true, value: value as Record<string, unknown> };
}

const isNonNegInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export interface DecodeOptions {
  maxBytes?: number;
  isBinary?: boolean;
  /** Parse an oversized text frame anyway for a patch's envelope: only worth it where it can be used. */
  envelopeOfOversized?: boolean;
}

/** Where a bad patch's id, clientId and seq are sound, the server can still settle its seq. */
function withEnvelope(failure: { ok: false; error: DecodeError }, p: Record<string, unknown> | undefined): { ok: false; error: DecodeError } {
  if (typeof p?.id === 'string') failure.error.patchId = p.id.slice(0, 300);
  if (p && idProblem(p.clientId) === null && Number.isSafeInteger(p.seq) && (p.seq as number) >= 1 && p.id === `${p.clientId as string}:${p.seq as number}`) {
    failure.error.envelope = { clientId: p.clientId as string, seq: p.seq as number };
  }
  return failure;
}

/**
 * A patch over the size limit is still a patch of its client: read its envelope (the frame is
 * bounded by the socket's hard limit) so that it is rejected, not left unanswered, which would hold
 * every later patch of that client back as out of order.
 */
function tooLarge(failure: { ok: false; error: DecodeError }, raw: Raw): { ok: false; error: DecodeError } {
  let m: unknown;
  try {
    m = JSON.parse(toText(raw));
  } catch {
    return failure;
  }
  const record = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  return record(m)?.type === 'patch' ? withEnvelope(failure, record(record(m)!.patch)) : failure;
}

/** The server's single entrance: size, JSON, structure, shape, identifiers and values. Never throws. */
export function decodeClientMessage(raw: Raw, options: DecodeOptions = {}): Decoded<ClientMessage> {
  const isBinary = options.isBinary ?? false;
  const parsed = parse(raw, options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES, isBinary);
  if (!parsed.ok) return parsed.error.code === 'message_too_large' && options.envelopeOfOversized && !isBinary ? tooLarge(parsed, raw) : parsed;
  const m = parsed.value;
  switch (m.type) {
    case 'sync_request': {
      const cp = idProblem(m.clientId);
      if (cp) return fail('bad_message', `sync_request clientId: ${cp}`);
      if (!isNonNegInt(m.fromVersion)) return fail('bad_message', 'sync_request fromVersion must be an integer >= 0');
      if (m.protocol !== 1) return fail('bad_message', `unsupported protocol ${JSON.stringify(m.protocol)}; this server speaks 1`);
      if (m.ackedSeq !== undefined && !isNonNegInt(m.ackedSeq)) return fail('bad_message', 'sync_request ackedSeq must be an integer >= 0');
      if (m.serverId !== undefined && typeof m.serverId !== 'string') return fail('bad_message', 'sync_request serverId must be a string');
      if (m.snapshot !== undefined && typeof m.snapshot !== 'boolean') return fail('bad_message', 'sync_request snapshot must be a boolean');
      const msg: ClientMessage = { type: 'sync_request', clientId: m.clientId as string, fromVersion: m.fromVersion, protocol: 1 };
      if (m.ackedSeq !== undefined) msg.ackedSeq = m.ackedSeq;
      if (m.serverId !== undefined) msg.serverId = m.serverId as string;
      if (m.snapshot === true) msg.snapshot = true;
      return { ok: true, message: msg };
    }
    case 'patch': {
      const p = m.patch as Record<string, unknown> | undefined;
      const problem = patchProblem(p);
      if (problem) return withEnvelope(fail(problem.code, problem.message), p);
      return { ok: true, message: { type: 'patch', patch: normalizePatch(p as never) } };
    }
    case 'heartbeat':
      if (typeof m.ts !== 'number' || !Number.isFinite(m.ts)) return fail('bad_message', 'heartbeat ts must be a finite number');
      return { ok: true, message: { type: 'heartbeat', ts: m.ts } };
    default:
      return fail('unknown_type', `unknown message type ${JSON.stringify(m.type).slice(0, 60)}`);
  }
}

const COLUMN_TYPES = new Set<ColumnType>(['STRING', 'DOUBLE', 'BOOLEAN', 'STRING[]', 'DOUBLE[]', 'BOOLEAN[]']);

function columnsProblem(props: unknown): string | null {
  if (typeof props !== 'object' || props === null || Array.isArray(props)) return 'schema properties must be an object';
  for (const [k, t] of Object.entries(props)) {
    const p = identifierProblem(k, 'property key');
    if (p) return p;
    if (!COLUMN_TYPES.has(t as ColumnType)) return `unknown column type ${JSON.stringify(t)}`;
  }
  return null;
}

function snapshotProblem(s: unknown): string | null {
  if (typeof s !== 'object' || s === null) return 'snapshot must be an object';
  const c = s as Partial<SnapshotChunk> & Record<string, unknown>;
  if (c.schema !== undefined) {
    const schema = c.schema as unknown as Record<string, unknown>;
    if (!Array.isArray(schema.nodes) || !Array.isArray(schema.edges)) return 'snapshot schema needs nodes and edges';
    for (const t of schema.nodes as Array<Record<string, unknown>>) {
      const p = identifierProblem(t?.label, 'label') ?? columnsProblem(t?.properties);
      if (p) return p;
    }
    for (const t of schema.edges as Array<Record<string, unknown>>) {
      const p = identifierProblem(t?.label, 'label') ?? columnsProblem(t?.properties);
      if (p) return p;
      if (!Array.isArray(t.pairs)) return 'rel schema needs pairs';
      for (const pair of t.pairs as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2) return 'a rel pair is [from, to]';
        const pp = identifierProblem(pair[0], 'label') ?? identifierProblem(pair[1], 'label');
        if (pp) return pp;
      }
    }
  }
  if (!Array.isArray(c.nodes) || !Array.isArray(c.edges)) return 'snapshot chunk needs nodes and edges arrays';
  for (const n of c.nodes as unknown as Array<Record<string, unknown>>) {
    const p = identifierProblem(n?.label, 'label') ?? idProblem(n?.id) ?? propsProblem(n?.properties)?.message;
    if (p) return p;
  }
  for (const e of c.edges as unknown as Array<Record<string, unknown>>) {
    const p =
      identifierProblem(e?.label, 'label') ?? idProblem(e?.id) ?? idProblem(e?.from) ?? idProblem(e?.to) ?? propsProblem(e?.properties)?.message;
    if (p) return p;
  }
  return null;
}

function outcomesProblem(o: unknown): string | null {
  if (!Array.isArray(o)) return 'outcomes must be an array';
  for (const x of o as Array<Partial<PatchOutcome>>) {
    if (!x || !Number.isSafeInteger(x.seq)) return 'outcome seq must be an integer';
    if (x.status !== 'accepted' && x.status !== 'rejected') return 'outcome status must be accepted or rejected';
  }
  return null;
}

const isCode = (c: unknown): c is ErrorCode => (ERROR_CODES as readonly unknown[]).includes(c);

/** The client's entrance. A client must not trust the server's identifiers either: they reach query text. */
export function decodeServerMessage(raw: Raw, options: DecodeOptions = {}): Decoded<ServerMessage> {
  const parsed = parse(raw, options.maxBytes ?? Number.MAX_SAFE_INTEGER, options.isBinary ?? false);
  if (!parsed.ok) return parsed;
  const m = parsed.value;
  switch (m.type) {
    case 'sync_state': {
      if (typeof m.serverId !== 'string' || !m.serverId) return fail('bad_message', 'sync_state needs a serverId');
      if (m.mode !== 'delta' && m.mode !== 'snapshot') return fail('bad_message', 'sync_state mode must be delta or snapshot');
      if (!isNonNegInt(m.fromVersion) || !isNonNegInt(m.version) || !isNonNegInt(m.lastSeq)) {
        return fail('bad_message', 'sync_state versions and lastSeq must be integers >= 0');
      }
      if (typeof m.done !== 'boolean') return fail('bad_message', 'sync_state needs done');
      if (m.patches !== undefined) {
        if (!Array.isArray(m.patches)) return fail('bad_message', 'sync_state patches must be an array');
        for (const vp of m.patches as Array<Record<string, unknown>>) {
          if (!vp || !isNonNegInt(vp.version)) return fail('bad_message', 'delta entries need a version');
          const p = patchProblem(vp.patch);
          if (p) return fail(p.code, `delta patch: ${p.message}`);
        }
      }
      if (m.snapshot !== undefined) {
        const p = snapshotProblem(m.snapshot);
        if (p) return fail('bad_message', `snapshot: ${p}`);
      }
      if (m.outcomes !== undefined) {
        const p = outcomesProblem(m.outcomes);
        if (p) return fail('bad_message', p);
      }
      return { ok: true, message: m as unknown as ServerMessage };
    }
    case 'patch_response':
      if (typeof m.patchId !== 'string') return fail('bad_message', 'patch_response needs a patchId');
      if (m.status !== 'accepted' && m.status !== 'rejected' && m.status !== 'ignored') return fail('bad_message', 'bad patch_response status');
      if (m.version !== undefined && !isNonNegInt(m.version)) return fail('bad_message', 'patch_response version must be an integer');
      if (m.code !== undefined && !isCode(m.code)) return fail('bad_message', 'unknown rejection code');
      return { ok: true, message: m as unknown as ServerMessage };
    case 'patch_broadcast': {
      if (!isNonNegInt(m.version)) return fail('bad_message', 'patch_broadcast needs a version');
      const p = patchProblem(m.patch);
      if (p) return fail(p.code, `broadcast patch: ${p.message}`);
      return { ok: true, message: m as unknown as ServerMessage };
    }
    case 'heartbeat':
      return typeof m.ts === 'number' ? { ok: true, message: { type: 'heartbeat', ts: m.ts } } : fail('bad_message', 'heartbeat needs ts');
    case 'error':
      if (!isCode(m.code) || typeof m.message !== 'string') return fail('bad_message', 'error needs a known code and a message');
      return { ok: true, message: m as unknown as ServerMessage };
    default:
      return fail('unknown_type', `unknown message type ${JSON.stringify(m.type).slice(0, 60)}`);
  }
}

/** Messages go out as JSON text; kept in one place so both ends frame alike. */
export function encodeMessage(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}
