/**
 * Wire protocol v1: the one vocabulary shared by client and server.
 * Every type here is a plain JSON shape; `decode.ts` is the only way in from the network.
 */

export const PROTOCOL_VERSION = 1;

/** A property value as users write it. `null` in a `set_property` op removes the property. */
export type Value = string | number | boolean | string[] | number[] | boolean[];
export type Props = Record<string, Value>;

export type CreateNodeOp = { op: 'create_node'; label: string; id: string; properties: Props };
export type SetPropertyOp = {
  op: 'set_property';
  target: 'node' | 'edge';
  id: string;
  key: string;
  value: Value | null;
};
export type DeleteNodeOp = { op: 'delete_node'; id: string };
export type CreateEdgeOp = {
  op: 'create_edge';
  label: string;
  id: string;
  from: string;
  to: string;
  properties: Props;
};
export type DeleteEdgeOp = { op: 'delete_edge'; id: string };

export type Op = CreateNodeOp | SetPropertyOp | DeleteNodeOp | CreateEdgeOp | DeleteEdgeOp;
export type OpKind = Op['op'];

/** A patch is atomic: all of its ops apply, or none. `id` is `${clientId}:${seq}`. */
export interface Patch {
  id: string;
  clientId: string;
  seq: number;
  baseVersion: number;
  ops: Op[];
}

/** A patch the server accepted, with the version it got. */
export interface VersionedPatch {
  patch: Patch;
  version: number;
}

// ---- snapshot -------------------------------------------------------------

/** Column types kuzu-sync stores. A JS number is a DOUBLE: that is what it is. */
export type ColumnType = 'STRING' | 'DOUBLE' | 'BOOLEAN' | 'STRING[]' | 'DOUBLE[]' | 'BOOLEAN[]';

export interface NodeTableSchema {
  label: string;
  properties: Record<string, ColumnType>;
}
export interface RelTableSchema {
  label: string;
  pairs: Array<[from: string, to: string]>;
  properties: Record<string, ColumnType>;
}
export interface GraphSchema {
  nodes: NodeTableSchema[];
  edges: RelTableSchema[];
}
export interface SnapshotNode {
  label: string;
  id: string;
  properties: Props;
}
export interface SnapshotEdge {
  label: string;
  id: string;
  from: string;
  to: string;
  properties: Props;
}
/** One chunk of a snapshot. The first chunk carries the schema; nodes come before edges. */
export interface SnapshotChunk {
  schema?: GraphSchema;
  nodes: SnapshotNode[];
  edges: SnapshotEdge[];
}
export interface Snapshot {
  schema: GraphSchema;
  nodes: SnapshotNode[];
  edges: SnapshotEdge[];
}

// ---- messages: client -> server -------------------------------------------

export interface SyncRequestMessage {
  type: 'sync_request';
  clientId: string;
  fromVersion: number;
  protocol: number;
  /**
   * Extension: the highest seq this client already holds an answer for. When given, the
   * server lists the outcome of every seq after it in `sync_state.outcomes`, so a client
   * whose answers were lost learns which of its patches were accepted and which rejected.
   */
  ackedSeq?: number;
  /** Extension: the serverId this client last saw; lets the server skip a useless delta. */
  serverId?: string;
  /** Extension: answer with a snapshot whatever the version (the client found its graph inconsistent). */
  snapshot?: boolean;
}
export interface PatchMessage {
  type: 'patch';
  patch: Patch;
}
export interface HeartbeatMessage {
  type: 'heartbeat';
  ts: number;
}
export type ClientMessage = SyncRequestMessage | PatchMessage | HeartbeatMessage;

// ---- messages: server -> client -------------------------------------------

export type PatchStatus = 'accepted' | 'rejected' | 'ignored';

/** What became of one of the requesting client's patches (extension of sync_state). */
export interface PatchOutcome {
  seq: number;
  status: 'accepted' | 'rejected';
  version?: number;
  code?: ErrorCode;
  reason?: string;
}

export interface SyncStateMessage {
  type: 'sync_state';
  serverId: string;
  mode: 'delta' | 'snapshot';
  fromVersion: number;
  version: number;
  lastSeq: number;
  patches?: VersionedPatch[];
  snapshot?: SnapshotChunk;
  outcomes?: PatchOutcome[];
  done: boolean;
}
export interface PatchResponseMessage {
  type: 'patch_response';
  patchId: string;
  status: PatchStatus;
  version?: number;
  code?: ErrorCode;
  reason?: string;
}
export interface PatchBroadcastMessage {
  type: 'patch_broadcast';
  patch: Patch;
  version: number;
}
export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  patchId?: string;
}
export type ServerMessage =
  | SyncStateMessage
  | PatchResponseMessage
  | PatchBroadcastMessage
  | HeartbeatMessage
  | ErrorMessage;

export type Message = ClientMessage | ServerMessage;

// ---- error codes ------------------------------------------------------------

export const ERROR_CODES = [
  'bad_message',
  'message_too_large',
  'unknown_type',
  'invalid_identifier',
  'invalid_value',
  'type_mismatch',
  'not_found',
  'already_exists',
  'conflict',
  'out_of_order',
  'unauthorized',
  'forbidden',
  'validation_failed',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
