import { encodeAccepted, encodeError, encodePatchBroadcast, encodePatchResponse, toJson } from '../protocol/encode.js';
import { SyncError, toSyncError } from '../protocol/errors.js';
import type { ErrorCode, Patch, PatchStatus, SyncRequestMessage } from '../protocol/types.js';
import { unreachable } from '../protocol/unreachable.js';
import type { GraphStore, WriteTx } from '../store/graph-store.js';
import { appChecks } from './app-checks.js';
import { ConflictTracker, type ConflictStrategy } from './conflicts.js';
import type { Logger, PatchContext, Principal } from './options.js';
import type { LogEntry, Rejection, ServerLog } from './server-log.js';
import { answerSyncRequest } from './sync-answer.js';

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

type Item =
  | { kind: 'patch'; peer: Peer; patch: Patch; receivedAt: number }
  | { kind: 'invalid'; peer: Peer; clientId: string; seq: number; code: ErrorCode; reason: string; receivedAt: number }
  | { kind: 'sync'; peer: Peer; request: SyncRequestMessage };

type PatchItem = Extract<Item, { kind: 'patch' | 'invalid' }>;

type Verdict =
  | { status: 'accepted'; version: number; entry: LogEntry }
  | { status: 'rejected'; code: ErrorCode; reason: string; bump: boolean }
  | { status: 'ignored' };

export interface AuthorityOptions {
  conflictStrategy: ConflictStrategy;
  authorize?: (principal: Principal, patch: Patch) => true | string | Promise<true | string>;
  validatePatch?: (patch: Patch, ctx: PatchContext) => true | string | Promise<true | string>;
  logger: Logger;
  /** Patches committed in one transaction at most. */
  maxGroup?: number;
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

const patchIdOf = (item: PatchItem) => (item.kind === 'patch' ? item.patch.id : `${item.clientId}:${item.seq}`);
const clientOf = (item: PatchItem) => (item.kind === 'patch' ? item.patch.clientId : item.clientId);
const seqOf = (item: PatchItem) => (item.kind === 'patch' ? item.patch.seq : item.seq);

/**
 * The single writer of the server. Patches queue here and are committed in groups: each patch is
 * judged (exactly-once, order, authorization, validation, conflicts, the graph itself), the accepted
 * ones get consecutive versions, and data, log, seqs and version commit in ONE Kuzu transaction.
 * Only then do answers and broadcasts go out, in version order. A sync_request is answered in the
 * same queue, so a client's snapshot or delta and the broadcasts after it never leave a gap.
 */
export class Authority {
  readonly subscribers = new Set<Peer>();
  private readonly queue: Item[] = [];
  private pumping: Promise<void> | undefined;
  /** Peers dropped because a patch of theirs could not be recorded (see unrecorded). */
  private readonly dropped = new WeakSet<Peer>();
  private readonly tracker = new ConflictTracker((id) => this.store.model.edge(id));
  private readonly maxGroup: number;

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

  submitPatch(peer: Peer, patch: Patch, receivedAt: number): void {
    this.enqueue({ kind: 'patch', peer, patch, receivedAt });
  }
  submitInvalid(peer: Peer, clientId: string, seq: number, code: ErrorCode, reason: string, receivedAt: number): void {
    this.enqueue({ kind: 'invalid', peer, clientId, seq, code, reason, receivedAt });
  }
  submitSyncRequest(peer: Peer, request: SyncRequestMessage): void {
    this.enqueue({ kind: 'sync', peer, request });
  }

