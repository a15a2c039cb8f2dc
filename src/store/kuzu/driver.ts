import type { FileFormat } from './file-format.js';
import type { RunOptions, RunResult, Step } from './steps.js';

/**
 * Everything above the database sees only this: open a database, run plans of steps, close it.
 * The default driver runs kuzu-wasm in a worker thread; another engine (the native `kuzu` package,
 * a fork) plugs in here.
 */
export interface KuzuDriver {
  readonly name: string;
  /**
   * The files it reads and writes. With it, a database file written in another format is refused
   * (`incompatible_file`) before the engine sees it, and `_Meta` records who created the database.
   */
  readonly format?: FileFormat;
  open(path: string, options: { bufferSize: number }): Promise<KuzuConnection>;
}

export interface KuzuConnection {
  run(steps: Step[], options?: RunOptions): Promise<RunResult>;
  /** It takes a transaction in parts (RunOptions.part), run in the order they are sent. */
  readonly runsInParts?: boolean;
  /**
   * Resolves once every write it ran before the call will survive a restart: a browser's database
   * is saved to IndexedDB (#21). Without it (Node's drivers), a committed write already is.
   */
  durable?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The engine under a connection crashed (a trap of kuzu-wasm: an access out of bounds, an abort):
 * every call after it fails with this, at once, instead of deadlocking on what the crash left. A file
 * keeps every transaction that committed before it: open the database again.
 */
export class EngineCrashed extends Error {
  override readonly name = 'EngineCrashed';
  constructor(reason: string) {
    super(`the database engine crashed (${reason})`);
  }
}

/** `conn`, telling `crashed` once when a call fails with EngineCrashed (the call still fails). */
export function watchCrash(conn: KuzuConnection, crashed: (e: EngineCrashed) => void): KuzuConnection {
  let heard = false;
  const hear = (e: unknown): never => {
    if (e instanceof EngineCrashed && !heard) {
      heard = true;
      crashed(e);
    }
    throw e;
  };
  return {
    ...(conn.runsInParts && { runsInParts: true }),
    run: (steps, options) => conn.run(steps, options).catch(hear),
    ...(conn.durable && { durable: () => conn.durable!().catch(hear) }),
    close: () => conn.close(),
  };
}
