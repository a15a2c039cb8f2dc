import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Value } from '../../src/protocol/types.js';
import { FuzzGenerator, type FuzzCase } from '../helpers/fuzz-cases.js';
import { rng } from '../helpers/random.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { assertConverged, caughtUp, client, server, synced } from '../helpers/sync.js';

const CASES = Number(process.env.FUZZ_CASES ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const MAX_BYTES = 64 * 1024;

test(`${CASES} fuzzed frames (seed ${SEED}): each answered with its code, no crash, a healthy client syncing throughout`, async () => {
  const internal: unknown[] = [];
  const s = await server({
    maxMessageBytes: MAX_BYTES,
    logger: { debug() {}, info() {}, warn() {}, error: (...a) => internal.push(a) },
  });
  const healthy = await client(s, { clientId: 'healthy' });
  const observer = await client(s, { clientId: 'observer' });
  await synced(healthy, observer);
  const attacker = await RawPeer.connect(s.url, 'fuzz');
  await attacker.sync(0);

  const gen = new FuzzGenerator(rng(SEED), 'fuzz', MAX_BYTES);
  const mismatches: string[] = [];
  const byOutcome = new Map<string, number>();
  const stored: Array<{ id: string; key: string; value: Value }> = [];
  let healthyRounds = 0;
  const describe = (c: FuzzCase) =>
    `${c.name} ${String(c.frame).slice(0, 160)}${String(c.frame).length > 160 ? '…' : ''}`;

  for (let i = 0; i < CASES; i++) {
    const c = gen.next();
    const from = attacker.received.length;
    if (process.env.FUZZ_VERBOSE) console.log(i, describe(c));
    attacker.sendRaw(c.frame, c.binary);
    const e = c.expect;
    let got: string;
    if (e.kind === 'error') {
      const m = (await attacker.next((m) => m.type === 'error' || m.type === 'patch_response', 10_000, from)) as {
        type: string;
        code?: string;
      };
      got = `${m.type}:${m.code}`;
      if (got !== `error:${e.code}`) mismatches.push(`case ${i} ${describe(c)}: expected error ${e.code}, got ${got}`);
    } else {
      const m = (await attacker.next((m) => m.type === 'patch_response' && m.patchId === c.patchId, 10_000, from)) as {
        status: string;
        code?: string;
      };
      got = `${m.status}${m.code && e.status !== 'ignored' ? `:${m.code}` : ''}`;
      // An ignored replay carries the first verdict's code, whatever it was.
      if (m.status !== e.status || (e.status !== 'ignored' && m.code !== e.code))
        mismatches.push(`case ${i} ${describe(c)}: expected ${e.status}${e.code ? `:${e.code}` : ''}, got ${got}`);
      if (e.stored && m.status === 'accepted') stored.push(e.stored);
    }
    byOutcome.set(got, (byOutcome.get(got) ?? 0) + 1);
    if (mismatches.length > 20) break;
    if (i % 1000 === 999) {
      // The healthy client writes, and another client sees it, while the attacker goes on.
      await healthy.createNode('Probe', { round: healthyRounds++ }, { id: `probe${healthyRounds}` });
      await caughtUp(s, healthy, observer);
      const seen = await observer.query('MATCH (p:Probe) RETURN count(p) AS n');
      assert.is(seen[0]!.n, healthyRounds, 'the observer sees every probe');
    }
  }
  assert.equal(mismatches.slice(0, 20), [], `seed ${SEED}: answers differ from what the cases call for`);
  assert.equal(internal, [], 'the server logged no internal failure');
  assert.not.ok(attacker.closed, 'the attacker was never dropped for frames below the hard limit');

  // What was accepted is stored exactly as sent: injection strings, unicode, 2^63, -0 (as 0).
  const items = (await s.exportSnapshot()).nodes.filter((n) => n.label === 'Item');
  const byId = new Map(items.map((n) => [n.id, n.properties]));
  for (const x of stored) assert.equal(byId.get(x.id)?.[x.key], x.value, `node ${JSON.stringify(x.id)}.${x.key}`);
  assert.is(items.length, stored.length, 'no other Item node exists');
  await assertConverged(s, healthy, observer);

  const outcomes = [...byOutcome]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  console.log(
    `# fuzz: ${CASES} cases (seed ${SEED}), 0 crashes, 0 internal errors, healthy client synced ${healthyRounds} times; ${outcomes}`,
  );
  await Promise.all([healthy.close(), observer.close(), attacker.close()]);
  await s.close();
});

test.run();
