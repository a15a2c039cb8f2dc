import { quoteIdentifier as q } from '../protocol/identifiers.js';
import type { Op, Patch } from '../protocol/types.js';
import type { DeclaredSchema } from '../schema/declared.js';
import { fold, schemaKey, type GraphModel, type RelTable } from './graph-model.js';
import type { QueryStep } from './kuzu/steps.js';

/**
 * Tables, rel pairs and columns that only rejected local writes made (GraphModel.localOnly): found,
 * checked empty in the database, and dropped, so this replica holds the schema every other replica
 * at its version holds, and answers a query on them as they do (`unknown_label`, not `[]`).
 */

/** Calls `use` with each table, pair and column `op` names (see schemaKey), as the model knows them. */
function keysOf(model: GraphModel, op: Op, use: (key: string) => void): void {
  const columns = (table: string, props: object) => {
    for (const k of Object.keys(props)) use(schemaKey.column(table, k));
  };
  switch (op.op) {
    case 'create_node':
    case 'upsert_node':
      use(schemaKey.node(op.label));
      return columns(schemaKey.node(op.label), op.properties);
    case 'create_edge':
    case 'upsert_edge': {
      use(schemaKey.rel(op.label));
      const [from, to] = [model.nodeLabel(op.from), model.nodeLabel(op.to)];
      if (from !== undefined && to !== undefined) use(schemaKey.pair(op.label, `${from}|${to}`));
      return columns(schemaKey.rel(op.label), op.properties);
    }
    case 'set_property': {
      const node = op.target === 'node';
      const label = node ? model.nodeLabel(op.id) : model.edge(op.id)?.label;
      if (label === undefined) return;
      return columns(node ? schemaKey.node(label) : schemaKey.rel(label), { [op.key]: null });
    }
  }
}

/**
 * Whether `schema` declares the object `key` names (see schemaKey) as the model has it: a column
 * only with the type it has here. A write made offline before the schema was known may have made a
 * table it lacks, or a column of another type: those stay the local writes' (see WriteTx.declare).
 */
export function declares(schema: DeclaredSchema, model: GraphModel, key: string): boolean {
  const [kind, label, a, b] = key.split(' ') as [string, string, string | undefined, string | undefined];
  const rel = kind === 'n' ? undefined : schema.edges.get(label);
  const want = kind === 'n' ? schema.nodes.get(label) : rel;
  if (!want) return false;
  if (kind === 'p') return [...rel!.pairs].some((p) => fold(p) === `${a}|${b}`);
  if (a === undefined) return true;
  const have = (kind === 'n' ? model.nodeTable(label) : model.relTable(label))?.columns.get(a);
  return have !== undefined && want.columns.get(a)?.type === have.type;
}

/** Marks what a change from the server uses as the server's (see GraphModel.localOnly). */
export function noteServerUse(model: GraphModel, op: Op): void {
  keysOf(model, op, (key) => model.serverUses(key));
}

/**
 * What the verdicts on own patches mean for GraphModel.localOnly: an accepted patch ran on the
 * server, so what it uses is the server's; a rejected one's `made` may be left behind (see
 * GraphStore.dropUnheld, which `take` feeds).
 */
export class LeftBehind {
  private keys: string[] = [];
  constructor(private readonly model: GraphModel) {}

  settled(entry: { patch: Patch; made?: readonly string[] | undefined }, accepted: boolean): void {
    if (!accepted) this.keys.push(...(entry.made ?? []));
    else if (this.model.localOnly.size) for (const op of entry.patch.ops) noteServerUse(this.model, op);
  }

  /**
   * What rejected patches left behind, less what a pending patch still names in its ops or its undo:
   * one that leaves nothing there (a node created and deleted, a property set to null) holds it too,
   * and its acceptance would make it the server's.
   */
  take(pending: Iterable<{ patch: Patch; inverse: readonly Op[] }>): string[] {
    const keys = this.keys.splice(0);
    if (!keys.length) return keys;
    const held = new Set<string>();
    for (const e of pending)
      for (const op of [...e.patch.ops, ...e.inverse]) keysOf(this.model, op, (k) => held.add(k));
    return keys.filter((k) => !held.has(k));
  }
}

