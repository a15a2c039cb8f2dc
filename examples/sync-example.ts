/**
 * The README's walkthrough, runnable: `npm run example:sync` (about 10 s, most of it starting
 * kuzu-wasm). With SYNC_SERVER_URL unset it starts a sync server in this process; set it to use yours
 * (for example one started with `npx kuzu-sync serve --port 8080`). Every run writes nodes of its own,
 * so it can run again and again against a server that keeps its data.
 * With KUZU_SYNC_INSPECT=1 it also streams the actor system to the Stately inspector (see README).
 */
import { createSyncClient, createSyncServer, type SyncClientOptions, type SyncServer } from '../src/index.js';

const step = (text: string) => console.log(`\n== ${text}`);

const run = Date.now().toString(36);
let server: SyncServer | undefined;
let serverUrl = process.env.SYNC_SERVER_URL;
if (!serverUrl) {
  // The embedded server also shows a server-side rule: nobody may be called Mallory.
  server = await createSyncServer({
    port: 0,
    validatePatch: (patch) =>
      patch.ops.some((o) => o.op === 'create_node' && o.properties.name === 'Mallory') ? 'no Mallory here' : true,
  });
  serverUrl = server.url;
  console.log(`No SYNC_SERVER_URL set: started an embedded sync server at ${serverUrl}`);
} else {
  console.log(`Using the sync server at ${serverUrl}`);
}

let inspect: SyncClientOptions['inspect'];
let stopInspector: (() => void) | undefined;
if (process.env.KUZU_SYNC_INSPECT) {
  // @statelyai/inspect: its adapter retries forever when nobody listens, hence opt-in.
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const { createInspectorServer } = await import('@statelyai/inspect/server');
  const inspector = createInspectorServer({ port: 8383, autoOpen: false });
  const adapter = createWebSocketInspector({ url: 'ws://localhost:8383' });
  inspect = adapter.inspect;
  stopInspector = () => {
    adapter.stop();
    inspector.stop();
  };
  console.log('Inspector: open http://localhost:8383 in a browser to watch the actor system');
}

step('Client A connects and writes (each write applies locally at once)');
const alice = await createSyncClient({
  serverUrl,
  clientId: `example-a-${process.pid}`,
  databasePath: ':memory:',
  heartbeatInterval: 30000,
  ...(inspect ? { inspect } : {}),
});
alice.on('rejected', (r) =>
  console.log(`  the server rejected ${r.patchId}: ${r.code} (${r.reason}); rolled back locally`),
);

const nodeId = await alice.createNode('Person', { name: 'Alice', age: 30, city: 'New York', run });
console.log(`  created Person ${nodeId}`);
await alice.setProperty('node', nodeId, 'occupation', 'Engineer');
await alice.setProperty('node', nodeId, 'skills', ['JavaScript', 'Python']);
console.log('  set occupation and skills');

console.log(`  Connected:       ${alice.isReady()}`);
console.log(`  Pending patches: ${alice.getPendingPatchCount()}   (sent or queued, not yet answered)`);
console.log(`  Server version:  ${alice.getServerVersion()}`);

step('Waiting until the server has accepted everything');
await alice.whenSynced({ timeout: 30_000 });
console.log(`  Connected:       ${alice.isReady()}`);
console.log(`  Pending patches: ${alice.getPendingPatchCount()}`);
console.log(`  Server version:  ${alice.getServerVersion()}`);

step('A write the graph refuses: age is a number, so a string is a type error (nothing is applied or sent)');
await alice
  .setProperty('node', nodeId, 'age', 'thirty')
  .catch((e: Error & { code?: string }) => console.log(`  ${e.code}: ${e.message}`));

if (server) {
  step('A write the server refuses: it is applied locally at once, then rolled back');
  const mallory = await alice.createNode('Person', { name: 'Mallory', run });
  console.log(
    `  locally: ${(await alice.query('MATCH (p:Person {id: $id}) RETURN count(*) AS n', { id: mallory }))[0]!.n} Mallory`,
  );
  await alice.whenSynced({ timeout: 30_000 });
  console.log(
    `  after the verdict: ${(await alice.query('MATCH (p:Person {id: $id}) RETURN count(*) AS n', { id: mallory }))[0]!.n} Mallory`,
  );
} else {
  step('(Skipped: the server-side rejection needs the embedded server, which refuses anyone named Mallory)');
}

step('Client B joins and reads the graph with plain Cypher');
const bob = await createSyncClient({ serverUrl, clientId: `example-b-${process.pid}` });
await bob.whenSynced({ timeout: 30_000 });
const rows = await bob.query(
  'MATCH (p:Person) WHERE p.run = $run RETURN p.name AS name, p.occupation AS occupation, p.skills AS skills, p.city AS city',
  { run },
);
for (const r of rows)
  console.log(`  ${r.name}, ${r.occupation} in ${r.city}, skills: ${((r.skills as string[] | null) ?? []).join(', ')}`);

step('B adds an edge; A watches for it with a live query');
// A live query runs again when a committed change touches a table it reads (here Person and KNOWS),
// and tells its subscribers of each new result: no polling.
const knowsLive = alice.live(
  'MATCH (a:Person)-[k:KNOWS]->(b:Person) WHERE a.run = $run RETURN a.name AS a, b.name AS b, k.since AS since',
  { run },
);
const arrived = new Promise<Record<string, unknown>[]>((resolve) =>
  knowsLive.subscribe((rows) => {
    if (rows.length) resolve(rows);
  }),
);
const bobId = await bob.createNode('Person', { name: 'Bob', run });
await bob.createEdge('KNOWS', bobId, nodeId, { since: 2024 });
const knows = await arrived;
knowsLive.close();
await bob.whenSynced({ timeout: 30_000 });
await alice.whenSynced({ timeout: 30_000 });
for (const k of knows) console.log(`  on A: ${k.a} KNOWS ${k.b} since ${k.since}`);
console.log(`  Server version:  ${alice.getServerVersion()} on A, ${bob.getServerVersion()} on B`);

step('A and B upsert one entity at once: their fields merge, and each handle says when the server confirmed');
// An upsert creates, or sets the given properties of what exists: never `already_exists`.
const acme = `acme-${run}`;
const [byA, byB] = await Promise.all([
  alice.write.upsertNode('Company', acme, { name: 'Acme', run }),
  bob.write.upsertNode('Company', acme, { founded: 1999, run }),
]);
const [okA, okB] = await Promise.all([byA.confirmed, byB.confirmed]);
console.log(`  A's upsert ${byA.patchId} confirmed at version ${okA.version}, B's ${byB.patchId} at ${okB.version}`);
// Each has its own write confirmed; the other's arrives as a broadcast.
const both = Math.max(okA.version ?? 0, okB.version ?? 0);
for (const end = Date.now() + 30_000; Math.min(alice.getServerVersion(), bob.getServerVersion()) < both; ) {
  if (Date.now() > end) throw new Error('the broadcasts did not arrive within 30 s');
  await new Promise((r) => setTimeout(r, 10));
}
const [company] = await alice.query('MATCH (c:Company {id: $id}) RETURN c.name AS name, c.founded AS founded', {
  id: acme,
});
console.log(`  on A: ${company!.name}, founded ${company!.founded}`);
console.log(`  A and B hold the same graph (equal digests): ${(await alice.digest()) === (await bob.digest())}`);

step('Closing');
await alice.close();
await bob.close();
await server?.close();
stopInspector?.();
console.log('  done');
