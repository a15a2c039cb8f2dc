import type { Op, Patch } from '../protocol/types.js';

/** A write that lands on something another client changed after the writer last synced. */
export interface Conflict {
  patch: Patch;
  op: Op;
  /** What was changed: `node:<id>`, `node:<id>.<key>`, `node:<id>.edges`, `edge:<id>`, `edge:<id>.<key>`. */
  key: string;
  baseVersion: number;
  /** The version of the other change, and who made it. */
  changedAt: number;
  changedBy: string;
}

export type ConflictStrategy = 'last-writer-wins' | 'reject-stale' | ((conflict: Conflict) => 'accept' | 'reject');

/**
 * Remembers, for the retained log window, the last version that touched every entity and property,
 * and finds the writes of a patch that land on something changed since the patch's baseVersion by
 * someone else. Pure: the authority feeds it committed patches.
 */
export class ConflictTracker {
  /**
   * key -> clientId -> the last version that client changed it at. Per client, so a writer's own
   * later change never hides someone else's.
   */
  private readonly stamps = new Map<string, Map<string, number>>();
  /** Below this version nothing is remembered; a patch based before it cannot be judged. */
  horizon = 0;

  /** `ends`: an edge's two nodes, as the graph has them now (a change to an edge is one to its ends' edges). */
  constructor(private readonly ends: (edgeId: string) => { from: string; to: string } | undefined = () => undefined) {}

  /** The keys an op writes (`set`) and the keys whose change since the base makes it stale (`check`). */
  keys(op: Op): { set: string[]; check: string[] } {
    switch (op.op) {
      case 'create_node':
        return { set: [`node:${op.id}`, `node:${op.id}.*`], check: [`node:${op.id}`] };
      case 'delete_node':
        // Its edges go with it: one gained since the base counts as a change to the node.
        return {
          set: [`node:${op.id}`, `node:${op.id}.*`],
          check: [`node:${op.id}`, `node:${op.id}.*`, `node:${op.id}.edges`],
        };
      case 'create_edge':
        return {
          set: [`edge:${op.id}`, `edge:${op.id}.*`, `node:${op.from}.edges`, `node:${op.to}.edges`],
          check: [`edge:${op.id}`, `node:${op.from}`, `node:${op.to}`],
        };
      case 'delete_edge':
        return { set: [`edge:${op.id}`, `edge:${op.id}.*`], check: [`edge:${op.id}`, `edge:${op.id}.*`] };
      case 'upsert_node':
      case 'upsert_edge': {
        // Judged field by field, like a set_property per key: another client's create or delete of
        // the node since the base makes it stale too, a change to another of its keys does not.
        const e = `${op.op === 'upsert_node' ? 'node' : 'edge'}:${op.id}`;
        const fields = Object.keys(op.properties).map((k) => `${e}.${k.toLowerCase()}`);
        const ends = op.op === 'upsert_edge' ? [`node:${op.from}`, `node:${op.to}`] : [];
        const edges = op.op === 'upsert_edge' ? [`node:${op.from}.edges`, `node:${op.to}.edges`] : [];
        return { set: [...fields, `${e}.*`, ...edges], check: [e, ...fields, ...ends] };
      }
      case 'set_property': {
        const e = `${op.target}:${op.id}`;
        const p = `${e}.${op.key.toLowerCase()}`;
        // A stale delete of either end would take the edge, and this change, with it.
        const ends = op.target === 'edge' ? this.ends(op.id) : undefined;
        const edges = ends ? [`node:${ends.from}.edges`, `node:${ends.to}.edges`] : [];
        return { set: [p, `${e}.*`, ...edges], check: [e, p] };
      }
    }
  }

  /** Stale writes of `patch` against everything recorded so far (including earlier patches of its group). */
  conflicts(patch: Patch): Conflict[] {
    const out: Conflict[] = [];
    for (const op of patch.ops) {
      for (const key of this.keys(op).check) {
        if (patch.baseVersion < this.horizon) {
          const changedBy = '(forgotten: older than the conflict window)';
          out.push({ patch, op, key, baseVersion: patch.baseVersion, changedAt: this.horizon, changedBy });
          break;
        }
        for (const [clientId, version] of this.stamps.get(key) ?? []) {
          if (version > patch.baseVersion && clientId !== patch.clientId) {
            out.push({ patch, op, key, baseVersion: patch.baseVersion, changedAt: version, changedBy: clientId });
            break;
          }
        }
      }
    }
    return out;
  }

  private undo: Array<[key: string, clientId: string, previous: number | undefined]> = [];

  /** Stamps `patch`'s writes; `revert()` takes back everything recorded since the last `commit()`. */
  record(patch: Patch, version: number): void {
    for (const op of patch.ops) {
      for (const key of this.keys(op).set) {
        let byClient = this.stamps.get(key);
        if (!byClient) this.stamps.set(key, (byClient = new Map()));
        this.undo.push([key, patch.clientId, byClient.get(patch.clientId)]);
        byClient.set(patch.clientId, version);
      }
    }
  }

  commit(): void {
    this.undo = [];
  }

  revert(): void {
    for (let u = this.undo.pop(); u; u = this.undo.pop()) {
      const byClient = this.stamps.get(u[0]);
      if (!byClient) continue;
      if (u[2] === undefined) byClient.delete(u[1]);
      else byClient.set(u[1], u[2]);
      if (byClient.size === 0) this.stamps.delete(u[0]);
    }
  }

  /** Forget stamps at or below `version` (the log was compacted to it). */
  forget(version: number): void {
    this.horizon = version;
    for (const [k, byClient] of this.stamps) {
      for (const [c, v] of byClient) if (v <= version) byClient.delete(c);
      if (byClient.size === 0) this.stamps.delete(k);
    }
  }
}
