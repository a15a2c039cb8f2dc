import { fromPromise, sendTo, setup } from 'xstate';
import type { ConnectionInput, ConnectionParentEvent, ConnectionStatus } from './connection.machine.js';
import { connectionMachine } from './connection.machine.js';
import type { PatchDoneEvent, PatchRef } from './patch.machine.js';
import { storeMachine } from './store.machine.js';

/**
 * Events are namespaced by who sends them: CLIENT.* come from the embedding (the SyncClient API and
 * its runtime) and are passed on to the connection, CONNECTION.* from the connection machine (and
 * CONNECTION.CHUNK from it to the reconciliation), PATCH.* from the store's group commits and the frame and patch actors.
 */
export type ClientEvent =
  | ConnectionParentEvent
  | PatchDoneEvent
  /**
   * A group commit of local writes is done (their outbox rows are in the database): they may go on
   * the wire. Until then they are staged in the store (optimistic, in the local view) with no actor.
   */
  | { type: 'PATCH.COMMITTED'; patches: PatchRef[] }
  /** Ask the server for state again (a gap in versions, a failed rollback). */
  | { type: 'CLIENT.RESYNC' }
  /** Connect now (when started offline, or after a 401 with a fresh token). */
  | { type: 'CLIENT.CONNECT' }
  | { type: 'CLIENT.CLOSE' };

export interface ClientInput {
  connection: ConnectionInput;
  /** Connect as soon as the client starts (default). Off: stay offline until CLIENT.CONNECT. */
  autoConnect: boolean;
}

/**
 * The root of a client's actor system. It starts the store (the single writer) and the connection,
 * and coordinates the pending patches once their group commit is done: sent at once, the group's
 * patches share one frame actor for the common path (sent, then accepted or ignored); a patch that
 * leaves that path, or is queued offline, has a patch actor of its own. Both report verdicts back
 * here. Actors find each other by systemId: 'client', 'store', 'connection', 'reconciliation',
 * 'frame:<n>', 'patch:<id>'. The server's acknowledgements, broadcasts and errors do not pass
 * through here: the connection's socket actor hands them to the store and the patch actors (see
 * isControlMessage). The socket exists only while the connection is online: they come only in
 * `running` and `closing`.
 *
 *   starting -> running -> closing (flush, close the socket) -> stopping (drain the store, close the database) -> closed
 */
export const clientMachine = setup({
  types: {
    context: {} as ClientInput,
    events: {} as ClientEvent,
    input: {} as ClientInput,
  },
  actors: {
    store: storeMachine,
    connection: connectionMachine,
    /** Supplied by the client: waits for the store to go idle, then closes the database. */
    shutdown: fromPromise<void>(async () => {}),
  },
  actions: {
    // Supplied by the client runtime: each is the outbox's (or the runtime's) method of the same name.
    /**
     * Sends the newly committed patches when ready (one frame actor for them), else queues them (a
     * patch actor each). Actors are children of this one but not in its snapshot (quadratic).
     */
    transmitNew: (_, _params: { patches: PatchRef[] }) => {},
    /** Ready again: sends every patch not yet sent on this connection, in seq order. */
    transmitAll: () => {},
    /** The connection is gone: whatever was on the wire waits to be sent again. */
    markUnsent: () => {},
    /** Patches reached their verdicts (in a frame or their own actors): the user hears of them. */
    settlePatch: (_, _params: PatchDoneEvent) => {},
    reportStatus: (_, _params: { status: ConnectionStatus }) => {},
    /** Stops the frame and patch actors still unanswered: their patches stay in the outbox (and the file). */
    stopPatches: () => {},
    connect: sendTo('connection', { type: 'CLIENT.CONNECT' }),
    closeConnection: sendTo('connection', { type: 'CLIENT.CLOSE' }),
    resync: sendTo('connection', { type: 'CLIENT.RESYNC' }),
  },
  guards: {
    autoConnect: ({ context }) => context.autoConnect,
  },
}).createMachine({
  id: 'client',
  context: ({ input }) => input,
  initial: 'starting',
  invoke: [
    { id: 'store', systemId: 'store', src: 'store' },
    { id: 'connection', systemId: 'connection', src: 'connection', input: ({ context }) => context.connection },
  ],
  states: {
    /** Connects at once unless the embedding asked to start offline (autoConnect: false). */
    starting: {
      always: [{ guard: 'autoConnect', target: 'running', actions: 'connect' }, { target: 'running' }],
    },
    running: {
      on: {
        'CLIENT.CONNECT': { actions: 'connect' },
        // Never before: a seq on the wire whose row a crash could lose would come back with other ops.
        'PATCH.COMMITTED': { actions: { type: 'transmitNew', params: ({ event }) => ({ patches: event.patches }) } },
        'CONNECTION.READY': { actions: 'transmitAll' },
        'CONNECTION.LOST': { actions: 'markUnsent' },
        'CLIENT.RESYNC': { actions: 'resync' },
        'CLIENT.CLOSE': 'closing',
      },
    },
    closing: {
      entry: 'closeConnection',
      on: {
        'CONNECTION.LOST': { actions: 'markUnsent' },
        // The connection machine reaches its final state once it has flushed and closed.
        'xstate.done.actor.connection': 'stopping',
      },
    },
    /**
     * The store drains, then the database closes. The patch actors live on until then: a rebase that
     * was running when the connection closed settles some of them, and the user must hear of those
     * (their rows have left the database).
     */
    stopping: {
      invoke: { src: 'shutdown', onDone: 'closed', onError: 'closed' },
    },
    closed: { type: 'final', entry: 'stopPatches' },
  },
  on: {
    // Verdicts are news in every state: one the store learns while the client closes too.
    'PATCH.DONE': { actions: { type: 'settlePatch', params: ({ event }) => event } },
    'CONNECTION.STATUS': { actions: { type: 'reportStatus', params: ({ event }) => ({ status: event.status }) } },
  },
});

export type ClientMachine = typeof clientMachine;
