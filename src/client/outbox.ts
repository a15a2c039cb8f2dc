import { createActor, fromPromise, type ActorRefFrom, type AnyActorRef } from 'xstate';
import type { CreatedPatch } from '../../machines/client.machine.js';
import { patchMachine, type PatchDone, type PatchDoneEvent, type PatchEvent } from '../../machines/patch.machine.js';
import type { ServerChange } from '../../machines/store.machine.js';
import type { SyncError } from '../protocol/errors.js';
import type { ErrorCode, Patch, PatchResponseMessage } from '../protocol/types.js';
import { unreachable } from '../protocol/unreachable.js';
import { encodeMessage } from '../protocol/encode.js';
import type { Entry } from './pending.js';
import type { Emitter } from './events.js';
import type { Metrics } from './metrics.js';
import type { SyncClientEvents } from './options.js';
import type { Replica, Settlement, Unapplied } from './replica.js';
import type { Transport } from './transport.js';

export type PatchActor = ActorRefFrom<typeof patchMachine>;

/** What the outbox knows of one pending patch besides its entry in the replica (ops, inverse). */
interface Tracked {
  actor: PatchActor;
  /** Handed to the socket of the current connection: not sent again on it. */
  sent: boolean;
  /** When it last went out: the acknowledgement latency runs from here. */
  sentAt?: number | undefined;
}

export interface OutboxDeps {
  replica: Replica;
  transport: Transport;
  metrics: Metrics;
  events: Emitter<SyncClientEvents>;
  /** Takes the patch out of the local graph, in the store (the single writer). */
  rollback(patchId: string, code: ErrorCode, reason: string): Promise<void>;
  /** The server accepted one of ours: the store folds it into the confirmed state, in version order. */
  serverChange(change: ServerChange): void;
  /** Ask the server for state again; with what went wrong, a whole snapshot (the graph is out of step). */
  resync(outOfStep?: unknown): void;
  /** Something a waiter may be waiting for changed (the pending count, a verdict). */
  changed(): void;
}

/**
 * The one owner of a pending patch's life on this side of the wire: its actor (one per patch, its
 * statechart is machines/patch.machine.ts), whether it went out on this connection and when, and
 * where the server's verdict goes. The patch itself (ops, inverse) is the replica's entry, which
 * the store keeps in step with the database. Compare Zero's mutation tracker.
 */
export class Outbox {
  private readonly tracked = new Map<string, Tracked>();
  private online = false;
  private wasReady = false;
  /** Verdicts of this tick on their way to the root (see finished). */
  private done: PatchDone[] = [];

  /** Built once: provide() builds a whole machine, far too slow to do per patch. */
  private readonly patchLogic;

  constructor(
    /** The actor system the patch actors join (the root actor's, created after the outbox). */
    private readonly system: () => { get(systemId: string): AnyActorRef | undefined },
    private readonly deps: OutboxDeps,
  ) {
    this.patchLogic = patchMachine.provide({
      actions: {
        reportDone: ({ context }) =>
          this.finished({ patchId: context.patchId, seq: context.seq, verdict: context.verdict! }),
        reportRollbackFailed: ({ context }) =>
          this.finished({
            patchId: context.patchId,
            seq: context.seq,
            verdict: context.verdict!,
            rollbackFailed: true,
          }),
        reportNoLongerApplies: ({ context, event }) => {
          if (event.type !== 'LOCAL.NO_LONGER_APPLIES') return;
          deps.events.emit('conflict', {
            patchId: context.patchId,
            code: event.code,
            reason: event.reason,
            local: true,
          });
        },
      },
      actors: {
        rollback: fromPromise(({ input }) => deps.rollback(input.patchId, input.code, input.reason)),
      },
    });
  }

  /** Unanswered patches: sent or queued, not yet judged. */
  get pendingCount(): number {
    let n = 0;
    for (const t of this.tracked.values()) if (t.actor.getSnapshot().matches('unanswered')) n++;
    return n;
  }

