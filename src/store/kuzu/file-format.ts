import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { SyncError } from '../../protocol/errors.js';
import { describe, writerOf, type FileFormat } from './formats.js';

export * from './formats.js';

/** What a file's first 12 bytes say: nothing yet (new or empty), or who can read it. */
export type FileHeader = { kind: 'none' } | { kind: 'kuzu'; magic: string; storageVersion: number } | { kind: 'other' };

export function readHeader(path: string): FileHeader {
  let fd: number;
  try {
    if (statSync(path).isDirectory()) return { kind: 'other' };
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw e;
  }
  try {
    const buf = Buffer.alloc(12);
    const n = readSync(fd, buf, 0, 12, 0);
    if (n === 0) return { kind: 'none' };
    const magic = buf.toString('latin1', 0, 4);
    if (n < 12 || !/^[A-Z]{4}$/.test(magic)) return { kind: 'other' };
    return { kind: 'kuzu', magic, storageVersion: Number(buf.readBigUInt64LE(4)) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses, before any engine opens it, a database file that `format` cannot read as it is: one
 * written by another engine or another storage version. The file is only read.
 */
export function checkFile(path: string, f: FileFormat): void {
  const header = readHeader(path);
  if (header.kind === 'none') return;
  if (header.kind === 'other') {
    throw new SyncError('incompatible_file', `${path} is not a Kuzu database file; the driver is ${describe(f)}`);
  }
  if (header.magic === f.magic && header.storageVersion === f.storageVersion) return;
  throw new SyncError(
    'incompatible_file',
    `${path} was written by ${writerOf(header.magic, header.storageVersion)}, which ${describe(f)} cannot open; ` +
      `convert it with: kuzu-sync migrate ${path} <new-file> --to ${f.magic === 'LBUG' ? 'ladybug' : 'kuzu'}`,
  );
}
