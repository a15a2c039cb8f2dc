import type { PatchVerdict } from '../../machines/patch.machine.js';
import { forOpEntities, KeyCounts, opEntities } from '../patch/touched.js';
import type { Op, Patch } from '../protocol/types.js';
import { GraphStore } from '../store/graph-store.js';
import type { Step } from '../store/kuzu/steps.js';
import { VerdictJournal } from './verdict-journal.js';

/**
 * A local patch the server has not answered yet. `applied`: its effect is in the local graph and
 * `inverse` undoes it. A patch that no longer applies on the server state seen so far keeps its
 * place here, not applied, until the server answers: every seq reaches the server in order, and only
 * the server can say whether it is rejected (another client may re-create what it needs first).
 */
export interface Entry {
  patch: Patch;
  inverse: Op[];
  applied: boolean;
  /** The `patch` message as encoded when its size was checked: it goes on the wire as it is. */
  frame?: string;
  /**
   * Staged (memory-first): in the local view, not yet committed. It goes on the wire only once its
   * `_Pending` row has committed, and its inverse is known only then.
   */
  staged?: true;
  /**
   * The tables its ops change, known when it was written (live queries count it as pending on them);
   * absent for one restored after a restart: it counts on every table.
   */
  tables?: PatchTables;
  /** The tables, pairs and columns it created here (see GraphModel.localOnly); absent: none. */
  made?: readonly string[];
}

/** A patch's tables, sorted, with the key that groups patches of the same tables. */
export interface PatchTables {
  list: readonly string[];
  key: string;
}

const PENDING_TABLE: Step[] = [
  {
    kind: 'query',
    cypher:
      'CREATE NODE TABLE IF NOT EXISTS _Pending(seq INT64, patch STRING, inverse STRING, applied BOOLEAN, PRIMARY KEY(seq))',
    ddl: true,
  },
  // Entry.made, as JSON ('': none); a file from before it gets the column.
  { kind: 'query', cypher: "ALTER TABLE _Pending ADD IF NOT EXISTS made STRING DEFAULT ''", ddl: true },
];

/** The verdicts of entries that leave with one (accepted, rejected), recorded in the same transaction. */
export type Verdicts = ReadonlyMap<Entry, PatchVerdict>;

/**
 * The pending patches in seq order, indexed by seq and by the nodes and edges their applied effects
 * touch, and the steps that keep their `_Pending` rows in step (only when the database is a file:
 * that is what makes them survive a restart). The replica changes them only after a commit.
 */
export class PendingPatches {
  readonly entries: Entry[] = [];
  private readonly bySeq = new Map<number, Entry>();
  private readonly touched = new KeyCounts();
  private constructor(
    private readonly durable: boolean,
    /** The verdicts of patches that left, until the app has heard them (in a file only). */
    readonly journal?: VerdictJournal,
  ) {}

  /**
   * The pending patches stored in `store` (none when it is in memory); `untold`: the verdict journal's
   * `_Meta` entry, read with the replica's other meta.
   */
  static async open(store: GraphStore, durable: boolean, untold?: string): Promise<PendingPatches> {
    if (!durable) return new PendingPatches(false);
    await store.run(PENDING_TABLE);
    const pending = new PendingPatches(true, new VerdictJournal(untold));
    const read =
      'MATCH (p:_Pending) RETURN p.patch AS patch, p.inverse AS inverse, p.applied AS applied, p.made AS made ORDER BY p.seq';
    const [rows] = await store.run([{ kind: 'query', cypher: read }], { reads: true });
    for (const row of rows!) {
      const made = row.made ? (JSON.parse(row.made as string) as string[]) : undefined;
      // What it made was its alone when it was written; a server change since would have rows there.
      for (const key of made ?? []) store.model.localOnly.add(key);
      pending.add({
        patch: JSON.parse(row.patch as string),
        inverse: JSON.parse(row.inverse as string),
        applied: row.applied as boolean,
        ...(made ? { made } : {}),
      });
    }
    return pending;
  }

  /** The `n` oldest applied entries (fewer if there are not as many): no walk past them. */
  bottomApplied(n: number): Entry[] {
    const bottom: Entry[] = [];
    if (n === 0) return bottom;
    for (const e of this.entries) {
      if (!e.applied) continue;
      bottom.push(e);
      if (bottom.length === n) break;
    }
    return bottom;
  }

  entry(patchId: string): Entry | undefined {
    const e = this.bySeq.get(Number(patchId.slice(patchId.lastIndexOf(':') + 1)));
    return e?.patch.id === patchId ? e : undefined;
  }

  /** True when no applied pending patch touches `key` (`n:<id>` or `e:<id>`), nor would its undo. */
  untouched(key: string): boolean {
    return !this.touched.has(key);
  }

  get touchesNothing(): boolean {
    return this.touched.size === 0;
  }

