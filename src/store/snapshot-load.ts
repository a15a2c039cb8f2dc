import { SyncError } from '../protocol/errors.js';
import { quoteIdentifier as q } from '../protocol/identifiers.js';
import type { ColumnType, PlainOp, Props, Snapshot } from '../protocol/types.js';
import { fitsColumn, valueProblem } from '../protocol/values.js';
import { fold, type Column, type GraphModel, type NodeTable } from './graph-model.js';
import type { RowValue } from './kuzu/steps.js';
import {
  createNodeTable,
  createRelTable,
  edgeInsert,
  edgeKey,
  nodeInsert,
  nodeKey,
  type InsertShape,
  type Statement,
} from './planner.js';

/** Where a snapshot load puts what it plans. */
export interface SnapshotSink {
  add(statement: Statement): void;
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

function planNodes(model: GraphModel, nodes: Snapshot['nodes'], sink: SnapshotSink): void {
  // Every node of a table has the same columns and insert: worked out once per table.
  const inserts = new Map<string, { table: NodeTable; cols: Column[]; shape: InsertShape }>();
  for (const n of nodes) {
    let ins = inserts.get(n.label);
    if (!ins) {
      const table = model.nodeTable(n.label);
      if (!table) throw new SyncError('bad_message', `snapshot node ${n.id} has unknown label ${n.label}`);
      const cols = [...table.columns.values()];
      inserts.set(n.label, (ins = { table, cols, shape: nodeInsert(table, cols) }));
    }
    const { table, cols, shape } = ins;
    if (model.nodeLabel(n.id) !== undefined) throw new SyncError('bad_message', `snapshot repeats node ${n.id}`);
    sink.add({
      kind: 'data',
      ...shape,
      values: [n.id, ...cols.map((c) => columnValue(n.properties, c, table.label))],
      reads: [],
      writes: [nodeKey(n.id)],
    });
    model.addNode(n.id, table.label);
    sink.created({ op: 'create_node', label: table.label, id: n.id, properties: n.properties });
  }
}

function planEdges(model: GraphModel, edges: Snapshot['edges'], sink: SnapshotSink): void {
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
    const cols = [...table.columns.values()];
    sink.add({
      kind: 'data',
      ...edgeInsert(table.label, fromLabel, toLabel, cols),
      values: [e.from, e.to, e.id, ...cols.map((c) => columnValue(e.properties, c, table.label))],
      reads: [],
      writes: [edgeKey(e.id)],
    });
    model.addEdge(e.id, { label: table.label, from: e.from, to: e.to });
    sink.created({ op: 'create_edge', label: table.label, id: e.id, from: e.from, to: e.to, properties: e.properties });
  }
}

/** The value of column `col` in `props`, whose keys may be spelt in another case (Kuzu folds names). */
function columnValue(props: Props, col: Column, label: string): RowValue {
  const folded = fold(col.name);
  const key = Object.keys(props).find((k) => fold(k) === folded);
  if (key === undefined) return null;
  const v = props[key]!;
  if (valueProblem(v) || !fitsColumn(v, col.type)) {
    throw new SyncError('bad_message', `snapshot value ${label}.${col.name} does not fit ${col.type}`);
  }
  return v;
}
