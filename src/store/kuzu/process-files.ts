import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScratchFiles } from './sync-database.js';

let scratchDir: string | undefined;
let fileCounter = 0;

/** A fresh file path in this process's scratch folder (removed at exit), for CSV loads. */
export function scratchFile(): string {
  if (!scratchDir) {
    scratchDir = mkdtempSync(join(tmpdir(), 'kuzu-sync-'));
    process.once('exit', () => rmSync(scratchDir!, { recursive: true, force: true }));
  }
  return join(scratchDir, `rows-${process.pid}-${++fileCounter}.csv`);
}

/**
 * Files in this process's file system, for engines that read it (the native package, kuzu-wasm's
 * Node.js build). Apart from run-steps, so the step runner itself needs no Node (#21: browsers).
 */
export const processFiles: ScratchFiles = {
  write(data) {
    const file = scratchFile();
    writeFileSync(file, data);
    return file;
  },
  remove: (file) => rmSync(file, { force: true }),
};
