import type { FirstChunk, SyncStateHead } from '../protocol/encode.js';
import type { Authority } from '../server/authority.js';
import type { Logger, Principal } from '../server/options.js';
import { loop, sleep } from './backoff.js';
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
/** How long a reply is retried while Redis is away: about as long as a client's handshake waits. */
const REPLY_ATTEMPTS = 40;
const INBOX_KEEP_MS = 60_000;

/**
 * The sequencer's I/O: reads what the gateways forward from the inbox, hands each message to the
 * authority as if its connection were local, and sends the answers the log does not carry back to
 * each gateway's stream. The inbox is read from where it stood when this sequencer took over: what
 * came before was for connections the takeover makes every gateway drop.
 */
export class Sequencer {
  private readonly peers = new Map<string, RemotePeer>();
  /** Each gateway's replies in flight, so the next leaves after them. */
  private readonly sending = new Map<string, Promise<void>>();
  private readonly out: TickBatches<Reply>;
  private running = true;
  private readonly reading: Promise<void>;

  constructor(
    private readonly redis: ClusterRedis,
    private readonly authority: Authority,
    private readonly logger: Logger,
    private after: string,
    /** This sequencer's epoch: once the lease's is another, it reads nothing more. */
    private readonly epoch: number,
  ) {
    this.out = new TickBatches((gateway, replies) => this.reply(gateway, JSON.stringify(replies)));
    this.reading = loop(
      () => this.running,
      () => this.readInbox(),
      (e) => logger.warn(`kuzu-sync: reading the inbox failed: ${(e as Error).message}; retrying`),
    );
  }

  /**
   * One gateway's replies leave in order, each retried while Redis is away (a lost one would leave
   * a client waiting: a sync answer for its handshake's timeout, an `ignored` until it reconnects).
   */
  private reply(gateway: string, body: string): void {
    const previous = this.sending.get(gateway) ?? Promise.resolve();
    const sent = previous.then(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return void (await this.redis.gateway(gateway).add(body));
        } catch (e) {
          if (!this.running || attempt === REPLY_ATTEMPTS) {
            return this.logger.warn(`kuzu-sync: a reply to gateway ${gateway} was lost: ${(e as Error).message}`);
          }
          await sleep(Math.min(1000, 20 * 2 ** attempt));
        }
      }
    });
    this.sending.set(gateway, sent);
    void sent.then(() => this.sending.get(gateway) === sent && this.sending.delete(gateway));
  }

  private async readInbox(): Promise<void> {
    const entries = await this.redis.inbox.read(this.after, 1000, READ_COUNT);
    if (!this.running || !entries.length) return;
    // A sequencer paused past its lease must not answer what its successor answers: one GET a batch.
    if ((await this.redis.lease.epoch()) !== this.epoch) {
      this.running = false;
      return this.logger.warn('kuzu-sync: another sequencer holds the lease; this one stops reading the inbox');
    }
    for (const e of entries) {
      this.after = e.id;
      this.route(e.body);
    }
    // Entries a minute old can go: by then any sequencer has read them (a deposed one, trimming what
    // it read, could otherwise remove what its successor has not).
    await this.redis.inbox.trim(`${Math.max(0, Date.now() - INBOX_KEEP_MS)}-0`);
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
