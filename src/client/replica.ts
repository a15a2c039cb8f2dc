import type { ServerChange } from '../../machines/store.machine.js';
import { SyncError } from '../protocol/errors.js';
import type {
  ErrorCode,
  GraphSchema,
  Patch,
  PatchOutcome,
  SyncStateMessage,
  VersionedPatch,
} from '../protocol/types.js';
import { GraphStore, type Applied, type WriteTx } from '../store/graph-store.js';
import { isInMemoryPath } from '../store/kuzu/sync-database.js';
import { LeftBehind } from '../store/unheld-schema.js';
import { LocalWrites } from './local-writes.js';
import { acceptedAt, PendingPatches, type Entry, type Verdicts } from './pending.js';
import { processedEntries, readSyncState, verdictOf } from './sync-state.js';
import { UNTOLD_KEY } from './verdict-journal.js';

/** A pending patch whose effect had to leave the local graph: it no longer applies. */
export interface Unapplied {
  patchId: string;
  code: ErrorCode;
  reason: string;
}

export interface Settlement {
  patchId: string;
  outcome: PatchOutcome;
}

/** A server change whose turn has come; `own` when it confirms one of this client's applied patches. */
export interface ReadyChange {
  version: number;
  patch: Patch;
  own?: Entry;
}

export interface ReconcileResult {
  settled: Settlement[];
  unapplied: Unapplied[];
  renumbered: Array<{ from: string; to: Patch }>;
  /** Server patches applied (delta mode), for `patch` events. */
  applied: VersionedPatch[];
  mode: 'delta' | 'snapshot';
}

export interface ServerChangesResult {
  applied: VersionedPatch[];
  unapplied: Unapplied[];
  /** A version is missing: the client must ask for state again. */
  gap: boolean;
  /** Pending patches had to be undone and redone. */
  rebased: boolean;
}

/**
 * The client's view of sync over its GraphStore: confirmed server state plus its own pending patches
 * on top. Every operation is one KuzuDB transaction (data, pending patches and meta together), so a
 * reader never sees a half-rebased graph. Local writes stage first and commit in groups (LocalWrites):
 * a crash loses at most the writes since the last group commit, never part of one.
 * Pure bookkeeping over the store: no sockets, no timers, no actors.
 */
export class Replica {
  serverId: string | undefined;
  /** The server version this client has applied. */
  version = 0;
  /** What verdicts on own patches mean for the schema objects only local writes made. */
  readonly leftBehind: LeftBehind;
  /** Called in the same synchronous step that moves the version and drops the confirmed entries: a
   * reader never sees one without the other (the outbox's accepted events wait for it). */
  onConfirmed: (() => void) | undefined;
  nextSeq = 1;
  /** The highest seq whose outcome this client knows. */
  ackedSeq = 0;
  /** The schema the app was created with (the `schema` option). */
  private ownSchema: GraphSchema | undefined;
  /** Server changes that arrived ahead of a missing version. */
  private readonly future = new Map<number, ServerChange>();
  /** Memory-first local writes: staged into the store's open group, then committed in groups. */
  readonly local: LocalWrites;

  private constructor(
    readonly store: GraphStore,
    /** The outbox's rows; the runtime reports and forgets the verdicts a crash left unreported. */
    readonly pending: PendingPatches,
    readonly clientId: string,
    readonly durable: boolean,
    /** The largest patch frame the server takes (its maxMessageBytes). */
    maxMessageBytes: number,
  ) {
    this.local = new LocalWrites(this, store, pending, maxMessageBytes);
    this.leftBehind = new LeftBehind(store.model);
  }

  /** Opens the replica state kept in `store` (pending patches, version, seq counter). */
  static async open(
    store: GraphStore,
    clientId: string | undefined,
    newId: () => string,
    maxMessageBytes: number,
    schema?: GraphSchema,
  ): Promise<Replica> {
    const durable = !isInMemoryPath(store.path);
    const meta: Record<string, string | undefined> = durable
      ? await store.getMeta(['clientId', 'serverId', 'version', 'nextSeq', 'ackedSeq', 'schema', UNTOLD_KEY])
      : {};
    const pending = await PendingPatches.open(store, durable, meta[UNTOLD_KEY]);
    const count = pending.entries.length;
    if (clientId !== undefined && meta.clientId !== undefined && meta.clientId !== clientId && count) {
      throw new SyncError(
        'invalid_value',
        `${store.path} holds ${count} pending patches of client ${meta.clientId}; open it with that clientId (or none) so they are not lost`,
      );
    }
    const id = clientId ?? meta.clientId ?? newId();
    const r = new Replica(store, pending, id, durable, maxMessageBytes);
    r.serverId = meta.serverId;
    r.version = Number(meta.version ?? 0);
    r.nextSeq = Number(meta.nextSeq ?? 1);
    r.ackedSeq = Number(meta.ackedSeq ?? 0);
    if (durable && meta.clientId !== id) await store.run([GraphStore.metaStep({ clientId: id })]);
    r.ownSchema = schema;
    const server = meta.schema ? (JSON.parse(meta.schema) as GraphSchema) : undefined;
    if (schema || server) await store.write((tx) => r.declareSchemas(tx, server));
    return r;
  }

