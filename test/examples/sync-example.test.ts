import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { server } from '../helpers/sync.js';

const example = new URL('../../examples/sync-example.ts', import.meta.url).pathname;

/** Runs the quick start's example the way `npm run example:sync` does; resolves with its output. */
function runExample(env: Record<string, string | undefined>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // KUZU_SYNC_INSPECT set in the caller's shell would make the example stream to the Stately inspector.
    const child = spawn(process.execPath, ['--import', 'tsx', example], {
      env: { ...process.env, KUZU_SYNC_INSPECT: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    // A hung example would otherwise hold the suite until the runner's own timeout, with no output to show.
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the example did not finish within 120 s; its output so far:\n${out}`));
    }, 120_000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

const walkthrough = [
  /created Person [0-9a-f-]{36}/,
  /Pending patches: 0\n {2}Server version: {2}\d+/,
  /type_mismatch: .*Person\.age holds a number/,
  /the server rejected \S+: validation_failed \(no Mallory here\); rolled back locally\n {2}after the verdict: 0 Mallory/,
  /Alice, Engineer in New York, skills: JavaScript, Python/,
  /on A: Bob KNOWS Alice since 2024/,
];

test('npm run example:sync with no SYNC_SERVER_URL: an embedded server, the whole walkthrough, exit 0', async () => {
  const { code, out } = await runExample({ SYNC_SERVER_URL: undefined });
  assert.is(code, 0, out);
  assert.match(out, /No SYNC_SERVER_URL set: started an embedded sync server/);
  for (const line of walkthrough) assert.match(out, line);
});

test('with SYNC_SERVER_URL it uses that server, and runs again and again against the same one', async () => {
  const s = await server();
  try {
    for (let run = 1; run <= 2; run++) {
      const { code, out } = await runExample({ SYNC_SERVER_URL: s.url });
      assert.is(code, 0, out);
      assert.not.match(out, /started an embedded sync server/);
      assert.match(out, /Skipped: the server-side rejection needs the embedded server/);
      assert.match(out, /on A: Bob KNOWS Alice since 2024/);
    }
    const people = await s.query('MATCH (p:Person) WHERE p.name = $n RETURN count(p) AS n', { n: 'Alice' });
    assert.equal(people, [{ n: 2 }], 'each run added its own Alice to the one server');
  } finally {
    await s.close();
  }
});

test.run();
