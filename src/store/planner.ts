import { SyncError } from '../protocol/errors.js';
import { quoteIdentifier as q } from '../protocol/identifiers.js';
import type { ColumnType, Op, PlainOp, Props, Value } from '../protocol/types.js';
import { columnTypeOf, describeColumn, describeType, EMPTY_ARRAY_COLUMN, fitsColumn } from '../protocol/values.js';
import { fold, type Column, type GraphModel, type NodeTable, type RelTable } from './graph-model.js';
import type { RowsStep, RowValue } from './kuzu/steps.js';

/**
 * One statement a op turns into. Data statements name their row fields `$c0..`; statements with the
 * same template may run as one bulk step. `reads`/`writes` name what they touch (`n:<id>`,
 * `n:<id>.<key>`, `e:<id>`...) so the batcher can tell which statements commute.
 */
export type Statement =
  | { kind: 'ddl'; cypher: string; creates?: string }
  | {
      kind: 'data';
      template: string;
      columns: ColumnType[];
      values: RowValue[];
      reads: string[];
      writes: string[];
      /** Two rows with this key in one template: the later one wins (a property set twice). */
      overwriteKey?: string;
      /** A plain insert of one node: see RowsStep.copy. */
      copy?: RowsStep['copy'];
      /** What it does to one edge: see Batcher, on edges the transaction creates. */
      edge?: EdgeRole;
    };

/**
 * The edge a statement creates, deletes or sets a property of. A create says how to write it again
 * with another column (its values are from, to, id, then one per column of `cols`).
 */
export type EdgeRole =
  | { id: string; role: 'create'; label: string; fromLabel: string; toLabel: string; cols: Column[] }
  | { id: string; role: 'delete' }
  | { id: string; role: 'set'; col: Column };

export interface OpPlan {
  statements: Statement[];
  /** For delete_node: the edges it takes with it, as they were at that moment. */
  incident?: string[];
}

export const nodeKey = (id: string) => `n:${id}`;
export const edgeKey = (id: string) => `e:${id}`;

/**
 * Kuzu folds the case of names: `person` would silently land in the table `Person`. Refuse a
 * spelling that differs only in case from the existing one, so every name has one spelling.
 */
function sameSpelling(existing: string, given: string, what: string): void {
  if (existing !== given) {
    const [mine, theirs] = [JSON.stringify(given), JSON.stringify(existing)];
    throw new SyncError(
      'invalid_identifier',
      `${what} ${mine} differs only in case from the existing ${theirs}; use that spelling`,
    );
  }
}

function typeFor(v: Value): ColumnType {
  return columnTypeOf(v) ?? EMPTY_ARRAY_COLUMN;
}

/** Checks value types against existing columns and adds the missing ones (DDL) to model and plan. */
function ensureColumns(model: GraphModel, table: NodeTable | RelTable, props: Props, out: Statement[]): Column[] {
  const cols: Column[] = [];
  for (const [key, value] of Object.entries(props)) {
    let col = table.columns.get(fold(key));
    if (col) sameSpelling(col.name, key, 'property key');
    if (!col) {
      col = { name: key, type: typeFor(value) };
      model.addColumn(table, col);
      out.push(addColumnDdl(table.label, col));
    } else if (!fitsColumn(value, col.type)) {
      throw new SyncError(
        'type_mismatch',
        `${table.label}.${col.name} holds ${describeColumn(col.type)}; got ${describeType(value)}` +
          ' (a property keeps the type of its first value)',
      );
    }
    cols.push(col);
  }
  return cols;
}

const columnDefs = (cols: Column[]) => cols.map((c) => `${q(c.name)} ${c.type}`);

/** The columns a new table gets from the properties of its first write. */
const newColumns = (props: Props): Column[] => Object.entries(props).map(([k, v]) => ({ name: k, type: typeFor(v) }));

/** A new node table, named so that rows-steps later in its transaction may COPY into it. */
export function createNodeTable(label: string, cols: Column[]): Statement {
  const defs = ['id STRING', ...columnDefs(cols), 'PRIMARY KEY(id)'];
  return { kind: 'ddl', cypher: `CREATE NODE TABLE ${q(label)}(${defs.join(', ')})`, creates: label };
}

