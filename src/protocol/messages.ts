/**
 * Wire protocol v1, written once: every message's schema. The types in `types.ts` are inferred
 * from these, and `decode.ts` checks frames against them, so the two cannot drift apart.
 */
import { identifierProblem, idProblem } from './identifiers.js';
import {
  array,
  leaf,
  object,
  oneOf,
  optional,
  recode,
  record,
  tuple,
  variants,
  withDefault,
  withFastPath,
  type Infer,
  type Issue,
  type Schema,
} from './schema.js';
import { fastPatch, fastPatchResponse } from './fast-paths.js';
import { ERROR_CODES, type ColumnType, type ErrorCode, type Props, type Value } from './types.js';
import { normalizeProps, normalizeValue, propsProblem, valueProblem } from './values.js';

/** Most ops of one patch: beyond it a patch is refused as `invalid_value`. */
export const MAX_OPS_PER_PATCH = 10_000;

const bad = (message: string): Issue => ({ code: 'bad_message', message });
const literal = <const T extends string>(value: T) => oneOf([value], (v) => bad(`must be ${value}, not ${String(v)}`));

// ---- leaves ------------------------------------------------------------------------------------

const identifier = (kind: 'label' | 'property key'): Schema<string> =>
  leaf((v) => {
    const p = identifierProblem(v, kind);
    return p ? { code: 'invalid_identifier', message: p } : null;
  });
const label = identifier('label');
const propertyKey = identifier('property key');

/** Node and edge ids are values (bound as parameters), so a bad one is `invalid_value`. */
const entityId = leaf<string>((v) => {
  const p = idProblem(v);
  return p ? { code: 'invalid_value', message: p } : null;
});
const clientId = recode('bad_message', entityId);

const int = (min: number) =>
  leaf<number>((v) => (Number.isSafeInteger(v) && (v as number) >= min ? null : bad(`must be an integer >= ${min}`)));
const version = int(0);
const finite = leaf<number>((v) =>
  typeof v === 'number' && Number.isFinite(v) ? null : bad('must be a finite number'),
);
const text = leaf<string>((v) => (typeof v === 'string' ? null : bad('must be a string')));
const nonEmptyText = leaf<string>((v) =>
  typeof v === 'string' && v !== '' ? null : bad('must be a non-empty string'),
);
const flag = leaf<boolean>((v) => (typeof v === 'boolean' ? null : bad('must be a boolean')));
const isErrorCode = (v: unknown): v is ErrorCode => (ERROR_CODES as readonly unknown[]).includes(v);
const errorCode = leaf<ErrorCode>((v) =>
  isErrorCode(v) ? null : bad(`unknown code ${JSON.stringify(v)?.slice(0, 60)}`),
);

const props = leaf<Props>((v) => propsProblem(v), normalizeProps);
const propsOrEmpty = withDefault(props, () => ({}));

/** `null` removes the property; absent is a malformed op, not a removal. */
const valueOrNull = leaf<Value | null>(
  (v) => {
    if (v === undefined) return bad('set_property needs a value (null removes)');
    const p = v === null ? null : valueProblem(v);
    return p ? { code: 'invalid_value', message: p } : null;
  },
  (v) => (v === null ? null : normalizeValue(v)),
);

// ---- ops and patches ---------------------------------------------------------------------------

const CreateNode = object('create_node', { op: literal('create_node'), label, id: entityId, properties: propsOrEmpty });
const SetProperty = object('set_property', {
  op: literal('set_property'),
  target: oneOf(['node', 'edge'], () => bad("must be 'node' or 'edge'")),
  key: propertyKey,
  id: entityId,
  value: valueOrNull,
});
const DeleteNode = object('delete_node', { op: literal('delete_node'), id: entityId });
const CreateEdge = object('create_edge', {
  op: literal('create_edge'),
  label,
  id: entityId,
  from: entityId,
  to: entityId,
  properties: propsOrEmpty,
});
const DeleteEdge = object('delete_edge', { op: literal('delete_edge'), id: entityId });
/** Create, or set each given property of the one that exists: never `already_exists`. */
const UpsertNode = object('upsert_node', { op: literal('upsert_node'), label, id: entityId, properties: propsOrEmpty });
const UpsertEdge = object('upsert_edge', {
  op: literal('upsert_edge'),
  label,
  id: entityId,
  from: entityId,
  to: entityId,
  properties: propsOrEmpty,
});

