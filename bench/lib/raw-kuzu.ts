import { rmSync, writeFileSync } from 'node:fs';
import { DEFAULT_BUFFER_SIZE } from '../../src/store/graph-store.js';
import { scratchFile } from '../../src/store/kuzu/run-steps.js';
import { loadKuzuWasm } from '../../src/store/kuzu/wasm-database.js';
import { ITEM_DDL, itemsCsv, type Item } from './items.js';

type Kuzu = Awaited<ReturnType<typeof loadKuzuWasm>>;
type Conn = InstanceType<Kuzu['Connection']>;

/**
 * kuzu-wasm's sync build driven directly on the calling thread: the baselines. Same build, same
 * buffer pool and the same single Kuzu thread per database as the product's store, no worker hop.
 */
export class RawKuzu {
  private constructor(
    private readonly db: { close(): void },
    private readonly conn: Conn,
  ) {}

  /** Loads and starts the wasm module (seconds): call before timing anything. */
  static async init(): Promise<void> {
    await loadKuzuWasm();
  }

  static async open(path = ':memory:'): Promise<RawKuzu> {
    const kuzu = await loadKuzuWasm();
    const db = new kuzu.Database(path, DEFAULT_BUFFER_SIZE, 1);
    return new RawKuzu(db, new kuzu.Connection(db));
  }

  /** A fresh database holding the Item table. */
  static async items(): Promise<RawKuzu> {
    const raw = await RawKuzu.open();
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
    const file = scratchFile();
    writeFileSync(file, itemsCsv(rows));
    try {
      this.exec(`COPY Item FROM '${file}' (HEADER=false, PARALLEL=false)`);
    } finally {
      rmSync(file, { force: true });
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
