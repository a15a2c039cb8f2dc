import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { until } from './wait.js';

/** A Yjs peer as y-websocket documents it for Node: ws as the WebSocket, no BroadcastChannel. */
export interface YPeer {
  doc: Y.Doc;
  provider: WebsocketProvider;
}

export async function openYPeers(serverUrl: string, room: string, count: number): Promise<YPeer[]> {
  // y-websocket adds a process 'exit' listener per provider: ten of them are not a leak.
  process.setMaxListeners(Math.max(process.getMaxListeners(), count + 10));
  const peers = Array.from({ length: count }, () => {
    const doc = new Y.Doc();
    // disableBc: Node 20 has a global BroadcastChannel, and peers in one process would otherwise
    // sync with each other directly and bypass the server.
    const provider = new WebsocketProvider(serverUrl, room, doc, {
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
    });
    return { doc, provider };
  });
  await until(() => peers.every((p) => p.provider.synced), 'Yjs peers to sync', 120_000);
  return peers;
}

/** Every peer has everything `writer` wrote: its clock for the writer's client id has caught up. */
export function yConverged(writer: Y.Doc, peers: readonly YPeer[]): boolean {
  const want = Y.getState(writer.store, writer.clientID);
  return peers.every((p) => Y.getState(p.doc.store, writer.clientID) === want);
}

export function closeYPeers(peers: readonly YPeer[]): void {
  for (const p of peers) {
    p.provider.destroy();
    p.doc.destroy();
  }
}
