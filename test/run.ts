/**
 * Runs every `*.test.ts` under the given folders (default: test/), each in its own Node process so a
 * crash or a hang in one suite cannot take the others down, and ends with one line that CI reads:
 * `N passed, N failed`, summed over all suites. uvu's own footer is per process.
 *
 *   node --import tsx test/run.ts [dir-or-file ...] [--concurrency N] [--timeout SECONDS]
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const concurrency = flag('--concurrency', Number(process.env.TEST_CONCURRENCY) || 2);
const timeoutSeconds = flag('--timeout', Number(process.env.TEST_TIMEOUT) || 600);
const roots = args.length ? args : ['test'];

function collect(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => collect(join(path, name)));
}

const files = [...new Set(roots.flatMap(collect))];
if (files.length === 0) {
  console.error(`no *.test.ts files under ${roots.join(', ')}`);
  process.exit(1);
}

interface Outcome {
  file: string;
  passed: number;
  failed: number;
  seconds: number;
  output: string;
}

function runFile(file: string): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[run] ${file} still running after ${timeoutSeconds}s: killed\n`;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const num = (label: string) =>
        [...output.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped');
      let failed = total - passed - skipped;
      // A suite that crashed, hung, or failed after its footer still counts as a failure.
      if (code !== 0 && failed === 0) failed = 1;
      resolve({ file, passed, failed, seconds: (Date.now() - started) / 1000, output });
    });
  });
}

const queue = [...files];
const outcomes: Outcome[] = [];
async function worker(): Promise<void> {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const o = await runFile(file);
    outcomes.push(o);
    const name = relative(process.cwd(), o.file);
    console.log(
      `${o.failed ? 'FAIL' : 'ok  '} ${name}  ${o.passed} passed, ${o.failed} failed  (${o.seconds.toFixed(1)}s)`,
    );
    if (o.failed || process.env.TEST_VERBOSE) console.log(o.output.replace(/^/gm, '    '));
    else {
      // Suites report their own figures (cases run, faults injected, peak RSS) on lines starting with '#'.
      for (const line of o.output.split('\n')) if (line.startsWith('# ')) console.log(`    ${line}`);
    }
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));

const passed = outcomes.reduce((n, o) => n + o.passed, 0);
const failed = outcomes.reduce((n, o) => n + o.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
