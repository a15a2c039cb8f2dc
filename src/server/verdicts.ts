import { encodeAccepted, encodePatchResponse } from '../protocol/encode.js';
import type { ErrorCode, Patch, SyncRequestMessage } from '../protocol/types.js';
import { unreachable } from '../protocol/unreachable.js';
import type { Peer } from './authority.js';
import type { LogEntry, ServerLog } from './server-log.js';

/** What the authority's queue holds. */
export type Item =
  | { kind: 'patch'; peer: Peer; patch: Patch; receivedAt: number }
  | { kind: 'invalid'; peer: Peer; clientId: string; seq: number; code: ErrorCode; reason: string; receivedAt: number }
  | { kind: 'sync'; peer: Peer; request: SyncRequestMessage };

export type PatchItem = Extract<Item, { kind: 'patch' | 'invalid' }>;

export type Verdict =
  | { status: 'accepted'; version: number; entry: LogEntry }
  | { status: 'rejected'; code: ErrorCode; reason: string; bump: boolean }
  | { status: 'ignored' };

export const patchIdOf = (item: PatchItem) => (item.kind === 'patch' ? item.patch.id : `${item.clientId}:${item.seq}`);
export const clientOf = (item: PatchItem) => (item.kind === 'patch' ? item.patch.clientId : item.clientId);
export const seqOf = (item: PatchItem) => (item.kind === 'patch' ? item.patch.seq : item.seq);

/**
 * Exactly-once and order, before anything else: what to do with a patch given the seqs seen (`seen`:
 * this group's, on top of the log's). Then a baseVersion beyond the server's version: the client
 * cannot have applied a version the server never had, and a conflict strategy that trusted it would
 * take every change since the patch's real base as seen (reject-stale let such a patch overwrite
 * them). Judged against the version before the group: its answers leave only after it commits.
 */
export function classify(
  item: PatchItem,
  seen: Map<string, number>,
  log: Pick<ServerLog, 'lastSeq' | 'version'>,
): Verdict | 'process' {
  const clientId = clientOf(item);
  const seq = seqOf(item);
  if (item.peer.clientId !== clientId) {
    const reason = `this connection syncs as ${JSON.stringify(item.peer.clientId)}, not ${JSON.stringify(clientId)}`;
    return { status: 'rejected', code: 'forbidden', reason, bump: false };
  }
  const last = seen.get(clientId) ?? log.lastSeq.get(clientId) ?? 0;
  if (seq <= last) return { status: 'ignored' };
  if (seq > last + 1) {
    return { status: 'rejected', code: 'out_of_order', reason: `expected seq ${last + 1}, got ${seq}`, bump: false };
  }
  seen.set(clientId, seq);
  if (item.kind === 'patch' && item.patch.baseVersion > log.version) {
    const reason = `baseVersion ${item.patch.baseVersion} is beyond the server's version ${log.version}`;
    return { status: 'rejected', code: 'invalid_value', reason, bump: true };
  }
  return 'process';
}

/** The patch_response that tells `item`'s client its verdict. */
export function patchResponse(item: PatchItem, v: Verdict, log: ServerLog): string {
  const patchId = patchIdOf(item);
  switch (v.status) {
    case 'accepted':
      return encodeAccepted(patchId, v.version);
    case 'rejected':
      return encodePatchResponse({
        type: 'patch_response',
        patchId,
        status: 'rejected',
        code: v.code,
        reason: v.reason,
      });
    case 'ignored': {
      // A re-send: say what became of it the first time, so a client whose answer was lost settles it.
      const o = log.outcome(clientOf(item), seqOf(item));
      const version = o.version !== undefined ? { version: o.version } : {};
      const rejected = o.code ? { code: o.code, reason: o.reason } : {};
      return encodePatchResponse({ type: 'patch_response', patchId, status: 'ignored', ...version, ...rejected });
    }
    default:
      return unreachable(v);
  }
}
