import type { PatchVerdict } from '../../machines/patch.machine.js';
import { GraphStore } from '../store/graph-store.js';
import type { Step } from '../store/kuzu/steps.js';

/** A verdict a crash kept from the app. */
export interface Unreported {
  patchId: string;
  seq: number;
  verdict: PatchVerdict;
}

/** The `_Meta` key of the verdicts not yet told (read with the replica's other meta at open). */
export const UNTOLD_KEY = 'untold';

/**
 * The verdicts of patches that left `_Pending`, kept until the app has heard them: a crash between
 * the commit and the event would otherwise lose the event for good (the patch is no longer pending,
 * and the server forgets an outcome once the client has acknowledged it). They live in one `_Meta`
 * entry, one more row of the meta step every transaction of the replica records anyway (a table of
 * them cost an awaited loop on a file two statements per acceptance, this one).
 */
export class VerdictJournal {
  /** What the file held at open: told again once the client starts (at least once). */
  readonly unreported: Unreported[];
  private readonly untold = new Map<string, Unreported>();
  /** Whether `untold` changed since the file last had it. */
  private changed = false;

  /** `saved`: the `_Meta` entry as the file holds it, if it does. */
  constructor(saved: string | undefined) {
    const found = saved ? (JSON.parse(saved) as Unreported[]) : [];
    this.unreported = found.sort((a, b) => a.seq - b.seq);
    for (const u of found) this.untold.set(u.patchId, u);
  }

  /** Verdicts recorded in the transaction that takes their patches out of `_Pending`. */
  record(verdicts: Unreported[]): void {
    for (const v of verdicts) this.untold.set(v.patchId, v);
    if (verdicts.length) this.changed = true;
  }

  /** The app heard the verdict of `patchId`. */
  told(patchId: string): void {
    if (this.untold.delete(patchId)) this.changed = true;
  }

  /** The meta entry to record with the transaction being built, if the verdicts changed. */
  meta(): Record<string, string> {
    if (!this.changed) return {};
    this.changed = false;
    return { [UNTOLD_KEY]: JSON.stringify([...this.untold.values()]) };
  }

  /** The step that records what was told since the last transaction (on close), if anything was. */
  forget(): Step[] {
    const meta = this.meta();
    return Object.keys(meta).length ? [GraphStore.metaStep(meta)] : [];
  }
}
