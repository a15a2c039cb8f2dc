import { Overlay, invertOp, type EntityState } from '../patch/invert.js';
import { SyncError, toSyncError } from '../protocol/errors.js';
import { quoteIdentifier as q } from '../protocol/identifiers.js';
import type { ColumnType, Op, Props, Snapshot, Value } from '../protocol/types.js';
import { fitsColumn, valueProblem } from '../protocol/values.js';
import { Batcher } from './batcher.js';
import { acquireFileLock, type FileLock } from './file-lock.js';
import { fold, GraphModel, type Column, type NodeTable } from './graph-model.js';
import type { KuzuConnection, KuzuDriver } from './kuzu/driver.js';
import type { Row, RowValue, RunOptions, Step } from './kuzu/steps.js';
import { isInMemoryPath } from './kuzu/sync-database.js';
import { wasmDriver } from './kuzu/worker-driver.js';
import { createNodeTable, createRelTable, edgeInsert, nodeInsert, planOp, type InsertShape, type Statement } from './planner.js';

/**
 * Default KuzuDB buffer pool per database. The seed's 1 GiB cannot work for many clients in one
 * process: every database of a process lives in one wasm32 memory (4 GiB at most). Pages are taken
 * lazily, so a small graph costs little whatever the pool; 128 MiB holds a 100k-node graph and its
 * bulk loads, and 50 of them stay inside the wasm limit at the sizes our load test reaches.
 */
export const DEFAULT_BUFFER_SIZE = 128 * 1024 * 1024;

export interface GraphStoreOptions {
  bufferSize?: number;
  driver?: KuzuDriver;
  /**
   * Keep the `_Meta` table (default true). An in-memory client has nothing to keep across restarts,
   * and every table costs a kuzu-wasm database several MB of memory.
   */
  meta?: boolean;
}

/** A user query failed (syntax, unknown table, a write in a read). */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  readonly code = 'query_failed';
}

/** The outcome of one `tx.apply`: its inverse ops are known once the transaction has committed. */
export type Applied =
  | { ok: true; inverse: Op[] }
  | { ok: false; error: SyncError; opIndex: number };

interface AppliedOp {
  op: Op;
  incident: string[];
  capture: boolean;
  /** Index into the owning unit's inverse list. */
  unit: { inverses: Op[][]; applied: Extract<Applied, { ok: true }> } | undefined;
}

const nodeEntity = (id: string) => `n:${id}`;
const edgeEntity = (id: string) => `e:${id}`;

/**
 * One write transaction being planned. Everything is planned synchronously against the model;
 * nothing touches the database until the store runs the whole plan as one Kuzu transaction.
 */
export class WriteTx {
  private readonly batcher = new Batcher();
  private readonly readNodes = new Map<string, Set<string>>();
  private readonly readEdges = new Map<string, { label: string; fromLabel: string; rows: Map<string, string> }>();
  private readonly created = new Set<string>();
  private readonly ops: AppliedOp[] = [];
  private readonly after: Array<Step | (() => Step[])> = [];
  private replaced = false;

  constructor(readonly model: GraphModel) {}

  /**
   * Plans `ops` as one atomic unit. On a validation failure the model is left as it was and nothing
   * of the unit is run. With `capture`, the unit's inverse ops are computed (for rollback).
   */
  apply(ops: Op[], options: { capture?: boolean } = {}): Applied {
    const mark = this.model.mark();
    const statements: Statement[] = [];
    const planned: AppliedOp[] = [];
    const applied: Extract<Applied, { ok: true }> = { ok: true, inverse: [] };
    const unit = options.capture ? { inverses: [] as Op[][], applied } : undefined;
    const needs: Array<() => void> = [];
    const createdHere: string[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      try {
        if (options.capture) needs.push(this.noteReads(op));
        const plan = planOp(this.model, op);
        statements.push(...plan.statements);
        planned.push({ op, incident: plan.incident ?? [], capture: !!options.capture, unit });
        this.noteCreated(op, createdHere);
      } catch (e) {
        this.model.revertTo(mark);
        for (const key of createdHere) this.created.delete(key);
        return { ok: false, error: toSyncError(e), opIndex: i };
      }
    }
    for (const note of needs) note();
    for (const s of statements) this.batcher.add(s);
    this.ops.push(...planned);
    return applied;
  }

