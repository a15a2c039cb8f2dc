/**
 * A clock for the statecharts' delays that only moves when a test moves it. Unlike XState's
 * SimulatedClock it lists what is pending, so a test can move time to exactly when one delayed
 * transition is due (firing whatever falls due before it, as real time would).
 */
export class TestClock {
  private now_ = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { fn: () => void; delay: number; due: number }>();

  now(): number {
    return this.now_;
  }

  setTimeout(fn: (...args: unknown[]) => void, delay: number): number {
    const id = this.nextId++;
    this.timers.set(id, { fn: () => fn(), delay, due: this.now_ + delay });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.timers.delete(id as number);
  }

  pending(): Array<{ delay: number; due: number }> {
    return [...this.timers.values()].map(({ delay, due }) => ({ delay, due })).sort((a, b) => a.due - b.due);
  }

  /** Moves time to `t`, firing due timers in order (timers they set that fall due run too). */
  advanceTo(t: number): void {
    for (;;) {
      let next: [number, { fn: () => void; due: number }] | undefined;
      for (const e of this.timers) if (e[1].due <= t && (!next || e[1].due < next[1].due)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.now_ = next[1].due;
      next[1].fn();
    }
    this.now_ = Math.max(this.now_, t);
  }

  /** Fires the pending timer of `delay` ms (and anything due before it). False if none is pending. */
  fire(delay: number): boolean {
    const t = this.pending().find((p) => p.delay === delay);
    if (!t) return false;
    this.advanceTo(t.due);
    return true;
  }
}
