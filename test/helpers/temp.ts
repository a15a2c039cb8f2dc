import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh folder under the OS temp dir, removed when the test process exits (kept with
 * KUZU_SYNC_KEEP_TEMP=1, to look into a failed run's files).
 */
export function tempDir(prefix = 'kuzu-sync-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (process.env.KUZU_SYNC_KEEP_TEMP) console.error(`kept: ${dir}`);
  else process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
