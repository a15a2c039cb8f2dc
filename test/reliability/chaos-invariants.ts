/**
 * The chaos run's invariants, checked once everything healed and stopped: every graph equals the
 * server's (or the cluster sequencer's), nothing lost or applied twice, every rejection reported.
 */
import type { Snapshot } from '../../src/protocol/types.js';
import { GraphStore } from '../../src/store/graph-store.js';
import { data } from '../helpers/snapshot.js';

export type Graph = Pick<Snapshot, 'nodes' | 'edges'>;

/** What a server database holds: its graph, and its log past logStart (patch ids by version). */
export interface ServerFile {
  graph: Graph;
  log: Array<{ id: string; version: number }>;
  logStart: number;
}

export async function readServerFile(file: string): Promise<ServerFile> {
  const store = await GraphStore.open(file);
  try {
    const graph = data(await store.exportSnapshot());
    // The server keeps its log in chunks of consecutive versions (src/server/log-chunks.ts), from logStart on.
    const chunks = await store.query('MATCH (l:_LogChunk) RETURN l.first AS first, l.ids AS ids ORDER BY first');
    const logStart = Number((await store.getMeta(['logStart'])).logStart ?? 0);
    const log = chunks
      .flatMap((c) =>
        (JSON.parse(c.ids as string) as string[]).map((id, i) => ({ id, version: (c.first as number) + i })),
      )
      .filter((r) => r.version > logStart);
    return { graph, log, logStart };
  } finally {
    await store.close();
  }
}

/** What the clients said they made and heard, and where the child process's lost patches were last pending. */
export interface Outcomes {
  created: Map<string, Set<string>>;
  accepted: Map<string, number | undefined>;
  rejected: Set<string>;
  /** What the child had pending each time it started. */
  childStarts: string[][];
}

export interface Seen {
  /** The version everyone converged on. */
  version: number;
  /** Each client's graph, by name. */
  graphs: Map<string, Graph>;
}

/** Every violation of the invariants, and how many patches were never settled. */
export function checkInvariants(truth: ServerFile, seen: Seen, o: Outcomes): { violations: string[]; lost: number } {
  const violations: string[] = [];
  let lost = 0;
  const { log, logStart } = truth;
  // Past logStart the log cannot say: the graphs' equality speaks for those patches.
  const retained = (v: number | undefined) => logStart === 0 || (v !== undefined && v > logStart);
  const inLog = new Map<string, number>();
  for (const r of log) {
    if (inLog.has(r.id)) violations.push(`patch ${r.id} is in the log twice (applied twice)`);
    inLog.set(r.id, r.version);
  }
  if (log.length !== seen.version - logStart)
    violations.push(`the log has ${log.length} entries for versions ${logStart + 1}..${seen.version}`);
  for (const [name, g] of seen.graphs) {
    const diff = graphDiff(g, truth.graph);
    if (diff) violations.push(`${name}'s graph differs from the server's: ${diff}`);
  }
  for (const [id, v] of o.accepted) {
    if (!retained(v)) continue;
    if (!inLog.has(id)) violations.push(`patch ${id} was answered accepted but is not on the server`);
    else if (v !== undefined && inLog.get(id) !== v)
      violations.push(`patch ${id} was accepted at ${v} but is at ${inLog.get(id)}`);
  }
  for (const id of o.rejected)
    if (inLog.has(id)) violations.push(`patch ${id} was reported rejected but is on the server`);
  for (const [clientId, ids] of o.created) {
    for (const id of ids) {
      if (o.accepted.has(id) || o.rejected.has(id)) continue;
      lost++;
      const seenAt = o.childStarts.flatMap((p, k) => (p.includes(id) ? [k] : []));
      const where =
        clientId === 'child'
          ? ` (pending at the child's starts ${JSON.stringify(seenAt)} of ${o.childStarts.length})`
          : '';
      violations.push(`patch ${id} of ${clientId} was never settled (lost)${where}`);
    }
  }
  for (const id of inLog.keys())
    if (!o.accepted.has(id)) violations.push(`patch ${id} is on the server but its client never heard it was accepted`);
  return { violations, lost };
}

/** A copy (a cluster's standby) must hold the same graph and the same log as the truth. */
export function checkCopy(name: string, copy: ServerFile, truth: ServerFile): string[] {
  const violations: string[] = [];
  const diff = graphDiff(copy.graph, truth.graph);
  if (diff) violations.push(`${name}'s graph differs from the sequencer's: ${diff}`);
  if (JSON.stringify(copy.log) !== JSON.stringify(truth.log))
    violations.push(
      `${name}'s log (${copy.log.length} entries after ${copy.logStart}) differs from the sequencer's (${truth.log.length} after ${truth.logStart})`,
    );
  return violations;
}

/** How `mine` differs from `truth`, the first few nodes and edges that do ('' when equal). */
export function graphDiff(mine: Graph, truth: Graph): string {
  const out: string[] = [];
  for (const kind of ['nodes', 'edges'] as const) {
    const theirs = new Map(truth[kind].map((x) => [x.id, JSON.stringify(x)]));
    const ours = new Map(mine[kind].map((x) => [x.id, JSON.stringify(x)]));
    for (const [id, x] of ours)
      if (!theirs.has(id)) out.push(`has ${x}, the server has not`);
      else if (theirs.get(id) !== x) out.push(`has ${x}, the server ${theirs.get(id)}`);
    for (const [id, x] of theirs) if (!ours.has(id)) out.push(`lacks ${x}`);
  }
  return out.slice(0, 4).join('; ') + (out.length > 4 ? `; and ${out.length - 4} more` : '');
}
