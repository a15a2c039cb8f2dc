/**
 * Child processes for what must be isolated: servers (so their CPU and RSS are their own, and
 * ours and Yjs's get the same treatment) and groups of clients (for memory). A tiny request/answer
 * protocol over Node's IPC channel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Is the module at `url` the process's entry point (a child), rather than imported by the parent? */
export const isEntry = (url: string): boolean =>
  process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href;

type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
type Ready = { ready: true; info: unknown } | { ready: false; error: string };

export class Child<Info = unknown> {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(
    private readonly proc: ChildProcess,
    readonly info: Info,
  ) {
    proc.on('message', (m: Answer) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(m.error));
    });
    proc.on('exit', (code) => {
      this.exited = true;
      for (const w of this.waiting.values()) w.reject(new Error(`child exited with code ${code}`));
      this.waiting.clear();
    });
  }

  /** Starts `script` (a .ts module next to this one) and waits for its ready message. */
  static async start<Info>(
    script: string,
    args: unknown[] = [],
    timeoutMs = 300_000,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<Child<Info>> {
    const file = fileURLToPath(new URL(script, import.meta.url));
    const boot = fileURLToPath(new URL('../boot.mjs', import.meta.url));
    const proc = spawn(process.execPath, [boot, file, JSON.stringify(args)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env,
    });
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill();
        reject(new Error(`${script} not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      proc.once('message', (m: Ready) => {
        clearTimeout(timer);
        resolve(m);
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited with code ${code} before it was ready`));
      });
    });
    if (!ready.ready) {
      proc.kill();
      throw new Error(`${script}: ${ready.error}`);
    }
    return new Child<Info>(proc, ready.info as Info);
  }

  request<T>(cmd: string, arg?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error('child has exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd, arg });
    });
  }

  /** Asks the child to close what it holds and exit; kills it if it does not within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.request('stop').catch(() => {});
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

export type Handlers = Record<string, (arg: unknown) => unknown>;

/**
 * The child's side: run `setup(args)`, report ready with what it returns, then answer requests.
 * `stop` runs `handlers.stop` (if any) and exits.
 */
export async function serveParent<T>(
  setup: (args: unknown[]) => Promise<{ info: T; handlers: Handlers }>,
): Promise<void> {
  const send = (m: unknown) => process.send!(m);
  let handlers: Handlers;
  try {
    const args = JSON.parse(process.argv[2] ?? '[]') as unknown[];
    const s = await setup(args);
    handlers = s.handlers;
    send({ ready: true, info: s.info });
  } catch (e) {
    send({ ready: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exit(1);
  }
  // The parent going away must not leave an orphan holding a port and a few hundred MB.
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (m: { id: number; cmd: string; arg: unknown }) => {
    try {
      const h = handlers[m.cmd];
      if (!h && m.cmd !== 'stop') throw new Error(`unknown command ${m.cmd}`);
      const value = await h?.(m.arg);
      send({ id: m.id, ok: true, value: value ?? null });
      if (m.cmd === 'stop') setImmediate(() => process.exit(0));
    } catch (e) {
      send({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
}

/**
 * A GC function without `--expose-gc` on the command line: kuzu-sync's worker threads inherit
 * process.execArgv, and Worker refuses that flag (ERR_WORKER_INVALID_EXEC_ARGV).
 */
let exposed: (() => void) | undefined;
function exposedGc(): () => void {
  if (!exposed) {
    setFlagsFromString('--expose-gc');
    exposed = runInNewContext('gc') as () => void;
  }
  return exposed;
}

/** RSS after a full GC, in MB: what the process holds, not garbage it has not collected yet. */
export function settledRssMb(): number {
  const gc = exposedGc();
  gc();
  gc();
  return process.memoryUsage().rss / 2 ** 20;
}