  /** Resolves when everything queued so far has been processed. */
  async drain(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private enqueue(item: Item): void {
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
        await this.answer(head.peer, head.request);
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
            await this.commitFailure(item, toSyncError(err)).catch((fatal) => this.unrecorded(item, fatal));
          }
        }
      }
    }
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
      const mode = await answerSyncRequest(this.store, this.log, peer, request);
      this.subscribers.add(peer);
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

  /** Exactly-once and order, before anything else: what to do with a patch given the seqs seen. */
  private classify(item: PatchItem, seen: Map<string, number>): Verdict | 'process' {
    const clientId = clientOf(item);
    const seq = seqOf(item);
    if (item.peer.clientId !== clientId) {
      const reason = `this connection syncs as ${JSON.stringify(item.peer.clientId)}, not ${JSON.stringify(clientId)}`;
      return { status: 'rejected', code: 'forbidden', reason, bump: false };
    }
    const last = seen.get(clientId) ?? this.log.lastSeq.get(clientId) ?? 0;
    if (seq <= last) return { status: 'ignored' };
    if (seq > last + 1) {
      return { status: 'rejected', code: 'out_of_order', reason: `expected seq ${last + 1}, got ${seq}`, bump: false };
    }
    seen.set(clientId, seq);
    return 'process';
  }

  private async commitGroup(group: PatchItem[]): Promise<void> {
    const seen = new Map<string, number>();
    const classified = group.map((item) => this.classify(item, seen));
    const prechecks = await this.prechecks(group, classified);

    const entries: LogEntry[] = [];
    const seqs = new Map<string, number>();
    const rejections = new Map<string, Rejection>();
    const verdicts: Verdict[] = [];
    let version = this.log.version;
    let compactTo: number | undefined;
    const groupTracker = this.options.conflictStrategy === 'last-writer-wins' ? undefined : this.tracker;

    try {
      await this.store.write((tx: WriteTx) => {
        // Planning is synchronous; everything below either commits together or not at all.
        group.forEach((item, i) => {
          const c = classified[i]!;
          let verdict: Verdict;
          if (c !== 'process') verdict = c;
          else if (prechecks[i]) verdict = { status: 'rejected', ...prechecks[i]!, bump: true };
          else
            verdict = this.judge((item as Extract<PatchItem, { kind: 'patch' }>).patch, tx, version + 1, groupTracker);
          if (verdict.status === 'accepted') version = verdict.version;
          const bumped = verdict.status === 'rejected' && verdict.bump;
          if (verdict.status === 'accepted' || bumped) seqs.set(clientOf(item), seqOf(item));
          if (verdict.status === 'accepted') entries.push(verdict.entry);
          if (verdict.status === 'rejected' && verdict.bump) {
            rejections.set(patchIdOf(item), { code: verdict.code, reason: verdict.reason });
          }
          verdicts.push(verdict);
        });
        // From the versions the group really took: rejected patches take none, and a point past them
        // would drop retained log entries (and, with a short log, pass the version itself).
        compactTo = this.log.compactionPoint(version);
        for (const step of this.log.groupSteps(entries, seqs, rejections, version, compactTo)) tx.afterWrites(step);
      });
    } catch (e) {
      // Stamps of this group were recorded to judge its later patches; they stay only if it commits.
      this.tracker.revert();
      throw e;
    }
    try {
      this.tracker.commit();
      this.log.committed(entries, seqs, rejections, version, compactTo);
      if (compactTo !== undefined) this.tracker.forget(compactTo);
      this.publish(group, verdicts);
    } catch (e) {
      throw new AfterCommit(e);
    }
  }

  /** Conflicts, then the graph itself. Records the patch's stamps for later patches of the group. */
  private judge(patch: Patch, tx: WriteTx, version: number, tracker: ConflictTracker | undefined): Verdict {
    if (tracker) {
      const conflicts = tracker.conflicts(patch);
      const strategy = this.options.conflictStrategy;
      const stale = typeof strategy === 'function' ? conflicts.filter((c) => strategy(c) === 'reject') : conflicts;
      if (stale.length) {
        const c = stale[0]!;
        return {
          status: 'rejected',
          code: 'conflict',
          reason:
            `${c.key} was changed at version ${c.changedAt} by ${c.changedBy}, ` +
            `after this patch's base version ${c.baseVersion}`,
          bump: true,
        };
      }
    }
    const applied = tx.apply(patch.ops, { fit: true });
    if (!applied.ok) {
      const reason = `op ${applied.opIndex}: ${applied.error.message}`;
      return { status: 'rejected', code: applied.error.code, reason, bump: true };
    }
    tracker?.record(patch, version);
    return { status: 'accepted', version, entry: { version, patch, json: toJson(patch) } };
  }

  /** A patch that cannot be committed even alone: reject it durably so its client moves on. */
  private async commitFailure(item: PatchItem, error: SyncError): Promise<void> {
    this.options.logger.error(`kuzu-sync: patch ${patchIdOf(item)} failed alone:`, error.message);
    const seen = new Map<string, number>();
    const c = this.classify(item, seen);
    const reason = 'the server could not apply this patch';
    const failed: Verdict = { status: 'rejected', code: 'internal', reason, bump: true };
    const verdict = c === 'process' ? failed : c;
    const seqs = new Map<string, number>();
    const rejections = new Map<string, Rejection>();
    if (verdict.status === 'rejected' && verdict.bump) {
      seqs.set(clientOf(item), seqOf(item));
      rejections.set(patchIdOf(item), { code: verdict.code, reason: verdict.reason });
    }
    const steps = this.log.groupSteps([], seqs, rejections, this.log.version, undefined);
    await this.store.run(steps);
    this.log.committed([], seqs, rejections, this.log.version, undefined);
    this.publish([item], [verdict]);
  }

  /** Answers and broadcasts, after the commit, in version order. */
  private publish(group: PatchItem[], verdicts: Verdict[]): void {
    let broadcasts = 0;
    const now = performance.now();
    for (let i = 0; i < group.length; i++) {
      const item = group[i]!;
      const v = verdicts[i]!;
      if (v.status === 'accepted') broadcasts += this.broadcast(item.peer, v.entry);
      item.peer.send(this.response(item, v));
      this.events.onAnswered?.(v.status, v.status === 'rejected' ? v.code : undefined, item.receivedAt, now);
    }
    this.events.onCommitted?.(broadcasts);
  }

  private response(item: PatchItem, v: Verdict): string {
    const patchId = patchIdOf(item);
    switch (v.status) {
      case 'accepted':
        return encodeAccepted(patchId, v.version);
      case 'rejected':
        return encodePatchResponse({
          type: 'patch_response',
          patchId,
          status: 'rejected',
          code: v.code,
          reason: v.reason,
        });
      case 'ignored': {
        // A re-send: say what became of it the first time, so a client whose answer was lost settles it.
        const o = this.log.outcome(clientOf(item), seqOf(item));
        const version = o.version !== undefined ? { version: o.version } : {};
        const rejected = o.code ? { code: o.code, reason: o.reason } : {};
        return encodePatchResponse({ type: 'patch_response', patchId, status: 'ignored', ...version, ...rejected });
      }
      default:
        return unreachable(v);
    }
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
