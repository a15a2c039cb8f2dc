import type { KuzuConnection, KuzuDriver } from '../store/kuzu/driver.js';
import type { RunOptions, RunResult, Step } from '../store/kuzu/steps.js';
import type { FileFormat } from '../store/kuzu/file-format.js';
import { defaultDriver } from '../store/kuzu/worker-driver.js';

/** One `run` a store asked of its database: the steps of one transaction (or one read). */
export interface DriverRun {
  steps: Step[];
  options: RunOptions;
}

export type RunMatcher = (run: DriverRun) => boolean;

/** What became of a run, as the fault driver's log keeps it. */
export type RunOutcome = 'ran' | 'failed' | 'injected' | 'dropped';

/** A run waiting at the gate (see `FaultDriver.hold`). */
export interface HeldRun extends DriverRun {
  /** Let it through to the database (armed faults still apply). */
  release(): void;
  /** Answer it as the database refusing it: `{ ok: false }`, nothing of it runs. */
  fail(message?: string): void;
}

/** A run that writes: not a user's query (`readOnly`) nor the store's own reads before a write (`reads`). */
export const isWrite: RunMatcher = (r) => !r.options.readOnly && !r.options.reads;

/** Every value a run binds: its statements' parameters and its rows, flattened (lists too). */
export function runValues(run: DriverRun): unknown[] {
  const out: unknown[] = [];
  const add = (v: unknown) => (Array.isArray(v) ? v.forEach(add) : out.push(v));
  for (const s of run.steps) {
    if (s.kind === 'query') Object.values(s.params ?? {}).forEach(add);
    else s.rows.forEach(add);
  }
  return out;
}

/** A write that binds `value` somewhere (a property it sets, an id it touches). */
export const writesValue =
  (value: unknown): RunMatcher =>
  (r) =>
    isWrite(r) && runValues(r).includes(value);

interface Fault {
  match: RunMatcher;
  kind: 'fail' | 'drop';
  message: string;
  times: number;
}

/**
 * A KuzuDriver around a real one (kuzu-wasm by default) that a test can get between a store and its
 * database, to see its transactions one at a time and to make them fail, without touching the client:
 * pass it as the client's `driver` option.
 *
 * - `hold(match)`: every run matching (writes by default) waits in `held` until the test releases or
 *   fails it. A GraphStore runs one write transaction at a time, so at most one write waits.
 * - `failNext(match, message)`: the next run matching is answered as the database refusing it
 *   (`{ ok: false }`); nothing of it runs.
 * - `drop(match)`: runs matching are answered as done without running: a database that loses writes.
 *
 * - `failClose(message)`: the next close fails (the database is closed all the same).
 * - `savesLater` (an option): its connections have `durable()`, which waits until the test calls
 *   `save()`: a browser's database, durable once saved to IndexedDB.
 *
 * Every run is logged in `runs` with its outcome.
 */
export class FaultDriver implements KuzuDriver {
  readonly name: string;
  readonly format: FileFormat | undefined;
  readonly runs: Array<DriverRun & { outcome: RunOutcome }> = [];
  readonly held: HeldRun[] = [];
  /** Runs handed out by nextHeld: answering one twice does nothing, so stopHolding answers them all. */
  private readonly taken: HeldRun[] = [];
  private holding: RunMatcher | undefined;
  private faults: Fault[] = [];
  private waiters: Array<() => void> = [];
  private closeFailure: string | undefined;

  /** Saves asked for (`durable()`) and not done yet: see `savesLater`. */
  private readonly saves: Array<() => void> = [];

  constructor(
    private readonly inner: KuzuDriver = defaultDriver(),
    /** Its commits are durable only once saved, as a browser's in IndexedDB: `durable()` waits for `save()`. */
    private readonly options: { savesLater?: boolean } = {},
  ) {
    this.name = `faults(${inner.name})`;
    this.format = inner.format;
  }

