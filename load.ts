import { createSyncServer, createSyncClient } from './src/index.ts';
const N = Number(process.argv[2] ?? 50), P = Number(process.argv[3] ?? 200);
const s = await createSyncServer({ port: 0 });
let t = Date.now();
const cs = await Promise.all(Array.from({ length: N }, (_, i) => createSyncClient({ serverUrl: s.url, clientId: 'c' + i, reconnectInterval: 200 })));
await Promise.all(cs.map((c) => c.whenSynced({ timeout: 120000 })));
console.log('open+sync', Date.now() - t); t = Date.now();
let peak = 0; const iv = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 200);
await Promise.all(cs.map(async (c, i) => { const ps = []; for (let k = 0; k < P; k++) ps.push(c.createNode('Item', { owner: i, k })); await Promise.all(ps); }));
console.log('writes applied locally', Date.now() - t);
await Promise.all(cs.map((c) => c.whenSynced({ timeout: 600000 })));
console.log('server accepted all', Date.now() - t, 'version', s.getVersion());
const want = N * P;
const counts = async () => Promise.all(cs.map(async (c) => (await c.query('MATCH (i:Item) RETURN count(*) AS n'))[0]!.n));
for (;;) { const cnt = await counts(); if (cnt.every((n) => n === want)) break; await new Promise((r) => setTimeout(r, 500)); if (Date.now() - t > 600000) { console.log('not converged', cnt); break; } }
console.log('converged', Date.now() - t, 'peak rss MB', Math.round(peak / 2 ** 20));
clearInterval(iv);
await Promise.all(cs.map((c) => c.close())); await s.close();
