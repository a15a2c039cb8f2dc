/**
 * The browser entry is typed for its users (#21): a project that imports `kuzu-sync` with the
 * `browser` condition (a bundler's tsconfig: `customConditions: ["browser"]`), or `kuzu-sync/browser`
 * with none, gets dist/src/browser.d.ts (browserDriver, webLock), and a Node project still gets
 * dist/index.d.ts. Checked with the project's own tsc against the built dist (npm run build; npm ci
 * runs it through `prepare`), the package linked into a temp project's node_modules.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');

const BROWSER_USE = `
const client = await createSyncClient({ serverUrl: 'ws://127.0.0.1:8080/sync', driver: browserDriver() });
const lock = await webLock('db', 'this tab');
lock.release();
const rows: Record<string, unknown>[] = await client.query('MATCH (n) RETURN n');
export { rows };
`;

/** Type-checks `files` in a temp project with kuzu-sync linked in; returns tsc's output ('' when clean). */
function check(files: Record<string, string>, compilerOptions: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kuzu-sync-types-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules/kuzu-sync'), 'dir');
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const options = { target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [], ...compilerOptions };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files: Object.keys(files) }));
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? e);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bundler = { module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'] };

test('dist has the browser entry and its declarations (npm run build)', () => {
  for (const f of ['dist/src/browser.d.ts', 'dist/browser/kuzu-sync.js', 'dist/index.d.ts']) {
    assert.ok(existsSync(join(root, f)), `${f} is missing: run npm run build`);
  }
});

test("'kuzu-sync' under the browser condition: browserDriver and webLock are typed", () => {
  const out = check(
    { 'main.ts': `import { browserDriver, createSyncClient, webLock } from 'kuzu-sync';\n${BROWSER_USE}` },
    { ...bundler, customConditions: ['browser'] },
  );
  assert.is(out, '');
});

test("'kuzu-sync/browser' with no condition: the same", () => {
  const out = check(
    { 'main.ts': `import { browserDriver, createSyncClient, webLock } from 'kuzu-sync/browser';\n${BROWSER_USE}` },
    bundler,
  );
  assert.is(out, '');
});

test("'kuzu-sync' in Node: the Node entry's types (createSyncServer; no browserDriver)", () => {
  const node = {
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    types: ['node'],
    typeRoots: [join(root, 'node_modules/@types')],
  };
  const server = `import { createSyncServer } from 'kuzu-sync';\nexport const s = createSyncServer({ port: 0 });\n`;
  assert.is(check({ 'main.mts': server }, node), '');
  const out = check({ 'main.mts': `import { browserDriver } from 'kuzu-sync';\nexport { browserDriver };\n` }, node);
  assert.match(out, /browserDriver/, 'the Node entry has no browserDriver');
});

test.run();
