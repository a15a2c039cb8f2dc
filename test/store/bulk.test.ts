import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Op, Props } from '../../src/protocol/types.js';
import { Batcher } from '../../src/store/batcher.js';
import { NULL_SENTINEL } from '../../src/store/kuzu/csv.js';
import { CSV_MIN_ROWS } from '../../src/store/kuzu/run-steps.js';
import { GraphStore } from '../../src/store/graph-store.js';
import { canonical } from '../helpers/snapshot.js';
import { tempDir } from '../helpers/temp.js';
import { join } from 'node:path';

const nasty = [
  'plain',
  '',
  ' ',
  'a,b',
  'he said "hi"',
  '""',
  '"',
  'line1\nline2',
  'cr\r\nlf',
  'tab\there',
  'back\\slash',
  "single'quote",
  'ünïcødé 🎉',
  '[1,2]',
  '{x}',
  'null',
  'NULL',
  '\\N',
  NULL_SENTINEL,
  ';DROP TABLE Person;',
  '`x`',
  ') RETURN 1 //',
  'nul \u0000 char',
  ' lead',
  'trail ',
  'x'.repeat(5000),
];
const lists: string[][] = [[], [''], ['a,b', 'c'], ['New York', 'Paris'], ['[x]'], ['ok', 'words'], [NULL_SENTINEL]];

function rowsFor(n: number): Op[] {
  return Array.from({ length: n }, (_, i): Op => {
    const props: Props = {
      s: nasty[i % nasty.length]!,
      n: i % 3 === 0 ? i : i + 0.25,
      b: i % 2 === 0,
      l: lists[i % lists.length]!,
      nums: [i, 0.5, -0],
    };
    return {
      op: 'create_node',
      label: 'Row',
      id: `row-${i}-${nasty[i % nasty.length]!.slice(0, 8)}`,
      properties: props,
    };
  });
}

const expected = (ops: Op[]) =>
  ops.map((o) => {
    const c = o as Extract<Op, { op: 'create_node' }>;
    return {
      id: c.id,
      s: c.properties.s,
      n: c.properties.n,
      b: c.properties.b,
      l: c.properties.l,
      nums: (c.properties.nums as number[]).map((x) => x + 0),
    };
  });

for (const [name, count, tableFirst] of [
  ['per-row path', CSV_MIN_ROWS - 1, false],
  // Which path each takes (COPY or LOAD FROM) copy.test.ts checks; here: the values arrive exact.
  ['bulk CSV path, table created in the same transaction', CSV_MIN_ROWS * 4, false],
  ['bulk CSV path, existing table', CSV_MIN_ROWS * 4, true],
] as const) {
  test(`${name}: every string, list and number survives exactly`, async () => {
    const s = await GraphStore.open(':memory:');
    const ops = rowsFor(count);
    if (tableFirst) {
      const { value } = await s.write((tx) => tx.apply([{ ...ops[0]!, id: 'first' } as Op]));
      assert.ok(value.ok, JSON.stringify(value));
    }
    const { value } = await s.write((tx) => tx.apply(ops));
    assert.ok(value.ok, JSON.stringify(value));
    const rows = await s.query(
      "MATCH (r:Row) WHERE r.id <> 'first' RETURN r.id AS id, r.s AS s, r.n AS n, r.b AS b, r.l AS l, r.nums AS nums",
    );
    const sortById = (xs: Array<Record<string, unknown>>) =>
      [...xs].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    assert.equal(sortById(rows), sortById(expected(ops)));
    await s.close();
  });
}

test('bulk set_property and null removal, many rows per statement', async () => {
  const s = await GraphStore.open(':memory:');
  const n = CSV_MIN_ROWS * 3;
  await s.write((tx) =>
    tx.apply(
      Array.from(
        { length: n },
        (_, i): Op => ({ op: 'create_node', label: 'P', id: `p${i}`, properties: { v: 'init', k: i } }),
      ),
    ),
  );
  await s.write((tx) =>
    tx.apply(
      Array.from(
        { length: n },
        (_, i): Op => ({
          op: 'set_property',
          target: 'node',
          id: `p${i}`,
          key: 'v',
          value: i % 4 === 0 ? null : nasty[i % nasty.length]!,
        }),
      ),
    ),
  );
  const rows = await s.query('MATCH (p:P) RETURN p.id AS id, p.v AS v');
  for (const r of rows) {
    const i = Number((r.id as string).slice(1));
    assert.is(r.v, i % 4 === 0 ? null : nasty[i % nasty.length]!, `p${i}`);
  }
  await s.close();
});

