import { fold } from './graph-model.js';
import type { RowsStep, RowValue, Step } from './kuzu/steps.js';
import { edgeInsert, edgeKey, nodeKey, type EdgeRole, type Statement } from './planner.js';

type DataStatement = Extract<Statement, { kind: 'data' }>;
type DataBatch = { kind: 'data'; template: string; step: RowsStep; rowByKey: Map<string, number> };
type Batch = Extract<Statement, { kind: 'ddl' }> | DataBatch | { kind: 'step'; step: RowsStep };

/** An edge this transaction creates, and where its row is held. */
interface HeldEdge {
  batch: DataBatch;
  row: number;
  create: Extract<EdgeRole, { role: 'create' }>;
}

/** The create of an edge, made again (with another column, or in another part): values as edgeInsert has them. */
function createAgain(create: HeldEdge['create'], values: RowValue[]): DataStatement {
  return {
    kind: 'data',
    ...edgeInsert(create.label, create.fromLabel, create.toLabel, create.cols),
    values,
    reads: [nodeKey(values[0] as string), nodeKey(values[1] as string)],
    writes: [edgeKey(create.id)],
    edge: create,
  };
}

/** A row taken back (see Batcher.add, on edges): left out of the steps. */
const TAKEN_BACK: RowValue[] = [];

/**
 * Groups statements into as few steps as order allows. A statement joins the latest batch of its
 * template when nothing after that batch writes what it reads or touches what it writes: then moving
 * it earlier cannot change the outcome. Schema changes are barriers. Ten thousand creates of one
 * shape become one bulk step; interleaved creates and sets on different nodes become two.
 */
export class Batcher {
  private readonly batches: Batch[] = [];
  private readonly lastOfTemplate = new Map<string, number>();
  private readonly lastWrite = new Map<string, number>();
  private readonly lastRead = new Map<string, number>();
  private barrier = -1;
  /** Rows held, in all batches. */
  private rowCount = 0;
  private heldEdges = new Map<string, HeldEdge>();

  /**
   * No statement matches an edge this transaction created while its row is held here: its delete
   * takes the row back, and a property set on it goes into the row (or a new row, with one column
   * more). In kuzu-wasm 0.11.3 (and the native package), a transaction that deleted an edge already
   * on disk sees the edges it created wrongly: a delete or a SET that matches one of them hits
   * another, and the graph it commits keeps an edge that was deleted (test/store/batch-order.test.ts).
   * A transaction sent in parts (WriteTx.streamTo) keeps them held to its last part (see `part`).
   */
  add(s: Statement): void {
    const held = s.kind === 'data' && s.edge && s.edge.role !== 'create' ? this.heldEdges.get(s.edge.id) : undefined;
    if (held) return this.rewriteHeld(held, s as DataStatement);
    if (s.kind === 'ddl') {
      this.batches.push(s);
      this.barrier = this.batches.length - 1;
      return;
    }
    const candidate = this.lastOfTemplate.get(s.template);
    let target = candidate !== undefined && candidate > this.barrier && this.canJoin(s, candidate) ? candidate : -1;
    if (target >= 0) {
      const batch = this.batches[target] as Extract<Batch, { kind: 'data' }>;
      const existing = s.overwriteKey === undefined ? undefined : batch.rowByKey.get(s.overwriteKey);
      if (existing !== undefined) {
        batch.step.rows[existing] = s.values;
      } else if (s.writes.some((w) => this.lastWrite.get(w) === target)) {
        target = -1; // the batch already writes this entity: rows of one step must not collide
      } else {
        this.pushRow(batch, s.values, s.overwriteKey);
      }
    }
    if (target < 0) {
      target = this.batches.length;
      const batch: Batch = {
        kind: 'data',
        template: s.template,
        step: { kind: 'rows', body: s.template, columns: s.columns, rows: [], copy: s.copy },
        rowByKey: new Map(),
      };
      this.batches.push(batch);
      this.lastOfTemplate.set(s.template, target);
      this.pushRow(batch, s.values, s.overwriteKey);
    }
    for (const r of s.reads) this.lastRead.set(r, Math.max(this.lastRead.get(r) ?? -1, target));
    for (const w of s.writes) this.lastWrite.set(w, Math.max(this.lastWrite.get(w) ?? -1, target));
    if (s.edge?.role === 'create') {
      const batch = this.batches[target] as DataBatch;
      this.heldEdges.set(s.edge.id, { batch, row: batch.step.rows.length - 1, create: s.edge });
    }
  }

