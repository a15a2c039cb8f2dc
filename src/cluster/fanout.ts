import { encodeAccepted, encodePatchBroadcast, encodePatchResponse, type Json } from '../protocol/encode.js';
import type { Peer } from '../server/authority.js';
import { sendDelta } from '../server/sync-answer.js';
import type { Patch } from '../protocol/types.js';
import type { ServerMetrics } from '../server/metrics.js';
import type { Logger } from '../server/options.js';
import type { GroupRecord } from '../server/server-log.js';
import { loop } from './backoff.js';
import type { Forwarder } from './forwarder.js';
import { parseDeltaOrder, parseReplies } from './messages.js';
import { clientOfPatchId, compareIds, decodeLogRecord, type LogRecord, parseId } from './records.js';
import type { ClusterRedis, StreamEntry } from './redis/index.js';

const READ_COUNT = 500;

/**
 * A gateway's two readers. The log: each group tells every subscribed connection what it holds (its
 * own patches' acceptances and recorded rejections, the others' patches as broadcasts), in log order;
 * a takeover drops every connection, whose clients then resync with the new sequencer. The gateway's
 * reply stream: the sequencer's other answers, and the ends of sync answers, after which a connection
 * hears the log from the answer's position on. Both go through one queue, so a connection that
 * subscribes behind what the log reader already told the others is told the difference first.
 */
export class Fanout {
  /** The log id each subscribed connection has heard up to. */
  private readonly heard = new Map<Peer, string>();
  /** The id of the last log entry read. */
  position = '0-0';
  /** The cluster's identity: its sequencer's, as the log says it ('' before any sequencer led). */
  serverId: string;
  private serial: Promise<void> = Promise.resolve();
  private running = true;
  private readonly loops: Promise<void>[];
  private repliesAfter = '0-0';
  /** Whether the last read failed: one outage drops the connections once. */
  private down = false;
  /** The peers' maxMessageBytes, which a delta's chunks keep under. */
  private readonly frameBytes: number | undefined;

  constructor(
    private readonly redis: ClusterRedis,
    private readonly forwarder: Forwarder,
    private readonly logger: Logger,
    private readonly metrics: ServerMetrics,
    start: { position: string; serverId: string | undefined; frameBytes?: number | undefined },
  ) {
    this.position = start.position;
    this.frameBytes = start.frameBytes;
    this.serverId = start.serverId ?? '';
    forwarder.onForget = (peer) => this.heard.delete(peer);
    const failed = (what: string) => (e: unknown) => this.outage(what, e as Error);
    this.loops = [
      loop(
        () => this.running,
        () => this.readLog(),
        failed('the log'),
      ),
      loop(
        () => this.running,
        () => this.readReplies(),
        failed('the replies'),
      ),
    ];
  }

  get version(): number {
    return parseId(this.position)[0];
  }

  private queued(fn: () => void | Promise<void>): Promise<void> {
    this.serial = this.serial.then(fn, fn);
    return this.serial;
  }

  private async readLog(): Promise<void> {
    const entries = await this.redis.log.read(this.position, 1000, READ_COUNT);
    this.down = false;
    if (entries.length) await this.queued(() => this.tellAll(entries));
  }

  private async readReplies(): Promise<void> {
    const stream = this.redis.gateway(this.forwarder.id);
    const entries = await stream.read(this.repliesAfter, 1000, READ_COUNT);
    for (const e of entries) {
      this.repliesAfter = e.id;
      for (const [c, kind, text] of parseReplies(e.body) ?? []) {
        const peer = this.forwarder.peers.get(c);
        if (!peer) continue;
        if (kind === 'm') peer.send(text);
        else if (kind === 'd') peer.drop(text);
        else if (kind === 'D') await this.queued(() => this.sendDelta(peer, text));
        else await this.queued(() => this.subscribe(peer, text));
      }
    }
    if (entries.length) await stream.trim(this.repliesAfter);
  }

  private tellAll(entries: StreamEntry[]): void {
    for (const e of entries) {
      const record = this.decode(e);
      if (!record) {
        this.position = e.id;
        continue;
      }
      const was = this.version;
      this.position = e.id;
      const first = record.kind === 'group' ? record.group.entries[0]?.version : undefined;
      if (first !== undefined && first !== was + 1) {
        // Trimmed past what this gateway read (it fell that far behind): its clients resync.
        this.dropAll(`the log moved from version ${was} to ${first - 1} past this gateway`);
        continue;
      }
      if (record.kind === 'takeover') {
        this.serverId = record.serverId;
        this.dropAll(`a new sequencer (epoch ${record.epoch}) took over`);
        continue;
      }
      const frames = framesOf(record.group);
      for (const [peer, heard] of this.heard) {
        if (compareIds(e.id, heard) > 0) this.tell(peer, frames, e.id);
      }
    }
  }