export const addColumnDdl = (label: string, col: Column): Statement => ({
  kind: 'ddl',
  cypher: `ALTER TABLE ${q(label)} ADD ${q(col.name)} ${col.type}`,
});
export const addPairDdl = (label: string, [from, to]: [string, string]): Statement => ({
  kind: 'ddl',
  cypher: `ALTER TABLE ${q(label)} ADD FROM ${q(from)} TO ${q(to)}`,
});

/** The DDL of a rel table with its FROM/TO pairs: for the planner and for a snapshot's schema. */
export function createRelTable(label: string, pairs: Array<[string, string]>, cols: Column[]): Statement {
  const defs = [...pairs.map(([f, t]) => `FROM ${q(f)} TO ${q(t)}`), 'id STRING', ...columnDefs(cols)];
  return { kind: 'ddl', cypher: `CREATE REL TABLE ${q(label)}(${defs.join(', ')})` };
}

/** The insert of one edge between nodes of the given labels: $c0 from, $c1 to, $c2 id, then `cols`. */
export function edgeInsert(
  label: string,
  fromLabel: string,
  toLabel: string,
  cols: Column[],
): { template: string; columns: ColumnType[] } {
  const fields = ['id: $c2', ...cols.map((c, i) => `${q(c.name)}: $c${i + 3}`)].join(', ');
  return {
    template:
      `MATCH (a:${q(fromLabel)} {id: $c0}) MATCH (b:${q(toLabel)} {id: $c1}) ` +
      `CREATE (a)-[:${q(label)} {${fields}}]->(b)`,
    columns: ['STRING', 'STRING', 'STRING', ...cols.map((c) => c.type)],
  };
}

function nodeTableFor(
  model: GraphModel,
  label: string,
  props: Props,
  out: Statement[],
): { table: NodeTable; cols: Column[] } {
  let table = model.nodeTable(label);
  if (table) sameSpelling(table.label, label, 'label');
  const rel = model.relTable(label);
  if (rel) throw new SyncError('invalid_identifier', `${JSON.stringify(label)} is already an edge label`);
  if (!table) {
    const cols = newColumns(props);
    table = model.addNodeTable(label, cols);
    out.push(createNodeTable(label, cols));
    return { table, cols };
  }
  return { table, cols: ensureColumns(model, table, props, out) };
}

function relTableFor(
  model: GraphModel,
  label: string,
  pair: [string, string],
  props: Props,
  out: Statement[],
): { table: RelTable; cols: Column[] } {
  let table = model.relTable(label);
  if (table) sameSpelling(table.label, label, 'edge label');
  const node = model.nodeTable(label);
  if (node) throw new SyncError('invalid_identifier', `${JSON.stringify(label)} is already a node label`);
  if (!table) {
    const cols = newColumns(props);
    table = model.addRelTable(label, pair, cols);
    out.push(createRelTable(label, [pair], cols));
    return { table, cols };
  }
  if (!table.pairs.has(pair.join('|'))) {
    model.addRelPair(table, pair);
    out.push(addPairDdl(table.label, pair));
  }
  return { table, cols: ensureColumns(model, table, props, out) };
}

/** Properties in a canonical order, so writes of the same shape share one template. */
function sortedProps(props: Props): Props {
  const keys = Object.keys(props);
  let i = 1;
  while (i < keys.length && keys[i - 1]! < keys[i]!) i++;
  if (i >= keys.length) return props; // already in order: most writes of one shape come this way
  return Object.fromEntries(keys.sort().map((k) => [k, props[k]!]));
}

/** What every insert of one node shape shares; built once per shape, not once per node. */
export interface InsertShape {
  template: string;
  columns: ColumnType[];
  copy: NonNullable<RowsStep['copy']>;
}
const insertShapes = new WeakMap<NodeTable, Map<string, InsertShape>>();
/** Shapes kept per table: writers choose their property sets, and a server must not keep them all. */
const MAX_SHAPES_PER_TABLE = 64;

