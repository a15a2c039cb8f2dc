import type { DeclaredSchema } from '../schema/declared.js';
import type { Column, GraphModel } from './graph-model.js';
import { addColumnDdl, addPairDdl, createNodeTable, createRelTable, type Statement } from './planner.js';

const columnsOf = (props: Record<string, Column['type']>): Column[] =>
  Object.entries(props).map(([name, type]) => ({ name, type }));

/**
 * Puts `schema` in force on `model`: creates every declared table, column and edge pair the graph
 * lacks (so queries on them answer `[]`, not unknown_label), and from then on writes must fit it.
 * Additive only: Kuzu cannot change a column's type, and a server refuses to start on a database
 * that contradicts its schema (DeclaredSchema.conflicts). Adds the tables it changes to `tables`.
 */
export function planDeclare(model: GraphModel, schema: DeclaredSchema, tables: Set<string>): Statement[] {
  const out: Statement[] = [];
  const missing = (have: Map<string, Column>, props: Record<string, Column['type']>) =>
    columnsOf(props).filter((c) => !have.has(c.name.toLowerCase()));
  // Node tables first: a rel table's DDL names its ends.
  for (const n of schema.graph.nodes) {
    const table = model.nodeTable(n.label);
    const add = table ? missing(table.columns, n.properties) : columnsOf(n.properties);
    if (table && add.length === 0) continue;
    tables.add(n.label.toLowerCase());
    if (!table) {
      model.addNodeTable(n.label, add);
      out.push(createNodeTable(n.label, add));
      continue;
    }
    for (const c of add) {
      model.addColumn(table, c);
      out.push(addColumnDdl(table.label, c));
    }
  }
  for (const e of schema.graph.edges) {
    const table = model.relTable(e.label);
    if (!table && e.pairs.length === 0) continue; // Kuzu has no rel table without ends
    if (!table) {
      const cols = columnsOf(e.properties);
      const created = model.addRelTable(e.label, e.pairs[0]!, cols);
      for (const p of e.pairs.slice(1)) model.addRelPair(created, p);
      out.push(createRelTable(e.label, e.pairs, cols));
      tables.add(e.label.toLowerCase());
      continue;
    }
    const pairs = e.pairs.filter((p) => !table.pairs.has(p.join('|')));
    const add = missing(table.columns, e.properties);
    if (pairs.length || add.length) tables.add(e.label.toLowerCase());
    for (const p of pairs) {
      model.addRelPair(table, p);
      out.push(addPairDdl(table.label, p));
    }
    for (const c of add) {
      model.addColumn(table, c);
      out.push(addColumnDdl(table.label, c));
    }
  }
  model.declare(schema);
  return out;
}
