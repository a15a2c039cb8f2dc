/** The lock file: its exclusive create (also without hard links), and takers racing for a dead one. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createExclusive, takeoverGuard } from '../../src/store/file-lock.js';
import type { RacerDone, RacerStep } from '../helpers/lock-racer.js';
import { rng, type Rng } from '../helpers/random.js';
import { tempDir } from '../helpers/temp.js';

const failing = (code: string) => () => {
  throw Object.assign(new Error(code), { code });
};

test('without hard links it falls back to an exclusive create: same content, still exclusive, nothing left aside', () => {
  for (const code of ['EPERM', 'ENOTSUP', 'ENOSYS']) {
    const dir = tempDir();
    const lock = join(dir, 'db.kz.lock');
    createExclusive(lock, '123@host', failing(code));
    assert.is(readFileSync(lock, 'utf8'), '123@host', code);
    let second: unknown;
    try {
      createExclusive(lock, '456@host', failing(code));
    } catch (e) {
      second = e;
    }
    assert.is((second as NodeJS.ErrnoException | undefined)?.code, 'EEXIST', `${code}: a second create fails`);
    assert.is(readFileSync(lock, 'utf8'), '123@host', `${code}: the first owner stays`);
    assert.equal(readdirSync(dir), ['db.kz.lock'], `${code}: no file left aside`);
  }
});

test('any other link error is not mistaken for a missing feature', () => {
  const dir = tempDir();
  const lock = join(dir, 'db.kz.lock');
  assert.throws(
    () => createExclusive(lock, '1@h', failing('EIO')),
    (e: NodeJS.ErrnoException) => e.code === 'EIO',
  );
  assert.not.ok(existsSync(lock));
  assert.equal(readdirSync(dir), []);
});

test('with hard links the lock appears whole: created once, EEXIST after', () => {
  const lock = join(tempDir(), 'db.kz.lock');
  createExclusive(lock, '1@h');
  assert.is(readFileSync(lock, 'utf8'), '1@h');
  assert.throws(
    () => createExclusive(lock, '2@h'),
    (e: NodeJS.ErrnoException) => e.code === 'EEXIST',
  );
});

/** A taker in a worker thread that the test steps through its file operations (test/helpers/lock-racer.ts). */
class Racer {
  readonly gate = new Int32Array(new SharedArrayBuffer(4));
  readonly worker: Worker;
  state: 'running' | 'waiting' | 'done' = 'done';
  outcome = '';
  onChange = () => {};

  constructor() {
    const url = new URL('../helpers/lock-racer.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
    this.worker = new Worker(boot, { eval: true, execArgv: [], workerData: { gate: this.gate.buffer } });
    this.worker.on('message', (m: RacerStep | RacerDone) => {
      if ('done' in m) {
        this.state = 'done';
        this.outcome = m.done;
      } else this.state = 'waiting';
      this.onChange();
    });
  }

  start(dbPath: string): void {
    this.state = 'running';
    this.worker.postMessage(dbPath);
  }

  step(): void {
    this.state = 'running';
    Atomics.store(this.gate, 0, 1);
    Atomics.notify(this.gate, 0);
  }
}

/** Runs the racers to the end, letting one of them do its next file operation at a time, at random. */
function race(racers: Racer[], dbPath: string, random: Rng): Promise<string[]> {
  return new Promise((resolve) => {
    const next = () => {
      if (racers.some((r) => r.state === 'running')) return;
      const waiting = racers.filter((r) => r.state === 'waiting');
      if (waiting.length === 0) return resolve(racers.map((r) => r.outcome));
      random.pick(waiting).step();
    };
    for (const r of racers) r.onChange = next;
    for (const r of racers) r.start(dbPath);
  });
}

test('takers racing for a dead lock, in hundreds of interleavings: one holder, no guard left, also when takers died mid-takeover', async () => {
  const deadPid = () =>
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  const dead = [deadPid(), deadPid(), deadPid()].map((pid, i) => `${pid}@${hostname()}#dead${i}`);
  const racers = [new Racer(), new Racer(), new Racer()];
  const root = tempDir();
  try {
    for (let round = 0; round < 400; round++) {
      const random = rng(round);
      const dir = join(root, String(round));
      mkdirSync(dir);
      const lock = join(dir, 'db.kz.lock');
      // The lock's owner died; then, as often as not, a taker died holding the guard, and so on down.
      writeFileSync(lock, dead[0]!);
      let file = lock;
      for (let level = 1; level < 3 && random.chance(0.6); level++) {
        file = takeoverGuard(file, dead[level - 1]!);
        writeFileSync(file, dead[level]!);
      }
      const outcomes = await race(racers, join(dir, 'db.kz'), random);
      const why = `round ${round}: ${outcomes.join(', ')}`;
      assert.equal(outcomes.filter((o) => o === 'got').length, 1, why);
      assert.equal(outcomes.filter((o) => o === 'busy').length, racers.length - 1, why);
      assert.equal(readdirSync(dir), ['db.kz.lock'], `${why}: only the lock is left`);
      assert.not.ok(dead.includes(readFileSync(lock, 'utf8')), `${why}: the lock names the live holder`);
    }
  } finally {
    await Promise.all(racers.map((r) => r.worker.terminate()));
  }
});

test.run();
