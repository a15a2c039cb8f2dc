import type { CpuSource } from './server-child.js';
import { median } from './stats.js';

export interface Timed {
  ms: number;
  /** CPU of this process (every thread: clients, their Kuzu worker) during the timing, ms. */
  hereCpuMs: number;
  /** CPU of the server process during the timing, ms (when there is one). */
  serverCpuMs?: number;
}

/**
 * Times `fn` and says where the CPU went: on a shared 2-core machine the wall time alone cannot
 * tell a slow client from a slow server.
 */
export async function timed(server: CpuSource | undefined, fn: () => Promise<void>): Promise<Timed> {
  const before = await server?.cpuMs();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const after = await server?.cpuMs();
  return {
    ms,
    hereCpuMs: (c.user + c.system) / 1000,
    ...(before !== undefined && after !== undefined ? { serverCpuMs: after - before } : {}),
  };
}

/** Medians of the CPU figures, named for results/latest.json. */
export function cpuDetail(name: string, rounds: readonly Timed[]): Record<string, number> {
  const out: Record<string, number> = { [`${name} CPU here (ms)`]: Math.round(median(rounds.map((r) => r.hereCpuMs))) };
  const server = rounds.flatMap((r) => (r.serverCpuMs === undefined ? [] : [r.serverCpuMs]));
  if (server.length) out[`${name} CPU server (ms)`] = Math.round(median(server));
  return out;
}

export const wall = (rounds: readonly Timed[]) => rounds.map((r) => r.ms);
