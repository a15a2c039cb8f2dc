/**
 * The types a schema gives a client, checked by the compiler itself: schema-usage.ts must compile
 * with every `@ts-expect-error` in it met. Loosen the types and a directive goes unused (TS2578).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const here = dirname(fileURLToPath(import.meta.url));
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');

test('schema-usage.ts compiles, and each of its expected errors is an error', () => {
  const fixture = readFileSync(join(here, 'schema-usage.ts'), 'utf8');
  assert.ok((fixture.match(/@ts-expect-error/g) ?? []).length >= 10, 'the fixture still expects its errors');
  const run = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { encoding: 'utf8' });
  assert.is(run.stdout + run.stderr, '', 'tsc reports nothing');
  assert.is(run.status, 0);
});

test.run();