  /** Patch actors still alive (those with a verdict live until their rollback, if any, is done). */
  get size(): number {
    return this.tracked.size;
  }

  /** Every patch on the wire has its answer: what close() waits for (bounded by the statechart). */
  get answered(): boolean {
    for (const t of this.tracked.values()) if (t.actor.getSnapshot().matches({ unanswered: 'sent' })) return false;
    return true;
  }

  // ---- the client statechart's actions (machines/client.machine.ts), by the same names ----------

  /**
   * A child of the root actor, created with createActor rather than spawned: spawning copies the
   * root's snapshot.children every time, quadratic in a burst of thousands.
   */
  spawnPatches(parent: AnyActorRef, patches: CreatedPatch[]): void {
    for (const { patchId, seq } of patches) {
      // A patch renumbered after a server reset keeps the systemId of its first id, which a new
      // patch may now have: that one goes unnamed in the system rather than fail.
      const systemId = `patch:${patchId}`;
      const named = this.system().get(systemId) === undefined;
      const actor = createActor(this.patchLogic, { parent, ...(named ? { systemId } : {}), input: { patchId, seq } });
      this.tracked.set(patchId, { actor, sent: false });
      actor.start();
    }
  }

  transmitNew(patches: CreatedPatch[]): void {
    for (const { patchId } of patches) {
      const e = this.deps.replica.entry(patchId);
      if (this.online && e) this.transmit(e);
      else this.tell(patchId, { type: 'PATCH.QUEUED' });
    }
  }

  /** Ready (after reconciliation): sends everything unanswered not yet sent on this connection, in seq order. */
  transmitAll(): void {
    this.online = true;
    if (this.wasReady) this.deps.metrics.reconnects++;
    this.wasReady = true;
    for (const e of this.deps.replica.entries) {
      // Staged entries come last (newest seqs): they go out when their group commit is done.
      if (e.staged) break;
      if (!this.tracked.get(e.patch.id)?.sent) this.transmit(e);
    }
    this.deps.changed();
  }

  markUnsent(): void {
    this.online = false;
    for (const t of this.tracked.values()) {
      t.sent = false;
      t.actor.send({ type: 'CONNECTION.LOST' } satisfies PatchEvent);
    }
    this.deps.changed();
  }

  settlePatch(e: PatchDoneEvent): void {
    const { metrics, events } = this.deps;
    for (const d of e.done) {
      // A patch actor in a final state has stopped itself and left the system.
      this.tracked.delete(d.patchId);
      const v = d.verdict;
      if (v.status === 'rejected') {
        metrics.patchesRejected++;
        const ev = { patchId: d.patchId, code: v.code, reason: v.reason };
        events.emit('rejected', ev);
        if (v.code === 'conflict') events.emit('conflict', ev);
      } else {
        if (v.status === 'accepted') metrics.patchesAccepted++;
        else metrics.patchesIgnored++;
        events.emit('accepted', { patchId: d.patchId, ...(v.version !== undefined ? { version: v.version } : {}) });
      }
      if (d.rollbackFailed) this.deps.resync(new Error(`rollback of ${d.patchId} failed`));
    }
    this.deps.changed();
  }

  /**
   * A patch actor reached its final state: the root hears of those of one tick in one PATCH.DONE.
   * Each root event costs a macrostep of the whole client chart, about 30 µs here.
   */
  private finished(d: PatchDone): void {
    if (this.done.push(d) > 1) return;
    queueMicrotask(() => {
      const done = this.done;
      this.done = [];
      this.system()
        .get('client')
        ?.send({ type: 'PATCH.DONE', done } satisfies PatchDoneEvent);
    });
  }

  /** The actors to stop when the client closes: their patches stay in the replica (and the file). */
  stopPatches(): PatchActor[] {
    const actors = [...this.tracked.values()].map((t) => t.actor);
    this.tracked.clear();
    return actors;
  }