  /** The pending patches, in seq order. */
  get entries(): readonly Entry[] {
    return this.pending.entries;
  }

  entry(patchId: string): Entry | undefined {
    return this.pending.entry(patchId);
  }

  // ---- the server's changes ---------------------------------------------------------

  /** Takes in accepted patches (others' broadcasts, and the acceptance of our own) and returns those
   * now ready to apply, in version order: a missing version holds back the ones after it. */
  readyChanges(changes: ServerChange[]): ReadyChange[] {
    for (const c of changes) if (c.version !== undefined && c.version > this.version) this.future.set(c.version, c);
    const ready: ReadyChange[] = [];
    for (let v = this.version + 1; this.future.has(v); v++) {
      const c = this.future.get(v)!;
      this.future.delete(v);
      if (c.kind === 'remote') ready.push({ version: v, patch: c.patch });
      else {
        const e = this.entry(c.patchId);
        // Accepted, though it did not apply here: it is a server change like any other.
        if (e) ready.push({ version: v, patch: e.patch, ...(e.applied ? { own: e } : {}) });
      }
    }
    return ready;
  }

  /**
   * True when `ready` only confirms own patches from the bottom of the pending stack: no graph work,
   * the model stays as it is, so staged writes need not commit first.
   */
  onlyConfirms(ready: ReadyChange[]): boolean {
    const bottom = this.pending.bottomApplied(ready.length);
    return ready.every((r, i) => r.own !== undefined && bottom[i] === r.own);
  }

  /**
   * Applies ready server changes (see readyChanges). A change that commutes with every pending patch
   * is applied directly; otherwise the pending patches are undone, the change applied, and the
   * pending patches redone on top.
   */
  async applyServerChanges(ready: ReadyChange[]): Promise<ServerChangesResult> {
    const result: ServerChangesResult = { applied: [], unapplied: [], gap: false, rebased: false };
    if (ready.length) {
      result.applied = ready.filter((r) => !r.own).map((r) => ({ patch: r.patch, version: r.version }));
      const r = await this.integrate(ready);
      result.unapplied = r.unapplied;
      result.rebased = r.rebased;
    }
    result.gap = this.future.size > 0;
    return result;
  }

  /**
   * Folds server changes (in version order) into the graph. Own patches confirmed from the bottom of
   * the pending stack need no database work, and others' patches that touch nothing a pending patch
   * touches are applied directly. Anything else goes through undo / apply in server order / redo.
   */
  private async integrate(ready: ReadyChange[]): Promise<{ unapplied: Unapplied[]; rebased: boolean }> {
    const confirmed = ready.flatMap((r) => (r.own ? [r.own] : []));
    const answered = ready.flatMap((r) => {
      const e = r.own ? undefined : this.entry(r.patch.id);
      return e ? [e] : [];
    });
    const drop = [...confirmed, ...answered];
    for (const e of drop) this.leftBehind.settled(e, true);
    const verdicts = this.durable ? acceptedAt(ready, drop) : undefined;
    const version = ready[ready.length - 1]!.version;
    const meta = { version, ackedSeq: drop.reduce((m, e) => Math.max(m, e.patch.seq), this.ackedSeq) };
    const bottom = this.pending.bottomApplied(confirmed.length);
    // A patch that did not apply here may apply after others' changes: only a rebase tries it again.
    // Acknowledgements of our own patches change nothing here, so they alone never call for one.
    const unappliedLeft = ready.some((r) => !r.own) && this.entries.some((e) => !e.applied && !answered.includes(e));
    const fast =
      !unappliedLeft &&
      confirmed.every((e, i) => bottom[i] === e) &&
      ready.every((r) => r.own || this.pending.commutes(r.patch.ops, (id) => this.store.model.incidentEdges(id)));
    const apply = (tx: WriteTx, patches: Patch[]) => {
      for (const p of patches) {
        const a = tx.apply(p.ops, { server: true });
        if (!a.ok)
          throw new SyncError('internal', `server patch ${p.id} does not apply here (${a.error.message}): resync`);
      }
    };
    if (fast) {
      await this.store.write((tx) => {
        apply(
          tx,
          ready.filter((r) => !r.own).map((r) => r.patch),
        );
        tx.afterWrites(() => this.pending.persist([], drop, meta, verdicts));
      });
      this.version = version;
      this.ackedSeq = meta.ackedSeq;
      this.pending.drop(drop);
      this.onConfirmed?.();
      return { unapplied: [], rebased: false };
    }
    return {
      unapplied: await this.rebase(drop, meta, { replacesAll: false, verdicts }, (tx) =>
        apply(
          tx,
          ready.map((r) => r.patch),
        ),
      ),
      rebased: true,
    };
  }

