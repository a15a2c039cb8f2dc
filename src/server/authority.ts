import { DEFAULT_MAX_MESSAGE_BYTES, maxPatchMessageBytes } from '../protocol/decode.js';
import { encodeError, encodePatchBroadcast } from '../protocol/encode.js';
import { SyncError, toSyncError } from '../protocol/errors.js';
import type { ErrorCode, Patch, PatchStatus, SyncRequestMessage } from '../protocol/types.js';
import type { GraphStore, WriteTx } from '../store/graph-store.js';
import type { Step } from '../store/kuzu/steps.js';
import { appChecks } from './app-checks.js';
import { ConflictTracker, type ConflictStrategy } from './conflicts.js';
import type { Logger, PatchContext, Principal } from './options.js';
import { emptyRecord, type GroupRecord, type LogEntry, type Rejection, type ServerLog } from './server-log.js';
import {
  classify,
  clientOf,
  type Item,
  type PatchItem,
  patchIdOf,
  patchResponse,
  seqOf,
  type Verdict,
} from './verdicts.js';
import { judge, type Rules } from './judge.js';
import { answerSyncRequest } from './sync-answer.js';
import { SyncRequests } from './sync-requests.js';
import { type ClusterHooks, StepDown } from './cluster-hooks.js';
import type { Submitter } from './submitter.js';

/** A connection as the authority sees it. */
export interface Peer {
  readonly principal: Principal;
  /** Set by the peer's sync_request. */
  clientId: string | undefined;
  /** One message's JSON text: the connection frames it (alone, or batched with the tick's others). */
  send(json: string): void;
  /** Close its connection with `reason`: its client reconnects and sends again what it has pending. */
  drop(reason: string): void;
}

export interface AuthorityOptions {
  conflictStrategy: ConflictStrategy;
  authorize?: (principal: Principal, patch: Patch) => true | string | Promise<true | string>;
  validatePatch?: (patch: Patch, ctx: PatchContext) => true | string | Promise<true | string>;
  logger: Logger;
  /** The peers' frame limit: patches, and sync_state chunks, are held to it. Default 1 MiB. */
  maxMessageBytes?: number;
  /** Patches committed in one transaction at most. */
  maxGroup?: number;
  cluster?: ClusterHooks;
}

export interface AuthorityEvents {
  /** After each committed group; `broadcasts`: patch_broadcast frames handed to subscribers. */
  onCommitted?(broadcasts: number): void;
  /**
   * A patch_response went out at `answeredAt`; `receivedAt` is when its frame arrived (both
   * performance.now()). A group's answers leave together: they share one `answeredAt`.
   */
  onAnswered?(status: PatchStatus, code: ErrorCode | undefined, receivedAt: number, answeredAt: number): void;
  onSyncAnswered?(mode: 'delta' | 'snapshot'): void;
}

/**
 * The single writer of the server. Patches queue here and are committed in groups: each patch is
 * judged (exactly-once, order, authorization, validation, conflicts, the graph itself), the accepted
 * ones get consecutive versions, and data, log, seqs and version commit in ONE Kuzu transaction.
 * Only then do answers and broadcasts go out, in version order. A sync_request is answered in the
 * same queue, so a client's snapshot or delta and the broadcasts after it never leave a gap.
 */
export class Authority implements Submitter {
  readonly subscribers = new Set<Peer>();
  private readonly queue: Item[] = [];
  private pumping: Promise<void> | undefined;
  /** Peers dropped because a patch of theirs could not be recorded (see unrecorded). */
  private readonly dropped = new WeakSet<Peer>();
  private readonly tracker = new ConflictTracker((id) => this.store.model.edge(id));
  private readonly maxGroup: number;
  private readonly syncs = new SyncRequests();
  private stepped: StepDown | undefined;

  constructor(
    private readonly store: GraphStore,
    private readonly log: ServerLog,
    private readonly options: AuthorityOptions,
    private readonly events: AuthorityEvents = {},
  ) {
    this.maxGroup = options.maxGroup ?? 2000;
  }