/** The insert of a node of `table` with the columns `cols`, in that order (values: id, then cols). */
export function nodeInsert(table: NodeTable, cols: Column[]): InsertShape {
  let shapes = insertShapes.get(table);
  if (!shapes) insertShapes.set(table, (shapes = new Map()));
  // Types are in the key: a column dropped by a reverted unit may come back with another type.
  const key = cols.map((c) => `${c.name} ${c.type}`).join(',');
  let shape = shapes.get(key);
  if (!shape) {
    const fields = cols.map((c, i) => `${q(c.name)}: $c${i + 1}`);
    shape = {
      template: `CREATE (:${q(table.label)} {${['id: $c0', ...fields].join(', ')}})`,
      columns: ['STRING', ...cols.map((c) => c.type)],
      copy: { table: table.label, fields: ['id', ...cols.map((c) => c.name)] },
    };
    if (shapes.size < MAX_SHAPES_PER_TABLE) shapes.set(key, shape);
  }
  return shape;
}

function requireNode(model: GraphModel, id: string): string {
  const label = model.nodeLabel(id);
  if (label === undefined) throw new SyncError('not_found', `node ${JSON.stringify(id)} does not exist`);
  return label;
}

function requireEdge(model: GraphModel, id: string) {
  const ref = model.edge(id);
  if (!ref) throw new SyncError('not_found', `edge ${JSON.stringify(id)} does not exist`);
  return { ...ref, fromLabel: requireNode(model, ref.from) };
}

/**
 * The delete of edge `id` (`e` as requireEdge gives it), found from its start node's id. It reads
 * its ends: a later delete of either (which writes the node) must not join a step that runs before
 * it, or Kuzu refuses to delete a node that still has the edge.
 */
function edgeDelete(e: ReturnType<typeof requireEdge>, id: string): Extract<Statement, { kind: 'data' }> {
  return {
    kind: 'data',
    template: `MATCH (a:${q(e.fromLabel)} {id: $c0})-[r:${q(e.label)} {id: $c1}]->() DELETE r`,
    columns: ['STRING', 'STRING'],
    values: [e.from, id],
    reads: [nodeKey(e.from), nodeKey(e.to)],
    writes: [edgeKey(id)],
    edge: { id, role: 'delete' },
  };
}

/**
 * What `op` comes to on the graph as the model has it: an upsert is a create when its node or edge
 * does not exist, else a set_property per given key (none: nothing to do). Every replica resolves a
 * patch against the same state (the server in version order, a client under its pending patches),
 * so they all come to the same graph. Other ops are what they are.
 */
export function resolveOp(model: GraphModel, op: Op): PlainOp[] {
  switch (op.op) {
    case 'upsert_node': {
      const label = model.nodeLabel(op.id);
      if (label === undefined) return [{ ...op, op: 'create_node' }];
      if (fold(label) !== fold(op.label)) {
        throw new SyncError('type_mismatch', `node ${JSON.stringify(op.id)} is a ${label}, not a ${op.label}`);
      }
      return sets('node', op.id, op.properties);
    }
    case 'upsert_edge': {
      const e = model.edge(op.id);
      if (!e) return [{ ...op, op: 'create_edge' }];
      if (fold(e.label) !== fold(op.label) || e.from !== op.from || e.to !== op.to) {
        const [was, given] = [`${e.label} ${e.from}->${e.to}`, `${op.label} ${op.from}->${op.to}`];
        throw new SyncError('type_mismatch', `edge ${JSON.stringify(op.id)} is ${was}, not ${given}`);
      }
      return sets('edge', op.id, op.properties);
    }
    default:
      return [op];
  }
}

const sets = (target: 'node' | 'edge', id: string, props: Props): PlainOp[] =>
  Object.entries(props).map(([key, value]) => ({ op: 'set_property', target, id, key, value }));

/**
 * Validates `op` against the model, applies it to the model, and says which statements carry it out.
 * Throws a SyncError (and leaves the model for the caller to revert) when the op cannot apply.
 */
