import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHAOS_COUNTS, HARD, runChaos, shrink, summary, zeroCounts, type ChaosReport } from './chaos.js';

// CI runs a bounded chaos campaign; `npm run test:chaos -- --seed N --steps M` runs any other.
const SEEDS = (process.env.CHAOS_SEEDS ?? '11,12').split(',').map(Number);
const STEPS = Number(process.env.CHAOS_STEPS ?? 120);

const totals = { runs: 0, steps: 0, ...zeroCounts() };
const add = (r: ChaosReport) => {
  totals.runs++;
  totals.steps += r.steps;
  for (const k of CHAOS_COUNTS) totals[k] += r[k];
};

for (const seed of SEEDS) {
  test(`chaos seed ${seed}, ${STEPS} steps: every graph equals the server's, nothing lost or applied twice, every rejection reported`, async () => {
    const r = await runChaos({ seed, steps: STEPS });
    console.log(`\n# ${summary(r)}`); // uvu prints its progress dot on the same line
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
    console.log(`\n# ${summary(r)}`);
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
      `${totals.serverRestarts + totals.serverKills} server restarts survived (${totals.serverKills} kill -9), ${totals.clientKills} client kill -9, ` +
      `${totals.accepted} accepted, ${totals.rejected} rejected, patches lost = ${totals.lost}`,
  );
});

test.run();
