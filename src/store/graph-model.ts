import type { ColumnType, GraphSchema } from '../protocol/types.js';
import type { DeclaredSchema } from '../schema/declared.js';

/**
 * What kuzu-sync knows about the graph without asking the database: the schema, which label every
 * node id has, and every edge's label and ends. Patches name nodes and edges by id alone, and Kuzu has
 * no global id index (rel properties are not indexed at all), so this index is what makes validation
 * and lookups free. Every change is journaled so a failed transaction can be undone here too.
 */
export interface Column {
  name: string;
  type: ColumnType;
}
export interface NodeTable {
  label: string;
  columns: Map<string, Column>;
}
export interface RelTable {
  label: string;
  columns: Map<string, Column>;
  /** `${fromLabel}|${toLabel}` with canonical labels. */
  pairs: Set<string>;
}
export interface EdgeRef {
  label: string;
  from: string;
  to: string;
}

/** Kuzu folds identifier case: `Person` and `person` name one table. */
export const fold = (name: string): string => name.toLowerCase();

/**
 * A schema object as GraphModel.localOnly names it: a node table (`n person`), a rel table
 * (`r knows`), a rel table's pair (`p knows person city`), a column (`n person age`, `r knows since`).
 * Identifiers hold no space (see identifiers.ts).
 */
export const schemaKey = {
  node: (label: string) => `n ${fold(label)}`,
  rel: (label: string) => `r ${fold(label)}`,
  pair: (label: string, pair: string) => `p ${fold(label)} ${fold(pair).replace('|', ' ')}`,
  column: (tableKey: string, name: string) => `${tableKey} ${fold(name)}`,
};

export class GraphModel {
  readonly nodeTables = new Map<string, NodeTable>();
  readonly relTables = new Map<string, RelTable>();
  private readonly nodes = new Map<string, string>();
  private readonly edges = new Map<string, EdgeRef>();
  private readonly adjacency = new Map<string, Set<string>>();
  /** The schema writes must fit, when the server declares one (or the client was given one). */
  private declaredSchema: DeclaredSchema | undefined;
  private journal: Array<() => void> = [];
  /** Journal entries already committed and dropped: marks count from the first change ever made. */
  private committed = 0;
  /**
   * Tables, pairs and columns (see schemaKey) that local writes made and that nothing the server
   * sent has used since: a rejected write leaves such objects behind, empty, where a replica that
   * never saw it has none, and the two would answer one query differently (see dropUnheld). Not
   * journaled: a key left here for an object that is gone, or one dropped too early, only means an
   * empty table stays, as it did before.
   */
  readonly localOnly = new Set<string>();
  /** Where add* note what they make while a local write plans (see WriteTx.apply). */
  making: string[] | undefined;
  /**
   * The most tables (node labels, and edge labels by pair) a write that must fit may bring the graph
   * to (see tableLimitFor); undefined, no limit.
   */
  tableLimit: number | undefined;

  // ---- reads --------------------------------------------------------------
  nodeTable(label: string): NodeTable | undefined {
    return this.nodeTables.get(fold(label));
  }
  relTable(label: string): RelTable | undefined {
    return this.relTables.get(fold(label));
  }
  /** Canonical label of node `id`, or undefined. */
  nodeLabel(id: string): string | undefined {
    return this.nodes.get(id);
  }
  edge(id: string): EdgeRef | undefined {
    return this.edges.get(id);
  }
  incidentEdges(nodeId: string): string[] {
    return [...(this.adjacency.get(nodeId) ?? [])];
  }
  /** Kuzu tables of the graph: each node label, and each pair of each edge label. */
  get tableCount(): number {
    let n = this.nodeTables.size;
    for (const r of this.relTables.values()) n += r.pairs.size;
    return n;
  }
  get nodeCount(): number {
    return this.nodes.size;
  }
  get edgeCount(): number {
    return this.edges.size;
  }
  nodeIds(): IterableIterator<[string, string]> {
    return this.nodes.entries();
  }
  edgeEntries(): IterableIterator<[string, EdgeRef]> {
    return this.edges.entries();
  }

  schema(): GraphSchema {
    const columns = (m: Map<string, Column>) => Object.fromEntries([...m.values()].map((c) => [c.name, c.type]));
    return {
      nodes: [...this.nodeTables.values()].map((t) => ({ label: t.label, properties: columns(t.columns) })),
      edges: [...this.relTables.values()].map((t) => ({
        label: t.label,
        pairs: [...t.pairs].map((p) => p.split('|') as [string, string]),
        properties: columns(t.columns),
      })),
    };
  }

  get declared(): DeclaredSchema | undefined {
    return this.declaredSchema;
  }