export function planOp(model: GraphModel, op: PlainOp): OpPlan {
  const out: Statement[] = [];
  switch (op.op) {
    case 'create_node': {
      if (model.nodeLabel(op.id) !== undefined) {
        throw new SyncError('already_exists', `node ${JSON.stringify(op.id)} already exists`);
      }
      const props = sortedProps(op.properties);
      const { table, cols } = nodeTableFor(model, op.label, props, out);
      const values = [op.id, ...Object.values(props)];
      out.push({ kind: 'data', ...nodeInsert(table, cols), values, reads: [], writes: [nodeKey(op.id)] });
      model.addNode(op.id, table.label);
      return { statements: out };
    }
    case 'set_property':
      planSetProperty(model, op, out);
      return { statements: out };
    case 'delete_node': {
      const label = requireNode(model, op.id);
      const incident = model.incidentEdges(op.id);
      // Its edges one by one, then the node: kuzu-wasm 0.11.3 replays a DETACH DELETE from its WAL
      // wrongly (after a crash, another node's self-loop was gone), a plain DELETE rightly.
      for (const e of incident) out.push(edgeDelete(requireEdge(model, e), e));
      out.push({
        kind: 'data',
        template: `MATCH (n:${q(label)} {id: $c0}) DELETE n`,
        columns: ['STRING'],
        values: [op.id],
        reads: incident.map(edgeKey),
        writes: [nodeKey(op.id)],
      });
      for (const e of incident) model.removeEdge(e);
      model.removeNode(op.id);
      return { statements: out, incident };
    }
    case 'create_edge': {
      if (model.edge(op.id)) throw new SyncError('already_exists', `edge ${JSON.stringify(op.id)} already exists`);
      const fromLabel = requireNode(model, op.from);
      const toLabel = requireNode(model, op.to);
      const props = sortedProps(op.properties);
      const { table, cols } = relTableFor(model, op.label, [fromLabel, toLabel], props, out);
      out.push({
        kind: 'data',
        ...edgeInsert(table.label, fromLabel, toLabel, cols),
        values: [op.from, op.to, op.id, ...Object.values(props)],
        reads: [nodeKey(op.from), nodeKey(op.to)],
        writes: [edgeKey(op.id)],
        edge: { id: op.id, role: 'create', label: table.label, fromLabel, toLabel, cols },
      });
      model.addEdge(op.id, { label: table.label, from: op.from, to: op.to });
      return { statements: out };
    }
    case 'delete_edge': {
      out.push(edgeDelete(requireEdge(model, op.id), op.id));
      model.removeEdge(op.id);
      return { statements: out };
    }
  }
}

function planSetProperty(model: GraphModel, op: Extract<PlainOp, { op: 'set_property' }>, out: Statement[]): void {
  if (op.target === 'node') {
    const table = model.nodeTable(requireNode(model, op.id))!;
    const col = setColumn(model, table, op.key, op.value, out);
    if (!col) return;
    out.push({
      kind: 'data',
      template: `MATCH (n:${q(table.label)} {id: $c0}) SET n.${q(col.name)} = $c1`,
      columns: ['STRING', col.type],
      values: [op.id, op.value],
      reads: [nodeKey(op.id)],
      writes: [`${nodeKey(op.id)}.${fold(col.name)}`],
      overwriteKey: op.id,
    });
    return;
  }
  const e = requireEdge(model, op.id);
  const table = model.relTable(e.label)!;
  const col = setColumn(model, table, op.key, op.value, out);
  if (!col) return;
  out.push({
    kind: 'data',
    template: `MATCH (a:${q(e.fromLabel)} {id: $c0})-[r:${q(table.label)} {id: $c1}]->() SET r.${q(col.name)} = $c2`,
    columns: ['STRING', 'STRING', col.type],
    values: [e.from, op.id, op.value],
    reads: [edgeKey(op.id)],
    writes: [`${edgeKey(op.id)}.${fold(col.name)}`],
    overwriteKey: op.id,
    edge: { id: op.id, role: 'set', col },
  });
}

/** The column a set_property writes, created on first use; undefined when removing a property that never existed. */
function setColumn(
  model: GraphModel,
  table: NodeTable | RelTable,
  key: string,
  value: Value | null,
  out: Statement[],
): Column | undefined {
  if (value === null) {
    const col = table.columns.get(fold(key));
    if (col) sameSpelling(col.name, key, 'property key');
    return col;
  }
  return ensureColumns(model, table, { [key]: value }, out)[0];
}
