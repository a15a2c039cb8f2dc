import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphStore } from '../../src/store/graph-store.js';
import { node } from '../helpers/ops.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { server } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();

/** Rewrites a server database's chunked log as the row-per-patch `_Log` of before. */
async function toRowLog(path: string): Promise<void> {
  const store = await GraphStore.open(path);
  const chunks = await store.query('MATCH (l:_LogChunk) RETURN l.first AS first, l.ids AS ids, l.patches AS patches');
  const rows = chunks.flatMap((c) => {
    const texts = (c.patches as string).split('\n');
    return (JSON.parse(c.ids as string) as string[]).map((id, i) => [(c.first as number) + i, id, texts[i]!]);
  });
  await store.run([
    {
      kind: 'query',
      cypher: 'CREATE NODE TABLE _Log(version INT64, id STRING, patch STRING, PRIMARY KEY(version))',
      ddl: true,
    },
  ]);
  await store.run([
    { kind: 'query', cypher: 'MATCH (l:_LogChunk) DELETE l' },
    {
      kind: 'rows',
      body: 'CREATE (:_Log {version: $c0, id: $c1, patch: $c2})',
      columns: ['INT64', 'STRING', 'STRING'],
      rows,
    },
  ]);
  await store.close();
}

test('a database whose log is a row per patch (before chunks) is moved into chunks: deltas, outcomes and seqs as before', async () => {
  const path = join(dir, 'row-log.kz');
  let s = await server({ databasePath: path });
  const a = await RawPeer.connect(s.url, 'A');
  await a.sync(0);
  for (let i = 0; i < 5; i++) await a.response(a.patch([node(`n${i}`, { i })]).id);
  const sent = a.received.filter((m) => m.type === 'patch_response').length;
  assert.is(sent, 5);
  await a.close();
  await s.close();
  await toRowLog(path);

  for (let restart = 0; restart < 2; restart++) {
    s = await server({ databasePath: path });
    assert.is(s.getVersion(), 5);
    const again = await RawPeer.connect(s.url, 'A');
    const [answer] = await again.sync(2, { serverId: s.serverId, ackedSeq: 3 });
    assert.equal(answer!.mode, 'delta');
    assert.equal(
      answer!.patches!.map((p) => [p.version, p.patch.id]),
      [
        [3, 'A:3'],
        [4, 'A:4'],
        [5, 'A:5'],
      ],
    );
    assert.equal(answer!.outcomes, [
      { seq: 4, status: 'accepted', version: 4 },
      { seq: 5, status: 'accepted', version: 5 },
    ]);
    await again.close();
    await s.close();
  }
  const store = await GraphStore.open(path);
  const tables = await store.query('CALL show_tables() RETURN name');
  await store.close();
  assert.not.ok(
    tables.some((t) => t.name === '_Log'),
    'the old table is gone',
  );
});

test.run();
