import type { ErrorCode } from '../protocol/types.js';
import { GraphStore } from '../store/graph-store.js';
import type { Row, Step } from '../store/kuzu/steps.js';

export interface Rejection {
  code: ErrorCode;
  reason: string;
}
type Recorded = Rejection & { version: number };

export const REJECTION_TABLE: Step = {
  kind: 'query',
  cypher:
    'CREATE NODE TABLE IF NOT EXISTS _Rejection(id STRING, version INT64, code STRING, reason STRING, PRIMARY KEY(id))',
  ddl: true,
};
/** `_Meta` keys: `forgot:<clientId>` holds that client's forgotThrough. */
const FORGOT = 'forgot:';

const splitId = (id: string): [string, number] => {
  const at = id.lastIndexOf(':');
  return [id.slice(0, at), Number(id.slice(at + 1))];
};

/**
 * Each client's rejections, kept until the client acknowledges them (the `ackedSeq` of its
 * sync_request), so a client whose answer was lost still learns the verdict, however long the log
 * since. A client that never acknowledges keeps at most `perClient`; the oldest go first. Either way
 * the client's `forgotThrough` moves past them: a processed seq up to it with no record may have
 * been rejected, and is never reported as accepted (see ServerLog.outcome).
 *
 * Changes made between groups (acknowledgements) reach the database with the next group's steps.
 */
export class Rejections {
  private readonly byClient = new Map<string, Map<number, Recorded>>();
  private readonly forgot = new Map<string, number>();
  /** Acknowledged since the last commit: rows to delete, forgotThrough values to store. */
  private acked: { ids: string[]; forgot: Map<string, number> } = { ids: [], forgot: new Map() };

  constructor(readonly perClient: number) {}

  load(rows: Row[], meta: Row[]): void {
    const sorted = rows
      .map((r) => ({
        id: r.id as string,
        rec: { code: r.code as ErrorCode, reason: r.reason as string, version: r.version as number },
      }))
      .map((r) => ({ ...r, at: splitId(r.id) }))
      .sort((a, b) => a.at[1] - b.at[1]);
    for (const r of sorted) this.clientMap(r.at[0]).set(r.at[1], r.rec);
    for (const m of meta) this.forgot.set((m.key as string).slice(FORGOT.length), Number(m.value));
  }

  static readonly LOAD_STEPS: Step[] = [
    {
      kind: 'query',
      cypher: 'MATCH (r:_Rejection) RETURN r.id AS id, r.version AS version, r.code AS code, r.reason AS reason',
    },
    {
      kind: 'query',
      cypher: `MATCH (m:_Meta) WHERE starts_with(m.key, '${FORGOT}') RETURN m.key AS key, m.value AS value`,
    },
  ];

  get(clientId: string, seq: number): Recorded | undefined {
    return this.byClient.get(clientId)?.get(seq);
  }
  /** Whether a rejection of `seq` may have been dropped: then no record proves nothing. */
  forgotten(clientId: string, seq: number): boolean {
    return seq <= (this.forgot.get(clientId) ?? 0);
  }

  /** The client holds every answer up to `ackedSeq` (at most its `lastSeq`): their records may go. */
  acknowledged(clientId: string, ackedSeq: number): void {
    const records = this.byClient.get(clientId);
    if (ackedSeq <= (this.forgot.get(clientId) ?? 0)) return;
    for (const [seq] of records ?? []) {
      if (seq > ackedSeq) break;
      records!.delete(seq);
      this.acked.ids.push(`${clientId}:${seq}`);
    }
    this.forgot.set(clientId, ackedSeq);
    this.acked.forgot.set(clientId, ackedSeq);
  }

  /** Steps that record a group's rejections, with what acknowledgements and the bound drop. */
  steps(rejections: Map<string, Rejection>, version: number): Step[] {
    const { drop, forgot } = this.planDrops(rejections);
    const steps: Step[] = [];
    if (rejections.size) {
      steps.push({
        kind: 'rows',
        body: 'MERGE (r:_Rejection {id: $c0}) SET r.version = $c1, r.code = $c2, r.reason = $c3',
        columns: ['STRING', 'INT64', 'STRING', 'STRING'],
        rows: [...rejections].map(([id, r]) => [id, version, r.code, r.reason]),
      });
    }
    if (drop.length) {
      const cypher = 'MATCH (r:_Rejection) WHERE r.id IN CAST($ids AS STRING[]) DELETE r';
      steps.push({ kind: 'query', cypher, params: { ids: drop } });
    }
    if (forgot.size) steps.push(GraphStore.metaStep(Object.fromEntries([...forgot].map(([c, s]) => [FORGOT + c, s]))));
    return steps;
  }

  /** Mirror a committed group (its `steps`) in memory. */
  committed(rejections: Map<string, Rejection>, version: number): void {
    const { forgot } = this.planDrops(rejections);
    for (const [id, r] of rejections) {
      const [clientId, seq] = splitId(id);
      this.clientMap(clientId).set(seq, { ...r, version });
    }
    for (const [clientId, through] of forgot) {
      const records = this.byClient.get(clientId);
      for (const [seq] of records ?? []) {
        if (seq > through) break;
        records!.delete(seq);
      }
      this.forgot.set(clientId, Math.max(this.forgot.get(clientId) ?? 0, through));
    }
    this.acked = { ids: [], forgot: new Map() };
  }

  /** What the group drops: acknowledged records, and each client's oldest beyond `perClient`. */
  private planDrops(rejections: Map<string, Rejection>): { drop: string[]; forgot: Map<string, number> } {
    const drop = [...this.acked.ids];
    const forgot = new Map(this.acked.forgot);
    const added = new Map<string, number>();
    for (const id of rejections.keys()) {
      const [clientId] = splitId(id);
      added.set(clientId, (added.get(clientId) ?? 0) + 1);
    }
    for (const [clientId, n] of added) {
      const over = (this.byClient.get(clientId)?.size ?? 0) + n - this.perClient;
      if (over <= 0) continue;
      // Oldest first: the records already kept, then the group's own (in seq order).
      const seqs = [...(this.byClient.get(clientId)?.keys() ?? [])];
      for (const id of rejections.keys()) if (splitId(id)[0] === clientId) seqs.push(splitId(id)[1]);
      for (const seq of seqs.slice(0, over)) drop.push(`${clientId}:${seq}`);
      forgot.set(clientId, Math.max(forgot.get(clientId) ?? 0, seqs[over - 1]!));
    }
    return { drop, forgot };
  }

  private clientMap(clientId: string): Map<number, Recorded> {
    let m = this.byClient.get(clientId);
    if (!m) this.byClient.set(clientId, (m = new Map()));
    return m;
  }
}