  /** A delete or a set of an edge whose create row is held (see add). */
  private rewriteHeld(held: HeldEdge, s: DataStatement): void {
    const edge = s.edge!;
    const row = held.batch.step.rows[held.row]!;
    if (edge.role === 'set') {
      const value = s.values[2]!;
      const i = held.create.cols.findIndex((c) => fold(c.name) === fold(edge.col.name));
      if (i >= 0) {
        held.batch.step.rows[held.row] = row.map((v, j) => (j === i + 3 ? value : v));
        return;
      }
      if (value === null) return; // removing a property it was not created with
    }
    this.takeBack(held);
    // Created again later, with the column: nothing between matched it (statements name edges by id).
    if (edge.role === 'set')
      this.add(createAgain({ ...held.create, cols: [...held.create.cols, edge.col] }, [...row, s.values[2]!]));
  }

  private takeBack(held: HeldEdge): RowValue[] {
    const row = held.batch.step.rows[held.row]!;
    held.batch.step.rows[held.row] = TAKEN_BACK;
    this.rowCount--;
    this.heldEdges.delete(held.create.id);
    return row;
  }

  /**
   * The steps of a part sent ahead of the commit (WriteTx.streamTo), and the batcher for the rest. The
   * creates of edges held here go on to it, so that no later statement matches them either: every
   * edge the transaction creates goes in its last part.
   */
  part(): { steps: Step[]; rest: Batcher } {
    // Their batches move whole (edge creates alone, in practice), rows and all: no edge is planned
    // again, so a transaction of many parts does not carry its edges over and over.
    const carried = new Set<Batch>();
    for (const held of this.heldEdges.values()) carried.add(held.batch);
    const rest = new Batcher();
    for (const b of carried) {
      rest.lastOfTemplate.set((b as DataBatch).template, rest.batches.length);
      rest.batches.push(b);
    }
    rest.heldEdges = this.heldEdges;
    rest.rowCount = rest.heldEdges.size;
    this.heldEdges = new Map();
    return { steps: this.steps(carried), rest };
  }

  /** Rows that a part would send (see `part`). */
  get rowsToSend(): number {
    return this.rowCount - this.heldEdges.size;
  }

  /**
   * A rows step made whole elsewhere (a snapshot's nodes of one table). Its rows are not weighed
   * against anything: it is a barrier, as a schema change is.
   */
  addStep(step: RowsStep): void {
    this.batches.push({ kind: 'step', step });
    this.rowCount += step.rows.length;
    this.barrier = this.batches.length - 1;
  }

  private canJoin(s: Extract<Statement, { kind: 'data' }>, b: number): boolean {
    for (const r of s.reads) if ((this.lastWrite.get(r) ?? -1) > b) return false;
    for (const w of s.writes) {
      if ((this.lastWrite.get(w) ?? -1) > b || (this.lastRead.get(w) ?? -1) > b) return false;
    }
    return true;
  }

  private pushRow(batch: Extract<Batch, { kind: 'data' }>, values: RowValue[], key: string | undefined): void {
    if (key !== undefined) batch.rowByKey.set(key, batch.step.rows.length);
    batch.step.rows.push(values);
    this.rowCount++;
  }

  get rows(): number {
    return this.rowCount;
  }

  get size(): number {
    return this.batches.length;
  }

  /** `leave`: batches a part leaves for the rest (see `part`). */
  steps(leave?: ReadonlySet<Batch>): Step[] {
    const steps: Step[] = [];
    for (const b of this.batches) {
      if (leave?.has(b)) continue;
      if (b.kind === 'ddl') steps.push({ kind: 'query', cypher: b.cypher, ddl: true, creates: b.creates });
      else if (!b.step.rows.includes(TAKEN_BACK)) steps.push(b.step);
      else if (b.step.rows.some((r) => r !== TAKEN_BACK))
        steps.push({ ...b.step, rows: b.step.rows.filter((r) => r !== TAKEN_BACK) });
    }
    return steps;
  }
}
