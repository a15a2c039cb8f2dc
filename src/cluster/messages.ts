/**
 * What gateways and the sequencer say to each other through Redis, besides the log: one stream entry
 * per gateway tick into the sequencer's inbox, one per sequencer tick back to each gateway. A
 * connection is named by its gateway's number for it. Both ends are ours, but the text crossed a
 * network: a malformed entry is dropped with an error in the log, never thrown at the reader loop.
 */
import type { ErrorCode, Patch, SyncRequestMessage } from '../protocol/types.js';
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
 * To one gateway, in order: a message for a connection (`m`), a drop (`d`, with the reason), or the
 * end of a sync answer (`s`, with the log id the answer covers: the connection hears the log after it).
 */
export type Reply = [conn: number, kind: 'm' | 'd' | 's', text: string];

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
