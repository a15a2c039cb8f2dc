import { randomUUID } from 'node:crypto';
import type { Json } from '../protocol/encode.js';
import type { Patch, PatchOutcome } from '../protocol/types.js';
import { GraphStore } from '../store/graph-store.js';
import type { Step } from '../store/kuzu/steps.js';
import { chunkIds, chunkSteps, compactStep, LOG_TABLE, migrateRowLog, unpack } from './log-chunks.js';
import { REJECTION_TABLE, Rejections, type Rejection } from './rejections.js';

/**
 * The server's durable bookkeeping, in the same KuzuDB as the graph so it commits in the same
 * transaction as the data it describes: the version, the patch log (for deltas), each client's last
 * processed seq (for exactly-once), and recent rejections (so a client whose answer was lost can
 * still learn why). Kept in memory too; the tables are the truth after a restart.
 */
const TABLES: Step[] = [
  LOG_TABLE,
  'CREATE NODE TABLE IF NOT EXISTS _ClientSeq(clientId STRING, lastSeq INT64, PRIMARY KEY(clientId))',
].map((cypher): Step => ({ kind: 'query', cypher, ddl: true }));
TABLES.push(REJECTION_TABLE);

export type { Rejection };

/** What one committed group adds to the log. */
export interface LogEntry {
  version: number;
  patch: Patch;
  json: Json<Patch>;
}

/** What one group leaves in the log: the same things the server's own tables record of it. */
export interface GroupRecord {
  entries: LogEntry[];
  seqs: Map<string, number>;
  rejections: Map<string, Rejection>;
  /** The version after the group. */
  version: number;
  compactTo: number | undefined;
}

export const emptyRecord = (version: number): GroupRecord => ({
  entries: [],
  seqs: new Map(),
  rejections: new Map(),
  version,
  compactTo: undefined,
});

export class ServerLog {
  serverId = '';
  version = 0;
  /** Versions after `logStart` are in the log; a delta can start at any version >= logStart. */
  logStart = 0;
  readonly lastSeq = new Map<string, number>();
  /** patch id -> version, for the retained log. */
  readonly accepted = new Map<string, number>();
  /** Each client's rejections, until it acknowledges them. */
  rejections: Rejections;
  /** Retained log ids in version order, to forget them on compaction. */
  private readonly order: Array<{ version: number; id: string }> = [];
  /** Whether `_Meta` holds a `version` row already, which a group may then update in place. */
  private versionStored = false;

  constructor(
    readonly store: GraphStore,
    readonly retention: number,
    rejectionsPerClient: number,
  ) {
    this.rejections = new Rejections(rejectionsPerClient);
  }

  async load(): Promise<void> {
    await this.store.run(TABLES);
    await migrateRowLog(this.store);
    const meta = await this.store.getMeta(['serverId', 'version', 'logStart']);
    this.version = Number(meta.version ?? 0);
    this.versionStored = meta.version !== undefined;
    this.logStart = Number(meta.logStart ?? 0);
    if (meta.serverId) this.serverId = meta.serverId;
    else {
      // A new database is a new server identity: clients that knew another one take a snapshot.
      this.serverId = randomUUID();
      await this.store.run([GraphStore.metaStep({ serverId: this.serverId, version: 0, logStart: 0 })]);
      this.versionStored = true;
    }
    const [seqs, log, rejections, forgot] = await this.store.run(
      [
        { kind: 'query', cypher: 'MATCH (c:_ClientSeq) RETURN c.clientId AS clientId, c.lastSeq AS lastSeq' },
        { kind: 'query', cypher: 'MATCH (l:_LogChunk) RETURN l.first AS first, l.ids AS ids ORDER BY first' },
        ...Rejections.LOAD_STEPS,
      ],
      { reads: true },
    );
    for (const r of seqs!) this.lastSeq.set(r.clientId as string, r.lastSeq as number);
    for (const r of log!) {
      const first = r.first as number;
      chunkIds(r.ids as string).forEach((id, i) => {
        // A chunk that straddles the compaction point keeps patches no longer retained.
        if (first + i <= this.logStart) return;
        this.accepted.set(id, first + i);
        this.order.push({ version: first + i, id });
      });
    }
    this.rejections.load(rejections!, forgot!);
  }

  /** Forgets what memory holds and reads it all from the database again (the database is the truth). */
  async reload(): Promise<void> {
    this.lastSeq.clear();
    this.accepted.clear();
    this.order.length = 0;
    this.rejections = new Rejections(this.rejections.perClient);
    await this.load();
  }

