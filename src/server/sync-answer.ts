import {
  encodeSyncState,
  encodeVersionedPatch,
  toJson,
  type FirstChunk,
  type Json,
  type SyncStateHead,
} from '../protocol/encode.js';
import type {
  GraphSchema,
  Patch,
  SnapshotEdge,
  SnapshotNode,
  SyncRequestMessage,
  VersionedPatch,
} from '../protocol/types.js';
import { utf8Length } from '../protocol/utf8.js';
import type { GraphStore } from '../store/graph-store.js';
import type { Peer } from './authority.js';
import type { ServerLog } from './server-log.js';

/**
 * Target size of one sync_state frame in UTF-8 bytes, below the peer's maxMessageBytes when that is
 * smaller: large answers come in chunks, `done: true` on the last.
 */
export const CHUNK_BYTES = 256 * 1024;
/** A rough size of one node or edge in a snapshot, to weigh it against a delta's exact size. */
const SNAPSHOT_BYTES_PER_ENTITY = 120;
const LOG_PAGE = 2000;

/**
 * Answers a sync_request: a delta from the log when the client's version is still covered by it and
 * the delta is smaller than a snapshot, otherwise a snapshot. Always with the serverId and the
 * client's lastSeq (and, when asked, the outcome of its recent patches), so a client can settle
 * patches whose answers it never got. Runs inside the authority's queue: nothing commits meanwhile.
 */
export async function answerSyncRequest(
  store: GraphStore,
  log: ServerLog,
  peer: Peer,
  request: SyncRequestMessage,
  /** The peer's maxMessageBytes: no chunk is larger, unless one entry alone is. */
  frameBytes: number,
  /** A cluster's gateway sends the delta from the cluster's log, if this says it can. */
  deltaElsewhere?: (peer: Peer, h: SyncStateHead, first: FirstChunk) => boolean,
): Promise<'delta' | 'snapshot'> {
  const h: SyncStateHead = {
    serverId: log.serverId,
    mode: 'delta',
    fromVersion: request.fromVersion,
    version: log.version,
    lastSeq: log.lastSeq.get(request.clientId) ?? 0,
    // The answer's frames are batched from here on (router.ts): say so, and the client batches too.
    ...(request.protocol >= 2 ? { protocol: 2 } : {}),
  };
  const declared = store.model.declared;
  const first: FirstChunk = {
    outcomes: request.ackedSeq !== undefined ? log.outcomes(request.clientId, request.ackedSeq) : undefined,
    // Every answer carries the schema: a client makes its tables from it, on a delta as on a snapshot.
    schema: declared ? toJson(declared.graph) : undefined,
  };
  // An ackedSeq counts only for this server's seqs: one from before a reset is about another log.
  const sameServer = request.serverId === undefined || request.serverId === log.serverId;
  if (request.ackedSeq !== undefined && sameServer) log.acknowledged(request.clientId, request.ackedSeq);
  if (await deltaWorks(store, log, request)) {
    if (!deltaElsewhere?.(peer, h, first)) {
      await sendDelta((from, limit) => log.readLog(from, limit), peer, h, first, frameBytes);
    }
    return 'delta';
  }
  await sendSnapshot(store, peer, { ...h, mode: 'snapshot' }, first, frameBytes);
  return 'snapshot';
}

async function deltaWorks(store: GraphStore, log: ServerLog, request: SyncRequestMessage): Promise<boolean> {
  if (request.snapshot || (request.serverId !== undefined && request.serverId !== log.serverId)) return false;
  if (request.fromVersion > log.version || request.fromVersion < log.logStart) return false;
  if (request.fromVersion === log.version) return true;
  const snapshotBytes = (store.model.nodeCount + store.model.edgeCount) * SNAPSHOT_BYTES_PER_ENTITY;
  if (log.version - request.fromVersion < snapshotBytes / 2000) return true; // plainly small: skip the sum
  return (await log.logBytesAfter(request.fromVersion)) <= snapshotBytes;
}

/** The log's patches after `from`, in version order, about `limit` of them; none once it ends. */
export type LogReader = (from: number, limit: number) => Promise<Array<{ version: number; json: Json<Patch> }>>;

/**
 * A delta answer, chunked, from the patches `readLog` gives. Sent as it is read: the first page is
 * small (a client starts decoding while the rest is read) and each next page is read while the
 * current one goes out. Read whole first, a cold client's 100k-node log waited 150-250 ms for its
 * first frame.
 */
export async function sendDelta(
  readLog: LogReader,
  peer: Peer,
  h: SyncStateHead,
  first: FirstChunk,
  frameBytes = CHUNK_BYTES,
): Promise<void> {
  // The log holds each patch as the JSON text it was accepted as: frames are spliced from it.
  let parts: Array<Json<VersionedPatch>> = [];
  let head: FirstChunk | undefined = first;
  const limit = Math.min(CHUNK_BYTES, frameBytes);
  // What is left of the chunk for entries: its head (the first one's with outcomes and schema) is counted.
  const roomLeft = () => limit - utf8Length(encodeSyncState(h, false, { patches: [] }, head));
  let room = roomLeft();
  const flush = (done: boolean) => {
    peer.send(encodeSyncState(h, done, { patches: parts }, head));
    head = undefined;
    parts = [];
    room = roomLeft();
  };
  const read = (from: number, limit: number) => {
    const page = from < h.version ? readLog(from, limit) : Promise.resolve([]);
    // Awaited below, unless sending the page before it throws: that failure is the one to report.
    page.catch(() => {});
    return page;
  };
  for (let next = read(h.fromVersion, 1); ; ) {
    const rows = await next;
    if (rows.length === 0) break;
    next = read(rows[rows.length - 1]!.version, LOG_PAGE);
    for (const r of rows) {
      const part = encodeVersionedPatch(r.json, r.version);
      const n = utf8Length(part) + 1;
      // A first chunk whose head leaves no room goes alone: every accepted patch fits a chunk of its own.
      if (n > room && (parts.length || head)) flush(false);
      parts.push(part);
      room -= n;
    }
  }
  flush(true);
}

async function sendSnapshot(
  store: GraphStore,
  peer: Peer,
  h: SyncStateHead,
  first: FirstChunk,
  frameBytes: number,
): Promise<void> {
  const snap = await store.exportSnapshot();
  let schema: Json<GraphSchema> | undefined = toJson(snap.schema);
  let nodes: Array<Json<SnapshotNode>> = [];
  let edges: Array<Json<SnapshotEdge>> = [];
  let head: FirstChunk | undefined = first;
  const limit = Math.min(CHUNK_BYTES, frameBytes);
  const body = () => ({ snapshot: { nodes, edges, ...(schema ? { schema } : {}) } });
  // What is left of the chunk for nodes and edges: the head, schema and all, is counted.
  const roomLeft = () => limit - utf8Length(encodeSyncState(h, false, body(), head));
  const flush = (done: boolean) => {
    peer.send(encodeSyncState(h, done, body(), head));
    head = undefined;
    schema = undefined;
    nodes = [];
    edges = [];
    room = roomLeft();
  };
  let room = roomLeft();
  const add = <T>(into: () => Array<Json<T>>, json: Json<T>) => {
    const n = utf8Length(json) + 1;
    if (n > room && (nodes.length || edges.length || head)) flush(false);
    into().push(json);
    room -= n;
  };
  // Nodes before edges: a client loading chunk by chunk always has both ends of an edge.
  for (const n of snap.nodes) add(() => nodes, toJson(n));
  for (const e of snap.edges) add(() => edges, toJson(e));
  flush(true);
}
