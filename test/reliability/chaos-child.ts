/**
 * The chaos run's client process (test/helpers/client-process.ts): killed -9 with pending patches on
 * its file database and restarted on the same file and clientId. Keeps every line it printed.
 * A life that ends because its database engine crashed (kuzu-wasm traps, rarely, under load) is
 * started again on its file as after a kill -9, and counted: it must lose nothing either.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { ChildLines, ENGINE_CRASHED_EXIT } from '../helpers/child-lines.js';
import type { Graph } from './chaos-invariants.js';

const script = new URL('../helpers/client-process.ts', import.meta.url).pathname;

export class ChaosChild {
  /** Every line of every life, in order. */
  readonly events: Array<Record<string, unknown>> = [];
  /** Lives that ended because their database engine crashed. */
  engineCrashes = 0;
  private child: ChildProcess | undefined;
  private lines: ChildLines | undefined;
  /** The running life's exit code, once it has exited. */
  private exited: Promise<number | null> | undefined;
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
    const child = this.child;
    // A request written to a life that just ended: its end is what answers (see line()).
    child.stdin!.on('error', () => undefined);
    // 'close', not 'exit': its last lines may still be in the pipe at exit.
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    const started = await this.line((l) => l.e === 'started', 'the client process', false);
    if (!started) throw new Error(`the client process exited with code ${child.exitCode} as it started`);
  }

  /**
   * The running life's next line that `pred` takes, or undefined if the life ended because its
   * engine crashed: then it has been started again (asked anything, it must be asked again).
   */
  private async line(
    pred: (l: Record<string, unknown>) => boolean,
    what: string,
    restart = true,
  ): Promise<Record<string, unknown> | undefined> {
    const line = this.lines!.until(pred, 120_000, what);
    line.catch(() => undefined); // lost the race to an exit: its timeout is no one's failure
    const exited = this.exited!.then((code) => {
      if (code === ENGINE_CRASHED_EXIT) return undefined;
      throw new Error(`the client process exited with code ${code} while waiting for ${what}`);
    });
    exited.catch(() => undefined); // a line won the race: a later kill -9 is no one's failure
    const got = await Promise.race([line, exited]);
    if (got || !restart) return got;
    this.collect();
    this.engineCrashes++;
    await this.start(0);
    return undefined;
  }

  /** Kills the running life with -9: false if it had ended already, its engine crashed. */
  async kill(): Promise<boolean> {
    this.collect();
    const child = this.child!;
    if (child.exitCode !== null) {
      await this.exited;
      this.collect();
      if (child.exitCode !== ENGINE_CRASHED_EXIT)
        throw new Error(`the client process exited with code ${child.exitCode}`);
      this.engineCrashes++;
      return false;
    }
    // 'close', not 'exit': the lines it wrote before it died may still be in the pipe at exit.
    await new Promise<void>((r) => {
      child.once('close', () => r());
      child.kill('SIGKILL');
    });
    this.collect();
    return true;
  }

  /**
   * Once it wrote what it was to: its version and graph when synced, at `version` or later. Synced
   * alone is not enough: a client with nothing pending is synced before it heard the others' last patches.
   */
  async synced(version = 0): Promise<{ version: number; graph: Graph }> {
    for (const deadline = Date.now() + 60_000; ; ) {
      const written = (l: Record<string, unknown>) => l.e === 'written';
      if (
        !this.events.slice(this.life).some(written) &&
        !(await this.line(written, 'the client process finished writing'))
      )
        continue;
      // Its earlier answers go to the events: the next `synced` line is the answer to this request.
      this.collect();
      this.child!.stdin!.write('sync\n');
      const s = await this.line((l) => l.e === 'synced', 'the client process synced');
      if (!s) continue;
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
