import { assign, setup } from 'xstate';
import type { ErrorCode } from '../src/protocol/types.js';
import type { PatchDone, PatchEvent, PatchRef } from './patch.machine.js';

/** The server's answer to one patch of a frame, as the socket delivered it. */
export type FrameAnswer =
  | { patchId: string; status: 'accepted'; version: number }
  | { patchId: string; status: 'rejected'; code: ErrorCode; reason: string }
  /** A re-send the server had processed before; `rejected` says how it went the first time. */
  | { patchId: string; status: 'ignored'; version?: number; rejected?: { code: ErrorCode; reason: string } };

export type FrameEvent =
  /** The answers of one socket read to patches of this frame, in the order they came. */
  | { type: 'SERVER.ANSWERED'; answers: FrameAnswer[] }
  /**
   * Something other than an answer happened to one of its patches (reconciliation settled it, or it
   * no longer applies here): that patch leaves the common path, with the event its own actor takes.
   */
  | { type: 'PATCH.LEAVES'; patchId: string; event: PatchEvent }
  /** The socket closed before every answer came: the unanswered patches wait to be sent again. */
  | { type: 'CONNECTION.LOST' };

export interface FrameInput {
  patches: PatchRef[];
}

export interface FrameContext {
  /** The patches still on the common path (sent, unanswered), in seq order. */
  open: PatchRef[];
  /** What the last event ended (see sortOut): the verdicts and departures the client is told of. */
  ended: Omit<Outcome, 'open'>;
}

/**
 * A patch leaving the frame's common path: it goes on as its own patch actor, which starts where the
 * frame had it (sent) and takes `event`.
 */
export interface Departure {
  patch: PatchRef;
  event: PatchEvent;
}

/** The event a patch actor takes for this answer. */
export const answerEvent = (a: FrameAnswer): PatchEvent => {
  switch (a.status) {
    case 'accepted':
      return { type: 'SERVER.ACCEPTED', version: a.version };
    case 'rejected':
      return { type: 'SERVER.REJECTED', code: a.code, reason: a.reason };
    case 'ignored':
      return {
        type: 'SERVER.IGNORED',
        ...(a.version !== undefined ? { version: a.version } : {}),
        ...(a.rejected ? { rejected: a.rejected } : {}),
      };
  }
};

/** Accepted, or ignored as a re-send of an accepted patch: the common path's two verdicts. */
const staysOnPath = (a: FrameAnswer) => a.status === 'accepted' || (a.status === 'ignored' && !a.rejected);

/** What one event ends for the frame: the verdicts on its path, the patches that leave it, and what stays open. */
export interface Outcome {
  done: PatchDone[];
  departures: Departure[];
  open: PatchRef[];
}

function settleOne(patch: PatchRef, a: FrameAnswer, done: PatchDone[], departures: Departure[]): void {
  if (!staysOnPath(a)) return void departures.push({ patch, event: answerEvent(a) });
  const version = 'version' in a && a.version !== undefined ? { version: a.version } : {};
  done.push({ ...patch, verdict: { status: a.status as 'accepted' | 'ignored', ...version } });
}

export function sortOut(open: PatchRef[], event: FrameEvent): Outcome {
  const done: PatchDone[] = [];
  const departures: Departure[] = [];
  if (event.type === 'CONNECTION.LOST') {
    for (const patch of open) departures.push({ patch, event: { type: 'CONNECTION.LOST' } });
    return { done, departures, open: [] };
  }
  // The server answers a client's patches in seq order, so answers usually take a prefix of the
  // open ones: a frame may carry thousands, answered over many reads, and a pass over all of them
  // per read would make a burst quadratic.
  if (event.type === 'SERVER.ANSWERED' && event.answers.every((a, i) => open[i]?.patchId === a.patchId)) {
    event.answers.forEach((a, i) => settleOne(open[i]!, a, done, departures));
    return { done, departures, open: open.slice(event.answers.length) };
  }
  const answers =
    event.type === 'PATCH.LEAVES'
      ? new Map([[event.patchId, event.event]])
      : new Map(event.answers.map((a) => [a.patchId, a]));
  const stillOpen: PatchRef[] = [];
  for (const patch of open) {
    const a = answers.get(patch.patchId);
    if (!a) stillOpen.push(patch);
    else if ('type' in a) departures.push({ patch, event: a });
    else settleOne(patch, a, done, departures);
  }
  // An answer to a patch not open (answered before, or left) changes nothing.
  return { done, departures, open: stillOpen.length === open.length ? open : stillOpen };
}

/**
 * The common path of the patches of one group commit, sent together (one or more frames of one
 * tick): sent, then accepted or ignored. One actor for the lot instead of one per patch, since a
 * patch's life as an actor costs more than the rest of a write (about 60 µs of a burst's patch).
 * Every patch that leaves this path (rejected, ignored as a re-send of a rejected one, settled by a
 * resync, no longer applies here, or still unanswered when the socket closed) goes on as its own
 * patch actor (machines/patch.machine.ts), which starts in `sent`, where the frame had it, and takes
 * that event.
 *
 *   sent -> answered (every patch has its verdict or left) | lost (the rest wait to be sent again)
 */
export const frameMachine = setup({
  types: {
    context: {} as FrameContext,
    events: {} as FrameEvent,
    input: {} as FrameInput,
  },
  actions: {
    /** Supplied by the client: the verdicts reach the root (PATCH.DONE), the departures become patch actors. */
    sortOut: assign(({ context, event }) => {
      const { open, ...ended } = sortOut(context.open, event);
      return { open, ended };
    }),
    settle: (_, _params: Omit<Outcome, 'open'>) => {},
  },
  guards: {
    allSettled: ({ context }) => context.open.length === 0,
  },
}).createMachine({
  id: 'frame',
  context: ({ input }) => ({ open: input.patches, ended: { done: [], departures: [] } }),
  initial: 'sent',
  states: {
    /** On the wire, awaiting the server's answers. */
    sent: {
      always: { guard: 'allSettled', target: 'answered' },
      on: {
        'SERVER.ANSWERED': {
          actions: ['sortOut', { type: 'settle', params: ({ context }) => context.ended }],
        },
        'PATCH.LEAVES': {
          actions: ['sortOut', { type: 'settle', params: ({ context }) => context.ended }],
        },
        'CONNECTION.LOST': {
          target: 'lost',
          actions: ['sortOut', { type: 'settle', params: ({ context }) => context.ended }],
        },
      },
    },
    /** Every patch has its verdict, here or as its own actor. */
    answered: { type: 'final' },
    /** The unanswered patches went on as their own actors, queued to be sent again. */
    lost: { type: 'final' },
  },
});

export type FrameMachine = typeof frameMachine;
