import type { RunOptions, RunResult, Step } from './steps.js';

/**
 * Everything above the database sees only this: open a database, run plans of steps, close it.
 * The default driver runs kuzu-wasm in a worker thread; another engine (the native `kuzu` package,
 * a fork) plugs in here.
 */
export interface KuzuDriver {
  readonly name: string;
  open(path: string, options: { bufferSize: number }): Promise<KuzuConnection>;
}

export interface KuzuConnection {
  run(steps: Step[], options?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}
