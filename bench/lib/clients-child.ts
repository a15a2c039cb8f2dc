/**
 * A process of `count` kuzu-sync clients with default options, all synced with `url`: connected
 * clients for the server's memory, and the client-side RSS. Also `raw`: the same rows loaded into one
 * kuzu-wasm database with nothing else, the baseline for a client process's memory.
 */
import type { SyncClient } from '../../src/index.js';
import { Child, isEntry, serveParent, settledRssMb } from './child.js';
import { items } from './items.js';
import { RawKuzu } from './raw-kuzu.js';
import { closeAll, LONG, openClient } from './sync.js';

export interface ProcessInfo {
  rssMb: number;
}

async function clients(url: string, count: number) {
  const list: SyncClient[] = [];
  for (let i = 0; i < count; i++) list.push(await openClient(url));
  await Promise.all(list.map((c) => c.whenSynced(LONG)));
  return { info: { rssMb: settledRssMb() }, handlers: { stop: () => closeAll(list) } };
}

async function raw(nodes: number) {
  const db = await RawKuzu.items();
  db.copyItems(items(nodes));
  return { info: { rssMb: settledRssMb() }, handlers: { stop: () => db.close() } };
}

export type ClientsChild = Child<ProcessInfo>;

/** `count` synced clients in a new process. */
export const startClients = (url: string, count: number) =>
  Child.start<ProcessInfo>('./clients-child.ts', ['clients', url, count]);
/** A new process with one raw kuzu-wasm database holding `nodes` Items. */
export const startRaw = (nodes: number) => Child.start<ProcessInfo>('./clients-child.ts', ['raw', nodes]);

if (isEntry(import.meta.url)) {
  await serveParent(async (args) =>
    args[0] === 'raw' ? raw(args[1] as number) : clients(args[1] as string, args[2] as number),
  );
}
