/** The lock file's exclusive create, on a filesystem without hard links too (FAT, some network mounts). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createExclusive } from '../../src/store/file-lock.js';
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

test.run();
