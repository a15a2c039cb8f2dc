/**
 * What gateways and the sequencer say to each other through Redis, besides the log: one stream entry
 * per gateway tick into the sequencer's inbox, one per sequencer tick back to each gateway. A
 * connection is named by its gateway's number for it. Both ends are ours, but the text crossed a
 * network: a malformed entry is dropped with an error in the log, never thrown at the reader loop.
 */
import { type FirstChunk, type SyncStateHead, toJson } from '../protocol/encode.js';
import type { ErrorCode, GraphSchema, Patch, PatchOutcome, SyncRequestMessage } from '../protocol/types.js';
import type { Principal } from '../server/options.js';

/** From a gateway: a connection's message, decoded and checked there. `cl`: the clientId it syncs as. */
export type InboxMessage =
  | { k: 'p'; c: number; cl: string | undefined; pr: Principal; patch: Patch }
  | {
      k: 'i';
      c: number;
      cl: string | undefined;
      pr: Principal;
      client: string;
      seq: number;
      code: ErrorCode;
      reason: string;
    }
  | { k: 's'; c: number; cl: string | undefined; pr: Principal; req: SyncRequestMessage }
  /** The connection closed. */
  | { k: 'x'; c: number };

export interface InboxEntry {
  /** The gateway's id: its replies go to its own stream. */
  g: string;
  m: InboxMessage[];
}

/**
 * To one gateway, in order: a message for a connection (`m`), a drop (`d`, with the reason), a delta
 * for the gateway to send from the log (`D`, see DeltaOrder), or the end of a sync answer (`s`, with
 * the log id the answer covers: the connection hears the log after it).
 */
export type Reply = [conn: number, kind: 'm' | 'd' | 'D' | 's', text: string];

/** A sync answer's head and first-chunk extras; the patches come from the log, up to head.version. */
export interface DeltaOrder {
  head: SyncStateHead;
  first: FirstChunk;
}

export const encodeDeltaOrder = (head: SyncStateHead, first: FirstChunk): string =>
  `{"head":${JSON.stringify(head)},"outcomes":${JSON.stringify(first.outcomes ?? null)},"schema":${first.schema ?? 'null'}}`;

export function parseDeltaOrder(text: string): DeltaOrder | undefined {
  try {
    const o = JSON.parse(text) as { head: SyncStateHead; outcomes: PatchOutcome[] | null; schema: unknown };
    if (typeof o?.head?.version !== 'number' || typeof o.head.fromVersion !== 'number') return undefined;
    const first: FirstChunk = {
      outcomes: o.outcomes ?? undefined,
      schema: o.schema === null ? undefined : toJson(o.schema as GraphSchema),
    };
    return { head: o.head, first };
  } catch {
    return undefined;
  }
}

export function parseInbox(body: string): InboxEntry | undefined {
  try {
    const e = JSON.parse(body) as InboxEntry;
    if (typeof e?.g !== 'string' || !Array.isArray(e.m)) return undefined;
    return { g: e.g, m: e.m.filter((m) => Number.isSafeInteger(m?.c) && 'psix'.includes(m.k)) };
  } catch {
    return undefined;
  }
}

export function parseReplies(body: string): Reply[] | undefined {
  try {
    const r = JSON.parse(body) as Reply[];
    if (!Array.isArray(r)) return undefined;
    return r.filter((x) => Array.isArray(x) && Number.isSafeInteger(x[0]) && typeof x[2] === 'string');
  } catch {
    return undefined;
  }
}
