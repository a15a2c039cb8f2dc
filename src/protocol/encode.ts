/**
 * Every frame either end sends is built here, from typed parts. Most are one JSON.stringify of a
 * typed message. Frames that carry text already encoded (a patch as the log stores it, snapshot rows)
 * are spliced as strings: re-parsing and re-stringifying them would cost the fan-out path more than
 * the rest of it. test/protocol/encode.test.ts decodes each builder's output back to its message.
 */
import type {
  ClientMessage,
  ErrorCode,
  GraphSchema,
  Patch,
  PatchOutcome,
  PatchResponseMessage,
  ServerMessage,
  SnapshotEdge,
  SnapshotNode,
  SyncStateMessage,
  VersionedPatch,
} from './types.js';

/** JSON text known to encode a `T`. Only `toJson` and `storedJson` make one. */
export type Json<T> = string & { readonly __json: T };

export const toJson = <T>(value: T): Json<T> => JSON.stringify(value) as Json<T>;
/** Text that was written by `toJson` and stored (the server's patch log): trusted as such. */
export const storedJson = <T>(text: string): Json<T> => text as Json<T>;

/** Messages go out as JSON text; kept in one place so both ends frame alike. */
export function encodeMessage(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}

export function encodeError(code: ErrorCode, message: string, patchId?: string): string {
  return encodeMessage({ type: 'error', code, message, ...(patchId === undefined ? {} : { patchId }) });
}

export const encodeHeartbeat = (ts: number): string => encodeMessage({ type: 'heartbeat', ts });

export const encodePatchResponse = (response: PatchResponseMessage): string => encodeMessage(response);

/** The answer most patches get, spliced: one per patch in a burst, and nothing in it needs a walk. */
export const encodeAccepted = (patchId: string, version: number): string =>
  `{"type":"patch_response","patchId":${JSON.stringify(patchId)},"status":"accepted","version":${version}}`;

export function encodePatchBroadcast(patch: Json<Patch>, version: number): string {
  return `{"type":"patch_broadcast","patch":${patch},"version":${version}}`;
}

export function encodeVersionedPatch(patch: Json<Patch>, version: number): Json<VersionedPatch> {
  return `{"patch":${patch},"version":${version}}` as Json<VersionedPatch>;
}

/** What every chunk of one sync_state answer shares. */
export type SyncStateHead = Pick<
  SyncStateMessage,
  'serverId' | 'mode' | 'fromVersion' | 'version' | 'lastSeq' | 'protocol'
>;

/** One chunk's payload: delta entries, or snapshot rows (the schema only in the first chunk). */
export type SyncStateBody =
  | { patches: Array<Json<VersionedPatch>> }
  | { snapshot: { schema?: Json<GraphSchema>; nodes: Array<Json<SnapshotNode>>; edges: Array<Json<SnapshotEdge>> } };

/** What only the first chunk of an answer carries. */
export interface FirstChunk {
  outcomes?: PatchOutcome[] | undefined;
  /** The schema in force on the server. */
  schema?: Json<GraphSchema> | undefined;
}

export function encodeSyncState(head: SyncStateHead, done: boolean, body: SyncStateBody, first?: FirstChunk): string {
  const outcomes = first?.outcomes;
  const o =
    (outcomes?.length ? `,"outcomes":${JSON.stringify(outcomes)}` : '') +
    (first?.schema ? `,"schema":${first.schema}` : '');
  const p = head.protocol !== undefined ? `,"protocol":${head.protocol}` : '';
  const start =
    `{"type":"sync_state","serverId":${JSON.stringify(head.serverId)},"mode":${JSON.stringify(head.mode)},` +
    `"fromVersion":${head.fromVersion},"version":${head.version},"lastSeq":${head.lastSeq}${o}${p},"done":${done}`;
  if ('patches' in body) return `${start},"patches":[${body.patches.join(',')}]}`;
  const { schema, nodes, edges } = body.snapshot;
  const rows = `"nodes":[${nodes.join(',')}],"edges":[${edges.join(',')}]`;
  return `${start},"snapshot":{${schema ? `"schema":${schema},` : ''}${rows}}}`;
}
