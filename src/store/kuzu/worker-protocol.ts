import type { Engine } from './file-format.js';
import type { RunOptions, RunResult, Step } from './steps.js';

/** Which Kuzu runs in the worker: kuzu-wasm's sync build, its fork's, or the native `kuzu` package. */
export type { Engine };

/** Messages between the main thread and the database worker. */
export type WorkerRequest =
  | { id: number; type: 'open'; engine: Engine; path: string; bufferSize: number }
  | { id: number; type: 'run'; handle: number; steps: Step[]; options: RunOptions }
  | { id: number; type: 'close'; handle: number }
  /** Tests only, in a worker started with KUZU_SYNC_TEST_TRAPS=1: the engine traps. */
  | { id: number; type: 'trap'; handle: number };

export type WorkerResponse =
  | { id: number; ok: true; handle?: number; result?: RunResult }
  /** `crashed`: the engine trapped, and the worker ends (see worker.ts). */
  | { id: number; ok: false; error: string; crashed?: boolean };
