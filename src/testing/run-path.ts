import type { EventObject, InspectionEvent, StateValue } from 'xstate';
import type { ModelPath, ModelStep } from './paths.js';

/**
 * Records every snapshot of every actor of a system, by systemId, through XState's inspection
 * callback. A path's states are checked against this history, so a state the real actor passes
 * through in a microsecond (a store `writing` one batch) still counts as reached.
 */
export class SnapshotRecorder {
  private readonly histories = new Map<string, StateValue[]>();
  private readonly listeners = new Set<() => void>();

  constructor(
    /** Also records what an actor's snapshot says of others (see patchLives): called for every snapshot. */
    private readonly project?: (rec: SnapshotRecorder, systemId: string, snapshot: unknown) => void,
  ) {}

  readonly inspect = (e: InspectionEvent): void => {
    if (e.type !== '@xstate.snapshot') return;
    const id = (e.actorRef as { systemId?: string }).systemId;
    const value = (e.snapshot as { value?: StateValue }).value;
    if (!id || value === undefined) return;
    this.record(id, value);
    this.project?.(this, id, e.snapshot);
    for (const l of [...this.listeners]) l();
  };

  /** Appends `value` to the history of `systemId`, unless it is already the last entry. */
  record(systemId: string, value: StateValue): void {
    let h = this.histories.get(systemId);
    if (!h) this.histories.set(systemId, (h = []));
    if (h.length === 0 || JSON.stringify(h[h.length - 1]) !== JSON.stringify(value)) h.push(value);
  }

  /** Forget what `systemId` did so far (a new actor under the same systemId starts a new history). */
  reset(systemId: string): void {
    this.histories.delete(systemId);
  }

  history(systemId: string): StateValue[] {
    return this.histories.get(systemId) ?? [];
  }

  /** Resolves when `pred` holds, re-checked on every snapshot (and every 20 ms, for outside changes). */
  until(pred: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.listeners.delete(check);
      };
      const check = () => {
        if (!pred()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out: ${what()}`));
      }, timeoutMs);
      const poll = setInterval(check, 20);
      this.listeners.add(check);
    });
  }
}

export interface PathDriver<H> {
  /** A fresh real system for one path. */
  setup(path: ModelPath): Promise<H>;
  /** Make the real system receive `step.event` (the machine's event) by real means. */
  exec(h: H, step: ModelStep, index: number, path: ModelPath): Promise<void>;
  /** The systemId of the actor under test (its history is in the recorder). */
  actor(h: H): string;
  recorder(h: H): SnapshotRecorder;
  /** What must hold in the real system in this state. Runs once the actor has reached it. */
  check?(h: H, step: ModelStep, index: number, path: ModelPath): Promise<void> | void;
  teardown(h: H): Promise<void>;
}

const same = (a: StateValue, b: StateValue) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Drives a real system along `path`: after each event, waits until the actor's recorded history has
 * reached the step's state (in order), then checks that state's invariants. A state the real actor
 * skips, or reaches out of order, fails the path.
 */
export async function runPath<H>(
  path: ModelPath,
  driver: PathDriver<H>,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const h = await driver.setup(path);
  let cursor = 0; // history entries consumed so far
  try {
    for (let i = 0; i < path.steps.length; i++) {
      const step = path.steps[i]!;
      if (i > 0) await driver.exec(h, step, i, path);
      const rec = driver.recorder(h);
      const id = driver.actor(h);
      let found = -1;
      await rec.until(
        () => {
          const hist = rec.history(id);
          // The state may repeat (a self-transition keeps the value): accept the current one too.
          for (let k = Math.max(0, cursor - 1); k < hist.length; k++) {
            if (same(hist[k]!, step.state)) {
              found = k;
              return true;
            }
          }
          return false;
        },
        timeoutMs,
        () =>
          `step ${i} (${step.event.type}) expected ${JSON.stringify(step.state)}; ${id} went ${JSON.stringify(rec.history(id).slice(cursor))}`,
      );
      cursor = found + 1;
      await driver.check?.(h, step, i, path);
    }
  } catch (e) {
    if (process.env.MODEL_DEBUG) console.error(`path failed: ${path.name}\n  ${(e as Error).message}`);
    throw e;
  } finally {
    await driver.teardown(h);
  }
}

export type { EventObject };
