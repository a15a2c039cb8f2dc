import { maxPatchMessageBytes, PATCH_ENVELOPE_BYTES } from '../protocol/decode.js';
import { encodeMessage } from '../protocol/encode.js';
import { SyncError, toSyncError } from '../protocol/errors.js';
import type { Op, Patch } from '../protocol/types.js';
import { MAX_OPS_PER_PATCH } from '../protocol/validate.js';
import { utf8Length } from '../protocol/utf8.js';
import type { Applied, GraphStore } from '../store/graph-store.js';
import type { Step } from '../store/kuzu/steps.js';
import type { Entry, PendingPatches } from './pending.js';

/**
 * Writes per group commit at most. A burst of 10,000 un-awaited writes commits in groups of this
 * many, each sent once committed, so the server works on the first while the rest commit here.
 */
const GROUP_WRITES = 1000;

export type LocalResult = { ok: true; patch: Patch } | { ok: false; error: SyncError };

/** What a local write takes from the replica: who writes, on which version, and the seq it gets. */
export interface Seqs {
  readonly clientId: string;
  readonly version: number;
  nextSeq: number;
}

/** A staged local write: its inverse is known once its group commits. */
interface Staged {
  entry: Entry;
  applied: Extract<Applied, { ok: true }>;
}

/**
 * Memory-first local writes. Each is validated and planned against the model at once, becomes a
 * pending patch and part of the local view; the store's open group collects them, and a group
 * commit makes them durable with their `_Pending` rows (the replica's executor decides when).
 */
export class LocalWrites {
  /** The store's staged groups, oldest first, not yet committed (see GraphStore.seal). */
  private readonly groups: Staged[][] = [];
  /** The last of them, while it takes more writes. */
  private open: Staged[] | undefined;

  constructor(
    private readonly seqs: Seqs,
    private readonly store: GraphStore,
    private readonly pending: PendingPatches,
    /** The largest patch frame the server takes (its maxMessageBytes). */
    private readonly maxMessageBytes: number,
  ) {}

  /**
   * Memory-first writes: stages local writes, each its own patch, into the open group. Each is
   * validated and planned against the model at once and is part of the local view from then on;
   * `commitStaged` makes the group durable, with its `_Pending` rows. Invalid ones are refused, not
   * applied.
   */
  stage(opsList: Op[][]): LocalResult[] {
    return opsList.map((ops) => this.stageOne(ops));
  }

  private stageOne(ops: Op[]): LocalResult {
    if (ops.length > MAX_OPS_PER_PATCH) {
      const why = `a patch holds at most ${MAX_OPS_PER_PATCH} ops; this one has ${ops.length}`;
      return { ok: false, error: new SyncError('invalid_value', why) };
    }
    const seq = this.seqs.nextSeq;
    const patch: Patch = {
      id: `${this.seqs.clientId}:${seq}`,
      clientId: this.seqs.clientId,
      seq,
      baseVersion: this.seqs.version,
      ops,
    };
    // The server rejects a larger one (by the same rule: the room its broadcast needs), and one
    // beyond its hard limit cuts the socket: refused here, the write loses nothing and holds nothing back.
    const frame = encodeMessage({ type: 'patch', patch });
    const size = utf8Length(frame);
    const max = maxPatchMessageBytes(this.maxMessageBytes);
    if (size > max) {
      return {
        ok: false,
        error: new SyncError(
          'message_too_large',
          `the patch would be ${size} bytes; the server takes at most ${max} (maxMessageBytes ${this.maxMessageBytes} less ${PATCH_ENVELOPE_BYTES} for its envelopes)`,
        ),
      };
    }
    if (this.open && this.open.length >= GROUP_WRITES) {
      this.store.seal();
      this.open = undefined;
    }
    const a = this.store.stage((tx) => {
      const a = tx.apply(ops, { capture: true, fit: true });
      if (a.ok && !this.open) {
        const group: Staged[] = (this.open = []);
        this.groups.push(group);
        tx.afterWrites(() => this.persistGroup(group));
      }
      return a;
    });
    if (!a.ok) return { ok: false, error: new SyncError(a.error.code, `op ${a.opIndex}: ${a.error.message}`) };
    this.seqs.nextSeq = seq + 1;
    const list = [...a.tables].sort();
    const entry: Entry = {
      patch,
      inverse: [],
      applied: true,
      frame,
      staged: true,
      tables: { list, key: list.join(',') },
      ...(a.made.length ? { made: a.made } : {}),
    };
    this.open!.push({ entry, applied: a });
    this.pending.add(entry);
    return { ok: true, patch };
  }

  /** Staged groups waiting for `commitStaged`. */
  get stagedGroups(): number {
    return this.groups.length;
  }

  /**
   * Commits the oldest staged group: its writes and their `_Pending` rows in one transaction. If that
   * fails, the group leaves the local view, and so does everything staged after it (planned on top
   * of it): `failed` lists them all, newest last, and their seqs are given out again.
   */
  async commitStaged(): Promise<{ committed: Patch[]; failed?: { patches: Patch[]; error: SyncError } }> {
    const group = this.groups.shift() ?? [];
    if (group === this.open) this.open = undefined;
    let lost: Entry[] = [];
    try {
      // Called in the same tick as the model drops them: no write can stage into a group in between.
      await this.store.commitStaged(() => {
        lost = [...group, ...this.groups.flat()].map((g) => g.entry);
        this.groups.length = 0;
        this.open = undefined;
        this.pending.drop(lost);
        if (lost.length) this.seqs.nextSeq = lost[0]!.patch.seq;
      });
    } catch (e) {
      return { committed: [], failed: { patches: lost.map((l) => l.patch), error: toSyncError(e) } };
    }
    for (const { entry, applied } of group) this.pending.committed(entry, applied.inverse);
    return { committed: group.map((g) => g.entry.patch) };
  }

  /** The `_Pending` rows of a group, once its inverses are known (the entries learn them on commit). */
  private persistGroup(group: Staged[]): Step[] {
    if (!group.length) return [];
    const rows = group.map(({ entry, applied }) => ({ ...entry, inverse: applied.inverse }));
    return this.pending.persist(rows, [], { nextSeq: group.at(-1)!.entry.patch.seq + 1 });
  }
}
