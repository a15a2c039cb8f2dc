/**
 * Wire protocol v1: the one vocabulary shared by client and server. The message types are
 * inferred from their schemas in `messages.ts`; `decode.ts` is the only way in from the network
 * and `encode.ts` the only way out.
 */

/**
 * v2: a frame may also carry a JSON array of v1 messages, each checked and answered on its own, in
 * order; a batch of one is a plain message. A client asks for it in sync_request; the server says
 * in sync_state that it answers in it.
 */
export const PROTOCOL_VERSION = 2;

/** A property value as users write it. `null` in a `set_property` op removes the property. */
export type Value = string | number | boolean | string[] | number[] | boolean[];
export type Props = Record<string, Value>;

/** Column types kuzu-sync stores. A JS number is a DOUBLE: that is what it is. */
export type ColumnType = 'STRING' | 'DOUBLE' | 'BOOLEAN' | 'STRING[]' | 'DOUBLE[]' | 'BOOLEAN[]';

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
  /** A wait (whenSynced, flush) ran out. */
  'timeout',
  /** The database file is held by another process, or already open in this one. */
  'locked',
  /** The database file was written by another engine or storage version. */
  'incompatible_file',
  /** The client or server is closed. */
  'closed',
  /** Bugs only. */
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type {
  ClientMessage,
  CreateEdgeOp,
  CreateNodeOp,
  DeleteEdgeOp,
  DeleteNodeOp,
  ErrorMessage,
  GraphSchema,
  HeartbeatMessage,
  NodeTableSchema,
  Op,
  Patch,
  PlainOp,
  UpsertEdgeOp,
  UpsertNodeOp,
  PatchBroadcastMessage,
  PatchMessage,
  PatchOutcome,
  PatchResponseMessage,
  RelTableSchema,
  ServerMessage,
  SetPropertyOp,
  SnapshotChunk,
  SnapshotEdge,
  SnapshotNode,
  SyncRequestMessage,
  SyncStateMessage,
  VersionedPatch,
} from './messages.js';
import type {
  ClientMessage,
  GraphSchema,
  Op,
  PatchResponseMessage,
  ServerMessage,
  SnapshotEdge,
  SnapshotNode,
} from './messages.js';

export type OpKind = Op['op'];
export type PatchStatus = PatchResponseMessage['status'];
export type Message = ClientMessage | ServerMessage;
/** A whole snapshot, as the store exports it; on the wire it travels as chunks. */
export interface Snapshot {
  schema: GraphSchema;
  nodes: SnapshotNode[];
  edges: SnapshotEdge[];
}
