import { enqueueActions, fromPromise, sendTo, setup } from 'xstate';
import type { ConnectionInput, ConnectionParentEvent } from './connection.machine.js';
import { connectionMachine } from './connection.machine.js';
import type { PatchDoneEvent } from './patch.machine.js';
import { storeMachine } from './store.machine.js';

/**
 * The root of a client's actor system. It starts the store (the single writer) and the connection,
 * and coordinates the patch actors: one per pending patch, created when a local write has been
 * applied, told when the transport sends or queues it, and told the server's verdict. Actors find
 * each other by systemId: 'client', 'store', 'connection', 'reconciliation', 'patch:<id>'.
 *
 *   running -> closing (flush, close the socket) -> stopping (close the database) -> closed
 */

/**
 * Events are namespaced by who sends them: CLIENT.* come from the embedding (the SyncClient API and
 * its runtime) and are passed on to the connection, CONNECTION.* from the connection machine (and
 * CONNECTION.CHUNK from it to the reconciliation), PATCH.* from local writes and patch actors.
 */
export type ClientEvent =
  | ConnectionParentEvent
  | PatchDoneEvent
  /** Local writes were applied (those of one store transaction, in seq order): start their patch actors. */
  | { type: 'PATCH.CREATED'; patches: Array<{ patchId: string; seq: number }> }
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
    // Each is supplied by the client runtime, which owns the outbox and the user-facing events.
    spawnPatch: () => {},
    transmitNew: () => {},
    transmitAll: () => {},
    markUnsent: () => {},
    settlePatch: () => {},
    routeData: () => {},
    reportStatus: () => {},
    /** Stops the patch actors still unanswered: their patches stay in the outbox (and the file). */
    stopPatches: () => {},
    connect: sendTo('connection', { type: 'CLIENT.CONNECT' }),
    autoConnect: enqueueActions(({ context, enqueue }) => {
      if (context.autoConnect) enqueue.sendTo('connection', { type: 'CLIENT.CONNECT' });
    }),
    closeConnection: sendTo('connection', { type: 'CLIENT.CLOSE' }),
    resync: sendTo('connection', { type: 'CLIENT.RESYNC' }),
  },
}).createMachine({
  id: 'client',
  context: ({ input }) => input,
  initial: 'running',
  invoke: [
    { id: 'store', systemId: 'store', src: 'store' },
    { id: 'connection', systemId: 'connection', src: 'connection', input: ({ context }) => context.connection },
  ],
  states: {
    running: {
      entry: 'autoConnect',
      on: {
        'CLIENT.CONNECT': { actions: 'connect' },
        'PATCH.CREATED': { actions: ['spawnPatch', 'transmitNew'] },
        'PATCH.DONE': { actions: 'settlePatch' },
        'CONNECTION.READY': { actions: 'transmitAll' },
        'CONNECTION.LOST': { actions: 'markUnsent' },
        'CONNECTION.DATA': { actions: 'routeData' },
        'CLIENT.RESYNC': { actions: 'resync' },
        'CLIENT.CLOSE': 'closing',
      },
    },
    closing: {
      entry: 'closeConnection',
      on: {
        'PATCH.DONE': { actions: 'settlePatch' },
        'CONNECTION.DATA': { actions: 'routeData' },
        'CONNECTION.LOST': { actions: 'markUnsent' },
        // The connection machine reaches its final state once it has flushed and closed.
        'xstate.done.actor.connection': 'stopping',
      },
    },
    stopping: {
      entry: 'stopPatches',
      invoke: { src: 'shutdown', onDone: 'closed', onError: 'closed' },
    },
    closed: { type: 'final' },
  },
  on: {
    'CONNECTION.STATUS': { actions: 'reportStatus' },
  },
});

export type ClientMachine = typeof clientMachine;
