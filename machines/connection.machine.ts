import { assertEvent, assign, fromCallback, fromPromise, sendParent, sendTo, setup } from 'xstate';
import { CLOSE_FORBIDDEN, CLOSE_REPLACED, CLOSE_UNAUTHORIZED } from '../src/protocol/close-codes.js';
import type { ServerMessage, SyncStateMessage } from '../src/protocol/types.js';
import { reconciliationMachine } from './reconciliation.machine.js';

export interface ConnectionInput {
  reconnectInterval: number;
  maxReconnectInterval: number;
  heartbeatInterval: number;
  /**
   * How long an attempt may take to open the socket (the token, TCP, the HTTP upgrade) before it
   * counts as failed: a token provider or a server that never answers must not hold `connecting`.
   */
  connectTimeout: number;
  /** How long to wait for the first sync_state after the socket opens. */
  handshakeTimeout: number;
  /** How long close() waits for the answers to patches on the wire. */
  flushTimeout: number;
}

export type ConnectionStatus =
  | 'disconnected'
  | 'connecting'
  | 'handshaking'
  | 'reconciling'
  | 'ready'
  | 'offline'
  | 'unauthorized'
  | 'closed';

export type SocketEvent =
  | { type: 'SOCKET.OPEN' }
  | { type: 'SOCKET.CLOSED'; code?: number; reason?: string }
  | { type: 'SOCKET.UNAUTHORIZED' }
  /** A message this machine acts on itself (see isControlMessage), one event each. */
  | { type: 'SOCKET.MESSAGE'; message: ServerMessage };

/**
 * The server refuses this client itself, not one of its patches: the principal may not sync as this
 * clientId. Retrying would only be refused again, as after a 401.
 */
export const isRefusal = (m: ServerMessage): boolean =>
  m.type === 'error' && m.patchId === undefined && (m.code === 'forbidden' || m.code === 'unauthorized');

/**
 * The same refusals made after the upgrade, as close codes (what a browser-style connection gets):
 * 4401 is a 401, 4403 a clientId its principal may not use. And 4000: another connection of this
 * clientId replaced this one. Never one of ours: the server keeps the connection it accepted last
 * (a stale socket of ours whose sync_request comes late is the one closed, and a socket this client
 * gave up on is not heard). So another client uses the clientId: competing for it would only take
 * turns replacing each other, each writing patches the other's seqs shadow. The error code each
 * stands for, or undefined.
 */
export const refusalOfClose = (code: number | undefined): 'unauthorized' | 'forbidden' | undefined =>
  code === CLOSE_UNAUTHORIZED
    ? 'unauthorized'
    : code === CLOSE_FORBIDDEN || code === CLOSE_REPLACED
      ? 'forbidden'
      : undefined;

/**
 * The messages the connection statechart acts on: heartbeats, sync_state chunks and refusals. The
 * socket delivers them one event each. The rest (acknowledgements, broadcasts, errors) it gathers
 * per tick and hands to the client itself, in order with these: in `online`, the only state with a
 * socket, this machine would only pass them on, its state unchanged, and the two events that cost
 * (this machine's and the client's) were 0.1 ms of a broadcast's way to a live query (#16).
 */
export const isControlMessage = (m: ServerMessage): boolean =>
  m.type === 'heartbeat' || m.type === 'sync_state' || isRefusal(m);

export type ConnectionEvent =
  | SocketEvent
  | { type: 'CLIENT.CONNECT' }
  /** Request state from the server again (a gap in versions, a failed rollback). */
  | { type: 'CLIENT.RESYNC' }
  /** Flush what can be flushed, then close. */
  | { type: 'CLIENT.CLOSE' };

/** Events this machine sends its parent (the client). */
export type ConnectionParentEvent =
  | { type: 'CONNECTION.STATUS'; status: ConnectionStatus }
  | { type: 'CONNECTION.READY' }
  | { type: 'CONNECTION.LOST' };

export interface ConnectionContext extends ConnectionInput {
  /** Failed attempts since the server was last seen alive (see `server` in `ready`). */
  attempt: number;
  missedHeartbeats: number;
}

/**
 * Exponential backoff with full jitter: the `attempt`-th retry in a row (1 for the first) waits a
 * time uniform in [0, min(max, base * 2^(attempt - 1))], so the first one is bounded by `base`.
 */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  const cap = Math.min(max, base * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.floor(random() * cap);
}

