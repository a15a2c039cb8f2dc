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
