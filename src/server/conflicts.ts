import type { Op, Patch } from '../protocol/types.js';

/** A write that lands on something another client changed after the writer last synced. */
export interface Conflict {
  patch: Patch;
  op: Op;
  /** What was changed: `node:<id>`, `node:<id>.<key>`, `edge:<id>`, `edge:<id>.<key>`. */
  key: string;
  baseVersion: number;
  /** The version of the other change, and who made it. */
  changedAt: number;
  changedBy: string;
}

export type ConflictStrategy = 'last-writer-wins' | 'reject-stale' | ((conflict: Conflict) => 'accept' | 'reject');

interface Stamp {
  version: number;
  clientId: string;
}

/**
 * Remembers, for the retained log window, the last version that touched every entity and property,
 * and finds the writes of a patch that land on something changed since the patch's baseVersion by
 * someone else. Pure: the authority feeds it committed patches.
 */
export class ConflictTracker {
  private readonly stamps = new Map<string, Stamp>();
  /** Below this version nothing is remembered; a patch based before it cannot be judged. */
  horizon = 0;

  /** The keys an op writes (`set`) and the keys whose change since the base makes it stale (`check`). */
  static keys(op: Op): { set: string[]; check: string[] } {
    switch (op.op) {
      case 'create_node':
        return { set: [`node:${op.id}`, `node:${op.id}.*`], check: [`node:${op.id}`] };
      case 'delete_node':
        return { set: [`node:${op.id}`, `node:${op.id}.*`], check: [`node:${op.id}`, `node:${op.id}.*`] };
      case 'create_edge':
        return { set: [`edge:${op.id}`, `edge:${op.id}.*`], check: [`edge:${op.id}`, `node:${op.from}`, `node:${op.to}`] };
      case 'delete_edge':
        return { set: [`edge:${op.id}`, `edge:${op.id}.*`], check: [`edge:${op.id}`, `edge:${op.id}.*`] };
      case 'set_property': {
        const e = `${op.target}:${op.id}`;
        const p = `${e}.${op.key.toLowerCase()}`;
        return { set: [p, `${e}.*`], check: [e, p] };
      }
    }
  }

  /** Stale writes of `patch` against everything recorded so far (including earlier patches of its group). */
  conflicts(patch: Patch): Conflict[] {
    const out: Conflict[] = [];
    for (const op of patch.ops) {
      for (const key of ConflictTracker.keys(op).check) {
        if (patch.baseVersion < this.horizon) {
          out.push({ patch, op, key, baseVersion: patch.baseVersion, changedAt: this.horizon, changedBy: '(forgotten: older than the conflict window)' });
          break;
        }
        const s = this.stamps.get(key);
        if (s && s.version > patch.baseVersion && s.clientId !== patch.clientId) {
          out.push({ patch, op, key, baseVersion: patch.baseVersion, changedAt: s.version, changedBy: s.clientId });
        }
      }
    }
    return out;
  }

  private undo: Array<[string, Stamp | undefined]> = [];

  /** Stamps `patch`'s writes; `revert()` takes back everything recorded since the last `commit()`. */
  record(patch: Patch, version: number): void {
    for (const op of patch.ops) {
      for (const key of ConflictTracker.keys(op).set) {
        this.undo.push([key, this.stamps.get(key)]);
        this.stamps.set(key, { version, clientId: patch.clientId });
      }
    }
  }

  commit(): void {
    this.undo = [];
  }

  revert(): void {
    for (let u = this.undo.pop(); u; u = this.undo.pop()) {
      if (u[1]) this.stamps.set(u[0], u[1]);
      else this.stamps.delete(u[0]);
    }
  }

  /** Forget stamps at or below `version` (the log was compacted to it). */
  forget(version: number): void {
    this.horizon = version;
    for (const [k, s] of this.stamps) if (s.version <= version) this.stamps.delete(k);
  }
}
