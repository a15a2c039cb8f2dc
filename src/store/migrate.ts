import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncError } from '../protocol/errors.js';
import { quoteIdentifier as q } from '../protocol/identifiers.js';
import { acquireFileLock, type FileLock } from './file-lock.js';
import { GraphStore } from './graph-store.js';
import type { KuzuConnection, KuzuDriver } from './kuzu/driver.js';
import {
  checkFile,
  META_ENGINE,
  META_STORAGE,
  readHeader,
  WASM_FORMATS,
  writerOf,
  type WasmEngine,
} from './kuzu/file-format.js';
import type { Row, Step } from './kuzu/steps.js';
import { ladybugDriver, wasmDriver } from './kuzu/worker-driver.js';

export type MigrateTarget = 'kuzu' | 'ladybug';

export interface MigrateResult {
  from: string;
  to: string;
  /** Rows (nodes or edges) per table, equal on both sides. */
  tables: Record<string, number>;
}

const ENGINE_OF: Record<MigrateTarget, WasmEngine> = { kuzu: 'wasm', ladybug: 'ladybug' };
/** A thread per side: kuzu-wasm to kuzu-wasm (a rewrite) must not share one. */
const driverOf = (engine: WasmEngine, side: 'src' | 'dst'): KuzuDriver =>
  engine === 'wasm'
    ? wasmDriver({ thread: `kuzu-sync-migrate-${side}` })
    : ladybugDriver({ thread: `kuzu-sync-migrate-lb-${side}` });

/** The path goes into query text: refuse anything that could end the literal. */
const SAFE_PATH = /^[A-Za-z0-9_\-./\\:]+$/;

async function exec(conn: KuzuConnection, cypher: string): Promise<Row[]> {
  const res = await conn.run([{ kind: 'query', cypher }], { transaction: false });
  if (!res.ok) throw new SyncError('internal', `migrate: ${res.message} (in: ${cypher.slice(0, 200)})`);
  return res.results[0]!;
}

/** Which wasm engine writes this file, from its header; anything else is refused. */
function engineOfFile(path: string): WasmEngine {
  const header = readHeader(path);
  if (header.kind === 'none') throw new SyncError('not_found', `${path}: no database there`);
  if (header.kind === 'other') throw new SyncError('incompatible_file', `${path} is not a Kuzu database file`);
  for (const engine of ['wasm', 'ladybug'] as const) {
    const f = WASM_FORMATS[engine];
    if (f.magic === header.magic && f.storageVersion === header.storageVersion) return engine;
  }
  throw new SyncError(
    'incompatible_file',
    `${path} was written by ${writerOf(header.magic, header.storageVersion)}, which no driver of kuzu-sync opens`,
  );
}

/**
 * Converts a database file of kuzu-wasm 0.11.3 (`--to ladybug`) or of @ladybugdb/wasm-core 0.22.3
 * (`--to kuzu`) into a new file of the other, every table included: kuzu-sync's own (`_Meta`
 * with the serverId and versions, the server's `_LogChunk`, `_ClientSeq` and `_Rejection`, a
 * client's `_Pending`) as well as the graph's. The source is only read; the target must not exist.
 * - Kuzu to the fork: `EXPORT DATABASE` (Parquet) then `IMPORT DATABASE`.
 * - To Kuzu: the fork exports only its own CSR layout, which Kuzu cannot import, and kuzu-wasm's
 *   `IMPORT DATABASE` hung here; so each table goes over by `COPY (MATCH ...) TO` a Parquet file
 *   and `COPY ... FROM` it. From Kuzu too: a rewrite of a file made compressed (see `compressed`).
 * Row counts are compared table by table before the target's record names its new engine.
 */
