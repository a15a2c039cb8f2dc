import type { GraphModel } from './graph-model.js';
import { WriteTx } from './write-tx.js';

/** Memory-first writes planned together, and where the model stood before them. */
export interface StagedGroup {
  tx: WriteTx;
  mark: number;
}

/**
 * A store's memory-first groups: the open one, which takes new writes, and the ones closed before
 * it (see `seal`), oldest first. Each commits in a transaction of its own, in order.
 */
export class StagedGroups {
  private open: StagedGroup | undefined;
  private readonly sealed: StagedGroup[] = [];

  constructor(private readonly model: GraphModel) {}

  get any(): boolean {
    return this.open !== undefined || this.sealed.length > 0;
  }

  /** The open group; a new one if none is open. */
  current(): StagedGroup {
    this.open ??= { tx: new WriteTx(this.model), mark: this.model.mark() };
    return this.open;
  }

  /** A refused write plans nothing: a group that holds nothing is not a group. */
  dropEmpty(): void {
    if (this.open?.tx.isEmpty) this.open = undefined;
  }

  /**
   * Closes the open group: what stages next opens a new one, which commits after it. A burst's
   * first rows then reach the database, and the wire, without waiting for its last.
   */
  seal(): void {
    if (this.open) this.sealed.push(this.open);
    this.open = undefined;
  }

  /** The oldest group, taken out, and the model's mark where it ends (the next group's start). */
  takeOldest(): { group: StagedGroup; end: number } | undefined {
    const group = this.sealed.shift() ?? this.open;
    if (!group) return undefined;
    if (group === this.open) this.open = undefined;
    return { group, end: (this.sealed[0] ?? this.open)?.mark ?? this.model.mark() };
  }

  /** A group failed to commit: it and every group after it (planned on top of it) are gone. */
  clear(): void {
    this.sealed.length = 0;
    this.open = undefined;
  }
}