  /** Steps that record a committed group: they run in the group's transaction. */
  groupSteps({ entries, seqs, rejections, version, compactTo }: GroupRecord): Step[] {
    const steps = chunkSteps(entries);
    const [only] = seqs.size === 1 ? seqs : [];
    if (only && this.lastSeq.has(only[0]) && this.versionStored && compactTo === undefined) {
      // The usual group (one known client, a version, no compaction): both rows exist, so one
      // statement updates them. Each statement costs kuzu-wasm about 1-2 ms; the two MERGEs were 4.
      steps.push({
        kind: 'query',
        cypher: "MATCH (c:_ClientSeq {clientId: $c}), (m:_Meta {key: 'version'}) SET c.lastSeq = $s, m.value = $v",
        params: { c: only[0], s: only[1], v: String(version) },
      });
      steps.push(...this.rejections.steps(rejections, version));
      return steps;
    }
    if (seqs.size) {
      steps.push({
        kind: 'rows',
        body: 'MERGE (c:_ClientSeq {clientId: $c0}) SET c.lastSeq = $c1',
        columns: ['STRING', 'INT64'],
        rows: [...seqs].map(([c, s]) => [c, s]),
      });
    }
    steps.push(...this.rejections.steps(rejections, version));
    const meta: Record<string, number> = { version };
    if (compactTo !== undefined) {
      // Rejections outlive the log: they go when their client acknowledges them (see Rejections).
      steps.push(compactStep(compactTo));
      meta.logStart = compactTo;
    }
    steps.push(GraphStore.metaStep(meta));
    return steps;
  }

  /** Where to compact to after reaching `version`, if it is time (in steps of a tenth of the retention). */
  compactionPoint(version: number): number | undefined {
    const target = version - this.retention;
    return target > this.logStart + Math.max(1, Math.floor(this.retention / 10)) ? target : undefined;
  }

  /** Mirror a committed group in memory. */
  committed({ entries, seqs, rejections, version, compactTo }: GroupRecord): void {
    for (const e of entries) {
      this.accepted.set(e.patch.id, e.version);
      this.order.push({ version: e.version, id: e.patch.id });
    }
    for (const [c, s] of seqs) this.lastSeq.set(c, s);
    this.rejections.committed(rejections, version);
    this.version = version;
    this.versionStored = true;
    if (compactTo !== undefined) {
      this.logStart = compactTo;
      let n = 0;
      while (n < this.order.length && this.order[n]!.version <= compactTo) this.accepted.delete(this.order[n++]!.id);
      this.order.splice(0, n);
    }
  }

  /** What became of `clientId`'s patches after `ackedSeq`, as far as the retained log knows. */
  outcomes(clientId: string, ackedSeq: number): PatchOutcome[] {
    const last = this.lastSeq.get(clientId) ?? 0;
    const out: PatchOutcome[] = [];
    for (let seq = ackedSeq + 1; seq <= last; seq++) out.push(this.outcome(clientId, seq));
    return out;
  }

  outcome(clientId: string, seq: number): PatchOutcome {
    const r = this.rejections.get(clientId, seq);
    if (r) return { seq, status: 'rejected', code: r.code, reason: r.reason };
    const version = this.accepted.get(`${clientId}:${seq}`);
    if (version !== undefined) return { seq, status: 'accepted', version };
    if (this.rejections.forgotten(clientId, seq)) {
      // Never a guess of `accepted`: a client that trusted it would keep a write the server refused.
      const reason = `the server no longer keeps the outcome of seq ${seq} (more than ${this.rejections.perClient} unacknowledged rejections); resync`;
      return { seq, status: 'rejected', code: 'internal', reason };
    }
    // Past the retained log, a processed patch that left no rejection behind was accepted.
    return { seq, status: 'accepted' };
  }

  /** `clientId` holds every answer up to `ackedSeq`: their rejections need not be kept. */
  acknowledged(clientId: string, ackedSeq: number): void {
    this.rejections.acknowledged(clientId, Math.min(ackedSeq, this.lastSeq.get(clientId) ?? 0));
  }

  /**
   * The log's patches after `fromVersion`, as stored JSON, in version order: whole chunks until
   * `limit` patches are read (the last chunk may take it past `limit`), none once the log ends.
   */
  async readLog(fromVersion: number, limit: number): Promise<Array<{ version: number; json: Json<Patch> }>> {
    const out: Array<{ version: number; json: Json<Patch> }> = [];
    for (let from = fromVersion; out.length < limit; ) {
      const cypher =
        'MATCH (l:_LogChunk) WHERE l.version > $v ' +
        'RETURN l.first AS first, l.patches AS patches ORDER BY l.version LIMIT 4';
      const [rows] = await this.store.run([{ kind: 'query', cypher, params: { v: from } }], { reads: true });
      if (rows!.length === 0) break;
      for (const r of rows!) {
        for (const e of unpack(r.first as number, r.patches as string)) if (e.version > fromVersion) out.push(e);
      }
      from = out[out.length - 1]!.version;
    }
    return out;
  }

  /** Characters of the log's patches after `fromVersion`, to weigh a delta against a snapshot. */
  async logBytesAfter(fromVersion: number): Promise<number> {
    const params = { v: fromVersion };
    const [whole, straddling] = await this.store.run(
      [
        {
          kind: 'query',
          // Patches of a chunk are joined by one character each.
          cypher: 'MATCH (l:_LogChunk) WHERE l.first > $v RETURN sum(size(l.patches) - (l.version - l.first)) AS n',
          params,
        },
        {
          kind: 'query',
          cypher: 'MATCH (l:_LogChunk) WHERE l.first <= $v AND l.version > $v RETURN l.first AS first, l.patches AS p',
          params,
        },
      ],
      { reads: true },
    );
    let n = (whole![0]?.n as number | null) ?? 0;
    for (const r of straddling!) {
      for (const e of unpack(r.first as number, r.p as string)) if (e.version > fromVersion) n += e.json.length;
    }
    return n;
  }
}
