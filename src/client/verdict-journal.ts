import type { PatchVerdict } from '../../machines/patch.machine.js';
import type { GraphStore } from '../store/graph-store.js';
import type { Step } from '../store/kuzu/steps.js';

/** A verdict a crash kept from the app. */
export interface Unreported {
  patchId: string;
  seq: number;
  verdict: PatchVerdict;
}

const TABLE: Step = {
  kind: 'query',
  cypher: 'CREATE NODE TABLE IF NOT EXISTS _Settled(id INT64, verdicts STRING, PRIMARY KEY(id))',
  ddl: true,
};

/**
 * The verdicts of patches that left `_Pending`, kept in `_Settled` until the app has heard them: a
 * crash between the commit and the event would otherwise lose the event for good (the patch is no
 * longer pending, and the server forgets an outcome once the client has acknowledged it). One row per
 * transaction, its verdicts as one JSON array (a fold of a thousand acceptances is one statement),
 * deleted with the next transaction once every verdict in it has been told.
 */
export class VerdictJournal {
  /** What the file held at open: told again once the client starts (at least once). */
  readonly unreported: Unreported[] = [];
  private nextId = 1;
  /** The row of each verdict not yet told, and how many of each row's are left. */
  private readonly rowOf = new Map<string, number>();
  private readonly untold = new Map<number, number>();
  /** Rows whose verdicts have all been told: deleted with the next transaction. */
  private done: number[] = [];

  static async open(store: GraphStore): Promise<VerdictJournal> {
    const journal = new VerdictJournal();
    await store.run([TABLE]);
    const cypher = 'MATCH (s:_Settled) RETURN s.id AS id, s.verdicts AS verdicts';
    const [rows] = await store.run([{ kind: 'query', cypher }], { reads: true });
    for (const row of rows!) {
      const id = Number(row.id);
      const verdicts = JSON.parse(row.verdicts as string) as Unreported[];
      journal.nextId = Math.max(journal.nextId, id + 1);
      journal.track(id, verdicts);
      journal.unreported.push(...verdicts);
    }
    journal.unreported.sort((a, b) => a.seq - b.seq);
    return journal;
  }

  /** The step that records `verdicts` (in the transaction that takes their patches out of `_Pending`). */
  record(verdicts: Unreported[]): Step {
    const id = this.nextId++;
    this.track(id, verdicts);
    return {
      kind: 'query',
      cypher: 'CREATE (:_Settled {id: $id, verdicts: $v})',
      params: { id, v: JSON.stringify(verdicts) },
    };
  }

  /** The app heard the verdict of `patchId`. */
  told(patchId: string): void {
    const id = this.rowOf.get(patchId);
    if (id === undefined) return;
    this.rowOf.delete(patchId);
    const left = this.untold.get(id)! - 1;
    if (left > 0) this.untold.set(id, left);
    else {
      this.untold.delete(id);
      this.done.push(id);
    }
  }

  /** The step that deletes the rows told so far, if any. */
  forget(): Step[] {
    if (!this.done.length) return [];
    const ids = this.done;
    this.done = [];
    return [
      { kind: 'query', cypher: 'MATCH (s:_Settled) WHERE s.id IN CAST($ids AS INT64[]) DELETE s', params: { ids } },
    ];
  }

  private track(id: number, verdicts: Unreported[]): void {
    this.untold.set(id, verdicts.length);
    for (const v of verdicts) this.rowOf.set(v.patchId, id);
  }
}
