import { toJson } from '../protocol/encode.js';
import type { Patch } from '../protocol/types.js';
import { utf8Length } from '../protocol/utf8.js';
import type { WriteTx } from '../store/graph-store.js';
import type { ConflictStrategy, ConflictTracker } from './conflicts.js';
import type { Verdict } from './verdicts.js';

/** `{"type":"patch","patch":` and `}`: what a patch message adds to the patch's own JSON. */
const PATCH_MESSAGE_BYTES = 25;

export interface Rules {
  strategy: ConflictStrategy;
  /** Only when conflicts are judged. */
  tracker: ConflictTracker | undefined;
  /** The largest patch message taken (maxPatchMessageBytes of the server's maxMessageBytes). */
  maxPatchBytes: number;
}

/**
 * Size, conflicts, then the graph itself; records the patch's stamps for later patches of the group.
 * The size is that of the patch as the server will send it on (its log holds this JSON, spliced into
 * broadcasts and deltas), not of the frame it came in: JSON.stringify may write a number longer than
 * the client did (`1e20` is 21 characters), so a frame within the limit does not make a broadcast so.
 */
export function judge(patch: Patch, tx: WriteTx, version: number, rules: Rules): Verdict {
  const json = toJson(patch);
  const size = utf8Length(json) + PATCH_MESSAGE_BYTES;
  if (size > rules.maxPatchBytes) {
    const reason = `the patch is ${size} bytes as the server sends it on; it takes at most ${rules.maxPatchBytes}`;
    return { status: 'rejected', code: 'message_too_large', reason, bump: true };
  }
  const { tracker, strategy } = rules;
  if (tracker) {
    const conflicts = tracker.conflicts(patch);
    const stale = typeof strategy === 'function' ? conflicts.filter((c) => strategy(c) === 'reject') : conflicts;
    if (stale.length) {
      const c = stale[0]!;
      return {
        status: 'rejected',
        code: 'conflict',
        reason:
          `${c.key} was changed at version ${c.changedAt} by ${c.changedBy}, ` +
          `after this patch's base version ${c.baseVersion}`,
        bump: true,
      };
    }
  }
  const applied = tx.apply(patch.ops, { fit: true });
  if (!applied.ok) {
    const reason = `op ${applied.opIndex}: ${applied.error.message}`;
    return { status: 'rejected', code: applied.error.code, reason, bump: true };
  }
  tracker?.record(patch, version);
  return { status: 'accepted', version, entry: { version, patch, json } };
}
