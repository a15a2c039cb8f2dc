import { createSyncClient, type SyncClient, type SyncClientOptions } from '../../src/index.js';
import { ITEM_LABEL, itemProps, type Item } from './items.js';

/** A client with default options unless told otherwise: the bench measures what users get. */
export function openClient(serverUrl: string, options: Partial<SyncClientOptions> = {}): Promise<SyncClient> {
  return createSyncClient({ serverUrl, ...options });
}

export const LONG = { timeout: 900_000 };

/** One patch per row, all issued before any is awaited (a burst), then until the server acknowledged all. */
export async function writeEach(client: SyncClient, rows: readonly Item[]): Promise<void> {
  const local: Promise<string>[] = [];
  for (const r of rows) local.push(client.createNode(ITEM_LABEL, itemProps(r), { id: r.id }));
  await Promise.all(local);
  await client.whenSynced(LONG);
}

/** Rows in patches of `size` rows each (client.batch: one atomic patch per batch), then until acknowledged. */
export async function writeBatches(client: SyncClient, rows: readonly Item[], size: number): Promise<void> {
  for (let i = 0; i < rows.length; i += size) {
    await client.batch((tx) => {
      for (const r of rows.slice(i, i + size)) tx.createNode(ITEM_LABEL, itemProps(r), { id: r.id });
    });
  }
  await client.whenSynced(LONG);
}

export async function countItems(client: SyncClient): Promise<number> {
  const rows = await client.query(`MATCH (n:${ITEM_LABEL}) RETURN count(*) AS n`);
  return Number(rows[0]!.n);
}

export async function closeAll(clients: readonly SyncClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
}
