// Files in src/ and machines/ stay small enough to read in one sitting (issue #14: at most 400
// lines); Biome's lint checks functions (at most 80 lines). Prints the offenders, exits 1 if any.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX = 400;
const files = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
const long = ['src', 'machines']
  .flatMap(files)
  .map((f) => [f, readFileSync(f, 'utf8').split('\n').length - 1])
  .filter(([, n]) => n > MAX);
for (const [f, n] of long) console.error(`${f}: ${n} lines (at most ${MAX}): split it by job`);
process.exit(long.length ? 1 : 0);
