import { and, assign, fromPromise, setup } from 'xstate';
import type { SyncStateMessage } from '../src/protocol/types.js';

export interface ReconciliationInput {
  /** The first chunk, when the answer is already here (the handshake). */
  first?: SyncStateMessage;
  /** Send a sync_request first (a resync while connected). */
  request?: boolean;
}

export type ReconciliationEvent = { type: 'CONNECTION.CHUNK'; message: SyncStateMessage };

export interface ReconciliationContext {
  chunks: SyncStateMessage[];
}

export interface RebaseInput {
  chunks: SyncStateMessage[];
  /**
   * A server this replica has no history with (first contact, or a new serverId: reset or replaced):
   * its answer settles none of the pending patches, which are renumbered after its lastSeq.
   */
  reset: boolean;
}

const last = (c: ReconciliationContext) => c.chunks[c.chunks.length - 1];

/**
 * One reconciliation with the server: ask (unless the answer is already arriving), collect the
 * answer's chunks, then rebase the local graph on it. Rebasing is an actor the client supplies: it
 * undoes the pending patches newest-first, applies the server's changes (a delta, or a snapshot),
 * and re-applies the still-pending patches in order, all in one KuzuDB transaction.
 *
 *   requesting -> receiving -> rebasing | resetting (a server with no history of ours) -> done
 *
 * A rebase that fails makes this actor fail: the connection drops and tries again later.
 */
export const reconciliationMachine = setup({
  types: {
    context: {} as ReconciliationContext,
    events: {} as ReconciliationEvent,
    input: {} as ReconciliationInput,
  },
  actors: {
    /** Supplied by the client: runs in the store, the single writer. */
    rebase: fromPromise<{ version: number }, RebaseInput>(async () => {
      throw new Error('rebase is supplied by the client runtime');
    }),
  },
  actions: {
    /** Supplied by the client: it knows its clientId and version. */
    sendSyncRequest: () => {},
    collect: assign({ chunks: ({ context, event }) => [...context.chunks, event.message] }),
    /** The chunks are applied: drop them rather than keep a snapshot alive in the context. */
    release: assign({ chunks: [] }),
  },
  guards: {
    hasFirstChunk: ({ context }) => context.chunks.length > 0,
    complete: ({ context }) => last(context)?.done === true,
    /** Supplied by the client, which remembers the serverId it last saw (none before first contact). */
    fromNewServer: () => false,
  },
}).createMachine({
  id: 'reconciliation',
  context: ({ input }) => ({ chunks: input.first ? [input.first] : [] }),
  initial: 'starting',
  states: {
    starting: {
      always: [{ guard: 'hasFirstChunk', target: 'receiving' }, { target: 'requesting' }],
    },
    requesting: {
      entry: 'sendSyncRequest',
      on: { 'CONNECTION.CHUNK': { target: 'receiving', actions: 'collect' } },
    },
    /** Chunks until `done: true`; then a server with no history of ours means a reset, anything else a rebase. */
    receiving: {
      always: [
        { guard: and(['complete', 'fromNewServer']), target: 'resetting' },
        { guard: 'complete', target: 'rebasing' },
      ],
      on: { 'CONNECTION.CHUNK': { actions: 'collect' } },
    },
    rebasing: {
      invoke: {
        src: 'rebase',
        input: ({ context }) => ({ chunks: context.chunks, reset: false }),
        onDone: { target: 'done', actions: 'release' },
      },
    },
    resetting: {
      invoke: {
        src: 'rebase',
        input: ({ context }) => ({ chunks: context.chunks, reset: true }),
        onDone: { target: 'done', actions: 'release' },
      },
    },
    done: { type: 'final' },
  },
});

export type ReconciliationMachine = typeof reconciliationMachine;
