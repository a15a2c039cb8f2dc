import { assign, fromPromise, sendParent, setup } from 'xstate';
import type { ErrorCode } from '../src/protocol/types.js';

/** Which patch: its id (clientId:seq) and seq. */
export interface PatchRef {
  patchId: string;
  seq: number;
}

export interface PatchInput extends PatchRef {
  /** Set on a patch a server reset renumbered: the id it was written under (see `renumbered`). */
  firstId?: string;
}

/** The reason of a rejection the client learned of at a sync, when the server kept none. */
export const REJECTED_WHILE_AWAY = 'rejected while this client was away';

export type PatchVerdict =
  | { status: 'accepted'; version?: number }
  | { status: 'ignored'; version?: number }
  | { status: 'rejected'; code: ErrorCode; reason: string };

export type PatchEvent =
  /** The transport handed it to an open socket. */
  | { type: 'PATCH.SENT' }
  /** No socket: it waits in the outbox. */
  | { type: 'PATCH.QUEUED' }
  /** The socket closed before an answer came: it will be sent again. */
  | { type: 'CONNECTION.LOST' }
  | { type: 'SERVER.ACCEPTED'; version: number }
  | { type: 'SERVER.REJECTED'; code: ErrorCode; reason: string }
  /** A re-send of a patch the server had already processed; `rejected` says how it went the first time. */
  | { type: 'SERVER.IGNORED'; version?: number; rejected?: { code: ErrorCode; reason: string } }
  /** Settled by reconciliation (sync_state.lastSeq / outcomes) when the answer itself was lost. */
  | { type: 'SETTLED'; status: 'accepted' | 'rejected'; version?: number; code?: ErrorCode; reason?: string }
  /**
   * It no longer applies on top of the server state this client has seen (its node is gone, or it
   * built on a rejected patch): its effect left the local graph. Not a verdict: the server may still
   * accept it (another client may re-create that node first), so only the server's answer settles it.
   */
  | { type: 'LOCAL.NO_LONGER_APPLIES'; code: ErrorCode; reason: string }
  /** The server was reset (a new serverId): this patch was given a new seq after the server's lastSeq. */
  | { type: 'PATCH.RENUMBERED'; patchId: string; seq: number }
  /**
   * The local database refused the group commit it was part of: it left the local view (with the
   * writes staged after it) before it went anywhere. A local verdict: the server never saw it.
   */
  | { type: 'LOCAL.COMMIT_FAILED'; code: ErrorCode; reason: string };

export interface PatchContext {
  patchId: string;
  seq: number;
  verdict: PatchVerdict | undefined;
  /**
   * The id it was written under, when a server reset renumbered it: the inspector and the tests
   * follow a patch from its first actor to the one named for its new id by this.
   */
  firstId?: string;
}

/** One patch actor's outcome, as its parent hears of it. */
export interface PatchDone extends PatchRef {
  verdict: PatchVerdict;
  rollbackFailed?: boolean;
}

/**
 * What the parent hears when patch actors are done: one each by default (sendParent); the client
 * supplies actions that gather those of one tick into one event, so a burst of verdicts is not as
 * many events of the root.
 */
export type PatchDoneEvent = { type: 'PATCH.DONE'; done: PatchDone[] };

/**
 * The life of one local patch, from the optimistic write to its verdict. One actor per pending
 * patch. It never touches the network or the database: the transport tells it when it was sent or
 * queued, the server's answers arrive as events, and the rollback is an actor the client supplies.
 *
 *   unanswered (optimistic -> queued <-> sent) -> accepted | ignored | rejected -> rolledBack
 *   optimistic -> notCommitted (the local group commit failed)
 *
 * A verdict can only come for a patch on the wire (sent); reconciliation can settle a queued one.
 */
