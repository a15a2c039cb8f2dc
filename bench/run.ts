/**
 * npm run bench [-- --quick] [-- --only burst,fan-out] [-- --engines wasm,ladybug]
 * (scenario names: see `scenarios` below; engines: both by default, each scenario on kuzu-wasm and
 * then on LadybugDB's wasm build, rows of their own marked [kuzu-wasm] / [ladybug])
 *
 * Every scenario measures ours and a baseline in this same run, interleaved over several rounds,
 * and reports medians and their ratio: absolute times on a shared 2-core machine mean little,
 * ratios hold. Prints the table on stdout (progress on stderr) and writes
 * bench/results/latest.json, an array of { scenario, ours, baseline, ratio, goal, met, unit, ... }
 * (--quick: quick.json; --only: partial.json; neither is committed).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { ladybugDriver, wasmDriver } from '../src/index.js';
import type { WasmEngine } from '../src/store/kuzu/file-format.js';
import { RawKuzu } from './lib/raw-kuzu.js';
import { formatTable, type Result } from './lib/report.js';
import type { Context, Scenario } from './lib/scenario.js';
import { SyncServerHost } from './lib/server-child.js';
import { awaitedLoop } from './scenarios/awaited-loop.js';
import { browser } from './scenarios/browser.js';
import { burst } from './scenarios/burst.js';
import { cluster } from './scenarios/cluster.js';
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
  browser,
  cluster,
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

const enginesAt = argv.indexOf('--engines');
const engines = (enginesAt >= 0 ? (argv[enginesAt + 1]?.split(',') ?? []) : ['wasm', 'ladybug']) as WasmEngine[];
if (!engines.length || engines.some((e) => e !== 'wasm' && e !== 'ladybug')) {
  console.error('--engines takes wasm, ladybug or both: wasm,ladybug');
  process.exit(2);
}
const ENGINE_LABEL: Record<WasmEngine, string> = { wasm: 'kuzu-wasm', ladybug: 'ladybug' };

/** A row of an engine's pass: its tag, and the scenarios' words for the engine (they say kuzu-wasm). */
function onEngine(r: Result, engine: WasmEngine, tag: string): Result {
  const say = (text: string) => (engine === 'wasm' ? text : text.replaceAll('kuzu-wasm', '@ladybugdb/wasm-core'));
  return {
    ...r,
    scenario: r.scenario + tag,
    baselineIs: say(r.baselineIs),
    ...(r.note !== undefined ? { note: say(r.note) } : {}),
    engine,
  };
}

const started = performance.now();
const hosts = new Map(
  engines.map((e) => [e, { servers: new SyncServerHost(e), moreServers: new SyncServerHost(e) }] as const),
);
// The clients' Kuzu worker stops 5 s after its last database closes and costs seconds to start
// again: one idle database held for the whole run keeps it between scenarios (never timed anyway).
// The wasm start-ups of a run (server process, client worker, raw baselines) overlap.
const keepWorkers = await Promise.all(
  engines.map(async (e) => {
    const driver = e === 'wasm' ? wasmDriver() : ladybugDriver();
    const [keep] = await Promise.all([
      driver.open(':memory:', { bufferSize: 16 << 20 }),
      hosts.get(e)!.servers.warm(),
      RawKuzu.init(':memory:', e),
    ]);
    return keep;
  }),
);
const results: Result[] = [];
try {
  for (const s of scenarios) {
    if (only && !only.includes(s.name)) continue;
    // Side by side: the scenario on each engine in turn, each pass with its own rows.
    for (const engine of engines) {
      // Clients opened here and child processes started now take the engine from the environment.
      process.env.KUZU_SYNC_ENGINE = engine;
      process.env.BENCH_ENGINE = engine;
      const tag = engines.length > 1 ? ` [${ENGINE_LABEL[engine]}]` : '';
      const t = performance.now();
      const log = (line: string) => console.error(`[${s.name}${tag}] ${line}`);
      const ctx: Context = { quick, engine, ...hosts.get(engine)!, log };
      ctx.log('start');
      for (const r of await s.run(ctx)) results.push(onEngine(r, engine, tag));
      ctx.log(`done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
  }
} finally {
  await Promise.all(keepWorkers.map((k) => k.close()));
  await Promise.all([...hosts.values()].flatMap((h) => [h.servers.stop(), h.moreServers.stop()]));
}

const run = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  ...(only ? { only } : {}),
  engines,
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
