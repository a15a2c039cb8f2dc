import type { AnyActorRef } from 'xstate';
import { answerEvent, type Departure, type FrameAnswer } from '../../machines/frame.machine.js';
import type { PatchDone, PatchDoneEvent, PatchEvent, PatchRef } from '../../machines/patch.machine.js';
import type { ServerChange } from '../../machines/store.machine.js';
import type { SyncError } from '../protocol/errors.js';
import type { ErrorCode, Patch, PatchResponseMessage } from '../protocol/types.js';
import { unreachable } from '../protocol/unreachable.js';
import { encodeMessage } from '../protocol/encode.js';
import type { Entry } from './pending.js';
import type { Unreported } from './verdict-journal.js';
import type { Emitter } from './events.js';
import type { Metrics } from './metrics.js';
import type { SyncClientEvents } from './options.js';
import type { Replica, Settlement, Unapplied } from './replica.js';
import { PatchActors, type FrameActor, type PatchActor } from './patch-actors.js';
import type { Transport } from './transport.js';

/**
 * What the outbox knows of one pending patch besides its entry in the replica (ops, inverse). Staged
 * (optimistic, not yet committed) it has no actor; sent at once after its group commit it is on a
 * frame actor; once it leaves that path, or when it is queued offline, it has a patch actor.
 */
interface Tracked {
  seq: number;
  actor?: PatchActor | undefined;
  frame?: FrameActor | undefined;
  /** Its frame gave its verdict: it is settled at the next PATCH.DONE. */
  answered?: boolean;
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
 * The one owner of a pending patch's life on this side of the wire: its actor (a frame actor on the
 * common path, machines/frame.machine.ts, else a patch actor of its own, machines/patch.machine.ts),
 * whether it went out on this connection and when, and where the server's verdict goes. The patch
 * itself (ops, inverse) is the replica's entry, which the store keeps in step with the database.
 * Compare Zero's mutation tracker.
 */
export class Outbox {
  private readonly tracked = new Map<string, Tracked>();
  private online = false;
  private wasReady = false;
  /** Verdicts of this tick on their way to the root (see finished). */
  private done: PatchDone[] = [];
  /** Answers of this socket read to patches on frames, per frame (see deliverAnswers). */
  private answers = new Map<FrameActor, FrameAnswer[]>();
  private readonly actors: PatchActors;
  /**
   * Accepted (or ignored) patches still in the replica: the store folds them into the confirmed
   * state, moving the version, a step after the verdict. Their `accepted` waits for that step, so
   * the event, the pending count and the version change together (see folded).
   */
  private readonly unfolded = new Map<string, PatchDone>();

  constructor(
    /** The actor system the actors join (the root actor's, created after the outbox). */
    system: () => { get(systemId: string): AnyActorRef | undefined },
    private readonly deps: OutboxDeps,
  ) {
    this.actors = new PatchActors({
      system,
      finished: (d) => this.finished(d),
      departed: (departures) => departures.forEach((d) => this.depart(d)),
      noLongerApplies: (patchId, code, reason) => deps.events.emit('conflict', { patchId, code, reason, local: true }),
      rollback: deps.rollback,
    });
  }

  /** Unanswered patches (staged, sent or queued), and accepted ones the replica has not folded yet. */
  get pendingCount(): number {
    let n = this.unfolded.size;
    for (const t of this.tracked.values()) if (t.actor ? t.actor.getSnapshot().matches('unanswered') : !t.answered) n++;
    return n;
  }

  /** Patches not yet settled (those with a verdict live until their rollback, if any, is done). */
  get size(): number {
    return this.tracked.size;
  }

  /** Every patch on the wire has its answer: what close() waits for (bounded by the statechart). */
  get answered(): boolean {
    for (const t of this.tracked.values()) {
      if (t.actor ? t.actor.getSnapshot().matches({ unanswered: 'sent' }) : t.frame !== undefined) return false;
    }
    return true;
  }

  // ---- the client statechart's actions (machines/client.machine.ts), by the same names ----------

