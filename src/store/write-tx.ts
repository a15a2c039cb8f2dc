import { Overlay, invertOp } from '../patch/invert.js';
import { SyncError, toSyncError } from '../protocol/errors.js';
import { quoteIdentifier as q } from '../protocol/identifiers.js';
import type { GraphSchema, Op, PlainOp, Snapshot } from '../protocol/types.js';
import { DeclaredSchema } from '../schema/declared.js';
import { Batcher } from './batcher.js';
import { planDeclare } from './declare.js';
import { EDGE_RETURN, edgeOfRow, nodeOfRow } from './entity-rows.js';
import type { GraphModel } from './graph-model.js';
import type { Row, Step } from './kuzu/steps.js';
import { edgeKey, nodeKey, planOp, resolveOp, type Statement } from './planner.js';
import { planSnapshotLoad } from './snapshot-load.js';
import { addOpTables, type TablesTouched } from './tables-touched.js';
import { declares, noteServerUse, planDrops } from './unheld-schema.js';

/** The outcome of one `tx.apply`: its inverse ops are known once the transaction has committed. */
export type Applied =
  /**
   * `tables`: what the unit changes (see TablesTouched), read before each op changed the model;
   * `made`: the tables, pairs and columns a captured unit created (see GraphModel.localOnly).
   */
  | { ok: true; inverse: Op[]; tables: ReadonlySet<string>; made: readonly string[] }
  | { ok: false; error: SyncError; opIndex: number };

interface AppliedOp {
  op: PlainOp;
  incident: string[];
  /** The unit the op belongs to when its inverse is captured. */
  unit: { inverses: Op[][]; applied: Extract<Applied, { ok: true }> } | undefined;
}

/** The incident edges of an op that is not a delete_node: shared, never written to. */
const NO_INCIDENT: string[] = [];

type ApplyOptions = { capture?: boolean; fit?: boolean; server?: boolean };

/** Steps to run after the data writes, or a function that makes them once inverses are known. */
export type LaterSteps = Step | (() => Step[]);

/** Rows planned before a part of a streamed transaction goes out (see `streamTo`). */
const ROWS_PER_PART = 5000;

/**
 * One write transaction being planned. Everything is planned synchronously against the model;
 * nothing touches the database until the store runs the plan as one Kuzu transaction (whole, or
 * in parts as it grows: see `streamTo`).
 * Captured units get their inverses from the pre-transaction states the store reads first.
 */
export class WriteTx {
  private batcher = new Batcher();
  /** Where parts of the plan go ahead of the commit (see `streamTo`), and how many went. */
  private sendPart: ((steps: Step[]) => void) | undefined;
  private partsSent = 0;
  private readonly readNodes = new Map<string, Set<string>>();
  private readonly readEdges = new Map<string, { label: string; fromLabel: string; rows: Map<string, string> }>();
  /**
   * The entities this transaction creates, as keys: undo capture need not read them. Kept up to date
   * only for capturing units; the rest are taken from `ops` when one comes (see syncCreated), so a
   * delta of 100k creates with nothing to capture does not pay for them (80 ms of its 750).
   */
  private readonly created = new Set<string>();
  private createdThrough = 0;
  private readonly ops: AppliedOp[] = [];
  private readonly after: LaterSteps[] = [];
  private replaced = false;
  private readonly tables = new Set<string>();

  constructor(readonly model: GraphModel) {}

  /** The tables this transaction changes (see TablesTouched): those of the units that planned. */
  get touched(): TablesTouched {
    return this.replaced ? 'all' : this.tables;
  }

  /**
   * Plans `ops` as one atomic unit. On a validation failure the model is left as it was and nothing
   * of the unit is run. With `capture`, the unit's inverse ops are computed (for rollback). With `fit`,
   * the ops must fit the schema in force: a new write, or a patch the server judges. Changes the
   * server has accepted, undos and redos are not checked again (the server's schema may differ).
   * `server`: the ops are a change the server sent (see GraphModel.localOnly).
   */
  apply(ops: Op[], options: ApplyOptions = {}): Applied {
    const made: string[] = [];
    // A captured unit is a local write (new, or redone in a rebase): what it creates is noted.
    if (options.capture) this.model.making = made;
    try {
      return this.plan(ops, options, made);
    } finally {
      this.model.making = undefined;
    }
  }