  /** Replace the whole graph with `snapshot` (schema and data). Validated first: it comes off the wire. */
  replaceAll(snapshot: Snapshot): void {
    if (!this.isEmpty) {
      // Kuzu 0.11 fails to commit a DROP TABLE that follows inserts into the table in the same
      // transaction, and a database rolled back from there traps later: refuse before it happens.
      throw new SyncError('internal', 'replaceAll must be the first write of its transaction');
    }
    const model = this.model;
    for (const t of model.relTables.values()) this.batcher.add({ kind: 'ddl', cypher: `DROP TABLE ${q(t.label)}` });
    for (const t of model.nodeTables.values()) this.batcher.add({ kind: 'ddl', cypher: `DROP TABLE ${q(t.label)}` });
    model.clear();
    for (const t of snapshot.schema.nodes) {
      if (model.nodeTable(t.label)) throw new SyncError('bad_message', `snapshot names table ${t.label} twice`);
      const cols = Object.entries(t.properties).map(([name, type]) => ({ name, type }));
      model.addNodeTable(t.label, cols);
      this.batcher.add(createNodeTable(t.label, cols));
    }
    for (const t of snapshot.schema.edges) {
      if (model.relTable(t.label) || model.nodeTable(t.label)) throw new SyncError('bad_message', `snapshot names table ${t.label} twice`);
      const pairs = t.pairs.map(([f, to]) => {
        const from = model.nodeTable(f)?.label;
        const dest = model.nodeTable(to)?.label;
        if (!from || !dest) throw new SyncError('bad_message', `rel table ${t.label} connects unknown tables`);
        return [from, dest] as [string, string];
      });
      if (pairs.length === 0) throw new SyncError('bad_message', `rel table ${t.label} has no FROM/TO pair`);
      const cols = Object.entries(t.properties).map(([name, type]) => ({ name, type }));
      const table = model.addRelTable(t.label, pairs[0]!, cols);
      for (const p of pairs.slice(1)) model.addRelPair(table, p);
      this.batcher.add(createRelTable(t.label, pairs, cols));
    }
    // Every node of a table has the same columns and insert: worked out once per table.
    const inserts = new Map<string, { table: NodeTable; cols: Column[]; shape: InsertShape }>();
    for (const n of snapshot.nodes) {
      let ins = inserts.get(n.label);
      if (!ins) {
        const table = model.nodeTable(n.label);
        if (!table) throw new SyncError('bad_message', `snapshot node ${n.id} has unknown label ${n.label}`);
        const cols = [...table.columns.values()];
        inserts.set(n.label, (ins = { table, cols, shape: nodeInsert(table, cols) }));
      }
      const { table, cols, shape } = ins;
      if (model.nodeLabel(n.id) !== undefined) throw new SyncError('bad_message', `snapshot repeats node ${n.id}`);
      this.batcher.add({
        kind: 'data',
        ...shape,
        values: [n.id, ...cols.map((c) => columnValue(n.properties, c.name, c.type, table.label))],
        reads: [],
        writes: [nodeEntity(n.id)],
      });
      model.addNode(n.id, table.label);
      this.seed({ op: 'create_node', label: table.label, id: n.id, properties: n.properties });
    }
    for (const e of snapshot.edges) {
      const table = model.relTable(e.label);
      const fromLabel = model.nodeLabel(e.from);
      const toLabel = model.nodeLabel(e.to);
      if (!table || fromLabel === undefined || toLabel === undefined) {
        throw new SyncError('bad_message', `snapshot edge ${e.id} has an unknown label or end`);
      }
      if (!table.pairs.has(`${fromLabel}|${toLabel}`)) throw new SyncError('bad_message', `snapshot edge ${e.id}: ${fromLabel}->${toLabel} is not a pair of ${e.label}`);
      if (model.edge(e.id)) throw new SyncError('bad_message', `snapshot repeats edge ${e.id}`);
      const cols = [...table.columns.values()];
      this.batcher.add({
        kind: 'data',
        ...edgeInsert(table.label, fromLabel, toLabel, cols),
        values: [e.from, e.to, e.id, ...cols.map((c) => columnValue(e.properties, c.name, c.type, table.label))],
        reads: [],
        writes: [edgeEntity(e.id)],
      });
      model.addEdge(e.id, { label: table.label, from: e.from, to: e.to });
      this.seed({ op: 'create_edge', label: table.label, id: e.id, from: e.from, to: e.to, properties: e.properties });
    }
    this.replaced = true;
  }