export const patchMachine = setup({
  types: {
    context: {} as PatchContext,
    events: {} as PatchEvent,
    input: {} as PatchInput,
  },
  actors: {
    /** Undo this patch in the local graph (the store rebases the patches after it). Supplied by the client. */
    rollback: fromPromise<void, { patchId: string; code: ErrorCode; reason: string }>(async () => {
      throw new Error('rollback is supplied by the client runtime');
    }),
  },
  guards: {
    rejectedTheFirstTime: ({ event }) => event.type === 'SERVER.IGNORED' && event.rejected !== undefined,
    settledAsRejected: ({ event }) => event.type === 'SETTLED' && event.status === 'rejected',
  },
  actions: {
    /** Supplied by the client: the user hears of it (a `conflict` event) before the verdict. */
    reportNoLongerApplies: () => {},
    recordAccepted: assign({
      verdict: ({ event }) => ({
        status: 'accepted' as const,
        ...('version' in event && event.version !== undefined ? { version: event.version } : {}),
      }),
    }),
    recordIgnored: assign({
      verdict: ({ event }) => ({
        status: 'ignored' as const,
        ...('version' in event && event.version !== undefined ? { version: event.version } : {}),
      }),
    }),
    recordRejected: assign({
      verdict: ({ event }): PatchVerdict => {
        switch (event.type) {
          case 'SERVER.REJECTED':
          case 'LOCAL.COMMIT_FAILED':
            return { status: 'rejected', code: event.code, reason: event.reason };
          case 'SERVER.IGNORED':
            return { status: 'rejected', code: event.rejected!.code, reason: event.rejected!.reason };
          case 'SETTLED':
            return {
              status: 'rejected',
              code: event.code ?? 'internal',
              reason: event.reason ?? REJECTED_WHILE_AWAY,
            };
          default:
            return { status: 'rejected', code: 'internal', reason: 'unexpected event' };
        }
      },
    }),
    reportDone: sendParent(
      ({ context }): PatchDoneEvent => ({
        type: 'PATCH.DONE',
        done: [{ patchId: context.patchId, seq: context.seq, verdict: context.verdict! }],
      }),
    ),
    reportRollbackFailed: sendParent(
      ({ context }): PatchDoneEvent => ({
        type: 'PATCH.DONE',
        done: [{ patchId: context.patchId, seq: context.seq, verdict: context.verdict!, rollbackFailed: true }],
      }),
    ),
  },
}).createMachine({
  id: 'patch',
  context: ({ input }) => ({
    patchId: input.patchId,
    seq: input.seq,
    verdict: undefined,
    ...(input.firstId !== undefined ? { firstId: input.firstId } : {}),
  }),
  initial: 'unanswered',
  states: {
    unanswered: {
      initial: 'optimistic',
      states: {
        /** In the local view (memory-first); once its group commit is done it is sent or queued. */
        optimistic: {
          on: {
            'PATCH.SENT': 'sent',
            'PATCH.QUEUED': 'queued',
            'LOCAL.COMMIT_FAILED': { target: '#patch.notCommitted', actions: 'recordRejected' },
          },
        },
        /** Offline: waits in the outbox; writes keep working. Reconciliation may settle it. */
        queued: {
          on: {
            'PATCH.SENT': 'sent',
            SETTLED: [
              { guard: 'settledAsRejected', target: '#patch.rejected', actions: 'recordRejected' },
              { target: '#patch.accepted', actions: 'recordAccepted' },
            ],
            'LOCAL.NO_LONGER_APPLIES': { actions: 'reportNoLongerApplies' },
            'PATCH.RENUMBERED': '#patch.renumbered',
          },
        },
        /** On the wire, awaiting the server's verdict. */
        sent: {
          on: {
            'CONNECTION.LOST': 'queued',
            'SERVER.ACCEPTED': { target: '#patch.accepted', actions: 'recordAccepted' },
            'SERVER.REJECTED': { target: '#patch.rejected', actions: 'recordRejected' },
            'SERVER.IGNORED': [
              { guard: 'rejectedTheFirstTime', target: '#patch.rejected', actions: 'recordRejected' },
              { target: '#patch.ignored', actions: 'recordIgnored' },
            ],
            // A resync while connected can settle it too, when its answer went missing.
            SETTLED: [
              { guard: 'settledAsRejected', target: '#patch.rejected', actions: 'recordRejected' },
              { target: '#patch.accepted', actions: 'recordAccepted' },
            ],
            'LOCAL.NO_LONGER_APPLIES': { actions: 'reportNoLongerApplies' },
          },
        },
      },
    },
    accepted: { type: 'final', entry: 'reportDone' },
    /** Already applied: the server had processed this seq before (its answer was lost). */
    ignored: { type: 'final', entry: 'reportDone' },
    /** The server said no: take its effect out of the local graph (if it is still there). */
    rejected: {
      invoke: {
        src: 'rollback',
        input: ({ context }) => {
          const v = context.verdict as Extract<PatchVerdict, { status: 'rejected' }>;
          return { patchId: context.patchId, code: v.code, reason: v.reason };
        },
        onDone: 'rolledBack',
        onError: 'rollbackFailed',
      },
    },
    rolledBack: { type: 'final', entry: 'reportDone' },
    /** Never committed, never sent: it already left the local view, there is nothing to roll back. */
    notCommitted: { type: 'final', entry: 'reportDone' },
    /**
     * A server reset gave it a new seq: it goes on as a new actor named for its new id, queued, with
     * this one's id as its `firstId`. An actor is named for its id once and for all (its systemId),
     * so the inspector finds a patch under the id it has now.
     */
    renumbered: { type: 'final' },
    /** The local database refused the rollback: the client falls back to a full resync. */
    rollbackFailed: { type: 'final', entry: 'reportRollbackFailed' },
  },
});

export type PatchMachine = typeof patchMachine;