test('a snapshot loaded into another database reproduces the graph', async () => {
  const a = await GraphStore.open(':memory:');
  const ops: Op[] = [
    ...rowsFor(CSV_MIN_ROWS * 2),
    { op: 'create_node', label: 'City', id: 'c1', properties: { name: 'Paris' } },
    { op: 'create_node', label: 'Empty', id: 'e1', properties: {} },
    ...Array.from(
      { length: CSV_MIN_ROWS + 5 },
      (_, i): Op => ({
        op: 'create_edge',
        label: 'IN',
        id: `in${i}`,
        from: `row-${i}-${nasty[i % nasty.length]!.slice(0, 8)}`,
        to: 'c1',
        properties: { w: i, tag: nasty[i % nasty.length]! },
      }),
    ),
    { op: 'create_edge', label: 'IN', id: 'weird', from: 'c1', to: 'e1', properties: {} },
  ];
  const { value } = await a.write((tx) => tx.apply(ops));
  assert.ok(value.ok, JSON.stringify(value));
  const snap = await a.exportSnapshot();
  const b = await GraphStore.open(':memory:');
  await b.write((tx) => tx.apply([{ op: 'create_node', label: 'Old', id: 'gone', properties: { x: 1 } }]));
  await b.write((tx) => tx.replaceAll(snap));
  assert.equal(canonical(await b.exportSnapshot()), canonical(snap));
  assert.is(b.model.nodeLabel('gone'), undefined);
  assert.equal(
    await b
      .query('CALL show_tables() RETURN name AS n ORDER BY n')
      .then((r) => r.map((x) => x.n).filter((n) => !(n as string).startsWith('_'))),
    ['City', 'Empty', 'IN', 'Row'],
  );
  await a.close();
  await b.close();
});

test('a snapshot whose rows lack a number, a boolean or a list loads into existing tables (LOAD FROM)', async () => {
  for (const path of [':memory:', join(tempDir(), 'nulls.kz')]) {
    const a = await GraphStore.open(':memory:');
    const n = CSV_MIN_ROWS * 2;
    const props = (i: number): Props =>
      i % 3 === 0 ? {} : { k: i + 0.5, ok: i % 2 === 0, tags: [`t${i}`], name: `n${i}` };
    await a.write((tx) =>
      tx.apply(
        Array.from({ length: n }, (_, i): Op => ({ op: 'create_node', label: 'N', id: `n${i}`, properties: props(i) })),
      ),
    );
    const snap = await a.exportSnapshot();
    const b = await GraphStore.open(path);
    // The table exists before the load: its rows go by LOAD FROM, never COPY.
    await b.write((tx) =>
      tx.apply([
        { op: 'create_node', label: 'N', id: 'old', properties: { k: 1.5, ok: true, tags: ['x'], name: 'x' } },
      ]),
    );
    await b.write((tx) => tx.replaceAll(snap));
    assert.equal(canonical(await b.exportSnapshot()), canonical(snap), path);
    await a.close();
    await b.close();
  }
});

test('a column added by a unit that failed comes back with the type of its next first value', async () => {
  const s = await GraphStore.open(':memory:');
  const { value } = await s.write((tx) => {
    const first = tx.apply([{ op: 'create_node', label: 'T', id: 'a', properties: { name: 'a' } }]);
    // Adds T.x as DOUBLE, then fails on the duplicate: the column goes with the unit.
    const failed = tx.apply([
      { op: 'create_node', label: 'T', id: 'b', properties: { name: 'b', x: 1.5 } },
      { op: 'create_node', label: 'T', id: 'a', properties: {} },
    ]);
    const again = tx.apply([{ op: 'create_node', label: 'T', id: 'c', properties: { name: 'c', x: 'five' } }]);
    return [first.ok, failed.ok, again.ok];
  });
  assert.equal(value, [true, false, true]);
  assert.equal(await s.query('MATCH (t:T) RETURN t.id AS id, t.x AS x ORDER BY id'), [
    { id: 'a', x: null },
    { id: 'c', x: 'five' },
  ]);
  await s.close();
});

test('batcher: writes of one shape become one step; dependent writes keep their order', () => {
  const b = new Batcher();
  const create = (id: string) => ({
    kind: 'data' as const,
    template: 'CREATE',
    columns: [],
    values: [id],
    reads: [],
    writes: [`n:${id}`],
  });
  const set = (id: string, v: number) => ({
    kind: 'data' as const,
    template: 'SET',
    columns: [],
    values: [id, v],
    reads: [`n:${id}`],
    writes: [`n:${id}.k`],
    overwriteKey: id,
  });
  const del = (id: string) => ({
    kind: 'data' as const,
    template: 'DEL',
    columns: [],
    values: [id],
    reads: [],
    writes: [`n:${id}`],
  });
  for (let i = 0; i < 100; i++) {
    b.add(create(`a${i}`));
    b.add(set(`a${i}`, i));
  }
  assert.equal(
    b.steps().map((s) => s.kind === 'rows' && s.rows.length),
    [100, 100],
  );
  b.add(set('a1', 7)); // joins the SET step and overwrites a1's row
  b.add(del('a2'));
  b.add(create('a2')); // must come after the delete: a new CREATE step
  b.add(set('a2', 9)); // must come after that create
  const steps = b.steps();
  assert.equal(
    steps.map((s) => s.kind === 'rows' && s.body),
    ['CREATE', 'SET', 'DEL', 'CREATE', 'SET'],
  );
  assert.equal((steps[1] as any).rows[1], ['a1', 7]);
  b.add({ kind: 'ddl', cypher: 'ALTER' });
  b.add(create('z')); // never hoisted over a schema change
  assert.is(b.steps().length, 7);
});

test.run();
