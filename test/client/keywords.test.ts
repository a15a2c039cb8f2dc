/**
 * Labels and keys named after Cypher keywords (#19): every keyword of Kuzu's grammar as a property
 * key and, at the store, as a node and an edge label; end to end (a client, the server restarting
 * from its file, a second client) all keys and a seeded sample of labels. In kuzu-wasm every table
 * costs about 1 MiB of buffer pool and 5 MB of memory, so not all 280 labels go end to end.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Op } from '../../src/protocol/types.js';
import { graphSchemaOf } from '../../src/schema/define.js';
import { GraphStore } from '../../src/store/graph-store.js';
import { KUZU_KEYWORDS } from '../helpers/kuzu-keywords.js';
import { rng } from '../helpers/random.js';
import { assertConverged, client, server, synced } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

/** Kuzu folds the case of names: one spelling per keyword, a label capitalized and a key in lower case. */
const label = (k: string) => k[0] + k.slice(1).toLowerCase();
const key = (k: string) => k.toLowerCase();

const seed = Number(process.env.KEYWORD_SEED ?? Date.now() % 100_000);

async function applied(store: GraphStore, ops: Op[]): Promise<void> {
  await store.write((tx) => {
    const r = tx.apply(ops);
    if (!r.ok) throw r.error;
  });
}

test('every keyword as a node label, an edge label and a key: written, changed, exported, loaded elsewhere, deleted', async () => {
  for (let i = 0; i < KUZU_KEYWORDS.length; i += 30) {
    const words = KUZU_KEYWORDS.slice(i, i + 30);
    const a = await GraphStore.open(':memory:');
    const b = await GraphStore.open(':memory:');
    try {
      await applied(a, [{ op: 'create_node', label: 'Hub', id: 'hub', properties: {} }]);
      await applied(
        a,
        words.flatMap((k): Op[] => [
          { op: 'create_node', label: label(k), id: `n-${k}`, properties: { [key(k)]: k } },
          { op: 'create_edge', label: `${label(k)}Rel`, id: `e-${k}`, from: 'hub', to: `n-${k}`, properties: {} },
          { op: 'set_property', target: 'edge', id: `e-${k}`, key: key(k), value: 1 },
          { op: 'set_property', target: 'node', id: 'hub', key: key(k), value: true },
        ]),
      );
      const snapshot = await a.exportSnapshot();
      await b.write((tx) => tx.replaceAll(snapshot));
      assert.equal(await b.exportSnapshot(), snapshot, `${words[0]}..: the snapshot loads as it was`);
      for (const k of words) {
        const q = `MATCH (h:Hub)-[r:\`${label(k)}Rel\`]->(n:\`${label(k)}\`) RETURN n.\`${key(k)}\` AS n, r.\`${key(k)}\` AS r, h.\`${key(k)}\` AS h`;
        assert.equal(await b.query(q), [{ n: k, r: 1, h: true }], k);
      }
      await applied(b, [
        { op: 'delete_edge', id: `e-${words[0]}` },
        ...words.map((k): Op => ({ op: 'delete_node', id: `n-${k}` })),
      ]);
      assert.equal((await b.exportSnapshot()).nodes.length, 1, 'only the hub is left');
    } finally {
      await a.close();
      await b.close();
    }
  }
});

test(`end to end: every keyword as a key, sampled ones as labels, through a server restart (KEYWORD_SEED=${seed})`, async () => {
  const r = rng(seed);
  const pool = [...KUZU_KEYWORDS];
  const labels = Array.from({ length: 10 }, () => pool.splice(r.int(pool.length), 1)[0]!);
  const databasePath = join(tempDir(), 'server.kz');
  let s = await server({ databasePath });
  const a = await client(s, { clientId: 'writer' });
  await a.createNode('Thing', Object.fromEntries(KUZU_KEYWORDS.map((k, i) => [key(k), i])), { id: 'hub' });
  await a.batch((tx) => {
    for (const k of labels) {
      tx.createNode(label(k), { [key(k)]: k }, { id: `n-${k}` });
      tx.createEdge(label(k) + 'Rel', 'hub', `n-${k}`, { [key(k)]: true }, { id: `e-${k}` });
    }
  });
  for (const k of KUZU_KEYWORDS.slice(0, 20)) await a.setProperty('node', 'hub', key(k), -1);
  await a.setProperty('edge', `e-${labels[0]}`, key(labels[0]!), false);
  await a.deleteNode(`n-${labels.at(-1)}`);
  await synced(a);
  await a.close();
  await s.close();

  s = await server({ databasePath });
  const b = await client(s, { clientId: 'reader' });
  await synced(b);
  const hub = (await b.query('MATCH (h:Thing) RETURN h'))[0]!.h as Record<string, unknown>;
  KUZU_KEYWORDS.forEach((k, i) => assert.is(hub[key(k)], i < 20 ? -1 : i, k));
  for (const k of labels.slice(0, -1)) {
    const q = `MATCH (:Thing)-[r:\`${label(k)}Rel\`]->(n:\`${label(k)}\`) RETURN n.\`${key(k)}\` AS n, r.\`${key(k)}\` AS r`;
    assert.equal(await b.query(q), [{ n: k, r: k !== labels[0] }], k);
  }
  assert.equal(await b.query(`MATCH (n:\`${label(labels.at(-1)!)}\`) RETURN n`), [], 'the deleted node is gone');
  await assertConverged(s, b);
  await b.close();
  await s.close();
});

test('a schema may declare keyword labels and keys', () => {
  const schema = graphSchemaOf({
    nodes: { Match: { order: 'string', from: 'number' }, Order: { type: 'boolean' } },
    edges: { To: { from: 'Match', to: 'Order', properties: { by: 'string' } } },
  });
  assert.equal(
    schema.nodes.map((n) => n.label),
    ['Match', 'Order'],
  );
});

test.run();
