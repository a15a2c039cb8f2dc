import type { SyncClient } from '../../src/index.js';
import type { Context } from './scenario.js';
import { startServer, type ServerChild, type SyncServerHandle } from './server-child.js';
import { closeAll, LONG, openClient } from './sync.js';
import { closeYPeers, openYPeers, type YPeer } from './yjs.js';

export interface SideBySide {
  server: SyncServerHandle;
  clients: SyncClient[];
  yServer: ServerChild;
  peers: YPeer[];
}

/**
 * `count` of our clients on a fresh server and `count` Yjs peers on a y-websocket server of its own
 * process, all synced, for `measure`; everything is closed afterwards, however it ends.
 */
export async function againstYjs<T>(
  ctx: Context,
  count: number,
  room: string,
  measure: (s: SideBySide) => Promise<T>,
): Promise<T> {
  const [server, yServer] = await Promise.all([ctx.servers.fresh(), startServer('yjs')]);
  const clients: SyncClient[] = [];
  let peers: YPeer[] = [];
  try {
    for (let i = 0; i < count; i++) clients.push(await openClient(server.url));
    await Promise.all(clients.map((c) => c.whenSynced(LONG)));
    peers = await openYPeers(yServer.info.url, room, count);
    return await measure({ server, clients, yServer, peers });
  } finally {
    closeYPeers(peers);
    await closeAll(clients);
    await yServer.stop();
  }
}
