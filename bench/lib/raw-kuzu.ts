import { DEFAULT_BUFFER_SIZE } from '../../src/store/graph-store.js';
import type { WasmEngine } from '../../src/store/kuzu/file-format.js';
import { processFiles } from '../../src/store/kuzu/process-files.js';
import { compressed, type ScratchFiles } from '../../src/store/kuzu/sync-database.js';
import { loadWasmBuild, memfsFiles, type WasmConnection } from '../../src/store/kuzu/wasm-module.js';
import { ITEM_DDL, itemsCsv, type Item } from './items.js';

/** The engine of the baselines: the bench's `--engine`, passed to its children as BENCH_ENGINE. */
export const benchEngine = (): WasmEngine => (process.env.BENCH_ENGINE === 'ladybug' ? 'ladybug' : 'wasm');

/**
 * kuzu-wasm's sync build (or its fork's) driven directly on the calling thread: the baselines. The
 * same build the product's store loads for the same path (in memory: the single-threaded one), the
 * same buffer pool and single Kuzu thread per database, no worker hop.
 */
export class RawKuzu {
  private constructor(
    private readonly db: { close(): void },
    private readonly conn: WasmConnection,
    private readonly files: ScratchFiles,
  ) {}

  /** Loads and starts the wasm module (seconds): call before timing anything. */
  static async init(path = ':memory:', engine = benchEngine()): Promise<void> {
    await loadWasmBuild(engine, path);
  }

  static async open(path = ':memory:', engine = benchEngine()): Promise<RawKuzu> {
    const build = await loadWasmBuild(engine, path);
    const db = new build.module.Database(path, DEFAULT_BUFFER_SIZE, 1, compressed(path, engine));
    const files = build.memfs ? memfsFiles(build.module) : processFiles;
    return new RawKuzu(db, new build.module.Connection(db), files);
  }

  /** A fresh database holding the Item table. */
  static async items(engine = benchEngine()): Promise<RawKuzu> {
    const raw = await RawKuzu.open(':memory:', engine);
    raw.exec(ITEM_DDL);
    return raw;
  }

  exec(cypher: string): void {
    const r = this.conn.query(cypher);
    try {
      if (!r.isSuccess()) throw new Error(r.getErrorMessage());
    } finally {
      r.close();
    }
  }

  /** A prepared statement, executed autocommitted: the cheapest way to write one row. */
  prepare(cypher: string): (params: Record<string, unknown>) => void {
    const p = this.conn.prepare(cypher);
    if (!p.isSuccess()) throw new Error(p.getErrorMessage());
    return (params) => {
      const r = this.conn.execute(p, params);
      try {
        if (!r.isSuccess()) throw new Error(r.getErrorMessage());
      } finally {
        r.close();
      }
    };
  }

  /**
   * COPY FROM a CSV file: the fastest raw load measured here (100k rows: COPY 1.4 s, LOAD FROM 2.4 s,
   * UNWIND $rows 6.9 s; 10 batches of 1k: 0.3 s, 0.66 s, 1.2 s). Writing the file is part of the cost.
   */
  copyItems(rows: readonly Item[]): void {
    const file = this.files.write(itemsCsv(rows));
    try {
      this.exec(`COPY Item FROM '${file}' (HEADER=false, PARALLEL=false)`);
    } finally {
      this.files.remove(file);
    }
  }

  count(): number {
    const r = this.conn.query('MATCH (n:Item) RETURN count(*) AS n');
    try {
      if (!r.isSuccess()) throw new Error(r.getErrorMessage());
      return Number(r.getAllObjects()[0]!.n);
    } finally {
      r.close();
    }
  }

  close(): void {
    this.conn.close();
    this.db.close();
  }
}
