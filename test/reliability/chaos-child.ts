/**
 * The chaos run's client process (test/helpers/client-process.ts): killed -9 with pending patches on
 * its file database and restarted on the same file and clientId. Keeps every line it printed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { ChildLines } from '../helpers/child-lines.js';
import type { Graph } from './chaos-invariants.js';

const script = new URL('../helpers/client-process.ts', import.meta.url).pathname;

export class ChaosChild {
  /** Every line of every life, in order. */
  readonly events: Array<Record<string, unknown>> = [];
  private child: ChildProcess | undefined;
  private lines: ChildLines | undefined;
  /** Where the running process's lines begin in `events`, once collected. */
  private life = 0;

  constructor(
    private readonly urls: string[],
    private readonly db: string,
    private readonly seed: number,
  ) {}

  async start(writes: number): Promise<void> {
    const args = [...this.urls.flatMap((u) => ['--url', u]), '--db', this.db, '--client', 'child'];
    args.push('--seed', String(this.seed), '--writes', String(writes));
    this.child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.life = this.events.length;
    this.lines = new ChildLines(this.child);
    await this.lines.until((l) => l.e === 'started', 60_000, 'the client process');
  }

  async kill(): Promise<void> {
    this.collect();
    const child = this.child!;
    // 'close', not 'exit': the lines it wrote before it died may still be in the pipe at exit.
    await new Promise<void>((r) => {
      child.once('close', () => r());
      child.kill('SIGKILL');
    });
    this.collect();
  }

  /**
   * Once it wrote what it was to: its version and graph when synced, at `version` or later. Synced
   * alone is not enough: a client with nothing pending is synced before it heard the others' last patches.
   */
  async synced(version = 0): Promise<{ version: number; graph: Graph }> {
    const lines = this.lines!;
    if (!this.events.slice(this.life).some((l) => l.e === 'written'))
      await lines.until((l) => l.e === 'written', 120_000, 'the client process finished writing');
    for (const deadline = Date.now() + 60_000; ; ) {
      // Its earlier answers go to the events: the next `synced` line is the answer to this request.
      this.collect();
      this.child!.stdin!.write('sync\n');
      const s = await lines.until((l) => l.e === 'synced', 120_000, 'the client process synced');
      if ((s.version as number) >= version) return { version: s.version as number, graph: s.graph as Graph };
      if (Date.now() > deadline)
        throw new Error(`the client process stays at version ${s.version}, the others are at ${version}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    this.child!.stdin!.write('stop\n');
    await this.lines!.until((l) => l.e === 'stopped', 60_000, 'the client process stopped');
    this.collect();
  }

  abort(): void {
    this.child?.kill('SIGKILL');
  }

  private collect(): void {
    for (const l of this.lines?.lines ?? []) this.events.push(l);
    if (this.lines) this.lines.lines.length = 0;
  }
}
