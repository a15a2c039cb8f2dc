/**
 * npm run bench [-- --quick] [-- --only burst,fan-out]   (scenario names: see `scenarios` below)
 *
 * Every scenario measures ours and a baseline in this same run, interleaved over several rounds,
 * and reports medians and their ratio: absolute times on a shared 2-core machine mean little,
 * ratios hold. Prints the table on stdout (progress on stderr) and writes
 * bench/results/latest.json, an array of { scenario, ours, baseline, ratio, goal, met, unit, ... }
 * (--quick: quick.json; --only: partial.json; neither is committed).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { wasmDriver } from '../src/index.js';
import { RawKuzu } from './lib/raw-kuzu.js';
import { formatTable, type Result } from './lib/report.js';
import type { Context, Scenario } from './lib/scenario.js';
import { SyncServerHost } from './lib/server-child.js';
import { awaitedLoop } from './scenarios/awaited-loop.js';
import { burst } from './scenarios/burst.js';
import { coldSync } from './scenarios/cold-sync.js';
import { fanOut } from './scenarios/fan-out.js';
import { liveLatency } from './scenarios/live-latency.js';
import { localWrite } from './scenarios/local-write.js';
import { memory } from './scenarios/memory.js';
import { outage } from './scenarios/outage.js';
import { reconnect } from './scenarios/reconnect.js';

const scenarios: Scenario[] = [
  localWrite,
  awaitedLoop,
  burst,
  fanOut,
  liveLatency,
  coldSync,
  reconnect,
  outage,
  memory,
];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? argv[onlyAt + 1]?.split(',') : undefined;
const unknown = only?.filter((n) => !scenarios.some((s) => s.name === n));
if (unknown?.length) {
  console.error(`unknown scenario(s) ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const started = performance.now();
const servers = new SyncServerHost();
const moreServers = new SyncServerHost();
// The clients' Kuzu worker stops 5 s after its last database closes and costs seconds to start
// again: one idle database held for the whole run keeps it between scenarios (never timed anyway).
// The three wasm start-ups of a run (server process, client worker, raw baselines) overlap.
const [keepWorker] = await Promise.all([
  wasmDriver().open(':memory:', { bufferSize: 16 << 20 }),
  servers.warm(),
  RawKuzu.init(),
]);
const results: Result[] = [];
try {
  for (const s of scenarios) {
    if (only && !only.includes(s.name)) continue;
    const t = performance.now();
    const ctx: Context = { quick, servers, moreServers, log: (line) => console.error(`[${s.name}] ${line}`) };
    ctx.log('start');
    results.push(...(await s.run(ctx)));
    ctx.log(`done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
} finally {
  await keepWorker.close();
  await Promise.all([servers.stop(), moreServers.stop()]);
}

const run = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  ...(only ? { only } : {}),
  node: process.version,
  cpus: cpus().length,
  seconds: Math.round((performance.now() - started) / 1000),
};
const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
// Only a full run of every scenario replaces latest.json, the committed reference. The results
// file is the plain array of results; how the run went is in <name>.run.json next to it.
const name = quick ? 'quick' : only ? 'partial' : 'latest';
const file = new URL(`${name}.json`, dir);
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
writeFileSync(new URL(`${name}.run.json`, dir), JSON.stringify(run, null, 2) + '\n');
console.log(formatTable(results));
console.log(
  `\n${results.filter((r) => r.met).length}/${results.length} goals met in ${run.seconds} s; wrote ${file.pathname}`,
);
// Worker threads and sockets of closed clients linger briefly; the results are written.
process.exit(0);
