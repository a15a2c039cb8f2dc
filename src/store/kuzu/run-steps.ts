import { quoteIdentifier as q } from '../../protocol/identifiers.js';
import { csvHeader, csvSafe, encodeCsv, NULL_SENTINEL, type CsvReader } from './csv.js';
import { DatabaseError, type SyncDatabase } from './sync-database.js';
import type {
  QueryStep,
  ReadResult,
  Row,
  RowsStep,
  RowValue,
  RunOptions,
  RunResult,
  Step,
  StepColumnType,
} from './steps.js';

/**
 * Below this many rows a rows-step runs as prepared statements: a LOAD has a fixed cost (writing the
 * file, planning) that a handful of 0.5 ms executions beat.
 */
export const CSV_MIN_ROWS = 24;

/** The path is ours, but it still goes into query text: refuse anything that could end the literal. */
const SAFE_PATH = /^[A-Za-z0-9_\-./\\:]+$/;

function perRowExpression(i: number, type: StepColumnType, value: RowValue): string {
  if (value === null) return `CAST(NULL AS ${type})`;
  // kuzu-wasm binds [] as NULL.
  if (Array.isArray(value) && value.length === 0) return `CAST([] AS ${type})`;
  // An integral JS number binds as INT64, and a number list takes its element type from its first
  // element, reinterpreting the bits of the rest: route number lists through strings.
  if (type === 'DOUBLE[]') return `list_transform(CAST($c${i} AS STRING[]), x -> CAST(x AS DOUBLE))`;
  if (type === 'DOUBLE') return `CAST($c${i} AS DOUBLE)`;
  return `$c${i}`;
}

function perRow(db: SyncDatabase, step: RowsStep, row: RowValue[]): Row[] {
  const params: Record<string, unknown> = {};
  const cypher = step.body.replace(/\$c(\d+)\b/g, (_, n: string) => {
    const i = Number(n);
    const type = step.columns[i]!;
    const value = row[i] ?? null;
    const expr = perRowExpression(i, type, value);
    if (expr.includes('$c')) params[`c${i}`] = type === 'DOUBLE[]' ? (value as number[]).map(String) : value;
    return expr;
  });
  return db.execute(cypher, params);
}

/**
 * The dialect encodeCsv writes, spelled out. Left to detect it, Kuzu sniffs every file first: that
 * doubled the cost of reading one (kuzu-wasm 0.11.3, 2000 rows of three columns: 12 -> 6 µs a row
 * to scan; a bulk insert 28 -> 19 µs a row, and 9 -> 6 natively), and could read a file of odd
 * strings in another dialect than the one it was written in.
 */
const CSV_OPTIONS = `HEADER=false, PARALLEL=false, AUTO_DETECT=false, DELIM=',', QUOTE='"', ESCAPE='"'`;

function viaCsv(db: SyncDatabase, step: RowsStep, rows: RowValue[][], reader: CsvReader): Row[] {
  const files = db.files;
  // Every engine says where it reads files from (process-files.ts in Node, MEMFS in kuzu-wasm's own memory).
  if (!files) throw new DatabaseError('this database reads no scratch files: bulk loads need them');
  const file = files.write(encodeCsv(rows, step.columns, reader));
  try {
    if (!SAFE_PATH.test(file)) throw new DatabaseError(`unsafe scratch path ${file}`);
    if (reader === 'copy') {
      const { table, fields } = step.copy!;
      db.execute(`COPY ${q(table)}(${fields.map(q).join(', ')}) FROM '${file}' (${CSV_OPTIONS})`);
      return [];
    }
    const body = step.body.replace(/\$c(\d+)\b/g, 'c$1');
    return db.execute(
      `LOAD WITH HEADERS (${csvHeader(step.columns)}) FROM '${file}' ` +
        `(${CSV_OPTIONS}, NULL_STRINGS=['${NULL_SENTINEL}']) ${body}`,
    );
  } finally {
    files.remove(file);
  }
}

/**
 * COPY only in memory: on disk, the commit after a COPY costs a checkpoint of 1-4 s (kuzu-wasm
 * 0.11.3 here: 10k rows by LOAD FROM and commit 0.6 s, by COPY 1.4 s; 50k rows 3.6 s and 4.2 s; it
 * only pays from about 100k rows, 6.8 s and 5.1 s, and too unevenly to draw a line).
 * And only into a table no statement has put rows in yet in this transaction: kuzu-wasm 0.11.3
 * loses the engine (memory access out of bounds) on a lookup by key of a row COPYed after such rows
 * (a batch of linked pairs did it: its edges look their nodes up). COPY after COPY, and statements
 * after COPY, are sound; every insert of a node row is a step with `copy`, so this sees them all.
 */
