import { randomUUID } from 'node:crypto';
import type { Patch, ErrorCode, SyncRequestMessage } from '../protocol/types.js';
import type { Peer } from '../server/authority.js';
import type { Logger } from '../server/options.js';
import type { Submitter } from '../server/submitter.js';
import type { InboxMessage } from './messages.js';
import type { ClusterRedis } from './redis/index.js';
import { TickBatches } from './tick-batches.js';

/**
 * A gateway's connections' messages, on their way to the sequencer: numbered per connection, and
 * gathered per tick into one inbox entry. An entry Redis did not take is lost: its connections are
 * dropped, and their clients send again what they have pending once they reconnect.
 */
export class Forwarder implements Submitter {
  /** This gateway's name in the cluster; a restarted gateway is a new one. */
  readonly id = randomUUID();
  private readonly numbers = new Map<Peer, number>();
  readonly peers = new Map<number, Peer>();
  private next = 1;
  /** Told of every connection that closed (the fan-out stops telling it). */
  onForget: ((peer: Peer) => void) | undefined;
  private readonly out: TickBatches<InboxMessage>;

  constructor(
    redis: ClusterRedis,
    private readonly logger: Logger,
  ) {
    this.out = new TickBatches((_, m) => {
      redis.inbox.add(JSON.stringify({ g: this.id, m })).catch((e: Error) => this.lost(m, e));
    });
  }

  private numberOf(peer: Peer): number {
    let n = this.numbers.get(peer);
    if (n === undefined) {
      n = this.next++;
      this.numbers.set(peer, n);
      this.peers.set(n, peer);
    }
    return n;
  }

  private forward(m: InboxMessage): void {
    this.out.push('inbox', m);
  }

  submitPatch(peer: Peer, patch: Patch): void {
    this.forward({ k: 'p', c: this.numberOf(peer), cl: peer.clientId, pr: peer.principal, patch });
  }

  submitInvalid(peer: Peer, client: string, seq: number, code: ErrorCode, reason: string): void {
    const c = this.numberOf(peer);
    this.forward({ k: 'i', c, cl: peer.clientId, pr: peer.principal, client, seq, code, reason });
  }

  submitSyncRequest(peer: Peer, req: SyncRequestMessage): void {
    this.forward({ k: 's', c: this.numberOf(peer), cl: peer.clientId, pr: peer.principal, req });
  }

  forget(peer: Peer): void {
    this.onForget?.(peer);
    const c = this.numbers.get(peer);
    if (c === undefined) return;
    this.numbers.delete(peer);
    this.peers.delete(c);
    this.forward({ k: 'x', c });
  }

  private lost(messages: InboxMessage[], e: Error): void {
    const peers = new Set(messages.map((m) => this.peers.get(m.c)).filter((p) => p !== undefined));
    this.logger.warn(
      `kuzu-sync: the cluster did not take ${messages.length} messages (${e.message}); dropping ${peers.size} connections`,
    );
    for (const peer of peers) peer.drop('the cluster did not take a message of this connection');
  }
}
