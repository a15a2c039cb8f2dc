/**
 * Nothing lost, proven on the loop users write: a client process running an awaited loop of writes
 * on a file database is killed with -9 in the middle. Writes are memory-first, so what resolved
 * after the last group commit may be lost, and nothing else: on restart its graph and its outbox
 * hold a prefix of the writes, with no gap and no half-patch, covering every write flush() had
 * vouched for and every write the server had seen; once it syncs, the server holds each of them
 * exactly once.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChildLines } from '../helpers/child-lines.js';
import { client, server } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
const writer = new URL('../helpers/loop-writer.ts', import.meta.url).pathname;
/** The Item ids in a graph, sorted; none before the first Item made the table. */
const itemIds = async (g: { query: (cypher: string) => Promise<Array<Record<string, unknown>>> }) => {
  const tables = await g.query('CALL show_tables() RETURN name');
  if (!tables.some((t) => t.name === 'Item')) return [];
  return (await g.query('MATCH (i:Item) RETURN i.id AS id')).map((r) => r.id as string).sort();
};
const prefix = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`).sort();

for (const when of [40, 400]) {
  test(`kill -9 after ${when} resolved writes: a prefix survives, no gap, each write on the server once`, async () => {
    const s = await server({ databasePath: join(dir, `server-${when}.kz`) });
    const db = join(dir, `loop-${when}.kz`);
    const child = spawn(process.execPath, ['--import', 'tsx', writer, s.url, db, 'looper', '2000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = new ChildLines(child);
    try {
      await lines.until((l) => l.e === 'resolved' && l.i === when - 1, 60_000, `${when} resolved writes`);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r)); // its last lines read, not only its exit
      const resolved = lines.lines.filter((l) => l.e === 'resolved').length;
      const flushed = Math.max(-1, ...lines.lines.filter((l) => l.e === 'flushed').map((l) => l.i as number)) + 1;
      const seenByServer = await itemIds(s);

      const again = await client(s, { databasePath: db, clientId: 'looper', autoConnect: false });
      try {
        const local = await itemIds(again);
        assert.ok(local.length <= resolved, `nothing that never resolved (${local.length} of ${resolved})`);
        assert.equal(local, prefix(local.length), 'a prefix of the loop: no gap');
        assert.ok(local.length >= flushed, `every write flush() vouched for is there (${local.length} of ${flushed})`);
        const local_ = new Set(local);
        assert.ok(
          seenByServer.every((id) => local_.has(id)),
          `every write the server had seen is there (${seenByServer.length} on the server)`,
        );
        const seqs = (await again.query('MATCH (p:_Pending) RETURN p.seq AS s ORDER BY s')).map((r) => Number(r.s));
        assert.equal(
          seqs,
          Array.from({ length: seqs.length }, (_, k) => (seqs[0] ?? 0) + k),
          'pending seqs contiguous',
        );
        again.connect();
        await again.whenSynced({ timeout: 60_000 });
        const onServer = await itemIds(s);
        assert.equal(onServer, local, 'the server holds the same writes, each once');
      } finally {
        await again.close();
      }
    } finally {
      child.kill('SIGKILL');
      await s.close();
    }
  });
}

test.run();