  /**
   * Newly committed patches: online, they go out together and share one frame actor; offline, each
   * waits as a patch actor of its own.
   */
  transmitNew(patches: PatchRef[]): void {
    const entries = patches.flatMap((p) => {
      const e = this.deps.replica.entry(p.patchId);
      return e ? [e] : [];
    });
    if (!this.online) {
      for (const p of patches) this.tell(p.patchId, { type: 'PATCH.QUEUED' });
      return;
    }
    // One that already has its own actor (it heard something while staged) goes out as itself.
    const own = new Set(entries.filter((e) => this.tracked.get(e.patch.id)?.actor));
    const framed = own.size ? entries.filter((e) => !own.has(e)) : entries;
    if (framed.length) {
      const frame = this.actors.frame(framed.map((e) => ({ patchId: e.patch.id, seq: e.patch.seq })));
      for (const e of framed) this.track(e.patch).frame = frame;
    }
    for (const e of entries) {
      this.send(e);
      if (own.has(e)) this.tell(e.patch.id, { type: 'PATCH.SENT' });
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
      const t = this.tracked.get(e.patch.id);
      if (t?.sent || t?.answered) continue;
      this.send(e);
      this.tell(e.patch.id, { type: 'PATCH.SENT' });
    }
    this.deps.changed();
  }

