import type { KuzuConnection } from './kuzu/driver.js';
import type { QueryStep, RunResult, Step } from './kuzu/steps.js';

/**
 * One transaction run in parts while it is still being planned (RunOptions.part): the engine's
 * thread loads what is planned while the main thread plans the rest. A delta of 100k creates
 * planned 0.5 s and then loaded 0.65 s, one after the other; in parts, the two overlap.
 */
export class StepStream {
  private readonly parts: Array<Promise<RunResult>> = [];
  /** The last part went: the transaction is over, committed or not. */
  private ended = false;

  constructor(private readonly conn: KuzuConnection) {}

  get started(): boolean {
    return this.parts.length > 0;
  }

  send(steps: Step[]): void {
    const part = this.conn.run(steps, { part: this.started ? 'more' : 'open' });
    // Heard at the commit or the abort; until then (a beforeCommit awaited) a rejection is not unhandled.
    part.catch(() => undefined);
    this.parts.push(part);
  }

  /** Sends the last part, which commits: the first part that failed, else the last part's result. */
  async commit(steps: Step[], readsAfter: QueryStep[] | undefined): Promise<RunResult> {
    this.ended = true;
    const last = this.conn.run(steps, { part: 'last', ...(readsAfter && { readsAfter }) });
    const results = await Promise.all([...this.parts, last]);
    return results.find((r) => !r.ok) ?? results[results.length - 1]!;
  }

  /** The plan failed after parts went out: roll them back, and hear every part's answer first. */
  async abort(): Promise<void> {
    if (!this.started || this.ended) return;
    this.ended = true;
    await Promise.allSettled([...this.parts, this.conn.run([], { part: 'abort' })]);
  }
}
