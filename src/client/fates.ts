import { SyncError } from '../protocol/errors.js';
import type { Emitter } from './events.js';
import type { Confirmation, SyncClientEvents } from './options.js';

interface Waiting {
  resolve(c: Confirmation): void;
  reject(e: SyncError): void;
  /** The patch's id now, as its handle reads it (see renumbered). */
  ref: { id: string };
}

/**
 * The `confirmed` promises of write handles (`client.write.*`): each settles with its patch's verdict,
 * as the `accepted` and `rejected` events tell it, under the patch's new id after a server reset
 * renumbered it. Only patches someone holds a handle for are tracked.
 */
export class Fates {
  private readonly waiting = new Map<string, Waiting>();

  constructor(events: Emitter<SyncClientEvents>) {
    events.on('accepted', (e) => this.take(e.patchId)?.resolve(e));
    events.on('rejected', (e) => this.take(e.patchId)?.reject(new SyncError(e.code, e.reason, e.patchId)));
  }

  /**
   * The verdict of `patchId`, and its id as it goes (renumbered, it changes). Never an unhandled
   * rejection: a handle nobody awaits is fine.
   */
  track(patchId: string): { ref: { readonly id: string }; confirmed: Promise<Confirmation> } {
    const ref = { id: patchId };
    const confirmed = new Promise<Confirmation>((resolve, reject) =>
      this.waiting.set(patchId, { resolve, reject, ref }),
    );
    confirmed.catch(() => {});
    return { ref, confirmed };
  }

  renumbered(moves: ReadonlyArray<{ from: string; to: { id: string } }>): void {
    const moved = moves.flatMap(({ from, to }) => {
      const w = this.take(from);
      return w ? [[to.id, w] as const] : [];
    });
    // All out before any goes back in: old and new ids overlap.
    for (const [id, w] of moved) {
      w.ref.id = id;
      this.waiting.set(id, w);
    }
  }

  /** The client closed: the patches stay pending (in its file, with a databasePath), their promises end. */
  closed(): void {
    for (const [patchId, w] of this.waiting) {
      const why = 'the client closed before the server answered; the patch stays pending and goes out after a restart';
      w.reject(new SyncError('closed', why, patchId));
    }
    this.waiting.clear();
  }

  private take(patchId: string): Waiting | undefined {
    const w = this.waiting.get(patchId);
    this.waiting.delete(patchId);
    return w;
  }
}
