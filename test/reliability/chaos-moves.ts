/**
 * Chaos moves of the hard settings (#17, item 9). `MutePeer`: a peer that writes and never acknowledges a verdict (its sync_requests
 * carry no ackedSeq), while the server keeps a short log and is restarted and killed. At the end it
 * asks for the outcome of every patch it ever sent: each must be what the server decided (its
 * rejections `not_found`, never `accepted`), however far the log has moved on.
 */
import type { SyncClient } from '../../src/client/options.js';
import type { Op, Patch, ServerMessage } from '../../src/protocol/types.js';
import { RawPeer } from '../helpers/raw-peer.js';
import type { Rng } from '../helpers/random.js';
import { randomWrite } from '../helpers/random-ops.js';

/**
 * A client closes while it writes: the writes resolved before close() must go out with it or stay
 * pending in its file (the caller reopens it and every one must be settled in the end); a write made
 * while close() runs must be refused, never resolve and vanish.
 */
export async function closeMidWrites(
  client: SyncClient,
  nextSeq: () => number,
  rng: Rng,
  note: (id: string) => void,
): Promise<{ what: string; writes: number; violations: string[] }> {
  const made: string[] = [];
  let writes = 0;
  for (let i = 1 + rng.int(3); i > 0; i--) {
    const seq = nextSeq();
    const w = await randomWrite(client, rng);
    if (w.ok) {
      note(`${client.clientId}:${seq}`);
      writes++;
    }
    made.push(w.what);
  }
  const closing = client.close();
  const during = await Promise.all([randomWrite(client, rng), randomWrite(client, rng)]);
  await closing;
  const violations = during.filter((w) => w.ok).map((w) => `${client.clientId}: "${w.what}" resolved during close()`);
  const what = `${client.clientId} writes [${made.join('; ')}], closes while writing [${during.map((w) => w.what).join('; ')}], reopens`;
  return { what, writes, violations };
}

export class MutePeer {
  private peer: RawPeer | undefined;
  /** Every patch sent, by seq; `doomed` ones edit a node nobody made (rejected `not_found`). */
  private readonly sent: Array<{ patch: Patch; doomed: boolean }> = [];

  constructor(
    private readonly url: () => string,
    /** Under reject-stale the server may also refuse a patch as `conflict` (its base is too old). */
    private readonly staleRejects: boolean,
    readonly clientId = 'mute',
  ) {}

  /** One write; on a new connection first the ones the server has not processed, as a client would. */
  async step(rng: Rng): Promise<string> {
    const peer = await this.connected();
    const seq = this.sent.length + 1;
    const doomed = rng.next() < 0.5;
    const op: Op = doomed
      ? { op: 'set_property', target: 'node', id: `${this.clientId}-nobody-${seq}`, key: 'x', value: seq }
      : { op: 'create_node', label: 'Mute', id: `${this.clientId}-${seq}`, properties: { seq } };
    const patch = peer.makePatch([op], this.seenVersion(peer), seq);
    this.sent.push({ patch, doomed });
    peer.send({ type: 'patch', patch });
    return `${this.clientId} ${doomed ? 'doomed write' : 'write'} seq ${seq} (never acknowledged)`;
  }

  /** The outcome of every patch sent, asked from seq 1: the ids the server accepted, and what is wrong. */
  async verify(): Promise<{ accepted: Map<string, number | undefined>; rejected: Set<string>; violations: string[] }> {
    let first: SyncState | undefined;
    for (let attempt = 1; ; attempt++) {
      const got = await answer(await this.connected(true), { ackedSeq: 0 });
      if (got !== 'dropped') {
        first = got[0];
        break;
      }
      await droppedAgain(attempt);
    }
    await this.close();
    const outcomes = new Map((first?.outcomes ?? []).map((o) => [o.seq, o]));
    const accepted = new Map<string, number | undefined>();
    const rejected = new Set<string>();
    const violations: string[] = [];
    for (const { patch, doomed } of this.sent) {
      const o = outcomes.get(patch.seq);
      if (!o) violations.push(`${patch.id}: the server gives no outcome (lastSeq ${first?.lastSeq})`);
      else if (o.status === 'accepted') {
        accepted.set(patch.id, o.version);
        if (doomed) violations.push(`${patch.id} edits a node nobody made, yet it is reported accepted`);
      } else {
        rejected.add(patch.id);
        const expected = [...(doomed ? ['not_found'] : []), ...(this.staleRejects ? ['conflict'] : [])];
        if (!expected.includes(o.code ?? '')) violations.push(`${patch.id} is reported rejected ${o.code}`);
      }
    }
    return { accepted, rejected, violations };
  }

  async close(): Promise<void> {
    await this.peer?.close();
    this.peer = undefined;
  }

  /** The highest server version this peer has heard of: its patches' base, as a client's would be. */
  private seenVersion(peer: RawPeer): number {
    let v = 0;
    for (const m of peer.received) {
      if (m.type === 'sync_state' || m.type === 'patch_broadcast') v = Math.max(v, m.version);
      else if (m.type === 'patch_response' && m.status === 'accepted') v = Math.max(v, m.version);
    }
    return v;
  }

  /**
   * The open peer; a new one first re-sends what the server has not processed, as a client would,
   * and connects again when the server drops it before it answers (a cluster's takeover or outage).
   */
  private async connected(fresh = false): Promise<RawPeer> {
    if (this.peer && !this.peer.closed && !fresh) return this.peer;
    for (let attempt = 1; ; attempt++) {
      await this.close();
      const peer = await RawPeer.connect(this.url(), this.clientId).catch(() => undefined);
      const got = peer ? await answer(peer) : 'dropped';
      if (got !== 'dropped') {
        for (const { patch } of this.sent.slice(got[0]?.lastSeq ?? 0)) peer!.send({ type: 'patch', patch });
        this.peer = peer;
        return peer!;
      }
      await droppedAgain(attempt);
    }
  }
}

type SyncState = Extract<ServerMessage, { type: 'sync_state' }>;

/** The server's sync answer, or 'dropped' when it closed the connection first. */
async function answer(peer: RawPeer, extra: Record<string, unknown> = {}): Promise<SyncState[] | 'dropped'> {
  const dropped = new Promise<'dropped'>((r) =>
    peer.closed ? r('dropped') : peer.ws.once('close', () => r('dropped')),
  );
  const synced = peer.sync(0, extra).catch((e: Error) => {
    if (peer.closed) return 'dropped' as const;
    throw new Error(`the mute peer's sync_request went unanswered on an open connection (${e.message})`);
  });
  return Promise.race([synced, dropped]);
}

/** Waits a little longer each time; gives up after 20 drops in a row. */
async function droppedAgain(attempt: number): Promise<void> {
  if (attempt >= 20) throw new Error('the mute peer was dropped before a sync answer 20 times in a row');
  await new Promise((r) => setTimeout(r, 50 * attempt));
}
