import { ClientMessageSchema, PatchEnvelopeSchema, ServerMessageSchema } from './messages.js';
import type { ClientMessage, ErrorCode, ServerMessage } from './types.js';
import { utf8Length, utf8Text } from './utf8.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;
/**
 * What a patch message leaves free of a frame of `maxMessageBytes`: the envelopes it travels on in,
 * a patch_broadcast (+37 bytes) and a delta's sync_state chunk (about 250 with its head), must fit
 * the same limit at every other client.
 */
export const PATCH_ENVELOPE_BYTES = 512;
/**
 * The least `maxMessageBytes` either end takes: below it, the envelopes would leave a patch almost no
 * room (a server would reject every write `message_too_large`).
 */
export const MIN_MAX_MESSAGE_BYTES = 4096;
/** Why `maxMessageBytes` cannot work, or undefined when it can (see MIN_MAX_MESSAGE_BYTES); unset: the default. */
export const maxMessageBytesProblem = (n: number | undefined): string | undefined =>
  n === undefined || (Number.isSafeInteger(n) && n >= MIN_MAX_MESSAGE_BYTES)
    ? undefined
    : `maxMessageBytes must be an integer of at least ${MIN_MAX_MESSAGE_BYTES} (bytes); got ${String(n)}`;
/** The largest patch message, `{"type":"patch","patch":...}` as JSON.stringify writes it, in UTF-8 bytes. */
export const maxPatchMessageBytes = (maxMessageBytes: number): number => maxMessageBytes - PATCH_ENVELOPE_BYTES;
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

type Failure = { ok: false; error: DecodeError };
const fail = (code: ErrorCode, message: string): Failure => ({ ok: false, error: { code, message } });

type Raw = string | Buffer | ArrayBuffer | Buffer[];

const asRecord = (v: unknown) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

const toText = (raw: Raw): string => (typeof raw === 'string' ? raw : utf8Text(raw));
export function byteLength(raw: Raw): number {
  if (typeof raw === 'string') return utf8Length(raw);
  if (Array.isArray(raw)) return raw.reduce((n, b) => n + b.length, 0);
  return raw.byteLength;
}

/** Walks the parsed tree without recursion: depth-bombs must not overflow our stack either. */
function structureProblem(root: unknown): { message: string; prototypeKey: boolean } | null {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_DEPTH) return { message: `nested deeper than ${MAX_DEPTH} levels`, prototypeKey: false };
    if (Array.isArray(v)) {
      for (const e of v) if (typeof e === 'object' && e !== null) stack.push([e, depth + 1]);
      continue;
    }
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(k)) return { message: `key ${JSON.stringify(k)} is not allowed`, prototypeKey: true };
      const e = (v as Record<string, unknown>)[k];
      if (typeof e === 'object' && e !== null) stack.push([e, depth + 1]);
    }
  }
  return null;
}

const tooLargeFailure = (size: number, maxBytes: number) =>
  fail('message_too_large', `message of ${size} bytes exceeds the limit of ${maxBytes}`);

/** The frame's JSON, within the size limit. Structure is checked per message (checkedMessages). */
function parse(raw: Raw, maxBytes: number, isBinary: boolean): { ok: true; value: unknown } | Failure {
  const size = byteLength(raw);
  if (size > maxBytes) return tooLargeFailure(size, maxBytes);
  if (isBinary) return fail('bad_message', 'binary frames are not part of the protocol; send JSON text');
  try {
    return { ok: true, value: JSON.parse(toText(raw)) };
  } catch (e) {
    return fail('bad_message', `not JSON: ${(e as Error).message.slice(0, 120)}`);
  }
}

/**
 * Each message of a frame (one, or a v2 batch) decoded on its own, depth bombs and prototype keys
 * included: one bad message must not spoil the others of its batch. Such a message is never
 * cleaned or used, only read for what names it (see unstructured).
 */
function checkedMessages<T>(value: unknown, decode: (m: unknown) => Decoded<T>): Decoded<T>[] {
  const messages = messagesOf(value);
  if (!Array.isArray(messages)) return [messages];
  return messages.map((m) => {
    const problem = structureProblem(m);
    return problem ? unstructured(m, problem) : decode(m);
  });
}

/**
 * A message refused for its structure. A patch among them still names itself: without its id a
 * client cannot tell which patch failed, and without its seq settled every later patch of that
 * client would wait as out of order. Reading the envelope is safe: it is three shallow fields, and
 * JSON.parse makes a prototype key an own property, never a prototype. A prototype key where a
 * label or property key goes is an invalid identifier, as the schema words it (it refuses those
 * names anyway); checking the schema is safe for the same reason, and a depth bomb never gets there.
 */
function unstructured(m: unknown, problem: { message: string; prototypeKey: boolean }): Failure {
  const r = asRecord(m);
  if (r?.type !== 'patch') return fail('bad_message', problem.message);
  const issue = problem.prototypeKey ? ClientMessageSchema.check(r) : null;
  const failure = issue ? fail(issue.code, issue.message) : fail('bad_message', problem.message);
  return withEnvelope(failure, asRecord(r.patch));
}

/** One message of a frame, before its schema: an object with a string `type`. */
function envelope(value: unknown): { ok: true; value: Record<string, unknown> } | Failure {
  const m = asRecord(value);
  if (!m) return fail('bad_message', 'a message must be a JSON object');
  if (typeof m.type !== 'string') return fail('bad_message', 'a message needs a string "type"');
  return { ok: true, value: m };
}

