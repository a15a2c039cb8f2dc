/**
 * Prepared statements by query text, least recently used evicted past `limit`. Preparing costs as
 * much as a small write; a sync session repeats a handful of shapes thousands of times.
 */
/** Statements kept per database: each holds a little wasm or native memory. */
export const PREPARED_CACHE_LIMIT = 512;

export class PreparedCache<P> {
  private readonly byText = new Map<string, P>();

  constructor(
    private readonly limit: number,
    private readonly dispose: (p: P) => void,
  ) {}

  get(cypher: string, prepare: (cypher: string) => P): P {
    let p = this.byText.get(cypher);
    if (p !== undefined) {
      // Map order doubles as LRU order.
      this.byText.delete(cypher);
      this.byText.set(cypher, p);
      return p;
    }
    p = prepare(cypher);
    this.byText.set(cypher, p);
    if (this.byText.size > this.limit) {
      const [oldest, stmt] = this.byText.entries().next().value as [string, P];
      this.byText.delete(oldest);
      this.dispose(stmt);
    }
    return p;
  }

  clear(): void {
    for (const p of this.byText.values()) this.dispose(p);
    this.byText.clear();
  }
}
