import type { WasmEngine } from '../../src/store/kuzu/file-format.js';
import type { Result } from './report.js';
import type { SyncServerHost } from './server-child.js';

export interface Context {
  quick: boolean;
  /**
   * The engine of this pass: kuzu-sync's default driver (clients here and in child processes, the
   * servers of `servers`) and the raw baselines. Every scenario runs once per engine of the run.
   */
  engine: WasmEngine;
  /** Progress on stderr, so stdout stays the table. */
  log(line: string): void;
  /** Fresh kuzu-sync servers, in a process shared by the scenarios. */
  servers: SyncServerHost;
  /** The same, in a second process (started on first use), for a second server running beside the first. */
  moreServers: SyncServerHost;
}

export interface Scenario {
  name: string;
  run(ctx: Context): Promise<Result[]>;
}

/** Picks a scenario's sizes: full by default, small with --quick (CI smoke). */
export const pick = <T>(ctx: Context, sizes: { full: T; quick: T }): T => (ctx.quick ? sizes.quick : sizes.full);