  private plan(ops: Op[], options: ApplyOptions, made: string[]): Applied {
    const mark = this.model.mark();
    const statements: Statement[] = [];
    const planned: AppliedOp[] = [];
    const tables = new Set<string>();
    const applied: Extract<Applied, { ok: true }> = { ok: true, inverse: [], tables, made };
    const serverUse = options.server && this.model.localOnly.size > 0;
    const unit = options.capture ? { inverses: [] as Op[][], applied } : undefined;
    const needs: Array<() => void> = [];
    const createdHere: string[] = [];
    if (options.capture) {
      // Undo capture reads the state from before the transaction: nothing of it may have run yet.
      if (this.partsSent) throw new SyncError('internal', 'a captured write cannot follow a part already sent');
      this.sendPart = undefined;
      this.syncCreated();
    }
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      try {
        if (options.fit) this.model.declared?.check(op, this.model);
        for (const plain of resolveOp(this.model, op)) {
          if (options.capture) {
            const need = this.noteReads(plain);
            if (need) needs.push(need);
          }
          addOpTables(this.model, plain, tables);
          const plan = planOp(this.model, plain);
          if (options.fit && plan.statements.some((s) => s.kind === 'ddl')) checkTableLimit(this.model);
          for (const s of plan.statements) statements.push(s);
          planned.push({ op: plain, incident: plan.incident ?? NO_INCIDENT, unit });
          if (options.capture) this.noteCreated(plain, createdHere);
          if (serverUse) noteServerUse(this.model, plain);
        }
      } catch (e) {
        this.model.revertTo(mark);
        for (const key of createdHere) this.created.delete(key);
        return { ok: false, error: toSyncError(e), opIndex: i };
      }
    }
    for (const note of needs) note();
    for (const s of statements) this.batcher.add(s);
    for (const p of planned) this.ops.push(p);
    if (options.capture) this.createdThrough = this.ops.length;
    for (const t of tables) this.tables.add(t);
    if (this.sendPart && this.batcher.rowsToSend >= ROWS_PER_PART) this.sendAhead(this.sendPart);
    return applied;
  }

  /**
   * Sends the plan ahead in parts of about ROWS_PER_PART rows as it grows, each to run (in the
   * transaction the first one opens) while the rest is planned; the commit sends the last part. The
   * caller must know that no captured unit will follow a part (it is refused); one before any part
   * stops the stream, since its reads must run first.
   */
  streamTo(send: (steps: Step[]) => void): void {
    this.sendPart = send;
  }

  private sendAhead(send: (steps: Step[]) => void): void {
    const { steps, rest } = this.batcher.part();
    this.batcher = rest;
    this.partsSent++;
    send(steps);
  }

  /** Puts a schema in force, creating the tables and columns it names (see planDeclare); none: dynamic. */
  declare(schema: GraphSchema | DeclaredSchema | undefined): void {
    if (!schema) return this.model.declare(undefined);
    const declared = schema instanceof DeclaredSchema ? schema : new DeclaredSchema(schema);
    for (const s of planDeclare(this.model, declared, this.tables)) this.batcher.add(s);
    // What it declares is every replica's. Writes made before it was known (offline, before the first
    // sync) may have made what it lacks: that stays theirs, for their rejection to drop.
    for (const key of this.model.localOnly) if (declares(declared, this.model, key)) this.model.serverUses(key);
  }

  /** Drops the tables, pairs and columns of `empty` (see planDrops): keys found to hold nothing. */
  dropUnheld(empty: readonly string[]): void {
    const { ddl, tables } = planDrops(this.model, empty);
    for (const cypher of ddl) this.batcher.add({ kind: 'ddl', cypher });
    // A column of another type than the schema's, dropped, comes back as the schema has it.
    const declared = this.model.declared;
    if (ddl.length && declared) for (const s of planDeclare(this.model, declared, this.tables)) this.batcher.add(s);
    for (const t of tables) this.tables.add(t);
  }

  /** Replace the whole graph with `snapshot` (schema and data). */
  replaceAll(snapshot: Snapshot): void {
    if (!this.isEmpty) {
      // Kuzu 0.11 fails to commit a DROP TABLE that follows inserts into the table in the same
      // transaction, and a database rolled back from there traps later: refuse before it happens.
      throw new SyncError('internal', 'replaceAll must be the first write of its transaction');
    }
    planSnapshotLoad(this.model, snapshot, {
      add: (s) => this.batcher.add(s),
      rows: (step) => this.batcher.addStep(step),
      // Snapshot contents are known values: later captured ops in this transaction read them from here.
      created: (op) => this.ops.push({ op, incident: [], unit: undefined }),
    });
    this.replaced = true;
  }

  /**
   * Raw steps run after the data writes, in the same transaction (meta tables). A function is called
   * once the inverses of captured units are known, so it can store them alongside. Not called `then`:
   * that would make a WriteTx a thenable, and awaiting one (or resolving a promise with it) would hang.
   */
  afterWrites(steps: LaterSteps): void {
    this.after.push(steps);
  }

  get isEmpty(): boolean {
    return this.partsSent === 0 && this.batcher.size === 0 && this.after.length === 0 && !this.replaced;
  }

  /**
   * Which pre-transaction states undoing `op` needs, taken against the model as it is before the op.
   * Entities the transaction created itself are known without reading. Returned as a thunk so a unit
   * that fails to plan leaves no reads behind; undefined when there is nothing to read (creates).
   */
  private noteReads(op: PlainOp): (() => void) | undefined {
    if (op.op === 'create_node' || op.op === 'create_edge') return undefined;
    const model = this.model;
    const thunks: Array<() => void> = [];
    const node = (id: string) => {
      const label = model.nodeLabel(id);
      if (label === undefined || this.created.has(nodeKey(id))) return;
      thunks.push(() => {
        let ids = this.readNodes.get(label);
        if (!ids) this.readNodes.set(label, (ids = new Set()));
        ids.add(id);
      });
    };
    const edge = (id: string) => {
      const ref = model.edge(id);
      if (!ref || this.created.has(edgeKey(id))) return;
      const fromLabel = model.nodeLabel(ref.from)!;
      thunks.push(() => {
        const key = `${ref.label}|${fromLabel}`;
        let g = this.readEdges.get(key);
        if (!g) this.readEdges.set(key, (g = { label: ref.label, fromLabel, rows: new Map() }));
        g.rows.set(id, ref.from);
      });
    };
    switch (op.op) {
      case 'set_property':
        if (op.target === 'node') node(op.id);
        else edge(op.id);
        break;
      case 'delete_node':
        node(op.id);
        for (const e of model.incidentEdges(op.id)) edge(e);
        break;
      case 'delete_edge':
        edge(op.id);
        break;
      default:
        break;
    }
    return () => thunks.forEach((f) => f());
  }

  /** Brings `created` up to date with the ops planned without capture since it last was. */
  private syncCreated(): void {
    for (; this.createdThrough < this.ops.length; this.createdThrough++)
      this.noteCreated(this.ops[this.createdThrough]!.op, []);
  }

  private noteCreated(op: PlainOp, undo: string[]): void {
    const key = op.op === 'create_node' ? nodeKey(op.id) : op.op === 'create_edge' ? edgeKey(op.id) : undefined;
    if (key === undefined || this.created.has(key)) return;
    this.created.add(key);
    undo.push(key);
  }

  /** @internal The reads that undo capture needs: pre-transaction states of what captured ops change. */
  readSteps(): Step[] {
    const reads: Step[] = [];
    for (const [label, ids] of this.readNodes) {
      reads.push({
        kind: 'rows',
        body: `MATCH (n:${q(label)} {id: $c0}) RETURN n`,
        columns: ['STRING'],
        rows: [...ids].map((id) => [id]),
      });
    }
    for (const g of this.readEdges.values()) {
      reads.push({
        kind: 'rows',
        body: `MATCH (a:${q(g.fromLabel)} {id: $c0})-[r:${q(g.label)} {id: $c1}]->(b) ${EDGE_RETURN}`,
        columns: ['STRING', 'STRING'],
        rows: [...g.rows].map(([id, from]) => [from, id]),
      });
    }
    return reads;
  }

  /** @internal Everything the transaction writes, once inverses are known. */
  writeSteps(): Step[] {
    return [...this.batcher.steps(), ...this.after.flatMap((s) => (typeof s === 'function' ? s() : [s]))];
  }

  /** @internal Fills in every captured unit's inverse from the pre-transaction reads. */
  computeInverses(readResults: Row[][]): void {
    if (!this.ops.some((o) => o.unit)) return;
    const overlay = new Overlay();
    for (const rows of readResults) {
      for (const row of rows) {
        if ('n' in row) {
          const n = nodeOfRow(row);
          overlay.nodes.set(n.id, { label: n.label, props: n.properties });
        } else {
          const e = edgeOfRow(row);
          overlay.edges.set(e.id, { label: e.label, props: e.properties, from: e.from, to: e.to });
        }
      }
    }
    for (const o of this.ops) {
      if (o.unit) o.unit.inverses.push(invertOp(o.op, overlay, o.incident));
      overlay.apply(o.op, o.incident);
    }
    const done = new Set<AppliedOp['unit']>();
    for (const o of this.ops) {
      if (!o.unit || done.has(o.unit)) continue;
      done.add(o.unit);
      const inv = o.unit.inverses;
      o.unit.applied.inverse = inv.length === 1 ? inv[0]! : inv.slice().reverse().flat();
    }
  }
}

/** A write that must fit may not make more tables than the database holds (see tableLimitFor). */
function checkTableLimit(model: GraphModel): void {
  const limit = model.tableLimit;
  if (limit === undefined || model.tableCount <= limit) return;
  throw new SyncError(
    'validation_failed',
    `this write would make table ${model.tableCount}; this database takes at most ${limit} (about 1 MiB of bufferSize each)`,
  );
}