export const OpSchema = variants(
  'op',
  {
    create_node: CreateNode,
    set_property: SetProperty,
    delete_node: DeleteNode,
    create_edge: CreateEdge,
    delete_edge: DeleteEdge,
    upsert_node: UpsertNode,
    upsert_edge: UpsertEdge,
  },
  (tag) => bad(`unknown op ${JSON.stringify(String(tag)).slice(0, 40)}`),
);

/** The fields that tie a patch to its client's sequence: sound, they let a bad patch still settle its seq. */
const envelope = {
  clientId,
  seq: int(1),
  id: leaf<string>((v, p) =>
    v === `${p!.clientId as string}:${p!.seq as number}` ? null : bad("must be clientId + ':' + seq"),
  ),
};
export const PatchEnvelopeSchema = object('patch', envelope);
const PatchShape = object('patch', {
  ...envelope,
  baseVersion: version,
  ops: array(OpSchema, { item: 'op', min: 1, max: MAX_OPS_PER_PATCH, maxCode: 'invalid_value' }),
});
export const PatchSchema = withFastPath(PatchShape, fastPatch(MAX_OPS_PER_PATCH));

// ---- snapshot ------------------------------------------------------------------------------------

const COLUMN_TYPES = ['STRING', 'DOUBLE', 'BOOLEAN', 'STRING[]', 'DOUBLE[]', 'BOOLEAN[]'] as const;
const columnType = oneOf(COLUMN_TYPES satisfies readonly ColumnType[], (t) =>
  bad(`unknown column type ${JSON.stringify(t)}`),
);
const columns = record(propertyKey, columnType, 'properties');
const NodeTable = object('node table', { label, properties: columns });
const RelTable = object('rel table', {
  label,
  pairs: array(tuple(label, label, 'a rel pair is [from, to]'), { item: 'pair' }),
  properties: columns,
});
const GraphSchemaSchema = object('schema', {
  nodes: array(NodeTable, { item: 'node table' }),
  edges: array(RelTable, { item: 'rel table' }),
});
const SnapshotNode = object('node', { label, id: entityId, properties: props });
const SnapshotEdge = object('edge', { label, id: entityId, from: entityId, to: entityId, properties: props });
const SnapshotChunkSchema = object('snapshot', {
  schema: optional(GraphSchemaSchema),
  nodes: array(SnapshotNode, { item: 'node' }),
  edges: array(SnapshotEdge, { item: 'edge' }),
});

// ---- client -> server ----------------------------------------------------------------------------

const SyncRequest = object('sync_request', {
  type: literal('sync_request'),
  clientId,
  fromVersion: version,
  /**
   * The highest protocol the client speaks; the server answers in the highest both speak (2: frames
   * may carry an array of messages). A newer client is answered, not refused.
   */
  protocol: int(1),
  /** The highest seq this client holds an answer for: the server lists the outcome of every later one. */
  ackedSeq: optional(version),
  /** The serverId this client last saw; lets the server skip a useless delta. */
  serverId: optional(text),
  /** Answer with a snapshot whatever the version (the client found its graph inconsistent). */
  snapshot: optional(flag),
});
/** No prefix of its own: the patch's issues read as `patch ops: op 0: ...`. */
const PatchMsg = object('', { type: literal('patch'), patch: PatchSchema });
const Heartbeat = object('heartbeat', { type: literal('heartbeat'), ts: finite });

const unknownType = (tag: unknown): Issue => ({
  code: 'unknown_type',
  message: `unknown message type ${JSON.stringify(tag).slice(0, 60)}`,
});

export const ClientMessageSchema = variants(
  'type',
  { sync_request: SyncRequest, patch: PatchMsg, heartbeat: Heartbeat },
  unknownType,
);

// ---- server -> client ----------------------------------------------------------------------------

