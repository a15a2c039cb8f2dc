import type { SyncClient } from '../../src/client/options.js';
import type { Rng } from './random.js';

/**
 * One random write of any kind on a small shared id space, so clients collide: they edit, link and
 * delete the same nodes. Values keep one type per key (a:string, b:number) except on purpose, now
 * and then, to provoke type_mismatch. Returns what it tried; a write the local graph refuses (the
 * node is gone here already) is 'refused': no patch is made.
 */
export async function randomWrite(client: SyncClient, rng: Rng, space = 12): Promise<{ what: string; ok: boolean }> {
  const node = () => `n${rng.int(space)}`;
  const edge = () => `e${rng.int(space)}`;
  const value = (key: 'a' | 'b') =>
    rng.chance(0.05) ? (key === 'a' ? 7 : 'seven') : key === 'a' ? `v${rng.int(100)}` : rng.int(1000);
  const kind = rng.pick([
    'create',
    'create',
    'set',
    'set',
    'set',
    'delete',
    'link',
    'unlink',
    'setEdge',
    'batch',
    'upsert',
    'upsert',
    'upsertEdge',
  ] as const);
  let what: string = kind;
  try {
    switch (kind) {
      case 'create': {
        const id = node();
        what = `create ${id}`;
        await client.createNode('Thing', { a: `v${rng.int(100)}` }, { id });
        break;
      }
      case 'set': {
        const id = node();
        const key = rng.pick(['a', 'b'] as const);
        what = `set ${id}.${key}`;
        await client.setProperty('node', id, key, rng.chance(0.1) ? null : value(key));
        break;
      }
      case 'delete': {
        const id = node();
        what = `delete ${id}`;
        await client.deleteNode(id);
        break;
      }
      case 'link': {
        const id = edge();
        const [f, t] = [node(), node()];
        what = `link ${id} ${f}->${t}`;
        await client.createEdge('LINKS', f, t, { w: rng.int(10) }, { id });
        break;
      }
      case 'unlink': {
        const id = edge();
        what = `unlink ${id}`;
        await client.deleteEdge(id);
        break;
      }
      case 'setEdge': {
        const id = edge();
        what = `set ${id}.w`;
        await client.setProperty('edge', id, 'w', rng.int(10));
        break;
      }
      case 'batch': {
        const [x, y] = [node(), node()];
        what = `batch ${x},${y}`;
        await client.batch((tx) => {
          tx.setProperty('node', x, 'b', rng.int(1000));
          if (rng.chance(0.5)) tx.upsertNode('Thing', y, { a: `v${rng.int(100)}` });
          else tx.setProperty('node', y, 'a', `v${rng.int(100)}`);
        });
        break;
      }
      case 'upsert': {
        // Shared ids: two clients upserting one node at once must merge, never already_exists.
        const id = node();
        const props = rng.chance(0.5)
          ? { a: value('a') }
          : { b: value('b'), ...(rng.chance(0.5) ? { a: value('a') } : {}) };
        what = `upsert ${id} ${Object.keys(props).join(',')}`;
        await client.upsertNode('Thing', id, props);
        break;
      }
      case 'upsertEdge': {
        const id = edge();
        const [f, t] = [node(), node()];
        what = `upsert ${id} ${f}->${t}`;
        await client.upsertEdge('LINKS', id, f, t, { w: rng.int(10) });
        break;
      }
    }
    return { what, ok: true };
  } catch (e) {
    return { what: `${what}: ${(e as { code?: string }).code ?? (e as Error).message}`, ok: false };
  }
}
