/**
 * Live queries under random traffic: three clients on a real server write, rename and delete on two
 * labels at random, some writes are rejected by the server (validatePatch), connections drop. Each
 * client watches each label, a count, and a label nobody writes. At every emission the result must
 * be new (never the one before), a query on the unwritten label never emits past its first `[]`,
 * and once everyone is synced, every live query holds what `query()` gives on the same state.
 * The seed is printed on failure: LIVE_SEED=<n> replays it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LiveQuery, SyncClient } from '../../src/client/options.js';
import { rng } from '../helpers/random.js';
import { caughtUp, client, server, until } from '../helpers/sync.js';

const SEED = Number(process.env.LIVE_SEED) || Date.now() % 100_000;
const STEPS = 120;
const QUERIES = {
  a: 'MATCH (n:Alpha) RETURN n.id AS id, n.v AS v ORDER BY id',
  b: 'MATCH (n:Beta) RETURN n.id AS id, n.v AS v ORDER BY id',
  count: 'MATCH (n:Alpha) RETURN count(n) AS n',
  never: 'MATCH (n:Gamma) RETURN n.id AS id',
} as const;

interface Watch {
  q: LiveQuery;
  /** Each new result (a call with the result it had before only brings new info). */
  emissions: Array<Record<string, unknown>[]>;
  /** Every call its subscriber had. */
  calls: number;
}

test(`live queries under random writes, rejections and drops (seed ${SEED})`, async () => {
  const r = rng(SEED);
  // The server refuses any value that ends in 7: the writer cannot know, so those roll back.
  const s = await server({ validatePatch: (p) => (JSON.stringify(p.ops).includes('7"') ? 'ends in 7' : true) });
  const clients: SyncClient[] = [];
  try {
    for (let i = 0; i < 3; i++)
      clients.push(await client(s, { clientId: `c${i}`, reconnectInterval: 20, maxReconnectInterval: 50 }));
    await Promise.all(clients.map((c) => c.whenSynced({ timeout: 10_000 })));
    const watches = clients.map(
      (c) =>
        Object.fromEntries(
          Object.entries(QUERIES).map(([k, cypher]) => {
            const w: Watch = { q: c.live(cypher), emissions: [], calls: 0 };
            w.q.subscribe((rows) => {
              w.calls++;
              if (rows !== w.emissions.at(-1)) w.emissions.push(rows);
            });
            return [k, w];
          }),
        ) as Record<keyof typeof QUERIES, Watch>,
    );
    const ids: Record<'Alpha' | 'Beta', string[]> = { Alpha: [], Beta: [] };
    let n = 0;
    for (let step = 0; step < STEPS; step++) {
      const c = r.pick(clients);
      const label = r.pick(['Alpha', 'Beta'] as const);
      const known = ids[label];
      const roll = r.next();
      const write = async () => {
        if (roll < 0.5 || !known.length) {
          const id = `${label[0]}${n++}`;
          known.push(id);
          await c.createNode(label, { v: `v${r.int(100)}` }, { id });
        } else if (roll < 0.85) await c.setProperty('node', r.pick(known), 'v', `v${r.int(100)}`);
        else await c.deleteNode(r.pick(known));
      };
      // A write on a node this client does not have (yet, or any more) is refused locally: that is fine.
      await write().catch(() => {});
      if (r.chance(0.03)) {
        // A dropped connection: the client reconnects and reconciles (a rebase, one transaction).
        s.disconnectAll();
      }
      if (r.chance(0.2)) await new Promise((res) => setTimeout(res, r.int(10)));
    }
    await until(
      async () => {
        await Promise.all(clients.map((c) => c.whenSynced({ timeout: 10_000 })));
        await caughtUp(s, ...clients);
        return true;
      },
      30_000,
      'everyone synced',
    );
    for (const [i, c] of clients.entries()) {
      for (const [k, cypher] of Object.entries(QUERIES) as Array<[keyof typeof QUERIES, string]>) {
        const w = watches[i]![k];
        await until(
          async () => JSON.stringify(w.q.current) === JSON.stringify(await c.query(cypher).catch(() => [])),
          10_000,
          `c${i} ${k}: the live result is what query() gives (seed ${SEED})`,
        );
        w.emissions.forEach((rows, j) => {
          if (j > 0)
            assert.not.equal(
              rows,
              w.emissions[j - 1],
              `c${i} ${k}: emission ${j} repeats the one before (seed ${SEED})`,
            );
        });
      }
      assert.is(
        watches[i]!.never.calls,
        1,
        `c${i}: the query on an unwritten label heard nothing after its first [] (seed ${SEED})`,
      );
      assert.equal(
        watches[i]!.never.emissions,
        [[]],
        `c${i}: the query on an unwritten label emitted only its first [] (seed ${SEED})`,
      );
    }
  } catch (e) {
    console.error(`live-random failed with LIVE_SEED=${SEED}`);
    throw e;
  } finally {
    for (const c of clients) await c.close();
    await s.close();
  }
});

test.run();