/** Protocol v2: a frame is one message or a non-empty array of them; each stands on its own. */
function messagesOf(value: unknown): unknown[] | Failure {
  if (!Array.isArray(value)) return [value];
  return value.length ? value : fail('bad_message', 'a batch must hold at least one message');
}

export interface DecodeOptions {
  maxBytes?: number;
  isBinary?: boolean;
  /** Parse an oversized text frame anyway for a patch's envelope: only worth it where it can be used. */
  envelopeOfOversized?: boolean;
  /**
   * False: an array frame (a v2 batch) is refused whole. A peer may batch once its sync_request
   * said protocol 2; before that its frames are v1, one message each.
   */
  batches?: boolean;
}

const unbatched = () =>
  fail('bad_message', 'a batch of messages needs protocol 2: say protocol 2 in sync_request first');

/** Where a bad patch's id, clientId and seq are sound, the server can still settle its seq. */
function withEnvelope(failure: Failure, p: Record<string, unknown> | undefined): Failure {
  if (typeof p?.id === 'string') failure.error.patchId = p.id.slice(0, 300);
  if (p && PatchEnvelopeSchema.check(p) === null) {
    failure.error.envelope = { clientId: p.clientId as string, seq: p.seq as number };
  }
  return failure;
}

/**
 * A frame over the size limit (it is bounded by the socket's hard limit) is read anyway, message by
 * message. A patch over the limit is still a patch of its client: it is rejected under its envelope,
 * not left unanswered, which would hold every later patch of that client back as out of order. The
 * messages of a batch that fit the limit each on their own are decoded as usual: a sender whose limit
 * is larger than ours loses nothing but the messages that are too large.
 */
function tooLarge(failure: Failure, raw: Raw, maxBytes: number, batches?: boolean): Decoded<ClientMessage>[] {
  let frame: unknown;
  try {
    frame = JSON.parse(toText(raw));
  } catch {
    return [failure];
  }
  if (!Array.isArray(frame)) {
    const m = asRecord(frame);
    return [m?.type === 'patch' ? withEnvelope(failure, asRecord(m.patch)) : failure];
  }
  if (batches === false) return [unbatched()];
  return checkedMessages(frame, (m) => {
    const size = utf8Length(JSON.stringify(m));
    if (size <= maxBytes) return clientMessage(m);
    const r = asRecord(m);
    const own = tooLargeFailure(size, maxBytes);
    return r?.type === 'patch' ? withEnvelope(own, asRecord(r.patch)) : own;
  });
}

/** One client message, checked against its schema; a bad patch keeps its envelope when it can. */
function clientMessage(value: unknown): Decoded<ClientMessage> {
  const e = envelope(value);
  if (!e.ok) return e;
  const m = e.value;
  const issue = ClientMessageSchema.check(m);
  if (!issue) return { ok: true, message: ClientMessageSchema.clean(m as ClientMessage) };
  const failure = fail(issue.code, issue.message);
  return m.type === 'patch' ? withEnvelope(failure, asRecord(m.patch)) : failure;
}

function serverMessage(value: unknown): Decoded<ServerMessage> {
  const e = envelope(value);
  if (!e.ok) return e;
  const issue = ServerMessageSchema.check(e.value);
  // Not copied: the fan-out path decodes every broadcast, and a server's frames carry no extras.
  return issue ? fail(issue.code, issue.message) : { ok: true, message: e.value as ServerMessage };
}

/**
 * The server's single entrance: size, JSON, structure, then each message of the frame (one, or a
 * v2 batch) on its own: shape, identifiers and values. Never throws; a frame that cannot be read at
 * all is one failure.
 */
export function decodeClientFrame(raw: Raw, options: DecodeOptions = {}): Decoded<ClientMessage>[] {
  const isBinary = options.isBinary ?? false;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const parsed = parse(raw, maxBytes, isBinary);
  if (!parsed.ok) {
    const oversized = parsed.error.code === 'message_too_large' && options.envelopeOfOversized && !isBinary;
    return oversized ? tooLarge(parsed, raw, maxBytes, options.batches) : [parsed];
  }
  if (options.batches === false && Array.isArray(parsed.value)) return [unbatched()];
  return checkedMessages(parsed.value, clientMessage);
}

/** A frame that must hold exactly one message (protocol v1). */
export function decodeClientMessage(raw: Raw, options: DecodeOptions = {}): Decoded<ClientMessage> {
  const [first, ...rest] = decodeClientFrame(raw, options);
  return rest.length ? fail('bad_message', 'a batch of messages needs protocol 2') : first!;
}

/** The client's entrance. A client must not trust the server's identifiers either: they reach query text. */
export function decodeServerFrame(raw: Raw, options: DecodeOptions = {}): Decoded<ServerMessage>[] {
  const parsed = parse(raw, options.maxBytes ?? Number.MAX_SAFE_INTEGER, options.isBinary ?? false);
  return parsed.ok ? checkedMessages(parsed.value, serverMessage) : [parsed];
}

export function decodeServerMessage(raw: Raw, options: DecodeOptions = {}): Decoded<ServerMessage> {
  const [first, ...rest] = decodeServerFrame(raw, options);
  return rest.length ? fail('bad_message', 'a batch of messages needs protocol 2') : first!;
}