  // ---- journaled writes ---------------------------------------------------
  declare(schema: DeclaredSchema | undefined): void {
    const before = this.declaredSchema;
    this.declaredSchema = schema;
    this.journal.push(() => (this.declaredSchema = before));
  }
  addNodeTable(label: string, columns: Column[] = []): NodeTable {
    const t: NodeTable = { label, columns: new Map(columns.map((c) => [fold(c.name), c])) };
    this.nodeTables.set(fold(label), t);
    this.journal.push(() => this.nodeTables.delete(fold(label)));
    this.made(schemaKey.node(label), columns);
    return t;
  }
  addRelTable(label: string, pair: [string, string], columns: Column[] = []): RelTable {
    const columnMap = new Map(columns.map((c) => [fold(c.name), c]));
    const t: RelTable = { label, columns: columnMap, pairs: new Set([pair.join('|')]) };
    this.relTables.set(fold(label), t);
    this.journal.push(() => this.relTables.delete(fold(label)));
    this.made(schemaKey.rel(label), columns);
    this.made(schemaKey.pair(label, pair.join('|')));
    return t;
  }
  addRelPair(t: RelTable, pair: [string, string]): void {
    const key = pair.join('|');
    t.pairs.add(key);
    this.journal.push(() => t.pairs.delete(key));
    this.made(schemaKey.pair(t.label, key));
  }
  addColumn(t: NodeTable | RelTable, column: Column): void {
    t.columns.set(fold(column.name), column);
    this.journal.push(() => t.columns.delete(fold(column.name)));
    if (!this.making) return;
    const table = this.relTables.get(fold(t.label)) === t ? schemaKey.rel(t.label) : schemaKey.node(t.label);
    this.made(schemaKey.column(table, column.name));
  }
  /** Drops a table, a pair or a column (see dropUnheld); journaled like the rest. */
  removeSchema(key: string): void {
    const [kind, label, a, b] = key.split(' ') as [string, string, string | undefined, string | undefined];
    const tables: Map<string, NodeTable | RelTable> = kind === 'n' ? this.nodeTables : this.relTables;
    const t = tables.get(label);
    if (!t) return;
    if (kind === 'p') {
      const pair = [...(t as RelTable).pairs].find((p) => fold(p) === `${a}|${b}`);
      if (pair === undefined) return;
      (t as RelTable).pairs.delete(pair);
      this.journal.push(() => (t as RelTable).pairs.add(pair));
    } else if (a !== undefined) {
      const col = t.columns.get(a);
      if (!col) return;
      t.columns.delete(a);
      this.journal.push(() => t.columns.set(a, col));
    } else {
      tables.delete(label);
      this.journal.push(() => tables.set(label, t));
      for (const k of this.localOnly) if (k.startsWith(`${key} `)) this.localOnly.delete(k);
    }
    this.localOnly.delete(key);
  }
  /** A change the server sent uses `key`: it is no longer the local writes' alone. */
  serverUses(key: string): void {
    this.localOnly.delete(key);
  }
  private made(key: string, columns: readonly Column[] = []): void {
    if (!this.making) return;
    for (const k of [key, ...columns.map((c) => schemaKey.column(key, c.name))]) {
      this.making.push(k);
      this.localOnly.add(k);
    }
  }
  addNode(id: string, label: string): void {
    this.nodes.set(id, label);
    this.journal.push(() => this.nodes.delete(id));
  }
  removeNode(id: string): void {
    const label = this.nodes.get(id);
    if (label === undefined) return;
    this.nodes.delete(id);
    this.journal.push(() => this.nodes.set(id, label));
  }
  addEdge(id: string, ref: EdgeRef): void {
    this.edges.set(id, ref);
    this.link(ref.from, id);
    this.link(ref.to, id);
    this.journal.push(() => {
      this.edges.delete(id);
      this.unlink(ref.from, id);
      this.unlink(ref.to, id);
    });
  }
  removeEdge(id: string): void {
    const ref = this.edges.get(id);
    if (!ref) return;
    this.edges.delete(id);
    this.unlink(ref.from, id);
    this.unlink(ref.to, id);
    this.journal.push(() => {
      this.edges.set(id, ref);
      this.link(ref.from, id);
      this.link(ref.to, id);
    });
  }
  /** Forget everything (a snapshot replaces the graph); journaled like the rest. */
  clear(): void {
    const saved = {
      nodeTables: new Map(this.nodeTables),
      relTables: new Map(this.relTables),
      nodes: new Map(this.nodes),
      edges: new Map(this.edges),
      adjacency: new Map(this.adjacency),
    };
    this.nodeTables.clear();
    this.relTables.clear();
    this.localOnly.clear();
    this.nodes.clear();
    this.edges.clear();
    this.adjacency.clear();
    this.journal.push(() => {
      for (const [k, v] of saved.nodeTables) this.nodeTables.set(k, v);
      for (const [k, v] of saved.relTables) this.relTables.set(k, v);
      for (const [k, v] of saved.nodes) this.nodes.set(k, v);
      for (const [k, v] of saved.edges) this.edges.set(k, v);
      for (const [k, v] of saved.adjacency) this.adjacency.set(k, v);
    });
  }

  private link(node: string, edge: string): void {
    let s = this.adjacency.get(node);
    if (!s) this.adjacency.set(node, (s = new Set()));
    s.add(edge);
  }
  private unlink(node: string, edge: string): void {
    const s = this.adjacency.get(node);
    if (!s) return;
    s.delete(edge);
    if (s.size === 0) this.adjacency.delete(node);
  }

  // ---- journal ------------------------------------------------------------
  /**
   * A position in the journal. Marks are absolute, so one taken while a group of staged writes sits
   * in the journal stays valid after an earlier group commits (memory-first writes keep two open).
   */
  mark(): number {
    return this.committed + this.journal.length;
  }
  /** Undo every change made since `mark`. */
  revertTo(mark: number): void {
    while (this.mark() > mark) this.journal.pop()!();
  }
  /** The changes before `mark` are in the database: they can no longer be undone here. */
  commitThrough(mark: number = this.mark()): void {
    const n = Math.min(mark - this.committed, this.journal.length);
    if (n <= 0) return;
    this.journal.splice(0, n);
    this.committed += n;
  }
}