/**
 * The connection lifecycle. The socket itself is an actor the client supplies (`socket`); this
 * machine decides when to open it, what the first exchange is, when the connection counts as lost,
 * and how long to wait before trying again.
 *
 *   disconnected -> online(connecting -> handshaking -> reconciling -> ready -> closing) -> closed
 *                     ^ lost / failed: backoff (exponential, full jitter) -'
 *
 * The backoff starts again from `reconnectInterval` once the server is seen alive: the connection
 * reached `ready` (the server answered sync_request and its answer applied here) and stayed there for
 * `maxReconnectInterval`. Not on an open socket: a proxy with no backend, or a server that accepts
 * and drops at once, would then be retried at the base rate forever. Nor at once on `ready`: a server
 * that serves a sync and then drops the connection would get a full sync at the base rate; this way
 * it sees a client no more often than the capped backoff allows.
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
  },
  actors: {
    /**
     * Opens the WebSocket and reports SOCKET.* events; closes it when stopped. Supplied by the client,
     * which also hears from it every message that is not a control message (see isControlMessage).
     */
    socket: fromCallback<{ type: 'noop' }, { attempt: number }>(() => () => {}),
    reconciliation: reconciliationMachine,
    /** Resolves when every patch on the wire has its answer. */
    flush: fromPromise<void>(async () => {}),
  },
  actions: {
    /** Supplied by the client: it knows the clientId, its version and what it has been told. */
    sendSyncRequest: () => {},
    sendHeartbeat: () => {},
    notifyReady: sendParent({ type: 'CONNECTION.READY' } satisfies ConnectionParentEvent),
    notifyLost: sendParent({ type: 'CONNECTION.LOST' } satisfies ConnectionParentEvent),
    /** Tells the client, which tells the user (the `status` event). */
    reportStatus: sendParent(
      (_, params: { status: ConnectionStatus }) =>
        ({ type: 'CONNECTION.STATUS', status: params.status }) satisfies ConnectionParentEvent,
    ),
    forwardChunk: sendTo('reconciliation', (_, params: { message: SyncStateMessage }) => ({
      type: 'CONNECTION.CHUNK' as const,
      message: params.message,
    })),
    countAttempt: assign({ attempt: ({ context }) => context.attempt + 1 }),
    /** The server was seen alive: the next lost connection waits `reconnectInterval` at most. */
    resetAttempts: assign({ attempt: 0 }),
    countMissedHeartbeat: assign({ missedHeartbeats: ({ context }) => context.missedHeartbeats + 1 }),
    resetHeartbeats: assign({ missedHeartbeats: 0 }),
  },
  guards: {
    isHeartbeat: ({ event }) => event.type === 'SOCKET.MESSAGE' && event.message.type === 'heartbeat',
    isSyncState: ({ event }) => event.type === 'SOCKET.MESSAGE' && event.message.type === 'sync_state',
    refused: ({ event }) => event.type === 'SOCKET.MESSAGE' && isRefusal(event.message),
    /** Closed with 4401, 4403 or 4000: refused after the upgrade (see refusalOfClose). */
    closedAsRefused: ({ event }) => event.type === 'SOCKET.CLOSED' && refusalOfClose(event.code) !== undefined,
    twoHeartbeatsMissed: ({ context }) => context.missedHeartbeats >= 2,
  },
  delays: {
    /** Supplied by the client with its random source; see backoffDelay. */
    backoff: ({ context }) =>
      backoffDelay(context.attempt, context.reconnectInterval, context.maxReconnectInterval, Math.random),
    heartbeat: ({ context }) => context.heartbeatInterval,
    /** How long a ready connection must stay up to reset the backoff: as long as the longest wait. */
    stableConnection: ({ context }) => context.maxReconnectInterval,
    connectTimeout: ({ context }) => context.connectTimeout,
    handshakeTimeout: ({ context }) => context.handshakeTimeout,
    /** close() waits this long for answers; unanswered patches stay pending (in the database, if a file). */
    flushTimeout: ({ context }) => context.flushTimeout,
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({ ...input, attempt: 0, missedHeartbeats: 0 }),
  initial: 'disconnected',
  states: {
    disconnected: {
      on: { 'CLIENT.CONNECT': 'online', 'CLIENT.CLOSE': 'closed' },
    },
    online: {
      initial: 'connecting',
      invoke: { id: 'socket', src: 'socket', input: ({ context }) => ({ attempt: context.attempt }) },
      on: {
        'SOCKET.CLOSED': [{ guard: 'closedAsRefused', target: '#connection.unauthorized' }, { target: 'backoff' }],
        'SOCKET.MESSAGE': [
          { guard: 'refused', target: '#connection.unauthorized' },
          // Anything else here is a late chunk of an answer already handled: nothing to do.
          { guard: 'isHeartbeat', actions: 'resetHeartbeats' },
        ],
        'CLIENT.CLOSE': '#connection.closed',
      },
      states: {
        connecting: {
          entry: { type: 'reportStatus', params: { status: 'connecting' } },
          // Leaving `online` stops the socket actor, which drops the attempt however far it got.
          after: { connectTimeout: '#connection.backoff' },
          on: {
            'SOCKET.OPEN': 'handshaking',
            'SOCKET.UNAUTHORIZED': '#connection.unauthorized',
          },
        },
        /** sync_request sent; waiting for the first chunk of the answer. */
        handshaking: {
          entry: [{ type: 'reportStatus', params: { status: 'handshaking' } }, 'sendSyncRequest'],
          after: { handshakeTimeout: '#connection.backoff' },
          on: {
            'SOCKET.MESSAGE': { guard: 'isSyncState', target: 'reconciling' },
          },
        },
        reconciling: {
          entry: { type: 'reportStatus', params: { status: 'reconciling' } },
          invoke: {
            id: 'reconciliation',
            systemId: 'reconciliation',
            src: 'reconciliation',
            // The chunk that led here: the child does not exist yet while this transition runs.
            input: ({ event }) => {
              assertEvent(event, 'SOCKET.MESSAGE');
              return { first: event.message as SyncStateMessage };
            },
            onDone: 'ready',
            // The answer could not be applied: drop the connection and try again later.
            onError: '#connection.backoff',
          },
          on: {
            'SOCKET.MESSAGE': {
              guard: 'isSyncState',
              actions: {
                type: 'forwardChunk',
                params: ({ event }) => ({ message: event.message as SyncStateMessage }),
              },
            },
          },
        },
        ready: {
          entry: ['resetHeartbeats', { type: 'reportStatus', params: { status: 'ready' } }, 'notifyReady'],
          on: {
            'CLIENT.RESYNC': 'resyncing',
            'CLIENT.CLOSE': 'closing',
          },
          type: 'parallel',
          states: {
            heartbeats: {
              initial: 'idle',
              states: {
                idle: {
                  after: {
                    heartbeat: [
                      { guard: 'twoHeartbeatsMissed', target: '#connection.backoff' },
                      { target: 'idle', reenter: true, actions: ['sendHeartbeat', 'countMissedHeartbeat'] },
                    ],
                  },
                },
              },
            },
            /** Lost before `stableConnection`, the backoff goes on from where it was. */
            server: {
              initial: 'unproven',
              states: {
                unproven: { after: { stableConnection: { target: 'seenAlive', actions: 'resetAttempts' } } },
                seenAlive: {},
              },
            },
          },
        },
        /** Ready, but asking the server for state again. */
        resyncing: {
          entry: { type: 'reportStatus', params: { status: 'reconciling' } },
          invoke: {
            id: 'reconciliation',
            systemId: 'reconciliation',
            src: 'reconciliation',
            input: { request: true },
            onDone: 'ready',
            onError: '#connection.backoff',
          },
          on: {
            'SOCKET.MESSAGE': {
              guard: 'isSyncState',
              actions: {
                type: 'forwardChunk',
                params: ({ event }) => ({ message: event.message as SyncStateMessage }),
              },
            },
          },
        },
        /** Waiting (a while, not forever) for the answers to what is on the wire, then closing. */
        closing: {
          invoke: { src: 'flush', onDone: '#connection.closed' },
          after: { flushTimeout: '#connection.closed' },
          // The answers will not come: what was on the wire is queued again (and kept, with a file).
          on: { 'SOCKET.CLOSED': { target: '#connection.closed', actions: 'notifyLost' } },
        },
      },
    },
    backoff: {
      entry: [{ type: 'reportStatus', params: { status: 'offline' } }, 'notifyLost', 'countAttempt'],
      after: { backoff: 'online' },
      on: { 'CLIENT.CLOSE': 'closed' },
    },
    /**
     * The server said 401 (or closed with 4401), or refused this clientId (an error `forbidden`, or
     * close 4403), or another client took it over (close 4000): hammering it will not help. Waits
     * for an explicit CLIENT.CONNECT.
     */
    unauthorized: {
      entry: [{ type: 'reportStatus', params: { status: 'unauthorized' } }, 'notifyLost'],
      on: { 'CLIENT.CONNECT': 'online', 'CLIENT.CLOSE': 'closed' },
    },
    closed: { type: 'final', entry: { type: 'reportStatus', params: { status: 'closed' } } },
  },
});

export type ConnectionMachine = typeof connectionMachine;