  /** Snapshot contents are known values: later captured ops in this transaction read them from here. */
  private seed(op: Op): void {
    this.noteCreated(op, []);
    this.ops.push({ op, incident: [], capture: false, unit: undefined });
  }

  /**
   * Raw steps run after the data writes, in the same transaction (meta tables). A function is called
   * once the inverses of captured units are known, so it can store them alongside.
   */
  then(step: Step | (() => Step[])): void {
    this.after.push(step);
  }

  get isEmpty(): boolean {
    return this.batcher.size === 0 && this.after.length === 0 && !this.replaced;
  }

  // ---- undo capture ---------------------------------------------------------

  /**
   * Which pre-transaction states undoing `op` needs, taken against the model as it is before the op.
   * Entities the transaction created itself are known without reading. Returned as a thunk so a unit
   * that fails to plan leaves no reads behind.
   */
  private noteReads(op: Op): () => void {
    const model = this.model;
    const thunks: Array<() => void> = [];
    const node = (id: string) => {
      const label = model.nodeLabel(id);
      if (label === undefined || this.created.has(nodeEntity(id))) return;
      thunks.push(() => {
        let ids = this.readNodes.get(label);
        if (!ids) this.readNodes.set(label, (ids = new Set()));
        ids.add(id);
      });
    };
    const edge = (id: string) => {
      const ref = model.edge(id);
      if (!ref || this.created.has(edgeEntity(id))) return;
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

  private noteCreated(op: Op, undo: string[]): void {
    const key = op.op === 'create_node' ? nodeEntity(op.id) : op.op === 'create_edge' ? edgeEntity(op.id) : undefined;
    if (key === undefined || this.created.has(key)) return;
    this.created.add(key);
    undo.push(key);
  }

  // ---- used by the store -----------------------------------------------------

  /** @internal The reads that undo capture needs: pre-transaction states of what captured ops change. */
  readSteps(): Step[] {
    const reads: Step[] = [];
    for (const [label, ids] of this.readNodes) {
      reads.push({ kind: 'rows', body: `MATCH (n:${q(label)} {id: $c0}) RETURN n`, columns: ['STRING'], rows: [...ids].map((id) => [id]) });
    }
    for (const g of this.readEdges.values()) {
      reads.push({
        kind: 'rows',
        body: `MATCH (a:${q(g.fromLabel)} {id: $c0})-[r:${q(g.label)} {id: $c1}]->(b) RETURN r, a.id AS _from, b.id AS _to`,
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
    if (!this.ops.some((o) => o.capture)) return;
    const overlay = new Overlay();
    for (const rows of readResults) {
      for (const row of rows) {
        if ('n' in row) {
          const n = row.n as Record<string, unknown>;
          overlay.nodes.set(n.id as string, { label: n._label as string, props: propsOf(n) });
        } else {
          const r = row.r as Record<string, unknown>;
          const state: EntityState = { label: r._label as string, props: propsOf(r), from: row._from as string, to: row._to as string };
          overlay.edges.set(r.id as string, state);
        }
      }
    }
    for (const o of this.ops) {
      if (o.capture && o.unit) o.unit.inverses.push(invertOp(o.op, overlay, o.incident));
      overlay.apply(o.op, o.incident);
    }
    const done = new Set<AppliedOp['unit']>();
    for (const o of this.ops) {
      if (!o.unit || done.has(o.unit)) continue;
      done.add(o.unit);
      o.unit.applied.inverse = o.unit.inverses.slice().reverse().flat();
    }
  }
}

function propsOf(entity: Record<string, unknown>): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(entity)) {
    if (k === 'id' || k.startsWith('_') || v === null || v === undefined) continue;
    out[k] = v as Value;
  }
  return out;
}

function columnValue(props: Props, name: string, type: ColumnType, label: string): RowValue {
  const folded = fold(name);
  const key = Object.keys(props).find((k) => fold(k) === folded);
  if (key === undefined) return null;
  const v = props[key]!;
  if (valueProblem(v) || !fitsColumn(v, type)) throw new SyncError('bad_message', `snapshot value ${label}.${name} does not fit ${type}`);
  return v;
}

/** A promise-chain mutex: planning reads the model, so one transaction at a time, reads in line. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * A KuzuDB graph as kuzu-sync keeps it, used alike by clients and the server: one node table per
 * label, one rel table per edge label, every value bound as a parameter, every write one transaction.
 */
export class GraphStore {
  readonly model = new GraphModel();
  private readonly mutex = new Mutex();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly conn: KuzuConnection,
    private readonly lock: FileLock | undefined,
  ) {}

  static async open(path = ':memory:', options: GraphStoreOptions = {}): Promise<GraphStore> {
    const lock = isInMemoryPath(path) ? undefined : acquireFileLock(path);
    try {
      const driver = options.driver ?? wasmDriver();
      const conn = await driver.open(path, { bufferSize: options.bufferSize ?? DEFAULT_BUFFER_SIZE });
      const store = new GraphStore(path, conn, lock);
      try {
        if (options.meta ?? true) {
          await store.run([{ kind: 'query', cypher: 'CREATE NODE TABLE IF NOT EXISTS _Meta(key STRING, value STRING, PRIMARY KEY(key))', ddl: true }]);
        }
        await store.loadModel();
      } catch (e) {
        await conn.close();
        throw e;
      }
      return store;
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs raw steps as one transaction (for modules that own extra tables). Throws on failure.
   * `readOnly` refuses writes; `reads` marks the caller's own reads (see RunOptions).
   */
  async run(steps: Step[], options: Pick<RunOptions, 'readOnly' | 'reads'> = {}): Promise<Row[][]> {
    return this.mutex.run(() => this.runUnlocked(steps, options));
  }

  private async runUnlocked(steps: Step[], options: Pick<RunOptions, 'readOnly' | 'reads'> = {}): Promise<Row[][]> {
    if (this.closed) throw new SyncError('internal', 'the store is closed');
    const res = await this.conn.run(steps, { ...options, transaction: true });
    if (!res.ok) throw new SyncError('internal', `database: ${res.message}`);
    return res.results;
  }

  /**
   * Plans a transaction with `build` (synchronously, against the model) and runs it. Either all of it
   * commits, or none of it does and the model is as before. Undo capture reads what it needs first,
   * under the same lock (no writer can come between), so the inverses are
   * known before the write and can be stored in the same transaction as the data.
   */
  async write<T>(build: (tx: WriteTx) => T): Promise<{ value: T }> {
    return this.mutex.run(async () => {
      if (this.closed) throw new SyncError('internal', 'the store is closed');
      const mark = this.model.mark();
      const tx = new WriteTx(this.model);
      try {
        const value = build(tx);
        if (tx.isEmpty) {
          this.model.commit();
          return { value };
        }
        const reads = tx.readSteps();
        tx.computeInverses(reads.length ? await this.runUnlocked(reads, { reads: true }) : []);
        // Bookkeeping may come to nothing (an in-memory client keeps none): then so does the trip.
        const steps = tx.writeSteps();
        if (steps.length) await this.runUnlocked(steps);
        this.model.commit();
        return { value };
      } catch (e) {
        this.model.revertTo(mark);
        throw e;
      }
    });
  }

  /** A Cypher read on the graph, parameterized; rows are plain JS values. Writes are refused. */
  async query(cypher: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
    for (const [k, v] of Object.entries(params)) {
      if (Array.isArray(v) && v.some((x) => typeof x === 'number') && new Set(v.map((x) => Number.isInteger(x))).size > 1) {
        throw new QueryError(`parameter $${k} mixes integers and fractions: Kuzu would read it as garbage; use strings and CAST`);
      }
    }
    return this.mutex.run(async () => {
      if (this.closed) throw new SyncError('internal', 'the store is closed');
      const res = await this.conn.run([{ kind: 'query', cypher, params }], { transaction: true, readOnly: true });
      if (!res.ok) throw new QueryError(res.message);
      return res.results[0]!;
    });
  }

  /** Everything in the graph, read in one transaction. */
  async exportSnapshot(): Promise<Snapshot> {
    return this.mutex.run(async () => {
      const schema = this.model.schema();
      const steps: Step[] = [
        ...schema.nodes.map((t): Step => ({ kind: 'query', cypher: `MATCH (n:${q(t.label)}) RETURN n` })),
        ...schema.edges.map((t): Step => ({ kind: 'query', cypher: `MATCH (a)-[r:${q(t.label)}]->(b) RETURN a.id AS _from, b.id AS _to, r` })),
      ];
      const results = steps.length ? await this.runUnlocked(steps, { reads: true }) : [];
      const nodes = results.slice(0, schema.nodes.length).flatMap((rows, i) =>
        rows.map((row) => {
          const n = row.n as Record<string, unknown>;
          return { label: schema.nodes[i]!.label, id: n.id as string, properties: propsOf(n) };
        }),
      );
      const edges = results.slice(schema.nodes.length).flatMap((rows, i) =>
        rows.map((row) => {
          const r = row.r as Record<string, unknown>;
          return { label: schema.edges[i]!.label, id: r.id as string, from: row._from as string, to: row._to as string, properties: propsOf(r) };
        }),
      );
      return { schema, nodes, edges };
    });
  }

  async getMeta(keys: string[]): Promise<Record<string, string | undefined>> {
    const rows = (await this.run([{ kind: 'query', cypher: 'MATCH (m:_Meta) WHERE m.key IN $keys RETURN m.key AS key, m.value AS value', params: { keys } }], { reads: true }))[0]!;
    const out: Record<string, string | undefined> = {};
    for (const k of keys) out[k] = undefined;
    for (const r of rows) out[r.key as string] = r.value as string;
    return out;
  }

  /** A step that upserts meta entries; add it to a transaction so meta commits with the data. */
  static metaStep(entries: Record<string, string | number>): Step {
    return {
      kind: 'rows',
      body: 'MERGE (m:_Meta {key: $c0}) SET m.value = $c1',
      columns: ['STRING', 'STRING'],
      rows: Object.entries(entries).map(([k, v]) => [k, String(v)]),
    };
  }

  private async loadModel(): Promise<void> {
    const [tables] = await this.runUnlocked([{ kind: 'query', cypher: 'CALL show_tables() RETURN name, type' }], { reads: true });
    const userTables = tables!.filter((t) => !(t.name as string).startsWith('_'));
    const nodeTables = userTables.filter((t) => t.type === 'NODE').map((t) => t.name as string);
    const relTables = userTables.filter((t) => t.type === 'REL').map((t) => t.name as string);
    const info = (name: string): Step => ({ kind: 'query', cypher: `CALL table_info('${name}') RETURN name, type` });
    const steps: Step[] = [
      ...nodeTables.map(info),
      ...relTables.map(info),
      ...relTables.map((name): Step => ({ kind: 'query', cypher: `CALL show_connection('${name}') RETURN *` })),
      ...nodeTables.map((name): Step => ({ kind: 'query', cypher: `MATCH (n:${q(name)}) RETURN n.id AS id` })),
      ...relTables.map((name): Step => ({ kind: 'query', cypher: `MATCH (a)-[r:${q(name)}]->(b) RETURN r.id AS id, a.id AS f, b.id AS t` })),
    ];
    if (steps.length === 0) return;
    const res = await this.runUnlocked(steps, { reads: true });
    let i = 0;
    const columnsOf = (rows: Row[]) =>
      rows
        .filter((r) => fold(r.name as string) !== 'id')
        .map((r) => ({ name: r.name as string, type: kuzuType(r.type as string) }));
    const nodeT = nodeTables.map((label) => this.model.addNodeTable(label, columnsOf(res[i++]!)));
    const relCols = relTables.map(() => columnsOf(res[i++]!));
    relTables.forEach((label, k) => {
      const pairs = res[i++]!.map((r) => [r['source table name'], r['destination table name']] as [string, string]);
      const t = this.model.addRelTable(label, pairs[0]!, relCols[k]!);
      for (const p of pairs.slice(1)) this.model.addRelPair(t, p);
    });
    for (const t of nodeT) for (const r of res[i++]!) this.model.addNode(r.id as string, t.label);
    for (const label of relTables) {
      for (const r of res[i++]!) this.model.addEdge(r.id as string, { label, from: r.f as string, to: r.t as string });
    }
    this.model.commit();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.mutex.run(async () => {
      this.closed = true;
      try {
        await this.conn.close();
      } finally {
        this.lock?.release();
      }
    });
  }
}

/** Kuzu spells some types differently from how kuzu-sync writes them. */
function kuzuType(t: string): ColumnType {
  const map: Record<string, ColumnType> = {
    STRING: 'STRING',
    DOUBLE: 'DOUBLE',
    BOOL: 'BOOLEAN',
    BOOLEAN: 'BOOLEAN',
    'STRING[]': 'STRING[]',
    'DOUBLE[]': 'DOUBLE[]',
    'BOOL[]': 'BOOLEAN[]',
    'BOOLEAN[]': 'BOOLEAN[]',
  };
  // A column of another type was made outside kuzu-sync; no value will fit it, and writes say so.
  return map[t] ?? (t as ColumnType);
}
