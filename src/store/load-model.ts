import { quoteIdentifier as q } from '../protocol/identifiers.js';
import { fold, type GraphModel } from './graph-model.js';
import { kuzuType } from './kuzu/normalize.js';
import type { Row, Step } from './kuzu/steps.js';

/**
 * Reads what GraphModel holds from the database a store opens: every user table with its columns
 * and pairs, every node's id and label, every edge's ends. `read` runs steps as one read.
 */
export async function loadModel(model: GraphModel, read: (steps: Step[]) => Promise<Row[][]>): Promise<void> {
  const showTables: Step = { kind: 'query', cypher: 'CALL show_tables() RETURN name, type' };
  const [tables] = await read([showTables]);
  const userTables = tables!.filter((t) => !(t.name as string).startsWith('_'));
  const nodeTables = userTables.filter((t) => t.type === 'NODE').map((t) => t.name as string);
  const relTables = userTables.filter((t) => t.type === 'REL').map((t) => t.name as string);
  const info = (name: string): Step => ({ kind: 'query', cypher: `CALL table_info('${name}') RETURN name, type` });
  const steps: Step[] = [
    ...nodeTables.map(info),
    ...relTables.map(info),
    ...relTables.map((name): Step => ({ kind: 'query', cypher: `CALL show_connection('${name}') RETURN *` })),
    ...nodeTables.map((name): Step => ({ kind: 'query', cypher: `MATCH (n:${q(name)}) RETURN n.id AS id` })),
    ...relTables.map(
      (name): Step => ({
        kind: 'query',
        cypher: `MATCH (a)-[r:${q(name)}]->(b) RETURN r.id AS id, a.id AS f, b.id AS t`,
      }),
    ),
  ];
  if (steps.length === 0) return;
  const res = await read(steps);
  let i = 0;
  const columnsOf = (rows: Row[]) =>
    rows
      .filter((r) => fold(r.name as string) !== 'id')
      .map((r) => ({ name: r.name as string, type: kuzuType(r.type as string) }));
  const nodeT = nodeTables.map((label) => model.addNodeTable(label, columnsOf(res[i++]!)));
  const relCols = relTables.map(() => columnsOf(res[i++]!));
  relTables.forEach((label, k) => {
    const pairs = res[i++]!.map((r) => [r['source table name'], r['destination table name']] as [string, string]);
    const t = model.addRelTable(label, pairs[0]!, relCols[k]!);
    for (const p of pairs.slice(1)) model.addRelPair(t, p);
  });
  for (const t of nodeT) for (const r of res[i++]!) model.addNode(r.id as string, t.label);
  for (const label of relTables) {
    for (const r of res[i++]!) model.addEdge(r.id as string, { label, from: r.f as string, to: r.t as string });
  }
  model.commitThrough();
}