const VersionedPatchSchema = object('', { patch: PatchSchema, version });
const PatchOutcomeSchema = object('outcome', {
  seq: int(1),
  status: oneOf(['accepted', 'rejected'], () => bad('must be accepted or rejected')),
  version: optional(version),
  code: optional(errorCode),
  reason: optional(text),
});
const SyncState = object('sync_state', {
  type: literal('sync_state'),
  serverId: nonEmptyText,
  mode: oneOf(['delta', 'snapshot'], () => bad('must be delta or snapshot')),
  fromVersion: version,
  version,
  lastSeq: version,
  patches: optional(array(VersionedPatchSchema, { item: 'delta entry' })),
  /** The client must not trust the server's identifiers either: they reach query text. */
  snapshot: optional(recode('bad_message', SnapshotChunkSchema)),
  outcomes: optional(array(PatchOutcomeSchema, { item: 'outcome' })),
  /** The schema in force on the server (first chunk only): clients make its tables and hold writes to it. */
  schema: optional(recode('bad_message', GraphSchemaSchema)),
  /** The protocol this server answers in (absent: 1): at 2 the client may batch its frames too. */
  protocol: optional(oneOf([1, 2], () => bad('must be 1 or 2'))),
  done: flag,
});

const patchId = text;
const PatchResponseShape = variants(
  'status',
  {
    accepted: object('patch_response', {
      type: literal('patch_response'),
      patchId,
      status: literal('accepted'),
      version,
    }),
    rejected: object('patch_response', {
      type: literal('patch_response'),
      patchId,
      status: literal('rejected'),
      code: errorCode,
      reason: text,
    }),
    /** Processed before (a re-send): what became of it then, as far as the server still knows. */
    ignored: object('patch_response', {
      type: literal('patch_response'),
      patchId,
      status: literal('ignored'),
      version: optional(version),
      code: optional(errorCode),
      reason: optional(text),
    }),
  },
  () => bad('patch_response status must be accepted, rejected or ignored'),
);
export const PatchResponseSchema = withFastPath(PatchResponseShape, fastPatchResponse(isErrorCode));
const PatchBroadcast = object('patch_broadcast', { type: literal('patch_broadcast'), patch: PatchSchema, version });
const ErrorMsg = object('error', { type: literal('error'), code: errorCode, message: text, patchId: optional(text) });

export const ServerMessageSchema = variants(
  'type',
  {
    sync_state: SyncState,
    patch_response: PatchResponseSchema,
    patch_broadcast: PatchBroadcast,
    heartbeat: Heartbeat,
    error: ErrorMsg,
  },
  unknownType,
);

// ---- the types, inferred -------------------------------------------------------------------------

export type Op = Infer<typeof OpSchema>;
export type CreateNodeOp = Infer<typeof CreateNode>;
export type SetPropertyOp = Infer<typeof SetProperty>;
export type DeleteNodeOp = Infer<typeof DeleteNode>;
export type CreateEdgeOp = Infer<typeof CreateEdge>;
export type DeleteEdgeOp = Infer<typeof DeleteEdge>;
export type UpsertNodeOp = Infer<typeof UpsertNode>;
export type UpsertEdgeOp = Infer<typeof UpsertEdge>;
/** The ops a store carries out as they are: an upsert first resolves into one or more of these. */
export type PlainOp = Exclude<Op, UpsertNodeOp | UpsertEdgeOp>;
export type Patch = Infer<typeof PatchShape>;
export type VersionedPatch = Infer<typeof VersionedPatchSchema>;
export type NodeTableSchema = Infer<typeof NodeTable>;
export type RelTableSchema = Infer<typeof RelTable>;
export type GraphSchema = Infer<typeof GraphSchemaSchema>;
export type SnapshotNode = Infer<typeof SnapshotNode>;
export type SnapshotEdge = Infer<typeof SnapshotEdge>;
export type SnapshotChunk = Infer<typeof SnapshotChunkSchema>;
export type SyncRequestMessage = Infer<typeof SyncRequest>;
export type PatchMessage = Infer<typeof PatchMsg>;
export type HeartbeatMessage = Infer<typeof Heartbeat>;
export type ClientMessage = Infer<typeof ClientMessageSchema>;
export type PatchOutcome = Infer<typeof PatchOutcomeSchema>;
export type SyncStateMessage = Infer<typeof SyncState>;
export type PatchResponseMessage = Infer<typeof PatchResponseShape>;
export type PatchBroadcastMessage = Infer<typeof PatchBroadcast>;
export type ErrorMessage = Infer<typeof ErrorMsg>;
export type ServerMessage = Infer<typeof ServerMessageSchema>;
