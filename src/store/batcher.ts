import type { RowsStep, RowValue, Step } from './kuzu/steps.js';
import type { Statement } from './planner.js';

type Batch =
  | Extract<Statement, { kind: 'ddl' }>
  | { kind: 'data'; template: string; step: RowsStep; rowByKey: Map<string, number> }
  | { kind: 'step'; step: RowsStep };

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

  add(s: Statement): void {
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

  steps(): Step[] {
    return this.batches.map((b) =>
      b.kind === 'ddl' ? { kind: 'query', cypher: b.cypher, ddl: true, creates: b.creates } : b.step,
    );
  }
}
