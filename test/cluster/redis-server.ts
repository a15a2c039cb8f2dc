/**
 * A real redis-server (Debian's package, never a downloaded one) for the cluster suites: its own
 * temp dir, a free port on 127.0.0.1, no RDB snapshots, AOF with fsync on every write unless asked
 * otherwise. kill() is kill -9; restart() brings it back on the same port and dir, so what the AOF
 * kept is what the next server loads.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

export const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** SIGKILL, and waits for the process to exit. */
  kill(): Promise<void>;
  /** SIGTERM (Redis's own clean shutdown), waits for the exit, removes the dir. */
  stop(): Promise<void>;
  /** Starts again on the same port and dir with the same options; stops the running one first. */
  restart(): Promise<void>;
  /** Connections waiting in a blocking command (INFO's blocked_clients): a test's way to know a read waits. */
  blockedClients(): Promise<number>;
}

/**
 * Runs `suite` when redis-server is installed. Without it: under CI=true a failing test, never a
 * skip; elsewhere no test at all, and why (test/run.ts counts uvu's skips against its total).
 */
export function ifRedis(name: string, suite: () => void): void {
  if (existsSync(REDIS_SERVER)) return suite();
  const why = `no redis-server at ${REDIS_SERVER} (apt-get install redis-server)`;
  if (process.env.CI === 'true')
    test('a redis-server to test against', () => assert.unreachable(`${why}: under CI=true this fails, never skips`));
  else console.log(`${name} skipped: ${why}`);
  test.run();
}

/** A port free right now: bound to 0, read, released. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * One inline command over a raw socket, its reply's text ('' when nothing answers): the harness
 * does not lean on the client library it helps test.
 */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (text: string) => {
      socket.destroy();
      resolve(text);
    };
    socket.setTimeout(1000, () => done(''));
    socket.on('error', () => done(''));
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (d) => {
      reply += d;
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (!bulk) {
        if (reply.includes('\r\n')) done(reply);
      } else if (reply.length >= bulk[0].length + Number(bulk[1])) done(reply.slice(bulk[0].length));
    });
  });
}

// -LOADING while the AOF replays: not ready yet.
const pings = async (port: number) => (await ask(port, 'PING')).startsWith('+PONG');

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// A suite that fails or throws never leaves a server behind.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function launch(port: number, dir: string, aof: boolean): { child: ChildProcess; output: () => string } {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--save', ''];
  args.push('--appendonly', aof ? 'yes' : 'no', '--appendfsync', 'always', '--logfile', '');
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return { child, output: () => output };
}

async function untilReady(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await pings(port))) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`redis-server on port ${port} exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} never answered PING:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startRedis(options: { aof?: boolean } = {}): Promise<RedisServer> {
  const aof = options.aof ?? true;
  const dir = mkdtempSync(join(tmpdir(), 'kuzu-sync-redis-'));
  const port = await freePort();
  let proc = launch(port, dir, aof);
  const start = async () => {
    proc = launch(port, dir, aof);
    await untilReady(port, proc.child, proc.output);
  };
  const terminate = async () => {
    const done = exited(proc.child);
    proc.child.kill('SIGTERM');
    const slow = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(slow);
  };
  try {
    await untilReady(port, proc.child, proc.output);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async kill() {
      const done = exited(proc.child);
      proc.child.kill('SIGKILL');
      await done;
    },
    async stop() {
      await terminate();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await terminate();
      await start();
    },
    async blockedClients() {
      const info = await ask(port, 'INFO clients');
      return Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? 0);
    },
  };
}
