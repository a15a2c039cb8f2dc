import type { SyncRequestMessage } from '../protocol/types.js';
import type { Peer } from './authority.js';
import type { Item } from './verdicts.js';

type SyncItem = Extract<Item, { kind: 'sync' }>;

/**
 * Per peer, at most one sync_request waits in the authority's queue (and one more may be being
 * answered): a later one replaces the waiting one, which gives up its place. Answering is the
 * costliest thing the server does (a snapshot export), and every patch waits behind it: 200
 * requests in one frame stalled every client's writes for 9 s. A client only needs the newest
 * state, so the latest request is the one answered, at the place of the latest (it sees everything
 * its client sent before it); one that asked for a snapshot keeps that for its successor, since a
 * client asks for one when its graph is inconsistent. A peer that is gone is never answered.
 */
export class SyncRequests {
  private readonly waiting = new Map<Peer, SyncItem>();
  private readonly gone = new WeakSet<Peer>();

  /** The item to queue for `request`, with the one it replaces taken out of `queue`; none for a gone peer. */
  submit(queue: Item[], peer: Peer, request: SyncRequestMessage): SyncItem | undefined {
    if (this.gone.has(peer)) return undefined;
    const earlier = this.waiting.get(peer);
    if (earlier) this.remove(queue, earlier);
    const snapshot = earlier?.request.snapshot && !request.snapshot ? { snapshot: true } : {};
    const item: SyncItem = { kind: 'sync', peer, request: { ...request, ...snapshot } };
    this.waiting.set(peer, item);
    return item;
  }

  /** `item` left the queue to be answered: a request after it waits again. False: skip it. */
  take(item: SyncItem): boolean {
    if (this.waiting.get(item.peer) === item) this.waiting.delete(item.peer);
    return !this.gone.has(item.peer);
  }

  /** The peer's connection closed: what it asked for is not worked out for nobody. */
  forget(queue: Item[], peer: Peer): void {
    this.gone.add(peer);
    const earlier = this.waiting.get(peer);
    if (earlier) this.remove(queue, earlier);
    this.waiting.delete(peer);
  }

  isGone(peer: Peer): boolean {
    return this.gone.has(peer);
  }

  private remove(queue: Item[], item: SyncItem): void {
    // From the end: a peer that keeps asking has its request near the end.
    const i = queue.lastIndexOf(item);
    if (i >= 0) queue.splice(i, 1);
  }
}
