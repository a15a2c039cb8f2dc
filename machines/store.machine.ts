import { assign, fromPromise, setup } from 'xstate';
import type { ErrorCode, Op, Patch, SyncStateMessage } from '../src/protocol/types.js';

/** A change the server made, in the order the socket delivered it. */
export type ServerChange =
  | { kind: 'own'; patchId: string; version?: number }
  | { kind: 'remote'; patch: Patch; version: number };

export type StoreRequest =
  /** Commits the staged writes (memory-first: they are already in the local view) as one group. */
  | { kind: 'commit' }
  /** Answered once everything queued before it is done and every write staged so far committed: flush(), reads. */
  | { kind: 'barrier'; requestId: number }
  /** A local write made while the graph was being changed under it: staged in its turn. */
  | { kind: 'local'; requestId: number; ops: Op[] }
  | { kind: 'server'; changes: ServerChange[] }
  | { kind: 'rollback'; requestId: number; patchId: string; code: ErrorCode; reason: string }
  | { kind: 'reconcile'; requestId: number; chunks: SyncStateMessage[]; reset: boolean };

/** The requests made in one tick, in order: a burst of writes is one event, not thousands. */
export type StoreEvent = { type: 'STORE.REQUEST'; requests: StoreRequest[] };

export interface StoreContext {
  queue: StoreRequest[];
  batch: StoreRequest[];
}

/**
 * The single writer in front of the local KuzuDB. Group commits of local writes, the server's
 * changes, rollbacks and rebases all queue here and run strictly in arrival order; whatever queues
 * while a batch runs becomes the next batch (one transaction for a burst of changes). Promise actors spawned per
 * write would finish in completion order instead: that is what this machine exists to prevent.
 *
 *   idle <-> writing (executes the queued batch)
 */
export const storeMachine = setup({
  types: {
    context: {} as StoreContext,
    events: {} as StoreEvent,
  },
  actors: {
    /** Supplied by the client: applies a batch to the replica and answers each request. */
    execute: fromPromise<void, { batch: StoreRequest[] }>(async () => {
      throw new Error('execute is supplied by the client runtime');
    }),
  },
  actions: {
    enqueue: assign({
      queue: ({ context, event }) =>
        context.queue.length === 0 ? event.requests : [...context.queue, ...event.requests],
    }),
    takeBatch: assign({ batch: ({ context }) => context.queue, queue: [] }),
    clearBatch: assign({ batch: [] }),
    /** Supplied by the client: an unexpected failure of a whole batch (its requests were already answered). */
    reportFailure: () => {},
  },
  guards: {
    hasQueued: ({ context }) => context.queue.length > 0,
  },
}).createMachine({
  id: 'store',
  context: { queue: [], batch: [] },
  initial: 'idle',
  states: {
    idle: {
      on: { 'STORE.REQUEST': { target: 'writing', actions: 'enqueue' } },
    },
    writing: {
      entry: 'takeBatch',
      invoke: {
        src: 'execute',
        input: ({ context }) => ({ batch: context.batch }),
        onDone: [
          { guard: 'hasQueued', target: 'writing', reenter: true, actions: 'clearBatch' },
          { target: 'idle', actions: 'clearBatch' },
        ],
        onError: [
          { guard: 'hasQueued', target: 'writing', reenter: true, actions: ['reportFailure', 'clearBatch'] },
          { target: 'idle', actions: ['reportFailure', 'clearBatch'] },
        ],
      },
      on: { 'STORE.REQUEST': { actions: 'enqueue' } },
    },
  },
});

export type StoreMachine = typeof storeMachine;
