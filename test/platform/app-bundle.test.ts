/**
 * An app bundles the browser bundle again, as README "In a browser" says bundlers do (esbuild here,
 * with the `browser` condition's file): it must build, with what a browser app imports. The bundle
 * once kept dynamic imports of Node's platform files, which are not shipped, and every app build
 * failed on them (helper-36); and the schema and token helpers were missing from it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleBrowser } from '../../scripts/bundle-browser.mjs';
import { tempDir } from '../helpers/temp.js';

test('an app that imports the browser bundle builds, with defineSchema and the token helpers', async () => {
  const dir = tempDir();
  await bundleBrowser(dir, { quiet: true });
  const app = join(dir, 'app.js');
  writeFileSync(
    app,
    [
      "import { browserDriver, createSyncClient, defineSchema, tokenProtocols, tokenUrl } from './kuzu-sync.js';",
      "export const schema = defineSchema({ nodes: { Note: { text: 'string' } }, edges: {} });",
      'export const all = [browserDriver, createSyncClient, tokenProtocols, tokenUrl];',
    ].join('\n'),
  );
  const out = await build({
    entryPoints: [app],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  assert.is(out.errors.length, 0);
  assert.ok(out.outputFiles[0]!.text.includes('Note'), 'the app is in it');
});

test.run();
