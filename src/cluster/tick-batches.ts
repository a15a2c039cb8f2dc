/**
 * What one tick produces, gathered per destination and written as one stream entry each: a burst
 * of patches from many connections costs one XADD, not one per message. Writes to one destination
 * leave in order (one Redis connection keeps command order).
 */
export class TickBatches<T> {
  private readonly pending = new Map<string, T[]>();
  private scheduled = false;

  constructor(private readonly write: (to: string, items: T[]) => void) {}

  push(to: string, item: T): void {
    let items = this.pending.get(to);
    if (!items) this.pending.set(to, (items = []));
    items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const all = [...this.pending];
    this.pending.clear();
    for (const [to, items] of all) this.write(to, items);
  }
}