export async function migrateDatabase(from: string, to: string, target: MigrateTarget): Promise<MigrateResult> {
  const source = engineOfFile(from);
  const dest = ENGINE_OF[target];
  // kuzu-wasm to kuzu-wasm rewrites a file made compressed by an earlier kuzu-sync (see `compressed`).
  if (source === dest && dest === 'ladybug') {
    throw new SyncError('incompatible_file', `${from} is already in the format of ${WASM_FORMATS[dest].engine}`);
  }
  if (readHeader(to).kind !== 'none') throw new SyncError('already_exists', `${to} exists; migrate writes a new file`);
  const dir = mkdtempSync(join(tmpdir(), 'kuzu-sync-migrate-'));
  if (!SAFE_PATH.test(dir)) throw new SyncError('internal', `unsafe scratch path ${dir}`);
  const locks: FileLock[] = [];
  let src: KuzuConnection | undefined;
  let dst: KuzuConnection | undefined;
  let done = false;
  try {
    locks.push(acquireFileLock(from), acquireFileLock(to));
    const srcDriver = driverOf(source, 'src');
    checkFile(from, srcDriver.format!);
    src = await srcDriver.open(from, { bufferSize: 256 << 20 });
    dst = await driverOf(dest, 'dst').open(to, { bufferSize: 256 << 20 });
    if (dest === 'ladybug') {
      await exec(src, `EXPORT DATABASE '${join(dir, 'export')}' (format="parquet")`);
      await exec(dst, `IMPORT DATABASE '${join(dir, 'export')}'`);
    } else {
      await copyTables(src, dst, dir);
    }
    const tables = await sameCounts(src, dst);
    const f = WASM_FORMATS[dest];
    await exec(dst, 'CREATE NODE TABLE IF NOT EXISTS _Meta(key STRING, value STRING, PRIMARY KEY(key))');
    const record = GraphStore.metaStep({ [META_ENGINE]: f.engine, [META_STORAGE]: f.storageVersion });
    const res = await dst.run([record as Step]);
    if (!res.ok) throw new SyncError('internal', `migrate: ${res.message}`);
    done = true;
    return { from, to, tables };
  } finally {
    await src?.close();
    await dst?.close();
    if (!done && dst) for (const f of [to, `${to}.wal`]) rmSync(f, { force: true });
    for (const lock of locks) lock.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface TableInfo {
  name: string;
  type: 'NODE' | 'REL';
  columns: Array<{ name: string; type: string; pk: boolean }>;
  /** Rel tables: each FROM/TO pair, with the key of either end. */
  ends: Array<{ from: string; to: string; fromKey: string; toKey: string }>;
}

async function tablesOf(conn: KuzuConnection): Promise<TableInfo[]> {
  const rows = await exec(conn, 'CALL show_tables() RETURN name, type');
  const out: TableInfo[] = [];
  for (const r of rows) {
    const name = r.name as string;
    const type = r.type as TableInfo['type'];
    const lit = `'${name}'`; // names are identifiers (checked when created): no quote inside
    const info = await exec(conn, `CALL table_info(${lit}) RETURN *`);
    const columns = info.map((c) => ({
      name: c.name as string,
      type: c.type as string,
      pk: c['primary key'] === true,
    }));
    const ends =
      type === 'REL'
        ? (await exec(conn, `CALL show_connection(${lit}) RETURN *`)).map((c) => ({
            from: c['source table name'] as string,
            to: c['destination table name'] as string,
            fromKey: c['source table primary key'] as string,
            toKey: c['destination table primary key'] as string,
          }))
        : [];
    out.push({ name, type, columns, ends });
  }
  return out;
}

/** Every table, by way of Parquet files: nodes first (edges need their ends), then edges. */
async function copyTables(src: KuzuConnection, dst: KuzuConnection, dir: string): Promise<void> {
  const tables = await tablesOf(src);
  const cols = (t: TableInfo) => t.columns.map((c) => `${q(c.name)} ${c.type}`);
  let n = 0;
  for (const t of tables.filter((x) => x.type === 'NODE')) {
    const pk = t.columns.find((c) => c.pk)!.name;
    await exec(dst, `CREATE NODE TABLE ${q(t.name)}(${cols(t).join(', ')}, PRIMARY KEY(${q(pk)}))`);
    const file = join(dir, `t${++n}.parquet`);
    const ret = t.columns.map((c) => `n.${q(c.name)}`).join(', ');
    await exec(src, `COPY (MATCH (n:${q(t.name)}) RETURN ${ret}) TO '${file}'`);
    await exec(dst, `COPY ${q(t.name)} FROM '${file}'`);
  }
  for (const t of tables.filter((x) => x.type === 'REL')) {
    const ends = t.ends.map((e) => `FROM ${q(e.from)} TO ${q(e.to)}`);
    await exec(dst, `CREATE REL TABLE ${q(t.name)}(${[...ends, ...cols(t)].join(', ')})`);
    for (const e of t.ends) {
      const file = join(dir, `t${++n}.parquet`);
      const ret = [`a.${q(e.fromKey)}`, `b.${q(e.toKey)}`, ...t.columns.map((c) => `r.${q(c.name)}`)].join(', ');
      const match = `MATCH (a:${q(e.from)})-[r:${q(t.name)}]->(b:${q(e.to)})`;
      await exec(src, `COPY (${match} RETURN ${ret}) TO '${file}'`);
      await exec(dst, `COPY ${q(t.name)} FROM '${file}' (from='${e.from}', to='${e.to}')`);
    }
  }
}

/** Row counts per table, which must be equal on both sides. */
async function sameCounts(src: KuzuConnection, dst: KuzuConnection): Promise<Record<string, number>> {
  const count = async (conn: KuzuConnection) => {
    const out: Record<string, number> = {};
    for (const r of await exec(conn, 'CALL show_tables() RETURN name, type')) {
      const t = q(r.name as string);
      const cypher =
        r.type === 'REL' ? `MATCH ()-[x:${t}]->() RETURN count(*) AS c` : `MATCH (x:${t}) RETURN count(*) AS c`;
      out[r.name as string] = Number((await exec(conn, cypher))[0]!.c);
    }
    return out;
  };
  const [a, b] = [await count(src), await count(dst)];
  if (JSON.stringify(Object.entries(a).sort()) !== JSON.stringify(Object.entries(b).sort())) {
    throw new SyncError('internal', `migrate: the copy differs: ${JSON.stringify(a)} against ${JSON.stringify(b)}`);
  }
  return a;
}
