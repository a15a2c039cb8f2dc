/**
 * Every verdict is reported at least once, even across a kill -9: a client process dies while its
 * app handles the first of several verdicts recorded in one transaction (their patches had already
 * left its `_Pending` table, and it had told the server it knew them). Reopened on its file, the
 * client tells the others, as the server judged them.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChildLines } from '../helpers/child-lines.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { client, server } from '../helpers/sync.js';
import { tempDir } from '../helpers/temp.js';

const crasher = new URL('../helpers/outcome-crasher.ts', import.meta.url).pathname;
const dir = tempDir();
const forbidding = (name: string) =>
  server({
    databasePath: join(dir, `${name}-server.kz`),
    validatePatch: (p) => (JSON.stringify(p.ops).includes('forbidden') ? 'forbidden' : true),
  });

/** Runs the crasher on `db` until it dies on a verdict; what it said. */
async function crash(url: string, db: string, writes: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', crasher, url, db, 'crasher', String(writes)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = new ChildLines(child);
  const signal = await new Promise<string | null>((r) => child.once('close', (_, sig) => r(sig)));
  assert.is(signal, 'SIGKILL', 'it died on a verdict');
  const heard = new Map<string, string>();
  for (const l of lines.lines) if (l.e === 'heard') heard.set(l.id as string, l.kind as string);
  assert.is(heard.size, 1, 'it heard one verdict before it died');
  return { created: lines.lines.filter((l) => l.e === 'created').map((l) => l.id as string), heard };
}

/** Reopens the crasher's file and adds what it tells, until it is synced. */
async function reopen(s: Awaited<ReturnType<typeof server>>, db: string, heard: Map<string, string>) {
  const again = await client(s, { databasePath: db, clientId: 'crasher', autoConnect: false });
  again.on('accepted', (a) => heard.set(a.patchId, 'accepted'));
  again.on('rejected', (r) => heard.set(r.patchId, 'rejected'));
  again.connect();
  await again.whenSynced({ timeout: 30_000 });
  await again.close();
}

test('acceptances folded in one transaction: the reopened client tells those the app never heard', async () => {
  const s = await forbidding('fold');
  const db = join(dir, 'fold.kz');
  try {
    const { created, heard } = await crash(s.url, db, 6);
    assert.is(created.length, 6);
    await reopen(s, db, heard);
    assert.equal(
      created.map((id) => heard.get(id)),
      created.map(() => 'accepted'),
    );
    // Told once they were heard: a clean restart tells nothing again.
    const told = new Map<string, string>();
    await reopen(s, db, told);
    assert.equal([...told.keys()], []);
  } finally {
    await s.close();
  }
});

test('verdicts a sync settles, rejections among them: the reopened client tells each as judged', async () => {
  const s = await forbidding('sync');
  const db = join(dir, 'sync.kz');
  try {
    // Synced once, then written offline; the server judges them as if sent before a crash whose
    // answers were lost.
    const first = await client(s, { databasePath: db, clientId: 'crasher' });
    await first.whenSynced();
    await first.close();
    const offline = await client(s, { databasePath: db, clientId: 'crasher', autoConnect: false });
    for (let i = 0; i < 6; i++) await offline.createNode('Item', { n: i, ...(i % 2 ? { forbidden: true } : {}) });
    const pending = offline.pendingPatches();
    await offline.close();
    const peer = await RawPeer.connect(s.url, 'crasher');
    await peer.sync();
    for (const p of pending) peer.send({ type: 'patch', patch: peer.makePatch(p.ops, 0, p.seq) });
    await peer.response(pending.at(-1)!.patchId);
    await peer.close();

    const { heard } = await crash(s.url, db, 0);
    await reopen(s, db, heard);
    const judged = pending.map((p, i) => [p.patchId, i % 2 ? 'rejected' : 'accepted']);
    assert.equal(
      pending.map((p) => [p.patchId, heard.get(p.patchId)]),
      judged,
    );
  } finally {
    await s.close();
  }
});

test.run();