  /** Rebuilds conflict stamps from the retained log (only needed when conflicts are judged). */
  async init(): Promise<void> {
    if (this.options.conflictStrategy === 'last-writer-wins') return;
    this.tracker.forget(this.log.logStart);
    for (let from = this.log.logStart; from < this.log.version; ) {
      const rows = await this.log.readLog(from, 5000);
      if (rows.length === 0) break;
      for (const r of rows) this.tracker.record(JSON.parse(r.json) as Patch, r.version);
      from = rows[rows.length - 1]!.version;
    }
  }

  /** A peer left: it hears nothing more, and what it asked for is not worked out. */
  forget(peer: Peer): void {
    this.subscribers.delete(peer);
    this.syncs.forget(this.queue, peer);
  }

  submitPatch(peer: Peer, patch: Patch, receivedAt: number): void {
    this.enqueue({ kind: 'patch', peer, patch, receivedAt });
  }
  submitInvalid(peer: Peer, clientId: string, seq: number, code: ErrorCode, reason: string, receivedAt: number): void {
    this.enqueue({ kind: 'invalid', peer, clientId, seq, code, reason, receivedAt });
  }
  submitSyncRequest(peer: Peer, request: SyncRequestMessage): void {
    const item = this.syncs.submit(this.queue, peer, request);
    if (item) this.enqueue(item);
  }