function runRows(db: SyncDatabase, step: RowsStep, createdHere: Set<string> | undefined): Row[] {
  const table = step.copy?.table;
  const canCopy = db.inMemory && table !== undefined && createdHere?.has(table);
  if (step.rows.length < CSV_MIN_ROWS) {
    if (table !== undefined) createdHere?.delete(table);
    return step.rows.flatMap((row) => perRow(db, step, row));
  }
  // Each row goes by the fastest reader that carries all its values (COPY cannot carry '', LOAD FROM
  // can); rows neither carries go one statement each.
  const readers: CsvReader[] = canCopy ? ['copy', 'load'] : ['load'];
  const bulk = new Map<CsvReader, RowValue[][]>(readers.map((r) => [r, []]));
  const single: RowValue[][] = [];
  for (const row of step.rows) {
    const reader = readers.find((r) => row.every((v, i) => csvSafe(v, step.columns[i]!, r)));
    (reader ? bulk.get(reader)! : single).push(row);
  }
  if (table !== undefined && (bulk.get('load')!.length || single.length)) createdHere?.delete(table);
  let out: Row[] = [];
  for (const [reader, rows] of bulk) if (rows.length) out = out.concat(viaCsv(db, step, rows, reader));
  for (const row of single) out.push(...perRow(db, step, row));
  return out;
}

/** `createdHere`: the node tables created earlier in this transaction that COPY may go into (see runRows); undefined outside one. */
function runStep(db: SyncDatabase, step: Step, createdHere: Set<string> | undefined): Row[] {
  if (step.kind === 'rows') return runRows(db, step, createdHere);
  const rows = db.execute(step.cypher, step.params);
  if (step.ddl) db.forgetPrepared();
  if (step.creates) createdHere?.add(step.creates);
  return rows;
}

/**
 * Transaction control through the prepared-statement cache (an empty parameter map): parsing BEGIN
 * and COMMIT afresh each time cost kuzu-wasm 0.2-0.4 ms per transaction, as much as a small write.
 */
type Control = 'BEGIN TRANSACTION' | 'BEGIN TRANSACTION READ ONLY' | 'COMMIT' | 'ROLLBACK';
const control = (db: SyncDatabase, cypher: Control): void => void db.execute(cypher, {});

/**
 * Statements that ran in a READ ONLY transaction, per database. Kuzu tells a write by the statement,
 * not by what it does (`MATCH (n:T) WHERE false SET n.x = 1` is refused too), so one that passed has
 * nothing to refuse: alone, it runs again without the BEGIN and COMMIT (in kuzu-wasm 0.15-0.35 ms,
 * where a small sorted read costs about 1 ms). Cleared when full: at worst a statement proves itself
 * again.
 */
const provenReads = new WeakMap<SyncDatabase, Set<string>>();
const PROVEN_READS_LIMIT = 512;

function proveRead(db: SyncDatabase, cypher: string): void {
  let proven = provenReads.get(db);
  if (!proven) provenReads.set(db, (proven = new Set()));
  if (proven.size >= PROVEN_READS_LIMIT) proven.clear();
  proven.add(cypher);
}

/**
 * Runs steps in order and stops at the first failure. In a transaction, a failure rolls everything
 * back: Kuzu aborts a transaction on any error and would otherwise autocommit the statements after it.
 */
