import { type PatchVerdict, REJECTED_WHILE_AWAY } from '../../machines/patch.machine.js';
import { SyncError } from '../protocol/errors.js';
import type {
  GraphSchema,
  PatchOutcome,
  Snapshot,
  SnapshotChunk,
  SyncStateMessage,
  VersionedPatch,
} from '../protocol/types.js';
import type { Entry } from './pending.js';

/** A whole answer to sync_request, its chunks put together. */
export interface SyncAnswer {
  serverId: string;
  mode: 'delta' | 'snapshot';
  version: number;
  /** The highest seq of this client the server has processed. */
  lastSeq: number;
  /** Delta mode: the accepted patches after the client's version, in version order. */
  delta: VersionedPatch[];
  /** Snapshot mode: the whole graph. */
  snapshot: Snapshot | undefined;
  /** What became of this client's patches whose answers may have been lost, by seq. */
  outcomes: Map<number, PatchOutcome>;
  /** The schema in force on the server, when it has one. */
  schema: GraphSchema | undefined;
}

/** Puts the chunks of one answer together; an incomplete or inconsistent answer is a `bad_message`. */
export function readSyncState(chunks: SyncStateMessage[]): SyncAnswer {
  const head = chunks[0];
  const last = chunks[chunks.length - 1];
  if (!head || !last?.done) throw new SyncError('bad_message', 'incomplete sync_state');
  for (const c of chunks) {
    if (c.serverId !== head.serverId || c.mode !== head.mode) {
      throw new SyncError('bad_message', 'sync_state chunks disagree');
    }
  }
  const outcomes = new Map<number, PatchOutcome>();
  for (const c of chunks) for (const o of c.outcomes ?? []) outcomes.set(o.seq, o);
  const { serverId, mode, version, lastSeq } = last;
  return {
    serverId,
    mode,
    version,
    lastSeq,
    delta: mode === 'delta' ? chunks.flatMap((c) => c.patches ?? []) : [],
    snapshot: mode === 'snapshot' ? assembleSnapshot(chunks) : undefined,
    outcomes,
    schema: chunks.find((c) => c.schema)?.schema,
  };
}

/**
 * The pending patches the server has processed (seq up to its lastSeq), each with its outcome: as
 * the answer lists it, else accepted (at its version when the delta carries it). Processed and not
 * rejected means accepted: the server keeps the rejections a client has not acknowledged.
 */
export function processedEntries(
  entries: readonly Entry[],
  answer: SyncAnswer,
  clientId: string,
): Array<{ entry: Entry; outcome: PatchOutcome }> {
  const own = answer.delta.filter((d) => d.patch.clientId === clientId);
  const inDelta = new Map(own.map((d) => [d.patch.seq, d.version]));
  return entries
    .filter((e) => e.patch.seq <= answer.lastSeq)
    .map((entry) => {
      const seq = entry.patch.seq;
      const version = inDelta.get(seq);
      const accepted: PatchOutcome = { seq, status: 'accepted', ...(version !== undefined ? { version } : {}) };
      return { entry, outcome: answer.outcomes.get(seq) ?? accepted };
    });
}

/** An outcome the server recorded, as the patch's verdict (what its actor reports on SETTLED). */
export function verdictOf(o: PatchOutcome): PatchVerdict {
  if (o.status === 'accepted')
    return { status: 'accepted', ...(o.version !== undefined ? { version: o.version } : {}) };
  return { status: 'rejected', code: o.code ?? 'internal', reason: o.reason ?? REJECTED_WHILE_AWAY };
}

function assembleSnapshot(chunks: SyncStateMessage[]): Snapshot {
  const parts = chunks.map((c) => c.snapshot).filter((s): s is SnapshotChunk => s !== undefined);
  const schema = parts.find((p) => p.schema)?.schema;
  if (!schema) throw new SyncError('bad_message', 'snapshot without a schema');
  return { schema, nodes: parts.flatMap((p) => p.nodes), edges: parts.flatMap((p) => p.edges) };
}
