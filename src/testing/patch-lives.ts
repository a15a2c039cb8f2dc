import type { StateValue } from 'xstate';
import type { FrameContext } from '../../machines/frame.machine.js';
import type { PatchContext } from '../../machines/patch.machine.js';
import type { SnapshotRecorder } from './run-path.js';

/**
 * Records the life of every patch as the patch statechart tells it, whichever actor carries it: on
 * the common path a frame actor (machines/frame.machine.ts) carries a group's patches, and a patch
 * has an actor of its own (`patch:<id>`) only once it leaves that path. Under `patch:<id>`, a patch
 * on a frame was `optimistic` until its group commit (when the frame starts), is `sent` while the
 * frame has it open, and `accepted` or `ignored` once the frame gives its verdict; a patch that left
 * starts its own actor in `sent` and goes on there. A patch renumbered by a server reset goes on as
 * an actor named for its new id; its life stays recorded under its first. Model-based tests of the
 * patch statechart follow the patch under test by it. A projection for SnapshotRecorder.
 */
export function patchLives(rec: SnapshotRecorder, systemId: string, snapshot: unknown): void {
  if (systemId.startsWith('patch:')) {
    // Renumbered by a server reset, it goes on under a new name: its life stays under the first.
    const { value, context } = snapshot as { value: StateValue; context: PatchContext };
    if (context.firstId !== undefined) rec.record(`patch:${context.firstId}`, value);
    return;
  }
  if (!systemId.startsWith('frame:')) return;
  const { open, ended } = (snapshot as { context: FrameContext }).context;
  for (const { patchId } of open) {
    const id = `patch:${patchId}`;
    if (!rec.history(id).length) rec.record(id, { unanswered: 'optimistic' });
    rec.record(id, { unanswered: 'sent' });
  }
  for (const d of ended.done) rec.record(`patch:${d.patchId}`, d.verdict.status);
}
