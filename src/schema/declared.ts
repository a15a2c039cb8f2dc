import { SyncError } from '../protocol/errors.js';
import type { ColumnType, GraphSchema, Op, Props, Value } from '../protocol/types.js';
import { describeColumn, describeType, fitsColumn } from '../protocol/values.js';
import { fold } from '../store/graph-model.js';

interface DeclaredTable {
  label: string;
  columns: Map<string, { name: string; type: ColumnType }>;
}
interface DeclaredRel extends DeclaredTable {
  /** `${from}|${to}` with declared labels. */
  pairs: Set<string>;
}

/** What the declared schema needs to know about the graph: the label of an id. */
export interface LabelLookup {
  nodeLabel(id: string): string | undefined;
  edge(id: string): { label: string } | undefined;
}

/** A graph's tables as far as `conflicts` reads them (GraphModel fits). */
interface TableLike {
  label: string;
  columns: ReadonlyMap<string, { name: string; type: ColumnType }>;
}
interface TablesLike {
  nodeTables: ReadonlyMap<string, TableLike>;
  relTables: ReadonlyMap<string, TableLike & { pairs: ReadonlySet<string> }>;
}

const refuse = (message: string): never => {
  throw new SyncError('validation_failed', message);
};

/**
 * A schema in force: the labels, properties and edge ends writes must fit. Kept beside the graph
 * model, so a write that does not fit is refused while it is planned, before anything of it is
 * applied: on a client before it is sent, on the server before it is accepted (`validation_failed`).
 */
export class DeclaredSchema {
  readonly nodes = new Map<string, DeclaredTable>();
  readonly edges = new Map<string, DeclaredRel>();

  constructor(readonly graph: GraphSchema) {
    const columns = (props: Record<string, ColumnType>) =>
      new Map(Object.entries(props).map(([name, type]) => [fold(name), { name, type }]));
    for (const n of graph.nodes) this.nodes.set(fold(n.label), { label: n.label, columns: columns(n.properties) });
    for (const e of graph.edges) {
      const pairs = new Set(e.pairs.map((p) => p.join('|')));
      this.edges.set(fold(e.label), { label: e.label, columns: columns(e.properties), pairs });
    }
  }

  /** Throws `validation_failed` when `op` does not fit. Ids it cannot resolve are the planner's to refuse. */
  check(op: Op, graph: LabelLookup): void {
    switch (op.op) {
      case 'create_node':
      case 'upsert_node':
        return this.checkProps(this.node(op.label), op.properties);
      case 'create_edge':
      case 'upsert_edge': {
        const rel = this.edge(op.label);
        const [from, to] = [graph.nodeLabel(op.from), graph.nodeLabel(op.to)];
        if (from !== undefined && to !== undefined && !rel.pairs.has(`${from}|${to}`)) {
          const declared = [...rel.pairs].map((p) => p.replace('|', '->')).join(', ');
          refuse(`${rel.label} edges go ${declared} in the schema, not ${from}->${to}`);
        }
        return this.checkProps(rel, op.properties);
      }
      case 'set_property': {
        const label = op.target === 'node' ? graph.nodeLabel(op.id) : graph.edge(op.id)?.label;
        if (label === undefined) return;
        const table = op.target === 'node' ? this.node(label) : this.edge(label);
        return this.checkValue(table, op.key, op.value);
      }
      case 'delete_node':
      case 'delete_edge':
        return;
    }
  }

  /**
   * What in `tables` the schema contradicts: a label or property it does not declare, another type,
   * edge ends it does not allow. Empty when the graph fits (a server starts only then).
   */
  conflicts(tables: TablesLike): string[] {
    const out: string[] = [];
    const compare = (what: string, have: TableLike, want: DeclaredTable | undefined) => {
      if (!want) {
        out.push(`the database has ${what} ${have.label}, which the schema does not declare`);
        return;
      }
      if (want.label !== have.label) out.push(`${what} ${want.label} is spelt ${have.label} in the database`);
      for (const [key, col] of have.columns) {
        const declared = want.columns.get(key);
        if (!declared) out.push(`the database has ${have.label}.${col.name}, which the schema does not declare`);
        else if (declared.type !== col.type)
          out.push(
            `${have.label}.${col.name} holds ${describeColumn(col.type)}; the schema says ${describeColumn(declared.type)}`,
          );
      }
    };
    for (const [key, t] of tables.nodeTables) compare('node label', t, this.nodes.get(key));
    for (const [key, t] of tables.relTables) {
      const want = this.edges.get(key);
      compare('edge label', t, want);
      for (const pair of t.pairs) {
        if (want && !want.pairs.has(pair))
          out.push(`the database has ${t.label} edges ${pair.replace('|', '->')}, which the schema does not allow`);
      }
    }
    return out;
  }

  private node(label: string): DeclaredTable {
    return this.nodes.get(fold(label)) ?? refuse(`node label ${label} is not in the schema`);
  }
  private edge(label: string): DeclaredRel {
    return this.edges.get(fold(label)) ?? refuse(`edge label ${label} is not in the schema`);
  }
  private checkProps(table: DeclaredTable, props: Props): void {
    for (const key in props) this.checkValue(table, key, props[key]!);
  }
  private checkValue(table: DeclaredTable, key: string, value: Value | null): void {
    const col = table.columns.get(fold(key)) ?? refuse(`${table.label} has no property ${key} in the schema`);
    if (value !== null && !fitsColumn(value, col.type))
      refuse(`${table.label}.${col.name} holds ${describeColumn(col.type)} in the schema; got ${describeType(value)}`);
  }
}