  /** Forgets the verdicts the app heard (on close): a restart must not tell them again. */
  async forgetReported(): Promise<void> {
    const steps = this.pending.journal?.forget() ?? [];
    if (steps.length) await this.store.run(steps);
  }

  // ---- rejection -----------------------------------------------------------------------

  /**
   * The server rejected `patchId`: take it out of the graph. The patches after it are undone and
   * redone; those that no longer apply (they built on it) leave the graph with it, as one cascade,
   * and wait for their own verdicts.
   */
  async rollback(patchId: string, code: ErrorCode, reason: string): Promise<Unapplied[]> {
    const e = this.entry(patchId);
    if (!e) return [];
    this.leftBehind.settled(e, false);
    const meta = { ackedSeq: Math.max(this.ackedSeq, e.patch.seq) };
    const verdicts: Verdicts = new Map([[e, { status: 'rejected', code, reason }]]);
    if (!e.applied) {
      // Its effect left the graph already; the server's answer only releases its place.
      await this.store.write((tx) => tx.afterWrites(() => this.pending.persist([], [e], meta, verdicts)));
      this.pending.drop([e]);
      return [];
    }
    const cascade = await this.rebase([e], meta, { replacesAll: false, verdicts }, () => {});
    return cascade.map((u) => ({ ...u, reason: `${u.reason} (after ${patchId}, rejected ${code}, left the graph)` }));
  }

  // ---- reconciliation --------------------------------------------------------------------

  /**
   * Takes the server's answer to sync_request: settles own patches the server already processed,
   * applies its delta or snapshot under the pending patches, and redoes those still pending. With
   * `reset` (the reconciliation chart's `resetting`: a server this replica has no history with, at
   * first contact or under a new serverId), its pending patches are renumbered after the server's
   * lastSeq instead: that server never saw them.
   */
  async reconcile(chunks: SyncStateMessage[], reset: boolean): Promise<ReconcileResult> {
    const answer = readSyncState(chunks);
    const { lastSeq, version, serverId, mode, delta, snapshot, schema } = answer;
    const continuity = !reset;
    const result: ReconcileResult = { settled: [], unapplied: [], renumbered: [], applied: delta, mode };
    const processed = continuity ? processedEntries(this.entries, answer, this.clientId) : [];
    result.settled = processed.map(({ entry, outcome }) => ({ patchId: entry.patch.id, outcome }));
    const drop = processed.map((p) => p.entry);
    for (const p of processed) this.leftBehind.settled(p.entry, p.outcome.status === 'accepted');
    // A server with no history of ours never saw these: they all get new seqs, tried again on its state.
    const renumber = continuity ? [] : [...this.entries];
    // Made before any contact, they knew nothing of its state: base 0 (reject-stale judges them so).
    const based = this.serverId === undefined ? 0 : version;
    const nextSeq = Math.max(continuity ? this.nextSeq : 1, lastSeq + 1) + renumber.length;
    const meta = { serverId, version, ackedSeq: lastSeq, nextSeq, schema: schema ? JSON.stringify(schema) : '' };

    const verdicts = new Map(processed.map(({ entry, outcome }) => [entry, verdictOf(outcome)]));
    const unapplied = await this.rebase(
      drop,
      meta,
      { replacesAll: !!snapshot, verdicts },
      (tx) => {
        if (snapshot) tx.replaceAll(snapshot);
        this.declareSchemas(tx, schema);
        for (const d of delta) {
          if (d.version <= this.version && continuity) continue;
          const a = tx.apply(d.patch.ops, { server: true });
          if (!a.ok)
            throw new SyncError('internal', `delta patch ${d.patch.id} does not apply here (${a.error.message})`);
        }
      },
      continuity ? undefined : { from: lastSeq + 1, baseVersion: based, entries: renumber, out: result.renumbered },
    );
    result.unapplied = unapplied;
    this.serverId = serverId;
    this.future.clear();
    return result;
  }

