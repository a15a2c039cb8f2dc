import { createActor, fromPromise, type ActorRefFrom, type AnyActorRef } from 'xstate';
import { frameMachine, type Departure } from '../../machines/frame.machine.js';
import {
  patchMachine,
  type PatchDone,
  type PatchEvent,
  type PatchInput,
  type PatchRef,
} from '../../machines/patch.machine.js';
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
    const actor = this.start({ patchId, seq }, from);
    actor.send(event);
    return actor;
  }

  /**
   * A patch a server reset renumbered: its actor ends (`renumbered`, which frees its name) and
   * `resume` carries it on, queued, as an actor named for the new id. End every one before resuming
   * any: the old and the new ids overlap. Only queued patches are renumbered.
   */
  retire(old: PatchActor, to: PatchRef): void {
    old.send({ type: 'PATCH.RENUMBERED', patchId: to.patchId, seq: to.seq });
  }
  resume(to: PatchRef, firstId: string): PatchActor {
    return this.start({ ...to, firstId }, 'queued');
  }

  /** Started in `from` (where the patch already is), or at the chart's beginning. */
  private start(input: PatchInput, from?: 'sent' | 'queued'): PatchActor {
    // A stale actor may still hold the name (a bug, not a user error): the new one goes unnamed
    // in the system rather than fail.
    const systemId = `patch:${input.patchId}`;
    const named = this.deps.system().get(systemId) === undefined;
    const context = { ...input, verdict: undefined };
    const actor = createActor(this.patchLogic, {
      parent: this.root(),
      ...(named ? { systemId } : {}),
      input,
      ...(from ? { snapshot: this.patchLogic.resolveState({ value: { unanswered: from }, context }) } : {}),
    });
    actor.start();
    return actor;
  }

  root(): AnyActorRef | undefined {
    return this.deps.system().get('client');
  }
}