  /** A malformed entry is passed over once (its versions, if any, read as a gap), never read again. */
  private decode(e: StreamEntry): LogRecord | undefined {
    try {
      return decodeLogRecord(e.body);
    } catch (err) {
      this.logger.error(`kuzu-sync: log entry ${e.id} is malformed (${(err as Error).message}); passed over`);
      return undefined;
    }
  }

  private tell(peer: Peer, frames: Frames, id: string): void {
    for (const f of frames) {
      if (f.client !== peer.clientId) {
        if (f.broadcast) peer.send(f.broadcast);
      } else peer.send(f.own);
    }
    this.heard.set(peer, id);
  }

  /** The sync answer covered the log up to `position`: the rest it hears from here. */
  private async subscribe(peer: Peer, position: string): Promise<void> {
    this.heard.set(peer, position);
    for (let from = position; compareIds(this.position, from) > 0; ) {
      const entries = await this.redis.log.range(from, READ_COUNT);
      // Closed while the log was read: it must not come back.
      if (!entries.length || !this.heard.has(peer)) break;
      for (const e of entries) {
        if (compareIds(e.id, this.position) > 0) return;
        const record = this.decode(e);
        if (record?.kind === 'group') this.tell(peer, framesOf(record.group), e.id);
        from = e.id;
      }
    }
  }

  /** A delta the sequencer ordered: its head from there, its patches from the log. */
  private async sendDelta(peer: Peer, text: string): Promise<void> {
    const order = parseDeltaOrder(text);
    if (!order) return peer.drop('the sequencer sent an unreadable answer');
    try {
      await sendDelta(
        (from, limit) => this.patchesAfter(from, limit, order.head.version),
        peer,
        order.head,
        order.first,
        this.frameBytes,
      );
      this.metrics.onSyncAnswered('delta');
    } catch (e) {
      // Trimmed meanwhile: the client asks again, and gets a snapshot.
      this.logger.warn(`kuzu-sync: a delta from the log failed: ${(e as Error).message}`);
      peer.drop('the delta is no longer in the log');
    }
  }

  private async patchesAfter(from: number, limit: number, upTo: number) {
    const out: Array<{ version: number; json: Json<Patch> }> = [];
    for (let after = `${from}-0`; out.length < limit; ) {
      const entries = await this.redis.log.range(after, 64);
      if (!entries.length) break;
      for (const e of entries) {
        after = e.id;
        const r = decodeLogRecord(e.body);
        if (r.kind === 'group') {
          for (const x of r.group.entries) if (x.version > from && x.version <= upTo) out.push(x);
        }
        if (parseId(e.id)[0] >= upTo) return contiguous(out, from);
      }
    }
    return contiguous(out, from);
  }

  private dropAll(reason: string): void {
    for (const peer of this.forwarder.peers.values()) peer.drop(reason);
    this.heard.clear();
  }

  private outage(what: string, e: Error): void {
    if (!this.running) return;
    this.logger.warn(`kuzu-sync: reading ${what} failed: ${e.message}`);
    if (this.down) return;
    this.down = true;
    // What the sequencer answered meanwhile may be lost: every client resyncs once the cluster is back.
    this.dropAll('the cluster is unreachable');
  }

  async close(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** What one log entry tells a connection: about its own patch (`own`), or about another's (`broadcast`). */
type Frames = Array<{ client: string; seq: number; own: string; broadcast?: string }>;

function framesOf(g: GroupRecord): Frames {
  const frames: Frames = g.entries.map((e) => ({
    client: e.patch.clientId,
    seq: e.patch.seq,
    own: encodeAccepted(e.patch.id, e.version),
    broadcast: encodePatchBroadcast(e.json, e.version),
  }));
  // A client hears its own patches' verdicts in seq order, as a single server tells them.
  for (const [patchId, r] of g.rejections) {
    const client = clientOfPatchId(patchId);
    const seq = Number(patchId.slice(client.length + 1));
    const own = encodePatchResponse({
      type: 'patch_response',
      patchId,
      status: 'rejected',
      code: r.code,
      reason: r.reason,
    });
    const at = frames.findIndex((f) => f.client === client && f.seq > seq);
    frames.splice(at < 0 ? frames.length : at, 0, { client, seq, own });
  }
  return frames;
}

function contiguous<T extends { version: number }>(rows: T[], from: number): T[] {
  if (rows.length && rows[0]!.version !== from + 1)
    throw new Error(`the log starts at version ${rows[0]!.version}, not ${from + 1}`);
  return rows;
}