  /** Both schemas' tables exist (the app's reads never fail); the server's judges, else the app's. */
  private declareSchemas(tx: WriteTx, server: GraphSchema | undefined): void {
    if (this.ownSchema) tx.declare(this.ownSchema);
    if (server || !this.ownSchema) tx.declare(server);
  }

  // ---- the rebase --------------------------------------------------------------------------

  /**
   * Undo every applied pending patch (newest first), run `between` (the server's changes), redo the
   * pending patches that remain (oldest first) with fresh inverses, and record it all: one transaction.
   * Patches that did not apply before are tried again: the server's changes may have made room.
   * Returns those that applied before and no longer do.
   * When `between` replaces the whole graph, undoing first is skipped: the snapshot wipes it anyway,
   * and Kuzu 0.11 cannot commit a DROP TABLE after inserts into that table in one transaction.
   */
  private async rebase(
    drop: Entry[],
    meta: Record<string, string | number>,
    how: { replacesAll: boolean; verdicts?: Verdicts },
    between: (tx: WriteTx) => void,
    renumber?: { from: number; baseVersion: number; entries: Entry[]; out: Array<{ from: string; to: Patch }> },
  ): Promise<Unapplied[]> {
    // Undoing needs every inverse, and those of staged writes are known only once they commit.
    if (this.local.stagedGroups) throw new SyncError('internal', 'a rebase must wait for the staged writes to commit');
    const dropSet = new Set(drop);
    const applied = this.entries.filter((e) => e.applied);
    const redo = this.entries.filter((e) => !dropSet.has(e));
    const unapplied: Unapplied[] = [];
    const renumbered = new Map<Entry, Patch>();
    if (renumber) {
      renumber.entries.forEach((e, i) => {
        const seq = renumber.from + i;
        renumbered.set(e, { ...e.patch, id: `${this.clientId}:${seq}`, seq, baseVersion: renumber.baseVersion });
      });
    }
    const redone: Array<[Entry, Applied]> = [];
    // What it made before and what its redo made, kept in _Pending too (a verdict after a restart).
    const nextOf = (e: Entry, a: Applied): Entry => {
      const fresh = a.ok ? a.made : [];
      // Most entries made nothing: no set to build, twice per entry, on every rebase.
      const made = fresh.length ? [...new Set([...(e.made ?? []), ...fresh])] : e.made;
      const inverse = a.ok ? a.inverse : [];
      return { patch: renumbered.get(e) ?? e.patch, inverse, applied: a.ok, ...(made ? { made } : {}) };
    };
    // With nothing to redo, nothing captures: a big delta or snapshot can run while it is planned.
    const stream = redo.length === 0;
    await this.store.write(
      (tx) => {
        for (let i = how.replacesAll ? -1 : applied.length - 1; i >= 0; i--) {
          const a = tx.apply(applied[i]!.inverse);
          if (!a.ok)
            throw new SyncError('internal', `undo of ${applied[i]!.patch.id} failed (${a.error.message}): resync`);
        }
        between(tx);
        for (const e of redo) redone.push([e, tx.apply(e.patch.ops, { capture: true })]);
        tx.afterWrites(() => {
          const changed = redone.map(([e, a]) => nextOf(e, a));
          return this.pending.persist(changed, [...drop, ...(renumber ? renumber.entries : [])], meta, how.verdicts);
        });
      },
      { stream },
    );
    // Committed: mirror it in memory.
    this.pending.drop([...drop, ...(renumber ? renumber.entries : [])]);
    for (const [e, a] of redone) {
      const next = nextOf(e, a);
      const patch = next.patch;
      // Redone as it was, it is the same message; renumbered, it is a new one. Its ops are the same.
      if (e.frame !== undefined && !renumbered.has(e)) next.frame = e.frame;
      if (e.tables) next.tables = e.tables;
      if (renumbered.has(e)) {
        renumber!.out.push({ from: e.patch.id, to: patch });
        this.pending.add(next);
      } else this.pending.replace(e, next);
      if (!a.ok && e.applied)
        unapplied.push({ patchId: patch.id, code: a.error.code, reason: `no longer applies: ${a.error.message}` });
    }
    if (meta.version !== undefined) this.version = Number(meta.version);
    if (meta.ackedSeq !== undefined) this.ackedSeq = Number(meta.ackedSeq);
    if (meta.nextSeq !== undefined) this.nextSeq = Number(meta.nextSeq);
    this.onConfirmed?.();
    return unapplied;
  }
}
