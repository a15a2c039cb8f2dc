import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { client, server } from '../helpers/sync.js';

const example = new URL('../../examples/live-example.ts', import.meta.url).pathname;

/** Runs the example the way `npm run example:live` does when piped: stdout is not a terminal. */
function runExample(
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', example], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    // A hung example would otherwise hold the suite until the runner's own timeout, with no output to show.
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the example did not finish within 120 s; its output so far:\n${out}${err}`));
    }, 120_000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

/** The frames of the log, in order: each starts at its title line. */
const framesOf = (out: string) => out.split(/^(?= kuzu-sync · one live query)/m).slice(1);

/**
 * The rows of one client's box in a frame, whitespace folded: `✓ Tag v0.2 Bob`. The boxes of Alice
 * and Bob stand side by side, so a box is cut out at the column its top corner is in.
 */
function rowsOf(frame: string, who: 'Viewer' | 'Alice' | 'Bob'): string[] {
  const lines = frame.split('\n');
  const top = lines.findIndex((l) => l.includes(`╭─ ${who} `));
  assert.ok(top >= 0, `no box for ${who} in the frame:\n${frame}`);
  const col = lines[top]!.indexOf(`╭─ ${who} `);
  const rows: string[] = [];
  for (const line of lines.slice(top + 1)) {
    if (line[col] !== '│') break;
    const row = line
      .slice(col + 1, line.indexOf('│', col + 1))
      .replace(/\s+/g, ' ')
      .trim();
    if (row && row !== 'TASK OWNER DONE' && row !== '(no tasks)') rows.push(row);
  }
  return rows;
}

/** Written, minus the deleted "Record a demo" and the rejected task for Mallory. */
const finalRows = ['✓ Fix the flaky test Bob done', '✓ Tag v0.2 Bob', '✓ Write the README Alice done'];

function assertLog(out: string): string[] {
  assert.not.match(out, /\x1b/, 'no escape codes when stdout is not a terminal');
  for (const line of out.split('\n')) assert.ok(line.length <= 80, `wider than 80 columns: ${line}`);
  const frames = framesOf(out);
  assert.ok(frames.length > 5, out);
  const last = frames.at(-1)!;
  for (const who of ['Viewer', 'Alice', 'Bob'] as const)
    assert.equal(rowsOf(last, who), finalRows, `${who}, last frame`);
  assert.match(out, /Done in [\d.]+ s: the viewer, Alice and Bob show the same 3 tasks at v\d+\./);
  return frames;
}

test('npm run example:live: Bob sees his rejected task, marked unconfirmed, until the rollback takes it', async () => {
  const { code, out, err } = await runExample({ SYNC_SERVER_URL: undefined });
  assert.is(code, 0, out + err);
  assert.not.match(err, /kuzu-sync:/, err);
  const frames = assertLog(out);
  const bob = frames.map((f) => rowsOf(f, 'Bob'));
  const shown = bob.findIndex((rows) => rows.includes('… Hand keys to Mallory Mallory'));
  assert.ok(shown >= 0, `no frame shows Bob's pending task for Mallory:\n${out}`);
  const struck = bob.findIndex((rows, i) => i > shown && rows.includes('✗ Hand keys to Mallory rejected'));
  assert.ok(struck > shown, `no frame after it marks the task rejected:\n${out}`);
  const gone = bob.findIndex((rows, i) => i > struck && !rows.some((r) => r.includes('Mallory')));
  assert.ok(gone > struck, `the task for Mallory never left Bob's view:\n${out}`);
  for (const f of frames)
    for (const who of ['Viewer', 'Alice'] as const)
      assert.not.ok(
        rowsOf(f, who).some((r) => r.includes('Mallory')),
        `the server refused it, yet ${who} shows it:\n${f}`,
      );
  assert.match(out, /server ✗ rejected: Bob adds "Hand keys to Mallory" for Mallory/);
  assert.match(out, /Bob {4}↺ rolled back: validation_failed \(Mallory gets no tasks\)/);
  assert.match(out, /8 writes: 7 confirmed, 1 rejected by the server and rolled back\./);
});

test('with SYNC_SERVER_URL it uses that server, skips the rejection, and keeps to its own tasks', async () => {
  const s = await server();
  try {
    // A server of your own may hold other labels than the example's schema declares (example:sync's, say).
    const other = await client(s);
    await other.createNode('Person', { name: 'Ada' });
    await other.whenSynced({ timeout: 10_000 });
    await other.close();
    for (let run = 1; run <= 2; run++) {
      const { code, out, err } = await runExample({ SYNC_SERVER_URL: s.url });
      assert.is(code, 0, out + err);
      // A client that refused the server's data would warn and resync from a snapshot.
      assert.not.match(err, /kuzu-sync:/, err);
      assertLog(out);
      assert.match(out, /skipped: only the embedded server refuses Mallory/);
      assert.match(out, /7 writes: 7 confirmed, 0 rejected/);
    }
  } finally {
    await s.close();
  }
});

test.run();