  markUnsent(): void {
    this.online = false;
    const frames = new Set<FrameActor>();
    for (const t of this.tracked.values()) {
      t.sent = false;
      // Only a sent patch takes the loss: one queued offline would hear it on every failed reconnect.
      if (t.actor) {
        if (t.actor.getSnapshot().matches({ unanswered: 'sent' }))
          t.actor.send({ type: 'CONNECTION.LOST' } satisfies PatchEvent);
      } else if (t.frame) frames.add(t.frame);
    }
    // Their unanswered patches go on as patch actors, which take the loss themselves.
    for (const f of frames) f.send({ type: 'CONNECTION.LOST' });
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
        this.deps.replica.pending.journal?.told(d.patchId);
      } else if (this.deps.replica.entry(d.patchId)) this.unfolded.set(d.patchId, d);
      else this.accepted(d);
      if (d.rollbackFailed) this.deps.resync(new Error(`rollback of ${d.patchId} failed`));
    }
    this.deps.changed();
  }

  /** Verdicts a crash kept from the app, told again (at least once) in a later task: once it listens. */
  tellUnreported(list: Unreported[]): void {
    if (!list.length) return;
    setTimeout(() => this.actors.root()?.send({ type: 'PATCH.DONE', done: list.splice(0) } satisfies PatchDoneEvent));
  }

  /** The store moved on: accepted patches it folded into the confirmed state are news now. */
  folded(): void {
    for (const [id, d] of this.unfolded) {
      if (this.deps.replica.entry(id)) continue;
      this.unfolded.delete(id);
      this.accepted(d);
    }
  }

  private accepted({ patchId, verdict: v }: PatchDone): void {
    if (v.status === 'accepted') this.deps.metrics.patchesAccepted++;
    else this.deps.metrics.patchesIgnored++;
    this.deps.events.emit('accepted', {
      patchId,
      ...('version' in v && v.version !== undefined ? { version: v.version } : {}),
    });
    this.deps.replica.pending.journal?.told(patchId);
  }

  /**
   * Patches reached their verdicts: the root hears of those of one tick in one PATCH.DONE. Each root
   * event costs a macrostep of the whole client chart, about 30 µs here.
   */
  private finished(d: PatchDone): void {
    const t = this.tracked.get(d.patchId);
    if (t && !t.actor) {
      // Settled on its frame: it has its verdict from now on.
      t.frame = undefined;
      t.answered = true;
    }
    if (this.done.push(d) > 1) return;
    queueMicrotask(() => {
      const done = this.done;
      this.done = [];
      this.actors.root()?.send({ type: 'PATCH.DONE', done } satisfies PatchDoneEvent);
    });
  }

  /** The actors to stop when the client closes: their patches stay in the replica (and the file). */
  stopPatches(): AnyActorRef[] {
    const actors = new Set<AnyActorRef>();
    for (const t of this.tracked.values()) {
      if (t.actor) actors.add(t.actor);
      if (t.frame) actors.add(t.frame);
    }
    this.tracked.clear();
    return [...actors];
  }

  // ---- what the store and the socket report --------------------------------------------------

  /** Local writes were staged, in seq order: pending from now on, with no actor until their group commits. */
  created(patches: Patch[]): void {
    for (const p of patches) this.track(p);
  }

  /** Not ready any more (resyncing, or gone): new patches wait until the next transmitAll. */
  notReady(): void {
    this.online = false;
  }

  /**
   * The server's verdict on one of our patches goes to that patch's actor; those for patches on a
   * frame wait for the end of the socket read (deliverAnswers), so a frame takes them as one event.
   */
  acknowledge(m: PatchResponseMessage): void {
    this.observeAck(m.patchId);
    switch (m.status) {
      case 'accepted':
        this.deps.serverChange({ kind: 'own', patchId: m.patchId, version: m.version });
        return this.answer({ patchId: m.patchId, status: 'accepted', version: m.version });
      case 'rejected':
        if (this.tracked.has(m.patchId))
          return this.answer({ patchId: m.patchId, status: 'rejected', code: m.code, reason: m.reason });
        // Settled here before (it no longer applied): the answer only frees its place.
        return void this.deps.rollback(m.patchId, m.code, m.reason).catch(() => {});
      case 'ignored': {
        // Processed before: say how it went then.
        if (m.version !== undefined) this.deps.serverChange({ kind: 'own', patchId: m.patchId, version: m.version });
        else if (!m.code) this.deps.resync();
        const version = m.version !== undefined ? { version: m.version } : {};
        const rejected = m.code ? { rejected: { code: m.code, reason: m.reason ?? '' } } : {};
        return this.answer({ patchId: m.patchId, status: 'ignored', ...version, ...rejected });
      }
      default:
        unreachable(m);
    }
  }

  /** The end of a socket read: each frame takes the answers to its patches as one event. */
  deliverAnswers(): void {
    if (!this.answers.size) return;
    const answers = this.answers;
    this.answers = new Map();
    for (const [frame, list] of answers) frame.send({ type: 'SERVER.ANSWERED', answers: list });
  }

  /** After a server reset: the patches got new seqs. All out before any goes back in (ids overlap). */
  renumber(moves: Array<{ from: string; to: Patch }>): void {
    const moved = moves.flatMap(({ from, to }) => {
      const t = this.tracked.get(from);
      this.tracked.delete(from);
      return t ? [{ t, to, from }] : [];
    });
    // Each actor ends and goes on under its new name: every old one ends first.
    const ref = (to: Patch) => ({ patchId: to.id, seq: to.seq });
    for (const { t, to } of moved) if (t.actor) this.actors.retire(t.actor, ref(to));
    for (const { t, to, from } of moved) {
      // Under its new seq it is a patch that server has never had.
      t.sent = false;
      t.seq = to.seq;
      t.actor = t.actor && this.actors.resume(ref(to), t.actor.getSnapshot().context.firstId ?? from);
      this.tracked.set(to.id, t);
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

  private track(p: Patch): Tracked {
    let t = this.tracked.get(p.id);
    if (!t) this.tracked.set(p.id, (t = { seq: p.seq, sent: false }));
    return t;
  }

  /** A patch leaves its frame's common path: it goes on as its own actor. */
  private depart({ patch, event }: Departure): void {
    const t = this.tracked.get(patch.patchId);
    if (t && !t.actor) this.own(t, patch.patchId, event, 'sent');
  }

  private own(t: Tracked, patchId: string, event: PatchEvent, from?: 'sent'): void {
    t.frame = undefined;
    t.actor = this.actors.patch({ patchId, seq: t.seq }, event, from);
  }

  /** Answers to patches on a frame wait for the end of the socket read; others go to their actors now. */
  private answer(a: FrameAnswer): void {
    const t = this.tracked.get(a.patchId);
    if (t?.frame && !t.actor) {
      const list = this.answers.get(t.frame);
      if (list) list.push(a);
      else this.answers.set(t.frame, [a]);
      return;
    }
    this.tell(a.patchId, answerEvent(a));
  }

  /** Puts the patch's frame on the wire: the socket's batching makes frames of one tick's sends. */
  private send({ patch, frame }: Entry): void {
    const t = this.track(patch);
    t.sent = true;
    t.sentAt = Date.now();
    this.deps.metrics.patchesSent++;
    this.deps.transport.sendEncoded(frame ?? encodeMessage({ type: 'patch', patch }));
  }

  private observeAck(patchId: string): void {
    const t = this.tracked.get(patchId);
    if (t?.sentAt === undefined) return;
    this.deps.metrics.observeAck(Date.now() - t.sentAt);
    t.sentAt = undefined;
  }

  /**
   * An event of the patch's life: to its actor; on a frame, the patch leaves it with the event; with
   * no actor yet (staged), its actor starts with it. Settled patches take nothing.
   */
  private tell(patchId: string, event: PatchEvent): void {
    const t = this.tracked.get(patchId);
    if (!t || t.answered) return;
    if (t.actor) t.actor.send(event);
    else if (t.frame) t.frame.send({ type: 'PATCH.LEAVES', patchId, event });
    else this.own(t, patchId, event);
  }
}