/** One object that may go, and the read that finds whether anything holds it (no row: nothing). */
export interface Unheld {
  key: string;
  probe: QueryStep;
}

/** Of `keys`, the objects that exist and are still the local writes' alone, each with its probe. */
export function unheldCandidates(model: GraphModel, keys: Iterable<string>): Unheld[] {
  const out: Unheld[] = [];
  for (const key of new Set(keys)) {
    if (!model.localOnly.has(key)) continue;
    const probe = probeOf(model, key);
    if (probe) out.push({ key, probe: { kind: 'query', cypher: `${probe} RETURN 1 LIMIT 1` } });
  }
  return out;
}

function probeOf(model: GraphModel, key: string): string | undefined {
  const [kind, label, a, b] = key.split(' ') as [string, string, string | undefined, string | undefined];
  const t = kind === 'n' ? model.nodeTable(label) : model.relTable(label);
  if (!t) return undefined;
  const rel = `-[x:${q(t.label)}]->`;
  if (kind === 'p') {
    const pair = pairOf(t as RelTable, a!, b!);
    return pair && `MATCH (:${q(pair[0])})${rel}(:${q(pair[1])})`;
  }
  const match = kind === 'n' ? `MATCH (x:${q(t.label)})` : `MATCH ()${rel}()`;
  if (a === undefined) return match;
  const col = t.columns.get(a);
  return col && `${match} WHERE x.${q(col.name)} IS NOT NULL`;
}

const pairOf = (t: RelTable, from: string, to: string): [string, string] | undefined =>
  [...t.pairs].map((p) => p.split('|') as [string, string]).find(([f, o]) => fold(f) === from && fold(o) === to);

/**
 * The DDL that drops `empty` (keys whose probe found nothing), in an order Kuzu takes: rel tables,
 * then pairs (never a table's last), then columns of tables that stay, then node tables no pair
 * left names. Each object it drops leaves the model at once; the caller runs the DDL as one
 * transaction and reverts the model if it fails. Also returns the labels of the tables it changes.
 */
export function planDrops(model: GraphModel, empty: readonly string[]): { ddl: string[]; tables: string[] } {
  const ddl: string[] = [];
  const tables = new Set<string>();
  const split = empty.map((key) => ({ key, parts: key.split(' ') }));
  const drop = (key: string, label: string, cypher: string) => {
    ddl.push(cypher);
    tables.add(fold(label));
    model.removeSchema(key);
  };
  for (const { key, parts } of split) {
    const t = parts[0] === 'r' && parts.length === 2 ? model.relTable(parts[1]!) : undefined;
    if (t) drop(key, t.label, `DROP TABLE ${q(t.label)}`);
  }
  for (const { key, parts } of split) {
    const t = parts[0] === 'p' ? model.relTable(parts[1]!) : undefined;
    const pair = t && t.pairs.size > 1 ? pairOf(t, parts[2]!, parts[3]!) : undefined;
    if (pair) drop(key, t!.label, `ALTER TABLE ${q(t!.label)} DROP FROM ${q(pair[0])} TO ${q(pair[1])}`);
  }
  const named = new Set<string>();
  for (const t of model.relTables.values())
    for (const p of t.pairs) for (const end of p.split('|')) named.add(fold(end));
  const nodeGoes = (label: string) => empty.includes(schemaKey.node(label)) && !named.has(fold(label));
  for (const { key, parts } of split) {
    if (parts.length !== 3 || parts[0] === 'p') continue;
    const t = parts[0] === 'n' ? model.nodeTable(parts[1]!) : model.relTable(parts[1]!);
    const col = t?.columns.get(parts[2]!);
    if (t && col && !(parts[0] === 'n' && nodeGoes(t.label)))
      drop(key, t.label, `ALTER TABLE ${q(t.label)} DROP ${q(col.name)}`);
  }
  for (const { key, parts } of split) {
    const t = parts[0] === 'n' && parts.length === 2 ? model.nodeTable(parts[1]!) : undefined;
    if (t && nodeGoes(t.label)) drop(key, t.label, `DROP TABLE ${q(t.label)}`);
  }
  return { ddl, tables: [...tables] };
}