  // ---- what the store and the socket report --------------------------------------------------

  /** Not ready any more (resyncing, or gone): new patches wait until the next transmitAll. */
  notReady(): void {
    this.online = false;
  }

  /** The server's verdict on one of our patches goes to that patch's actor. */
  acknowledge(m: PatchResponseMessage): void {
    this.observeAck(m.patchId);
    switch (m.status) {
      case 'accepted':
        this.deps.serverChange({ kind: 'own', patchId: m.patchId, version: m.version });
        return this.tell(m.patchId, { type: 'SERVER.ACCEPTED', version: m.version });
      case 'rejected':
        if (this.tracked.has(m.patchId))
          return this.tell(m.patchId, { type: 'SERVER.REJECTED', code: m.code, reason: m.reason });
        // Settled here before (it no longer applied): the answer only frees its place.
        return void this.deps.rollback(m.patchId, m.code, m.reason).catch(() => {});
      case 'ignored': {
        // Processed before: say how it went then.
        if (m.version !== undefined) this.deps.serverChange({ kind: 'own', patchId: m.patchId, version: m.version });
        else if (!m.code) this.deps.resync();
        const version = m.version !== undefined ? { version: m.version } : {};
        const rejected = m.code ? { rejected: { code: m.code, reason: m.reason ?? '' } } : {};
        return this.tell(m.patchId, { type: 'SERVER.IGNORED', ...version, ...rejected });
      }
      default:
        unreachable(m);
    }
  }

  /** After a server reset: the patches got new seqs. All out before any goes back in (ids overlap). */
  renumber(moves: Array<{ from: string; to: Patch }>): void {
    const moved = moves.flatMap(({ from, to }) => {
      const t = this.tracked.get(from);
      this.tracked.delete(from);
      return t ? [{ t, to }] : [];
    });
    for (const { t, to } of moved) {
      // Under its new seq it is a patch that server has never had.
      t.sent = false;
      this.tracked.set(to.id, t);
      t.actor.send({ type: 'PATCH.RENUMBERED', patchId: to.id, seq: to.seq } satisfies PatchEvent);
    }
  }

  /** Reconciliation learned verdicts whose answers were lost. */
  settle(settlements: Settlement[]): void {
    for (const { patchId, outcome: o } of settlements) {
      this.tell(patchId, {
        type: 'SETTLED',
        status: o.status,
        ...(o.version !== undefined ? { version: o.version } : {}),
        ...(o.code ? { code: o.code } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
      });
    }
  }

  /** Their group commit failed: they left the local view and never went out (a local rejection). */
  commitFailed(patches: Patch[], error: SyncError): void {
    const reason = `the local database did not commit it: ${error.message}`;
    for (const p of patches) this.tell(p.id, { type: 'LOCAL.COMMIT_FAILED', code: error.code, reason });
  }

  noLongerApplies(unapplied: Unapplied[]): void {
    for (const u of unapplied)
      this.tell(u.patchId, { type: 'LOCAL.NO_LONGER_APPLIES', code: u.code, reason: u.reason });
  }

  private transmit({ patch, frame }: Entry): void {
    const t = this.tracked.get(patch.id);
    if (t) {
      t.sent = true;
      t.sentAt = Date.now();
    }
    this.deps.metrics.patchesSent++;
    this.deps.transport.sendEncoded(frame ?? encodeMessage({ type: 'patch', patch }));
    this.tell(patch.id, { type: 'PATCH.SENT' });
  }

  private observeAck(patchId: string): void {
    const t = this.tracked.get(patchId);
    if (t?.sentAt === undefined) return;
    this.deps.metrics.observeAck(Date.now() - t.sentAt);
    t.sentAt = undefined;
  }

  private tell(patchId: string, event: PatchEvent): void {
    this.tracked.get(patchId)?.actor.send(event);
  }
}
