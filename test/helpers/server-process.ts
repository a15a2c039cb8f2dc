/**
 * A `kuzu-sync serve` in a process of its own, so a test can read its log, kill it with -9, restart
 * it on the same file, and read its memory from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The CLI's source: tests run it with `node --import tsx`, so they need no build. */
export const cli = new URL('../../src/cli.ts', import.meta.url).pathname;

export class ServerProcess {
  private child: ChildProcess | undefined;
  /** Everything it has printed, stdout and stderr, across restarts. */
  output = '';
  /** The WebSocket URL from its "listening on" line. */
  url = '';
  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** `args` follow `kuzu-sync serve`. */
  constructor(private readonly args: string[]) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const from = this.output.length;
    this.url = await new Promise<string>((resolve, reject) => {
      // A server that never says it listens would otherwise outlive the test run.
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`server did not start: ${this.output.slice(from)}`));
      }, 60_000);
      const on = (d: Buffer) => {
        this.output += d;
        const m = /listening on (ws:\/\/\S+)/.exec(this.output.slice(from));
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      };
      child.stdout!.on('data', on);
      child.stderr!.on('data', on);
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`server exited (${code}): ${this.output.slice(from)}`));
      });
    });
  }

  /** Peak resident memory of the running process so far (VmHWM), in bytes. */
  peakRss(): number {
    const status = readFileSync(`/proc/${this.child!.pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }

  /** Resolves with its exit code (null when killed by the signal). */
  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    // Already dead (a signal leaves exitCode null): its 'exit' has been emitted and would never come again.
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    this.child = undefined;
    return new Promise((r) => {
      child.once('exit', (code) => r(code));
      child.kill(signal);
    });
  }
}