export function runSteps(db: SyncDatabase, steps: Step[], options: RunOptions = {}): RunResult {
  if (options.part) return runPart(db, steps, options);
  // One statement is atomic on its own: BEGIN and COMMIT would only double the cost of a small write
  // or read. Only refusing writes needs the READ ONLY transaction around a single statement.
  const first = steps[0];
  const single = steps.length === 1 && (first!.kind === 'query' || first!.rows.length === 1);
  const readOnly = options.readOnly === true || options.reads === true;
  const lone = options.readOnly === true && single && first!.kind === 'query' ? first!.cypher : undefined;
  const proven = lone !== undefined && provenReads.get(db)?.has(lone) === true;
  const transaction =
    steps.length > 0 && !proven && (options.readOnly === true || ((options.transaction ?? true) && !single));
  const results: Row[][] = [];
  const createdHere = transaction ? new Set<string>() : undefined;
  if (transaction) control(db, readOnly ? 'BEGIN TRANSACTION READ ONLY' : 'BEGIN TRANSACTION');
  for (let i = 0; i < steps.length; i++) {
    try {
      results.push(runStep(db, steps[i]!, createdHere));
    } catch (e) {
      const message = failure(e);
      if (transaction) rollback(db);
      return { ok: false, failedAt: i, message };
    }
  }
  if (transaction) {
    const failed = commit(db, steps.length);
    if (failed) return failed;
    if (lone !== undefined) proveRead(db, lone);
  }
  if (!options.readsAfter) return { ok: true, results };
  return { ok: true, results, readsAfter: options.readsAfter.map((step) => readAlone(db, step)) };
}

/**
 * The transactions of databases that a part left open (see RunOptions.part): the node tables created
 * in it (a COPY goes into those), and why it failed, once a part did.
 */
const openTransactions = new WeakMap<SyncDatabase, { createdHere: Set<string>; failed?: string }>();

function runPart(db: SyncDatabase, steps: Step[], options: RunOptions): RunResult {
  const { part } = options;
  if (part === 'open') {
    // Left open by a caller that went away before its last part: nothing of it may commit.
    const stale = openTransactions.get(db);
    openTransactions.delete(db);
    if (stale && !stale.failed) rollback(db);
    control(db, 'BEGIN TRANSACTION');
    openTransactions.set(db, { createdHere: new Set() });
  }
  const tx = openTransactions.get(db);
  if (!tx) return { ok: false, failedAt: 0, message: `no transaction is open for a part "${part}"` };
  if (part === 'last' || part === 'abort') openTransactions.delete(db);
  if (part === 'abort') {
    if (!tx.failed) rollback(db);
    return { ok: true, results: [] };
  }
  if (tx.failed) return { ok: false, failedAt: 0, message: tx.failed };
  const results: Row[][] = [];
  for (let i = 0; i < steps.length; i++) {
    try {
      results.push(runStep(db, steps[i]!, tx.createdHere));
    } catch (e) {
      tx.failed = failure(e);
      rollback(db);
      return { ok: false, failedAt: i, message: tx.failed };
    }
  }
  if (part !== 'last') return { ok: true, results };
  const failed = commit(db, steps.length);
  if (failed) return failed;
  return {
    ok: true,
    results,
    ...(options.readsAfter && { readsAfter: options.readsAfter.map((s) => readAlone(db, s)) }),
  };
}

// Not in TypeScript's Node typings, but in every runtime kuzu-wasm runs on.
const RuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: ErrorConstructor } }).WebAssembly
  .RuntimeError;

/** A trap of a wasm engine (an access out of bounds, emscripten's abort) rather than a statement's error. */
export const isEngineTrap = (e: unknown): e is Error => e instanceof RuntimeError;

/**
 * Why a statement failed. A trap of the wasm engine (a WebAssembly.RuntimeError: an access out of
 * bounds, an abort) is no statement's failure but the engine's: it may have unwound past a lock it
 * held (a ROLLBACK after it then aborts on "pthread mutex deadlock detected"), so nothing more may
 * run on it. It is thrown on, for the worker to end the engine (see EngineCrashed).
 */
function failure(e: unknown): string {
  if (isEngineTrap(e)) throw e;
  return e instanceof Error ? e.message : String(e);
}

/** Commits the open transaction; if that fails, rolls it back and says so. */
function commit(db: SyncDatabase, failedAt: number): RunResult | undefined {
  try {
    control(db, 'COMMIT');
    return undefined;
  } catch (e) {
    const message = `commit failed: ${failure(e)}`;
    rollback(db);
    return { ok: false, failedAt, message };
  }
}

function readAlone(db: SyncDatabase, step: QueryStep): ReadResult {
  const res = runSteps(db, [step], { readOnly: true });
  return res.ok ? { ok: true, rows: res.results[0]! } : { ok: false, message: res.message };
}

function rollback(db: SyncDatabase): void {
  try {
    control(db, 'ROLLBACK');
  } catch (e) {
    // Kuzu may have aborted the transaction already; there is nothing left to roll back.
    failure(e);
  }
  // Statements prepared inside the transaction may name columns that no longer exist.
  db.forgetPrepared();
}
