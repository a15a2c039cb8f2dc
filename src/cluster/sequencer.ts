import type { FirstChunk, SyncStateHead } from '../protocol/encode.js';
import type { Authority } from '../server/authority.js';
import type { Logger, Principal } from '../server/options.js';
import { loop } from './backoff.js';
import type { Subscribable } from './log-appender.js';
import { encodeDeltaOrder, type InboxMessage, parseInbox, type Reply } from './messages.js';
import type { ClusterRedis } from './redis/index.js';
import { TickBatches } from './tick-batches.js';

/** A connection of a gateway, as the sequencer's authority sees it: its answers go to its gateway's stream. */
class RemotePeer implements Subscribable {
  clientId: string | undefined;

  constructor(
    readonly gateway: string,
    readonly conn: number,
    public principal: Principal,
    private readonly out: TickBatches<Reply>,
  ) {}

  send(json: string): void {
    this.out.push(this.gateway, [this.conn, 'm', json]);
  }
  drop(reason: string): void {
    this.out.push(this.gateway, [this.conn, 'd', reason]);
  }
  subscribed(position: string): void {
    this.out.push(this.gateway, [this.conn, 's', position]);
  }
  deltaFromLog(head: SyncStateHead, first: FirstChunk): void {
    this.out.push(this.gateway, [this.conn, 'D', encodeDeltaOrder(head, first)]);
  }
}

/** Inbox entries read per XREAD. */
const READ_COUNT = 1000;

/**
 * The sequencer's I/O: reads what the gateways forward from the inbox, hands each message to the
 * authority as if its connection were local, and sends the answers the log does not carry back to
 * each gateway's stream. The inbox is read from where it stood when this sequencer took over: what
 * came before was for connections the takeover makes every gateway drop.
 */
export class Sequencer {
  private readonly peers = new Map<string, RemotePeer>();
  private readonly out: TickBatches<Reply>;
  private running = true;
  private readonly reading: Promise<void>;

  constructor(
    private readonly redis: ClusterRedis,
    private readonly authority: Authority,
    private readonly logger: Logger,
    private after: string,
  ) {
    // A lost reply leaves a client waiting; its gateway drops every client when Redis goes away, and
    // they resync (see Gateway).
    this.out = new TickBatches((gateway, replies) => {
      redis
        .gateway(gateway)
        .add(JSON.stringify(replies))
        .catch((e: Error) => logger.warn(`kuzu-sync: a reply to gateway ${gateway} was lost: ${e.message}`));
    });
    this.reading = loop(
      () => this.running,
      () => this.readInbox(),
      (e) => logger.warn(`kuzu-sync: reading the inbox failed: ${(e as Error).message}; retrying`),
    );
  }

  private async readInbox(): Promise<void> {
    const entries = await this.redis.inbox.read(this.after, 1000, READ_COUNT);
    if (!this.running) return;
    for (const e of entries) {
      this.after = e.id;
      this.route(e.body);
    }
    // Only the sequencer reads the inbox: what it has read can go.
    if (entries.length) await this.redis.inbox.trim(this.after);
  }

  private route(body: string): void {
    const entry = parseInbox(body);
    if (!entry) return this.logger.error('kuzu-sync: a malformed inbox entry was dropped');
    const now = performance.now();
    for (const m of entry.m) this.deliver(entry.g, m, now);
  }

  private deliver(gateway: string, m: InboxMessage, receivedAt: number): void {
    const key = `${gateway}/${m.c}`;
    if (m.k === 'x') {
      const gone = this.peers.get(key);
      if (gone) this.authority.forget(gone);
      this.peers.delete(key);
      return;
    }
    let peer = this.peers.get(key);
    if (!peer) this.peers.set(key, (peer = new RemotePeer(gateway, m.c, m.pr, this.out)));
    peer.principal = m.pr;
    peer.clientId = m.cl;
    if (m.k === 'p') this.authority.submitPatch(peer, m.patch, receivedAt);
    else if (m.k === 'i') this.authority.submitInvalid(peer, m.client, m.seq, m.code, m.reason, receivedAt);
    else this.authority.submitSyncRequest(peer, m.req);
  }

  /** Stops reading; what was read is still processed (drain the authority after). */
  async close(): Promise<void> {
    this.running = false;
    await this.reading;
  }
}