  async open(path: string, options: { bufferSize: number }): Promise<KuzuConnection> {
    const conn = await this.inner.open(path, options);
    return {
      run: (steps, runOptions = {}) => this.run(conn, { steps, options: runOptions }),
      close: async () => {
        // The database really closes (nothing leaks); only the caller hears of a failure.
        await conn.close();
        const failure = this.closeFailure;
        this.closeFailure = undefined;
        if (failure !== undefined) throw new Error(failure);
      },
      ...(this.options.savesLater
        ? {
            durable: () =>
              new Promise<void>((resolve) => {
                this.saves.push(resolve);
                this.notify();
              }),
          }
        : {}),
    };
  }

  /** How many saves wait for `save()` (a driver made with `savesLater`). */
  get pendingSaves(): number {
    return this.saves.length;
  }

  /** Completes every save asked for so far. */
  save(): void {
    for (const done of this.saves.splice(0)) done();
  }

  /** The next close reports `message` as its failure (after closing for real). */
  failClose(message = 'injected: the database would not close'): void {
    this.closeFailure = message;
  }

  /** From now on, runs matching `match` wait in `held` until released or failed. */
  hold(match: RunMatcher = isWrite): void {
    this.holding = match;
  }

  /**
   * Stop holding; runs already held go on to the database, and so do those the test took with
   * `nextHeld` and never answered (a failed assertion between the two would leave the store waiting).
   */
  stopHolding(): void {
    this.holding = undefined;
    for (const h of [...this.held.splice(0), ...this.taken.splice(0)]) h.release();
  }

  /** The next `times` runs matching `match` fail as the database refusing them, with `message`. */
  failNext(match: RunMatcher, message = 'injected: the database refused this transaction', times = 1): void {
    this.faults.push({ match, kind: 'fail', message, times });
  }

  /** Runs matching `match` (the next `times` of them) report success without running. */
  drop(match: RunMatcher, times = Infinity): void {
    this.faults.push({ match, kind: 'drop', message: '', times });
  }

  /** Disarm every fault not fired yet. */
  clearFaults(): void {
    this.faults = [];
  }

  /** How many runs an armed fault answered (failed or dropped). */
  get fired(): number {
    return this.runs.filter((r) => r.outcome === 'injected' || r.outcome === 'dropped').length;
  }

  /** The oldest held run, once there is one. */
  async nextHeld(timeoutMs = 10_000): Promise<HeldRun> {
    await this.until(() => this.held.length > 0, timeoutMs, 'a run held at the gate');
    const run = this.held.shift()!;
    this.taken.push(run);
    return run;
  }

  /** Resolves once `pred` holds, re-checked whenever a run arrives or ends. */
  until(pred: () => boolean, timeoutMs = 10_000, what = 'the fault driver'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (!pred()) return void this.waiters.push(check);
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async run(conn: KuzuConnection, run: DriverRun): Promise<RunResult> {
    const entry = { ...run, outcome: 'ran' as RunOutcome };
    this.runs.push(entry);
    try {
      if (this.holding?.(run)) {
        const refused = await new Promise<string | undefined>((resolve) => {
          this.held.push({
            ...run,
            release: () => resolve(undefined),
            fail: (m) => resolve(m ?? 'injected: the database refused this transaction'),
          });
          this.notify();
        });
        if (refused !== undefined) {
          entry.outcome = 'injected';
          return { ok: false, failedAt: 0, message: refused };
        }
      }
      const fault = this.faults.find((f) => f.times > 0 && f.match(run));
      if (fault) {
        fault.times--;
        if (fault.kind === 'drop') {
          entry.outcome = 'dropped';
          return { ok: true, results: run.steps.map(() => []) };
        }
        entry.outcome = 'injected';
        return { ok: false, failedAt: 0, message: fault.message };
      }
      const res = await conn.run(run.steps, run.options);
      if (!res.ok) entry.outcome = 'failed';
      return res;
    } finally {
      this.notify();
    }
  }
}
