import { randomUUID } from 'node:crypto';
import { storedJson, type Json } from '../protocol/encode.js';
import type { ErrorCode, Patch, PatchOutcome } from '../protocol/types.js';
import { GraphStore } from '../store/graph-store.js';
import type { Step } from '../store/kuzu/steps.js';

/**
 * The server's durable bookkeeping, in the same KuzuDB as the graph so it commits in the same
 * transaction as the data it describes: the version, the patch log (for deltas), each client's last
 * processed seq (for exactly-once), and recent rejections (so a client whose answer was lost can
 * still learn why). Kept in memory too; the tables are the truth after a restart.
 */
const TABLES: Step[] = [
  'CREATE NODE TABLE IF NOT EXISTS _Log(version INT64, id STRING, patch STRING, PRIMARY KEY(version))',
  'CREATE NODE TABLE IF NOT EXISTS _ClientSeq(clientId STRING, lastSeq INT64, PRIMARY KEY(clientId))',
  'CREATE NODE TABLE IF NOT EXISTS _Rejection(id STRING, version INT64, code STRING, reason STRING, PRIMARY KEY(id))',
].map((cypher) => ({ kind: 'query', cypher, ddl: true }));

export interface Rejection {
  code: ErrorCode;
  reason: string;
}

/** What one committed group adds to the log. */
export interface LogEntry {
  version: number;
  patch: Patch;
  json: Json<Patch>;
}

export class ServerLog {
  serverId = '';
  version = 0;
  /** Versions after `logStart` are in the log; a delta can start at any version >= logStart. */
  logStart = 0;
  readonly lastSeq = new Map<string, number>();
  /** patch id -> version, for the retained log. */
  readonly accepted = new Map<string, number>();
  /** patch id -> why, for retained rejections. */
  readonly rejected = new Map<string, Rejection & { version: number }>();
  /** Retained log ids in version order, to forget them on compaction. */
  private readonly order: Array<{ version: number; id: string }> = [];

  constructor(
    readonly store: GraphStore,
    readonly retention: number,
  ) {}

  async load(): Promise<void> {
    await this.store.run(TABLES);
    const meta = await this.store.getMeta(['serverId', 'version', 'logStart']);
    this.version = Number(meta.version ?? 0);
    this.logStart = Number(meta.logStart ?? 0);
    if (meta.serverId) this.serverId = meta.serverId;
    else {
      // A new database is a new server identity: clients that knew another one take a snapshot.
      this.serverId = randomUUID();
      await this.store.run([GraphStore.metaStep({ serverId: this.serverId, version: 0, logStart: 0 })]);
    }
    const [seqs, log, rejections] = await this.store.run(
      [
        { kind: 'query', cypher: 'MATCH (c:_ClientSeq) RETURN c.clientId AS clientId, c.lastSeq AS lastSeq' },
        { kind: 'query', cypher: 'MATCH (l:_Log) RETURN l.version AS version, l.id AS id ORDER BY version' },
        {
          kind: 'query',
          cypher: 'MATCH (r:_Rejection) RETURN r.id AS id, r.version AS version, r.code AS code, r.reason AS reason',
        },
      ],
      { reads: true },
    );
    for (const r of seqs!) this.lastSeq.set(r.clientId as string, r.lastSeq as number);
    for (const r of log!) {
      this.accepted.set(r.id as string, r.version as number);
      this.order.push({ version: r.version as number, id: r.id as string });
    }
    for (const r of rejections!) {
      const rejection = { code: r.code as ErrorCode, reason: r.reason as string, version: r.version as number };
      this.rejected.set(r.id as string, rejection);
    }
  }

  /** Steps that record a committed group: they run in the group's transaction. */
  groupSteps(
    entries: LogEntry[],
    seqs: Map<string, number>,
    rejections: Map<string, Rejection>,
    version: number,
    compactTo: number | undefined,
  ): Step[] {
    const steps: Step[] = [];
    if (entries.length) {
      steps.push({
        kind: 'rows',
        body: 'CREATE (:_Log {version: $c0, id: $c1, patch: $c2})',
        columns: ['INT64', 'STRING', 'STRING'],
        rows: entries.map((e) => [e.version, e.patch.id, e.json]),
      });
    }
    if (seqs.size) {
      steps.push({
        kind: 'rows',
        body: 'MERGE (c:_ClientSeq {clientId: $c0}) SET c.lastSeq = $c1',
        columns: ['STRING', 'INT64'],
        rows: [...seqs].map(([c, s]) => [c, s]),
      });
    }
    if (rejections.size) {
      steps.push({
        kind: 'rows',
        body: 'MERGE (r:_Rejection {id: $c0}) SET r.version = $c1, r.code = $c2, r.reason = $c3',
        columns: ['STRING', 'INT64', 'STRING', 'STRING'],
        rows: [...rejections].map(([id, r]) => [id, version, r.code, r.reason]),
      });
    }
    const meta: Record<string, number> = { version };
    if (compactTo !== undefined) {
      steps.push({ kind: 'query', cypher: 'MATCH (l:_Log) WHERE l.version <= $v DELETE l', params: { v: compactTo } });
      const cypher = 'MATCH (r:_Rejection) WHERE r.version <= $v DELETE r';
      steps.push({ kind: 'query', cypher, params: { v: compactTo } });
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
  committed(
    entries: LogEntry[],
    seqs: Map<string, number>,
    rejections: Map<string, Rejection>,
    version: number,
    compactTo: number | undefined,
  ): void {
    for (const e of entries) {
      this.accepted.set(e.patch.id, e.version);
      this.order.push({ version: e.version, id: e.patch.id });
    }
    for (const [c, s] of seqs) this.lastSeq.set(c, s);
    for (const [id, r] of rejections) this.rejected.set(id, { ...r, version });
    this.version = version;
    if (compactTo !== undefined) {
      this.logStart = compactTo;
      let n = 0;
      while (n < this.order.length && this.order[n]!.version <= compactTo) this.accepted.delete(this.order[n++]!.id);
      this.order.splice(0, n);
      for (const [id, r] of this.rejected) if (r.version <= compactTo) this.rejected.delete(id);
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
    const id = `${clientId}:${seq}`;
    const r = this.rejected.get(id);
    if (r) return { seq, status: 'rejected', code: r.code, reason: r.reason };
    const version = this.accepted.get(id);
    // Past the retained log, a processed patch that left no rejection behind was accepted.
    return version === undefined ? { seq, status: 'accepted' } : { seq, status: 'accepted', version };
  }

  /** The raw log rows after `fromVersion`, as stored JSON, in version order. */
  async readLog(fromVersion: number, limit: number): Promise<Array<{ version: number; json: Json<Patch> }>> {
    const [rows] = await this.store.run(
      [
        {
          kind: 'query',
          cypher:
            'MATCH (l:_Log) WHERE l.version > $v ' +
            'RETURN l.version AS version, l.patch AS patch ORDER BY version LIMIT $n',
          params: { v: fromVersion, n: limit },
        },
      ],
      { reads: true },
    );
    return rows!.map((r) => ({ version: r.version as number, json: storedJson<Patch>(r.patch as string) }));
  }

  /** Bytes of the log after `fromVersion`, to weigh a delta against a snapshot. */
  async logBytesAfter(fromVersion: number): Promise<number> {
    const [rows] = await this.store.run(
      [
        {
          kind: 'query',
          cypher: 'MATCH (l:_Log) WHERE l.version > $v RETURN sum(size(l.patch)) AS n',
          params: { v: fromVersion },
        },
      ],
      { reads: true },
    );
    return (rows![0]?.n as number | null) ?? 0;
  }
}
