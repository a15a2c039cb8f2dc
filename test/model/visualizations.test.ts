import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderAll } from '../../visualizations/render.js';

test('the committed diagrams match the machines (run `npm run visualize` after changing machines/)', async () => {
  const files = await renderAll();
  assert.ok(files.size >= 11, 'a Mermaid file and an SVG per machine, and the index');
  for (const [name, content] of files) {
    let committed = '';
    try {
      committed = readFileSync(new URL(`../../visualizations/${name}`, import.meta.url), 'utf8');
    } catch {
      assert.unreachable(`visualizations/${name} is missing`);
    }
    assert.ok(committed === content, `visualizations/${name} is stale: run npm run visualize`);
  }
});

test('diagrams show eventless transitions, delays and guards in words, and compound states as clusters', async () => {
  const files = await renderAll();
  const rec = files.get('reconciliation.mmd')!;
  assert.match(rec, /s_starting --> s_receiving : if has first chunk/);
  assert.match(rec, /s_receiving --> s_resetting : if complete and from new server/);
  const conn = files.get('connection.mmd')!;
  assert.match(conn, /after heartbeat \[two heartbeats missed\]/);
  assert.match(conn, /reconciliation done/);
  assert.not.match(conn, /xstate\./, 'no internal event names');
  assert.match(files.get('connection.svg')!, /cluster_online/);
});

test.run();
