/**
 * At most one line per `everyMs` of what anyone can make a server say, once per request (a refused
 * origin, an `authenticate` that throws): a page opening sockets in a loop must not flood the log.
 * The next line told says how many were left out.
 */
export class LogLimit {
  private last = Number.NEGATIVE_INFINITY;
  private skipped = 0;

  constructor(
    private readonly everyMs = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  tell(say: (more: string) => void): void {
    const now = this.clock();
    if (now - this.last < this.everyMs) {
      this.skipped++;
      return;
    }
    const more = this.skipped ? ` (and ${this.skipped} more like it since the last line)` : '';
    this.last = now;
    this.skipped = 0;
    say(more);
  }
}
