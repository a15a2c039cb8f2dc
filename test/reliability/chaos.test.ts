import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ifRedis } from '../cluster/redis-server.js';
import { CHAOS_COUNTS, HARD, runChaos, shrink, summary, zeroCounts, type ChaosReport } from './chaos.js';

// CI runs a bounded chaos campaign; `npm run test:chaos -- --seed N --steps M` runs any other.
const SEEDS = (process.env.CHAOS_SEEDS ?? '11,12').split(',').map(Number);
const STEPS = Number(process.env.CHAOS_STEPS ?? 120);

const totals = { runs: 0, steps: 0, ...zeroCounts() };
// The violations right under the summary: CI keeps only the head and the tail of a long output.
const add = (r: ChaosReport) => {
  console.log(`\n# ${summary(r)}`); // uvu prints its progress dot on the same line
  for (const v of r.violations) console.log(`  violation: ${v}`);
  totals.runs++;
  totals.steps += r.steps;
  for (const k of CHAOS_COUNTS) totals[k] += r[k];
};

for (const seed of SEEDS) {
  test(`chaos seed ${seed}, ${STEPS} steps: every graph equals the server's, nothing lost or applied twice, every rejection reported`, async () => {
    const r = await runChaos({ seed, steps: STEPS });
    add(r);
    if (r.violations.length) {
      const small = (await shrink({ seed, steps: STEPS }, 4)) ?? r;
      console.log(
        `shortest failing trace (seed ${seed}, ${small.steps} steps):\n${small.trace.map((l) => `  ${l}`).join('\n')}`,
      );
    }
    assert.equal(r.violations, [], `seed ${seed}`);
    assert.ok(r.writes > 0 && r.faults > 0, 'the run wrote and injected faults');
  });
}

for (const seed of (process.env.CHAOS_HARD_SEEDS ?? '13').split(',').map(Number)) {
  test(`chaos seed ${seed}, ${STEPS} steps, reject-stale, a 10-version log and a peer that never acknowledges`, async () => {
    const r = await runChaos({ seed, steps: STEPS, ...HARD });
    add(r);
    // Too slow to shrink within CI's budget: the whole trace, for the seed to be replayed.
    if (r.violations.length) console.log(`trace (seed ${seed}, hard):\n${r.trace.map((l) => `  ${l}`).join('\n')}`);
    assert.equal(r.violations, [], `seed ${seed} (hard settings)`);
    assert.ok(r.writes > 0 && r.faults > 0, 'the run wrote and injected faults');
  });
}

test.after(() => {
  console.log(
    `\n# chaos total: ${totals.runs} runs, ${totals.steps} steps, ${totals.writes} writes, ${totals.faults} network faults, ` +
      `${totals.serverRestarts + totals.serverKills} server restarts survived (${totals.serverKills} kill -9), ` +
      `${totals.gatewayKills} gateway kill -9, ${totals.sequencerKills} sequencer kill -9 (${totals.takeovers} takeovers), ` +
      `${totals.redisKills} redis kill -9, ${totals.clientKills} client kill -9, ${totals.engineCrashes} engine crashes, ` +
      `${totals.accepted} accepted, ${totals.rejected} rejected, patches lost = ${totals.lost}`,
  );
});

// Last: ifRedis runs the suite, the tests above included, once (without redis-server, only those).
// Seed 33's first 60 steps kill the sequencer twice, Redis three times and a gateway twice.
ifRedis('chaos --cluster', () => {
  for (const seed of (process.env.CHAOS_CLUSTER_SEEDS ?? '33').split(',').map(Number)) {
    const steps = Number(process.env.CHAOS_CLUSTER_STEPS ?? 60);
    test(`chaos --cluster seed ${seed}, ${steps} steps: Redis, a sequencer, a standby and two gateways killed -9 in turn`, async () => {
      const r = await runChaos({ seed, steps, cluster: true });
      add(r);
      // Minutes a run: the whole trace, for the seed to be replayed, instead of a shrink.
      if (r.violations.length)
        console.log(`trace (seed ${seed}, --cluster):\n${r.trace.map((l) => `  ${l}`).join('\n')}`);
      assert.equal(r.violations, [], `seed ${seed} (cluster)`);
      assert.ok(
        r.writes > 0 && r.gatewayKills + r.sequencerKills + r.redisKills > 0,
        'the run wrote and killed servers',
      );
    });
  }
  test.run();
});
