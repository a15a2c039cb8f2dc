/**
 * Nothing lost, proven on the loop users write: a client process running an awaited loop of writes
 * on a file database is killed with -9 in the middle. On restart its graph and its outbox hold a
 * prefix of the writes, with no gap and no half-patch, covering every write that had resolved; once
 * it syncs, the server holds each of them exactly once.
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
const ids = (rows: Array<Record<string, unknown>>) => rows.map((r) => r.id as string).sort();
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
      await new Promise((r) => child.once('exit', r));
      const resolved = lines.lines.filter((l) => l.e === 'resolved').length;

      const again = await client(s, { databasePath: db, clientId: 'looper', autoConnect: false });
      try {
        const local = ids(await again.query('MATCH (i:Item) RETURN i.id AS id'));
        assert.ok(local.length >= resolved, `every resolved write is there (${local.length} of ${resolved})`);
        assert.equal(local, prefix(local.length), 'a prefix of the loop: no gap');
        const seqs = (await again.query('MATCH (p:_Pending) RETURN p.seq AS s ORDER BY s')).map((r) => Number(r.s));
        assert.equal(
          seqs,
          Array.from({ length: seqs.length }, (_, k) => (seqs[0] ?? 0) + k),
          'pending seqs contiguous',
        );
        again.connect();
        await again.whenSynced({ timeout: 60_000 });
        const onServer = ids(await s.query('MATCH (i:Item) RETURN i.id AS id'));
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
