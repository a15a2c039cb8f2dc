/**
 * A `kuzu-sync serve` in a process of its own, so a test can kill it with -9, restart it on the same
 * file, and read its memory from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class ServerProcess {
  private child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly db: string,
  ) {}
  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', '--port', String(this.port), '--db', this.db, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
      const on = (d: Buffer) => {
        out += d;
        if (out.includes('listening on')) {
          clearTimeout(t);
          resolve();
        }
      };
      child.stdout!.on('data', on);
      child.stderr!.on('data', on);
      child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
    });
  }
  /** Peak resident memory of the running process so far (VmHWM), in bytes. */
  peakRss(): number {
    const status = readFileSync(`/proc/${this.child!.pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = undefined;
    await new Promise<void>((r) => {
      child.once('exit', () => r());
      child.kill(signal);
    });
  }
}