  /** True when `ops` touch nothing an applied pending patch touches (or its undo would). */
  commutes(ops: Op[], incidentEdges: (nodeId: string) => Iterable<string>): boolean {
    if (this.touchesNothing) return true;
    for (const op of ops) {
      for (const k of opEntities(op)) if (!this.untouched(k)) return false;
      if (op.op === 'delete_node') for (const e of incidentEdges(op.id)) if (!this.untouched(`e:${e}`)) return false;
    }
    return true;
  }

  add(e: Entry): void {
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1]!.patch.seq > e.patch.seq) i--;
    this.entries.splice(i, 0, e);
    this.bySeq.set(e.patch.seq, e);
    if (e.applied) addEntryKeys(this.touched, e, 1);
  }

  /** Its group committed: the inverse is known now (and what it touches may grow: a delete's edges). */
  committed(e: Entry, inverse: Op[]): void {
    delete e.staged;
    e.inverse = inverse;
    if (e.applied) addOpsKeys(this.touched, inverse, 1);
  }

  replace(old: Entry, next: Entry): void {
    const i = this.entries.indexOf(old);
    if (old.applied) addEntryKeys(this.touched, old, -1);
    this.entries[i] = next;
    this.bySeq.set(next.patch.seq, next);
    if (next.applied) addEntryKeys(this.touched, next, 1);
  }

  drop(entries: Entry[]): void {
    if (!entries.length) return;
    for (const e of entries) {
      if (this.bySeq.get(e.patch.seq) === e) this.bySeq.delete(e.patch.seq);
      if (e.applied) addEntryKeys(this.touched, e, -1);
    }
    // Acknowledgements come in seq order: most drops are the oldest entries, a prefix.
    let k = 0;
    while (k < entries.length && this.entries[k] === entries[k]) k++;
    if (k === entries.length) {
      this.entries.splice(0, k);
      return;
    }
    const gone = new Set(entries);
    let j = 0;
    for (const e of this.entries) if (!gone.has(e)) this.entries[j++] = e;
    this.entries.length = j;
  }

  /**
   * The steps that store `upsert`, delete `remove`, record the `verdicts` of those that leave with one
   * and `meta`, in the same transaction, and forget the verdicts reported since the last one.
   */
  persist(upsert: Entry[], remove: Entry[], meta: Record<string, string | number>, verdicts?: Verdicts): Step[] {
    const steps: Step[] = [];
    if (!this.durable) return steps;
    const keep = new Set(upsert.map((e) => e.patch.seq));
    const gone = remove.map((e) => e.patch.seq).filter((s) => !keep.has(s));
    if (gone.length) {
      const cypher = 'MATCH (p:_Pending) WHERE p.seq IN CAST($seqs AS INT64[]) DELETE p';
      steps.push({ kind: 'query', cypher, params: { seqs: gone } });
    }
    if (upsert.length) {
      steps.push({
        kind: 'rows',
        body: 'MERGE (p:_Pending {seq: $c0}) SET p.patch = $c1, p.inverse = $c2, p.applied = $c3, p.made = $c4',
        columns: ['INT64', 'STRING', 'STRING', 'BOOLEAN', 'STRING'],
        rows: upsert.map((e) => [
          e.patch.seq,
          JSON.stringify(e.patch),
          JSON.stringify(e.inverse),
          e.applied,
          e.made ? JSON.stringify(e.made) : '',
        ]),
      });
    }
    if (verdicts?.size)
      this.journal!.record([...verdicts].map(([e, verdict]) => ({ patchId: e.patch.id, seq: e.patch.seq, verdict })));
    const all = { ...meta, ...this.journal!.meta() };
    if (Object.keys(all).length) steps.push(GraphStore.metaStep(all));
    return steps;
  }
}

/** Each dropped entry's verdict: accepted, at the version that confirmed it. */
export function acceptedAt(ready: ReadonlyArray<{ version: number; patch: Patch }>, drop: Entry[]): Verdicts {
  const byId = new Map(drop.map((e) => [e.patch.id, e]));
  const verdicts = new Map<Entry, PatchVerdict>();
  for (const r of ready) {
    const e = byId.get(r.patch.id);
    if (e) verdicts.set(e, { status: 'accepted', version: r.version });
  }
  return verdicts;
}

/** Counts (`by` 1) or uncounts (-1) the keys an entry's ops and inverse touch, without building lists. */
function addEntryKeys(touched: KeyCounts, e: Entry, by: 1 | -1): void {
  addOpsKeys(touched, e.patch.ops, by);
  addOpsKeys(touched, e.inverse, by);
}

function addOpsKeys(touched: KeyCounts, ops: Op[], by: 1 | -1): void {
  for (const op of ops) forOpEntities(op, by === 1 ? touched.addOne : touched.removeOne);
}
