/**
 * How to run Kuzu: the same prepared single-row CREATE, autocommitted, through (a) kuzu-wasm's sync
 * build on the calling thread, (b) kuzu-wasm's async wrapper, (c) kuzu-sync's wasm driver (the sync
 * build in a worker thread we own), (d) kuzu-sync's native driver (the `kuzu` package in the same
 * kind of worker). Interleaved rounds, medians, ratios to (a).
 *   node --import tsx bench/driver-variants.ts [--n 300] [--rounds 3]
 */
import { createRequire } from 'node:module';
import type { KuzuDriver } from '../src/store/kuzu/driver.js';
import { nativeDriver, wasmDriver } from '../src/store/kuzu/worker-driver.js';
import { median } from './lib/stats.js';

const require = createRequire(import.meta.url);
const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--n', 300);
const ROUNDS = arg('--rounds', 3);

type Variant = { name: string; setup(): Promise<(i: number) => Promise<void> | void>; teardown(): Promise<void> };

const DDL = 'CREATE NODE TABLE P(id STRING, name STRING, PRIMARY KEY(id))';
const INSERT = 'CREATE (:P {id: $id, name: $name})';

function syncVariant(): Variant {
  let db: any, conn: any, ps: any;
  return {
    name: 'sync build, calling thread',
    async setup() {
      const k = require('kuzu-wasm/nodejs/sync');
      await k.init();
      db = new k.Database(':memory:', 64 << 20);
      conn = new k.Connection(db);
      conn.query(DDL).close();
      ps = conn.prepare(INSERT);
      return (i) => conn.execute(ps, { id: `s${i}`, name: 'x' }).close();
    },
    async teardown() {
      ps.close();
      conn.close();
      db.close();
    },
  };
}

function asyncVariant(): Variant {
  let k: any, db: any, conn: any, ps: any;
  return {
    name: "kuzu-wasm's async wrapper",
    async setup() {
      k = require('kuzu-wasm/nodejs');
      db = new k.Database(':memory:', 64 << 20);
      conn = new k.Connection(db);
      await (await conn.query(DDL)).close();
      ps = await conn.prepare(INSERT);
      return async (i) => (await conn.execute(ps, { id: `a${i}`, name: 'x' })).close();
    },
    async teardown() {
      await ps.close();
      await conn.close();
      await db.close();
      await k.close();
    },
  };
}

function workerVariant(name: string, driver: KuzuDriver): Variant {
  let c: Awaited<ReturnType<KuzuDriver['open']>>;
  return {
    name,
    async setup() {
      c = await driver.open(':memory:', { bufferSize: 64 << 20 });
      await c.run([{ kind: 'query', cypher: DDL, ddl: true }]);
      return async (i) => {
        const r = await c.run([{ kind: 'query', cypher: INSERT, params: { id: `w${i}`, name: 'x' } }], {
          transaction: false,
        });
        if (!r.ok) throw new Error(r.message);
      };
    },
    async teardown() {
      await c.close();
    },
  };
}

export async function measureDriverVariants(n = N, rounds = ROUNDS) {
  const variants = [
    syncVariant(),
    asyncVariant(),
    workerVariant("kuzu-sync's wasm driver", wasmDriver({ thread: 'bench' })),
    workerVariant("kuzu-sync's native driver", nativeDriver({ thread: 'bench-native' })),
  ];
  const runs = await Promise.all(variants.map((v) => v.setup()));
  const perCall: number[][] = variants.map(() => []);
  let offset = 0;
  for (let r = 0; r < rounds; r++) {
    for (let v = 0; v < variants.length; v++) {
      const t = performance.now();
      for (let i = 0; i < n; i++) await runs[v]!(offset + i);
      perCall[v]!.push((performance.now() - t) / n);
    }
    offset += n;
  }
  await Promise.all(variants.map((v) => v.teardown()));
  const base = median(perCall[0]!);
  return variants.map((v, i) => ({ name: v.name, msPerCall: median(perCall[i]!), ratio: median(perCall[i]!) / base }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await measureDriverVariants())
    console.log(`${r.name.padEnd(30)} ${r.msPerCall.toFixed(3)} ms/statement  x${r.ratio.toFixed(2)}`);
}
