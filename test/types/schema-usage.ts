/**
 * Compiled, never run, by schema-types.test.ts: what a schema lets a client write. Each
 * `@ts-expect-error` must meet an error; if the types loosen, the directive is unused and tsc fails.
 */
import type { BatchWriter, SyncBuild, SyncClient } from '../../src/client/options.js';
import { defineSchema } from '../../src/schema/define.js';

const schema = defineSchema({
  nodes: {
    Person: { name: 'string', age: 'number', tags: 'string[]' },
    City: { name: 'string' },
  },
  edges: {
    LIVES_IN: { from: 'Person', to: 'City', properties: { since: 'number' } },
    KNOWS: { from: 'Person', to: 'Person' },
  },
});

export async function typed(client: SyncClient<typeof schema>): Promise<void> {
  const ann = await client.createNode('Person', { name: 'Ann', age: 40, tags: ['x'] });
  const oslo = await client.createNode('City', { name: 'Oslo' });
  await client.createNode('Person');
  await client.createEdge('LIVES_IN', ann, oslo, { since: 2020 });
  await client.setProperty('node', ann, 'age', 41);
  await client.setProperty('node', ann, 'age', null);

  // @ts-expect-error: age is a number
  await client.createNode('Person', { age: 'x' });
  // @ts-expect-error: no such label
  await client.createNode('Dog', {});
  // @ts-expect-error: City has no zip
  await client.createNode('City', { zip: '0150' });
  // @ts-expect-error: tags is a list of strings
  await client.createNode('Person', { tags: [1, 2] });
  // @ts-expect-error: edge properties are typed too
  await client.createEdge('LIVES_IN', ann, oslo, { since: 'long ago' });
  // @ts-expect-error: no such edge label
  await client.createEdge('LIKES', ann, ann);
  await client.createEdge('KNOWS', ann, ann);
  await client.createEdge('KNOWS', ann, ann, {});
  // @ts-expect-error: an edge label that declares no properties takes none (helper-37: it took any)
  await client.createEdge('KNOWS', ann, ann, { since: 2024 });
  // @ts-expect-error: nor do its upserts
  await client.upsertEdge('KNOWS', 'k1', ann, ann, { since: 2024 });
  // @ts-expect-error: and setProperty still names only declared keys
  await client.setProperty('edge', 'k1', 'weight', 1);
  // @ts-expect-error: age is a number wherever it is declared
  await client.setProperty('node', ann, 'age', 'forty');
  // @ts-expect-error: no such key anywhere in the schema
  await client.setProperty('node', ann, 'nick', 'A');
  await client.upsertNode('Person', 'p1', { age: 3 });
  await client.upsertEdge('LIVES_IN', 'e1', ann, oslo, { since: 1 });
  // @ts-expect-error: upserts are typed like creates
  await client.upsertNode('Person', 'p1', { age: 'x' });
  // @ts-expect-error: and their edges too
  await client.upsertEdge('LIVES_IN', 'e1', ann, oslo, { since: 'then' });
  const handle = await client.write.createNode('City', { name: 'Trondheim' });
  const id: string = handle.id;
  const version: number | undefined = (await handle.confirmed).version;
  // @ts-expect-error: handle writes are typed like the others
  await client.write.upsertNode('City', 'c', { name: 1 });
  const built = await client.write.batch((tx) => tx.createNode('City', { name: 'Bodø' }));
  const builtId: string = built.id;
  void [id, version, builtId];
  await client.batch((tx) => {
    tx.createNode('City', { name: 'Bergen' });
    // @ts-expect-error: a batch's writes are typed like the client's
    tx.createNode('City', { name: 7 });
  });
  // An expression body gives back what its write gives: still a synchronous batch.
  await client.batch((tx) => tx.createNode('City', { name: 'Molde' }));
  // @ts-expect-error: a batch is built synchronously (its writer closes when the function returns)
  await client.batch(async (tx) => {
    await Promise.resolve();
    tx.createNode('City', { name: 'Lost' });
  });
  // @ts-expect-error: the same for a batch with a handle
  await client.write.batch(async (tx) => tx.createNode('City', { name: 'Lost' }));
  // @ts-expect-error: and for one that only may return a promise
  await client.batch((tx): void | Promise<void> => void tx.createNode('City', { name: 'Maybe' }));
  // A generic wrapper passes the check on.
  const wrap = <R>(f: (tx: BatchWriter<typeof schema>) => R, ...s: SyncBuild<R>) => client.batch(f, ...s);
  await wrap((tx) => tx.createNode('City', { name: 'Wrapped' }));
}

// A live query's rows have the type its caller names.
export function liveRows(client: SyncClient): void {
  client.live<{ name: string }>('MATCH (p:Person) RETURN p.name AS name').subscribe((rows) => {
    const name: string | undefined = rows[0]?.name;
    // @ts-expect-error: name is a string
    const wrong: number | undefined = rows[0]?.name;
    void [name, wrong];
  });
}

// Without a schema, any label and key: checked at run time only.
export async function dynamic(client: SyncClient): Promise<void> {
  await client.createNode('Anything', { whatever: 'goes', n: 1 });
  await client.setProperty('node', 'id', 'anyKey', true);
}

// A schema's edges name declared node labels.
// @ts-expect-error: Planet is not a node label
defineSchema({ nodes: { Person: {} }, edges: { ORBITS: { from: 'Person', to: 'Planet' } } });
// @ts-expect-error: not a property type
defineSchema({ nodes: { Person: { age: 'int' } } });

// The root actor is typed: its events, and its states.
export function rootActor(client: SyncClient): void {
  client.actor.send({ type: 'CLIENT.RESYNC' });
  // @ts-expect-error: no such event
  client.actor.send({ type: 'CLIENT.RESYNCX' });
  // @ts-expect-error: a state value is no number
  const v: number = client.actor.getSnapshot().value;
  void v;
}
