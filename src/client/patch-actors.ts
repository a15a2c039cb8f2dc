import { createActor, fromPromise, type ActorRefFrom, type AnyActorRef } from 'xstate';
import { frameMachine, type Departure } from '../../machines/frame.machine.js';
import { patchMachine, type PatchDone, type PatchEvent, type PatchRef } from '../../machines/patch.machine.js';
import type { ErrorCode } from '../protocol/types.js';

export type PatchActor = ActorRefFrom<typeof patchMachine>;
export type FrameActor = ActorRefFrom<typeof frameMachine>;

export interface PatchActorsDeps {
  /** The actor system the actors join (the root actor's, created after the outbox). */
  system(): { get(systemId: string): AnyActorRef | undefined };
  /** A patch reached its verdict, on a frame or as its own actor. */
  finished(d: PatchDone): void;
  /** Patches of a frame left its common path: each goes on as its own actor (see patch). */
  departed(departures: Departure[]): void;
  /** The user hears that a pending patch no longer applies here (a `conflict` with `local: true`). */
  noLongerApplies(patchId: string, code: ErrorCode, reason: string): void;
  /** Undo the patch in the local graph (the store rebases the patches after it). */
  rollback(patchId: string, code: ErrorCode, reason: string): Promise<void>;
}

/**
 * Makes the actors of pending patches, with the client's effects provided once (provide() builds a
 * whole machine, far too slow to do per patch). They are children of the root actor but not in its
 * snapshot: spawning copies the root's snapshot.children every time, quadratic in a burst.
 */
export class PatchActors {
  private readonly patchLogic;
  private readonly frameLogic;
  private frames = 0;

  constructor(private readonly deps: PatchActorsDeps) {
    const finished = deps.finished;
    this.patchLogic = patchMachine.provide({
      actions: {
        reportDone: ({ context }) =>
          finished({ patchId: context.patchId, seq: context.seq, verdict: context.verdict! }),
        reportRollbackFailed: ({ context }) =>
          finished({ patchId: context.patchId, seq: context.seq, verdict: context.verdict!, rollbackFailed: true }),
        reportNoLongerApplies: ({ context, event }) => {
          if (event.type === 'LOCAL.NO_LONGER_APPLIES') deps.noLongerApplies(context.patchId, event.code, event.reason);
        },
      },
      actors: {
        rollback: fromPromise(({ input }) => deps.rollback(input.patchId, input.code, input.reason)),
      },
    });
    this.frameLogic = frameMachine.provide({
      actions: {
        settle: (_, { done, departures }) => {
          for (const d of done) finished(d);
          deps.departed(departures);
        },
      },
    });
  }

  /** One actor for patches sent together (the common path), started in `sent`. */
  frame(patches: PatchRef[]): FrameActor {
    const frame = createActor(this.frameLogic, {
      parent: this.root(),
      systemId: `frame:${++this.frames}`,
      input: { patches },
    });
    frame.start();
    return frame;
  }

  /**
   * A patch's own actor, which takes `event` once started. One that leaves a frame starts where the
   * frame had it: sent.
   */
  patch({ patchId, seq }: PatchRef, event: PatchEvent, from?: 'sent'): PatchActor {
    // A patch renumbered after a server reset keeps the systemId of its first id, which a new
    // patch may now have: that one goes unnamed in the system rather than fail.
    const systemId = `patch:${patchId}`;
    const named = this.deps.system().get(systemId) === undefined;
    const input = { patchId, seq };
    const actor = createActor(this.patchLogic, {
      parent: this.root(),
      ...(named ? { systemId } : {}),
      input,
      ...(from
        ? {
            snapshot: this.patchLogic.resolveState({
              value: { unanswered: from },
              context: { ...input, verdict: undefined },
            }),
          }
        : {}),
    });
    actor.start();
    actor.send(event);
    return actor;
  }

  root(): AnyActorRef | undefined {
    return this.deps.system().get('client');
  }
}
