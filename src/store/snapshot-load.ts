import { SyncError } from '../protocol/errors.js';
import { quoteIdentifier as q } from '../protocol/identifiers.js';
import type { ColumnType, PlainOp, Props, Snapshot } from '../protocol/types.js';
import { fitsColumn, valueProblem } from '../protocol/values.js';
import { fold, type Column, type GraphModel, type NodeTable, type RelTable } from './graph-model.js';
import type { RowsStep, RowValue } from './kuzu/steps.js';
import { createNodeTable, createRelTable, edgeInsert, edgeKey, nodeInsert, type Statement } from './planner.js';

/** Where a snapshot load puts what it plans. */
export interface SnapshotSink {
  add(statement: Statement): void;
  /** A whole step, in order after what was added before it (the nodes of one table). */
  rows(step: RowsStep): void;
  /** An entity the snapshot creates, as an op, so undo capture later in the transaction knows it. */
  created(op: PlainOp): void;
}

/**
 * Plans replacing the whole graph with `snapshot` (schema and data) and applies it to `model`.
 * Validated as it goes: a snapshot comes off the wire.
 */
export function planSnapshotLoad(model: GraphModel, snapshot: Snapshot, sink: SnapshotSink): void {
  for (const t of model.relTables.values()) sink.add({ kind: 'ddl', cypher: `DROP TABLE ${q(t.label)}` });
  for (const t of model.nodeTables.values()) sink.add({ kind: 'ddl', cypher: `DROP TABLE ${q(t.label)}` });
  model.clear();
  planSchema(model, snapshot.schema, sink);
  planNodes(model, snapshot.nodes, sink);
  planEdges(model, snapshot.edges, sink);
}

function planSchema(model: GraphModel, schema: Snapshot['schema'], sink: SnapshotSink): void {
  for (const t of schema.nodes) {
    if (model.nodeTable(t.label)) throw twice(t.label);
    const cols = columnsOf(t.properties);
    model.addNodeTable(t.label, cols);
    sink.add(createNodeTable(t.label, cols));
  }
  for (const t of schema.edges) {
    if (model.relTable(t.label) || model.nodeTable(t.label)) throw twice(t.label);
    const pairs = t.pairs.map(([f, to]) => {
      const from = model.nodeTable(f)?.label;
      const dest = model.nodeTable(to)?.label;
      if (!from || !dest) throw new SyncError('bad_message', `rel table ${t.label} connects unknown tables`);
      return [from, dest] as [string, string];
    });
    if (pairs.length === 0) throw new SyncError('bad_message', `rel table ${t.label} has no FROM/TO pair`);
    const cols = columnsOf(t.properties);
    const table = model.addRelTable(t.label, pairs[0]!, cols);
    for (const p of pairs.slice(1)) model.addRelPair(table, p);
    sink.add(createRelTable(t.label, pairs, cols));
  }
}

const twice = (label: string) => new SyncError('bad_message', `snapshot names table ${label} twice`);

const columnsOf = (properties: Record<string, ColumnType>): Column[] =>
  Object.entries(properties).map(([name, type]) => ({ name, type }));

/** How the rows of one table are made: its columns in order, and where each property key goes. */
class RowShape {
  readonly cols: Column[];
  /** Column index of each property key seen so far, or -1: keys repeat from node to node. */
  private readonly indexOfKey = new Map<string, number>();
  private readonly indexOfFolded = new Map<string, number>();

  constructor(readonly table: NodeTable | RelTable) {
    this.cols = [...table.columns.values()];
    this.cols.forEach((c, i) => this.indexOfFolded.set(fold(c.name), i));
  }

  /**
   * `lead` then the value of each column in `props`, whose keys may be spelt in another case (Kuzu
   * folds names): the first key of a column counts, keys of no column are left out.
   */
  values(lead: RowValue[], props: Props): RowValue[] {
    const n = lead.length;
    // Filled rather than made with holes, so the array stays packed.
    const row: Array<RowValue | undefined> = lead.slice();
    for (let i = 0; i < this.cols.length; i++) row.push(undefined);
    for (const key of Object.keys(props)) {
      let i = this.indexOfKey.get(key);
      if (i === undefined) this.indexOfKey.set(key, (i = this.indexOfFolded.get(fold(key)) ?? -1));
      if (i < 0 || row[n + i] !== undefined) continue;
      const v = props[key]!;
      const col = this.cols[i]!;
      if (valueProblem(v) || !fitsColumn(v, col.type)) {
        throw new SyncError('bad_message', `snapshot value ${this.table.label}.${col.name} does not fit ${col.type}`);
      }
      row[n + i] = v;
    }
    for (let i = n; i < row.length; i++) row[i] ??= null;
    return row as RowValue[];
  }
}

/**
 * The nodes go to the plan as one rows step per table, made here: they are all new and distinct
 * (checked), so the batcher's weighing of each insert against the others would find nothing (it
 * was about 15% of planning a 100k-node snapshot, profiled).
 */
function planNodes(model: GraphModel, nodes: Snapshot['nodes'], sink: SnapshotSink): void {
  const steps = new Map<string, { shape: RowShape; step: RowsStep }>();
  for (const n of nodes) {
    let s = steps.get(n.label);
    if (!s) {
      const table = model.nodeTable(n.label);
      if (!table) throw new SyncError('bad_message', `snapshot node ${n.id} has unknown label ${n.label}`);
      const shape = new RowShape(table);
      const insert = nodeInsert(table, shape.cols);
      const step: RowsStep = {
        kind: 'rows',
        body: insert.template,
        columns: insert.columns,
        rows: [],
        copy: insert.copy,
      };
      steps.set(n.label, (s = { shape, step }));
    }
    if (model.nodeLabel(n.id) !== undefined) throw new SyncError('bad_message', `snapshot repeats node ${n.id}`);
    s.step.rows.push(s.shape.values([n.id], n.properties));
    model.addNode(n.id, s.shape.table.label);
    sink.created({ op: 'create_node', label: s.shape.table.label, id: n.id, properties: n.properties });
  }
  for (const { step } of steps.values()) sink.rows(step);
}

function planEdges(model: GraphModel, edges: Snapshot['edges'], sink: SnapshotSink): void {
  const shapes = new Map<RelTable, RowShape>();
  for (const e of edges) {
    const table = model.relTable(e.label);
    const fromLabel = model.nodeLabel(e.from);
    const toLabel = model.nodeLabel(e.to);
    if (!table || fromLabel === undefined || toLabel === undefined) {
      throw new SyncError('bad_message', `snapshot edge ${e.id} has an unknown label or end`);
    }
    if (!table.pairs.has(`${fromLabel}|${toLabel}`)) {
      throw new SyncError('bad_message', `snapshot edge ${e.id}: ${fromLabel}->${toLabel} is not a pair of ${e.label}`);
    }
    if (model.edge(e.id)) throw new SyncError('bad_message', `snapshot repeats edge ${e.id}`);
    let shape = shapes.get(table);
    if (!shape) shapes.set(table, (shape = new RowShape(table)));
    sink.add({
      kind: 'data',
      ...edgeInsert(table.label, fromLabel, toLabel, shape.cols),
      values: shape.values([e.from, e.to, e.id], e.properties),
      reads: [],
      writes: [edgeKey(e.id)],
    });
    model.addEdge(e.id, { label: table.label, from: e.from, to: e.to });
    sink.created({ op: 'create_edge', label: table.label, id: e.id, from: e.from, to: e.to, properties: e.properties });
  }
}
