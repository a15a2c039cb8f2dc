import type { Op } from '../protocol/types.js';

/**
 * The nodes and edges an op reads or writes, as `n:<id>` / `e:<id>` keys. Two sets of ops with no
 * key in common commute: applying a server change under pending local patches then needs no rebase.
 */
export function opEntities(op: Op): string[] {
  const keys: string[] = [];
  forOpEntities(op, (k) => keys.push(k));
  return keys;
}

/** Calls `f` with each key of `op` (see opEntities), without building a list: the hot path's way. */
export function forOpEntities(op: Op, f: (key: string) => void): void {
  switch (op.op) {
    case 'create_node':
    case 'upsert_node':
    case 'delete_node':
      return f(`n:${op.id}`);
    case 'set_property':
      return f(`${op.target === 'node' ? 'n' : 'e'}:${op.id}`);
    case 'create_edge':
    case 'upsert_edge':
      f(`e:${op.id}`);
      f(`n:${op.from}`);
      return f(`n:${op.to}`);
    case 'delete_edge':
      return f(`e:${op.id}`);
  }
}

/** A multiset of keys, so patches can be added and removed as they come and go. */
export class KeyCounts {
  private readonly counts = new Map<string, number>();

  add(keys: Iterable<string>): void {
    for (const k of keys) this.addOne(k);
  }
  remove(keys: Iterable<string>): void {
    for (const k of keys) this.removeOne(k);
  }
  /** Bound, so it can be handed on as a callback. */
  readonly addOne = (k: string): void => {
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  };
  readonly removeOne = (k: string): void => {
    const n = (this.counts.get(k) ?? 0) - 1;
    if (n > 0) this.counts.set(k, n);
    else this.counts.delete(k);
  };
  has(key: string): boolean {
    return this.counts.has(key);
  }
  get size(): number {
    return this.counts.size;
  }
  clear(): void {
    this.counts.clear();
  }
}
