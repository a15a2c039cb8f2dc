import { byteLength, decodeClientFrame, type DecodeError } from '../protocol/decode.js';
import { encodeHeartbeat } from '../protocol/encode.js';
import type { ClientMessage, SyncRequestMessage } from '../protocol/types.js';
import { unreachable } from '../protocol/unreachable.js';
import type { Connection } from './connection.js';
import type { Connections } from './connections.js';
import type { ServerMetrics } from './metrics.js';
import type { Submitter } from './submitter.js';

export interface RouterDeps {
  authority: Submitter;
  connections: Connections;
  metrics: ServerMetrics;
  maxMessageBytes: number;
}

/**
 * Decodes each frame and hands each of its messages (one, or a protocol v2 batch), in order, to
 * whoever handles its type, as if each had come in a frame of its own. Never throws on client input.
 */
export function createRouter(deps: RouterDeps): (conn: Connection, data: Buffer | Buffer[], isBinary: boolean) => void {
  const { metrics, maxMessageBytes } = deps;
  return (conn, data, isBinary) => {
    const receivedAt = performance.now();
    metrics.bytesIn += byteLength(data);
    metrics.framesIn++;
    // Only a connection that has said who it is can have a patch settled as a rejection.
    const envelopeOfOversized = conn.clientId !== undefined;
    const options = { maxBytes: maxMessageBytes, isBinary, envelopeOfOversized, batches: conn.batches };
    for (const decoded of decodeClientFrame(data, options)) {
      if (conn.forbidden) return;
      if (decoded.ok) route(deps, conn, decoded.message, receivedAt);
      else refuse(deps, conn, decoded.error, receivedAt);
    }
  };
}

function route(deps: RouterDeps, conn: Connection, m: ClientMessage, receivedAt: number): void {
  switch (m.type) {
    case 'heartbeat':
      return conn.send(encodeHeartbeat(m.ts));
    case 'sync_request':
      return syncRequest(deps, conn, m);
    case 'patch':
      if (conn.clientId === undefined) return conn.error('bad_message', 'send sync_request first', m.patch.id);
      return deps.authority.submitPatch(conn, m.patch, receivedAt);
    default:
      return unreachable(m);
  }
}

function refuse({ authority, metrics }: RouterDeps, conn: Connection, error: DecodeError, receivedAt: number): void {
  const { code, message, patchId, envelope } = error;
  metrics.decodeError(code);
  conn.error(code, message, patchId);
  // A patch with bad ops but a sound envelope is processed as a rejection: its client's later
  // patches must not wait behind it as out of order.
  if (envelope && conn.clientId !== undefined) {
    authority.submitInvalid(conn, envelope.clientId, envelope.seq, code, message, receivedAt);
  }
}

/** A connection syncs as one clientId, one its principal may use (refused at the handshake: 4403), and holds it alone. */
function syncRequest({ authority, connections }: RouterDeps, conn: Connection, m: SyncRequestMessage): void {
  const allowed = conn.principal.clientIds;
  if (allowed && !allowed.includes(m.clientId)) {
    return conn.forbid(`this principal may not sync as ${JSON.stringify(m.clientId)}`);
  }
  if (conn.clientId !== undefined && conn.clientId !== m.clientId) {
    return conn.forbid(`this connection already syncs as ${JSON.stringify(conn.clientId)}`);
  }
  if (conn.clientId === undefined) {
    if (!connections.replaceOthers(conn, m.clientId)) return;
    conn.clientId = m.clientId;
  }
  conn.speaks(m.protocol);
  authority.submitSyncRequest(conn, m);
}
