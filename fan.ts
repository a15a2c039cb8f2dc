import { createSyncServer, createSyncClient } from './src/index.ts';
const R = Number(process.argv[2] ?? 5), P = Number(process.argv[3] ?? 5000);
const s = await createSyncServer({ port: 0 });
const w = await createSyncClient({ serverUrl: s.url, clientId: 'w' });
const rs = await Promise.all(Array.from({ length: R }, (_, i) => createSyncClient({ serverUrl: s.url, clientId: 'r' + i })));
await Promise.all([w, ...rs].map((c) => c.whenSynced({ timeout: 60000 })));
let t = Date.now();
const ps = []; for (let k = 0; k < P; k++) ps.push(w.createNode('Item', { k }));
await Promise.all(ps);
console.log('local', Date.now() - t);
await w.whenSynced({ timeout: 600000 });
console.log('accepted', Date.now() - t);
for (;;) { const v = rs.map((c) => c.getServerVersion()); if (v.every((x) => x === P)) break; await new Promise((r) => setTimeout(r, 100)); }
console.log('receivers converged', Date.now() - t);
await Promise.all([w, ...rs].map((c) => c.close())); await s.close();