  /** Resolves when everything queued so far has been processed. */
  async drain(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private enqueue(item: Item): void {
    if (this.stepped) return;
    this.queue.push(item);
    // Started a microtask later: every message of the frame being read is queued by then, and the
    // first group takes them all rather than one patch (a transaction of its own).
    this.pumping ??= Promise.resolve()
      .then(() => this.pump())
      // pump() answers every failure of the database itself; what reaches here is a bug, and a
      // server must not end on it (an unhandled rejection ends a Node process).
      .catch((e) => this.options.logger.error('kuzu-sync: the commit pump failed:', e))
      .finally(() => (this.pumping = undefined));
  }

  private async pump(): Promise<void> {
    while (this.queue.length) {
      const head = this.queue[0]!;
      if (head.kind === 'sync') {
        this.queue.shift();
        if (this.syncs.take(head)) await this.answer(head.peer, head.request);
        continue;
      }
      // A group runs up to the next sync_request: that answer must see everything before it.
      let n = 0;
      while (n < this.queue.length && n < this.maxGroup && this.queue[n]!.kind !== 'sync') n++;
      const group = (this.queue.splice(0, n) as PatchItem[]).filter((item) => !this.dropped.has(item.peer));
      if (!group.length) continue;
      try {
        await this.commitGroup(group);
      } catch (e) {
        if (e instanceof StepDown) return this.stepDown(e);
        if (e instanceof AfterCommit) {
          await this.recover(group, e.cause);
          continue;
        }
        const why = (e as Error).message;
        this.options.logger.error('kuzu-sync: a group failed to commit; retrying its patches one by one:', why);
        for (const item of group) {
          if (this.dropped.has(item.peer)) continue;
          try {
            await this.commitGroup([item]);
          } catch (err) {
            if (err instanceof StepDown) return this.stepDown(err);
            await this.commitFailure(item, toSyncError(err)).catch((fatal) =>
              fatal instanceof StepDown ? this.stepDown(fatal) : this.unrecorded(item, fatal),
            );
            if (this.stepped) return;
          }
        }
      }
    }
  }

  private stepDown(why: StepDown): void {
    this.stepped = why;
    this.queue.length = 0;
    this.options.logger.error('kuzu-sync: this authority steps down:', why.message);
    this.options.cluster?.steppedDown(why);
  }

  /**
   * Not even the patch's rejection could be recorded: the database refuses every write (full, or
   * broken). Nothing of it is kept, so its seq is still free: its client is told and dropped, and
   * sends it again after reconnecting, when the database may take it. Its later patches, queued
   * already, are not judged on this connection (they would be out of order).
   */
  private unrecorded(item: PatchItem, error: unknown): void {
    const id = patchIdOf(item);
    const why = error instanceof Error ? error.message : String(error);
    this.options.logger.error(`kuzu-sync: patch ${id} could not even be rejected durably; dropping its client:`, why);
    this.dropped.add(item.peer);
    item.peer.send(encodeError('internal', 'the server could not record this patch; send it again', id));
    item.peer.drop('the server could not record a patch');
  }

  /**
   * The group committed, and then keeping step with it failed (a bug): committing it again would
   * apply it twice. The database is the truth: the log is read from it again, and the group's peers,
   * who may not have heard their answers, are dropped; they resync and learn them from sync_state.
   */
  private async recover(group: PatchItem[], cause: unknown): Promise<void> {
    this.options.logger.error('kuzu-sync: a group committed, but the server lost step with it; reloading:', cause);
    await this.log.reload();
    for (const peer of new Set(group.map((item) => item.peer))) {
      this.dropped.add(peer);
      peer.drop('the server lost step with a committed group');
    }
  }

  private async answer(peer: Peer, request: SyncRequestMessage): Promise<void> {
    try {
      const cluster = this.options.cluster;
      const frameBytes = this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
      const elsewhere = cluster && cluster.delta.bind(cluster);
      const mode = await answerSyncRequest(this.store, this.log, peer, request, frameBytes, elsewhere);
      // Gone while it was answered: subscribed now, it would be kept (and sent to) for good.
      if (this.syncs.isGone(peer)) return;
      if (this.options.cluster) this.options.cluster.subscribe(peer);
      else this.subscribers.add(peer);
      this.events.onSyncAnswered?.(mode);
    } catch (e) {
      this.options.logger.error('kuzu-sync: could not answer sync_request:', (e as Error).message);
      peer.send(encodeError('internal', 'could not answer sync_request'));
    }
  }

  /** Each patch's precheck, in parallel; none at all (no promise per patch) when nothing can refuse it. */
  private async prechecks(group: PatchItem[], classified: Array<Verdict | 'process'>) {
    const { authorize, validatePatch } = this.options;
    const anyToCheck =
      authorize || validatePatch || group.some((item) => item.kind === 'invalid' || item.peer.principal.readOnly);
    if (!anyToCheck) return [];
    return Promise.all(group.map((item, i) => (classified[i] === 'process' ? this.precheck(item) : undefined)));
  }

  /** The checks that may await user code run before the (synchronous) planning of the transaction. */
  private async precheck(item: PatchItem): Promise<Rejection | undefined> {
    if (item.kind === 'invalid') return { code: item.code, reason: item.reason };
    return appChecks(this.options, item.peer.principal, item.patch, this.log.version);
  }

  private async commitGroup(group: PatchItem[]): Promise<void> {
    const seen = new Map<string, number>();
    const classified = group.map((item) => classify(item, seen, this.log));
    const prechecks = await this.prechecks(group, classified);
    const verdicts: Verdict[] = [];
    const strategy = this.options.conflictStrategy;
    const rules: Rules = {
      strategy,
      tracker: strategy === 'last-writer-wins' ? undefined : this.tracker,
      maxPatchBytes: maxPatchMessageBytes(this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES),
    };
    let record: GroupRecord;
    try {
      record = await this.commitRecord((tx: WriteTx) => {
        // Planning is synchronous; everything below either commits together or not at all.
        const r = emptyRecord(this.log.version);
        group.forEach((item, i) => {
          const c = classified[i]!;
          let verdict: Verdict;
          if (c !== 'process') verdict = c;
          else if (prechecks[i]) verdict = { status: 'rejected', ...prechecks[i]!, bump: true };
          else verdict = judge((item as Extract<PatchItem, { kind: 'patch' }>).patch, tx, r.version + 1, rules);
          if (verdict.status === 'accepted') r.version = verdict.version;
          const bumped = verdict.status === 'rejected' && verdict.bump;
          if (verdict.status === 'accepted' || bumped) r.seqs.set(clientOf(item), seqOf(item));
          if (verdict.status === 'accepted') r.entries.push(verdict.entry);
          if (verdict.status === 'rejected' && verdict.bump) {
            r.rejections.set(patchIdOf(item), { code: verdict.code, reason: verdict.reason });
          }
          verdicts.push(verdict);
        });
        // From the versions the group really took: rejected patches take none, and a point past them
        // would drop retained log entries (and, with a short log, pass the version itself).
        r.compactTo = this.log.compactionPoint(r.version);
        for (const step of this.recordSteps(r)) tx.afterWrites(step);
        return r;
      });
    } catch (e) {
      // Stamps of this group were recorded to judge its later patches; they stay only if it commits.
      this.tracker.revert();
      throw e;
    }
    try {
      this.tracker.commit();
      this.log.committed(record);
      if (record.compactTo !== undefined) this.tracker.forget(record.compactTo);
      this.publish(group, verdicts);
    } catch (e) {
      throw new AfterCommit(e);
    }
  }

  /** What commits with a group: the server's tables, and in a cluster where in the log it goes. */
  private recordSteps(r: GroupRecord): Step[] {
    const steps = this.log.groupSteps(r);
    return this.options.cluster ? [...steps, ...this.options.cluster.stepsFor(r)] : steps;
  }

  /** Runs a group's transaction; in a cluster, the log takes the group first. */
  private async commitRecord(build: (tx: WriteTx) => GroupRecord): Promise<GroupRecord> {
    const cluster = this.options.cluster;
    if (!cluster) return (await this.store.write(build)).value;
    let appended = false;
    const beforeCommit = async (r: GroupRecord) => {
      await cluster.append(r);
      appended = true;
    };
    try {
      return (await this.store.write(build, { beforeCommit })).value;
    } catch (e) {
      if (!appended || e instanceof StepDown) throw e;
      throw new StepDown(`the log holds a group this database could not commit: ${(e as Error).message}`);
    }
  }

  /** A patch that cannot be committed even alone: reject it durably so its client moves on. */
  private async commitFailure(item: PatchItem, error: SyncError): Promise<void> {
    this.options.logger.error(`kuzu-sync: patch ${patchIdOf(item)} failed alone:`, error.message);
    const seen = new Map<string, number>();
    const c = classify(item, seen, this.log);
    const reason = 'the server could not apply this patch';
    const failed: Verdict = { status: 'rejected', code: 'internal', reason, bump: true };
    const verdict = c === 'process' ? failed : c;
    const record = await this.commitRecord((tx) => {
      const r = emptyRecord(this.log.version);
      if (verdict.status === 'rejected' && verdict.bump) {
        r.seqs.set(clientOf(item), seqOf(item));
        r.rejections.set(patchIdOf(item), { code: verdict.code, reason: verdict.reason });
      }
      for (const step of this.recordSteps(r)) tx.afterWrites(step);
      return r;
    });
    this.log.committed(record);
    this.publish([item], [verdict]);
  }

  /**
   * Answers and broadcasts, after the commit, in version order. In a cluster the gateways tell what
   * the log holds (acceptances and recorded rejections, to the patch's client wherever it is now);
   * only the rest is answered here.
   */
  private publish(group: PatchItem[], verdicts: Verdict[]): void {
    let broadcasts = 0;
    const now = performance.now();
    const inCluster = this.options.cluster !== undefined;
    for (let i = 0; i < group.length; i++) {
      const item = group[i]!;
      const v = verdicts[i]!;
      const inLog = v.status === 'accepted' || (v.status === 'rejected' && v.bump);
      if (v.status === 'accepted' && !inCluster) broadcasts += this.broadcast(item.peer, v.entry);
      if (!(inCluster && inLog)) item.peer.send(patchResponse(item, v, this.log));
      this.events.onAnswered?.(v.status, v.status === 'rejected' ? v.code : undefined, item.receivedAt, now);
    }
    this.events.onCommitted?.(broadcasts);
  }

  /** To every other subscriber; encoded once for all of them, and only if there is one. */
  private broadcast(from: Peer, entry: LogEntry): number {
    let frame: string | undefined;
    let sent = 0;
    for (const peer of this.subscribers) {
      if (peer === from || peer.clientId === entry.patch.clientId) continue;
      peer.send((frame ??= encodePatchBroadcast(entry.json, entry.version)));
      sent++;
    }
    return sent;
  }
}

/** Thrown once a group has committed: it must not be retried (see Authority.recover). */
class AfterCommit extends Error {
  constructor(override readonly cause: unknown) {
    super(`after the commit: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
