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
