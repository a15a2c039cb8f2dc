import { storedJson, type Json } from '../protocol/encode.js';
import type { Patch } from '../protocol/types.js';
import type { GraphStore } from '../store/graph-store.js';
import type { Step } from '../store/kuzu/steps.js';

/**
 * The patch log as Kuzu keeps it: consecutive accepted patches share one row, a chunk, keyed by the
 * version of its last patch. A row per patch cost more than the patch's own data in the burst
 * (2000 rows by LOAD FROM: 40 µs per patch in kuzu-wasm, 18 native; as one row: 3 and 4). A chunk
 * holds the patches' JSON joined by newlines: JSON.stringify never writes a raw newline (it escapes
 * them in strings), so splitting gives back each patch's text exactly.
 */
export const LOG_TABLE =
  'CREATE NODE TABLE IF NOT EXISTS _LogChunk(version INT64, first INT64, ids STRING, patches STRING, PRIMARY KEY(version))';

/** Text per chunk at most (a larger patch gets one of its own): a delta reads whole chunks. */
const CHUNK_CHARS = 1 << 20;
const SEP = '\n';

/** One accepted patch as the log keeps it. Versions in one call are consecutive. */
export interface Logged {
  version: number;
  patch: { id: string };
  json: Json<Patch>;
}

/**
 * The steps that write `entries` (consecutive versions) as chunks. One statement each, its values
 * bound as parameters: a chunk never goes through a CSV file (its text holds newlines, and is long).
 */
export function chunkSteps(entries: readonly Logged[]): Step[] {
  const steps: Step[] = [];
  let start = 0;
  let chars = 0;
  for (let i = 0; i < entries.length; i++) {
    const n = entries[i]!.json.length + 1;
    if (i > start && chars + n > CHUNK_CHARS) {
      steps.push(chunkStep(entries, start, i));
      start = i;
      chars = 0;
    }
    chars += n;
  }
  if (entries.length > start) steps.push(chunkStep(entries, start, entries.length));
  return steps;
}

function chunkStep(entries: readonly Logged[], from: number, to: number): Step {
  const ids: string[] = [];
  const texts: string[] = [];
  for (let i = from; i < to; i++) {
    ids.push(entries[i]!.patch.id);
    texts.push(entries[i]!.json);
  }
  const params = { v: entries[to - 1]!.version, f: entries[from]!.version, i: JSON.stringify(ids), p: texts.join(SEP) };
  return { kind: 'query', cypher: 'CREATE (:_LogChunk {version: $v, first: $f, ids: $i, patches: $p})', params };
}

/** Each patch of a chunk, with its version. */
export function unpack(first: number, patches: string): Array<{ version: number; json: Json<Patch> }> {
  return patches.split(SEP).map((text, i) => ({ version: first + i, json: storedJson<Patch>(text) }));
}

/** The ids of a chunk's patches, in version order. */
export const chunkIds = (ids: string): string[] => JSON.parse(ids) as string[];

/** The step that drops chunks whose every patch is at or below `version`. */
export function compactStep(version: number): Step {
  return { kind: 'query', cypher: 'MATCH (l:_LogChunk) WHERE l.version <= $v DELETE l', params: { v: version } };
}

/**
 * A database written before chunks keeps its log in `_Log`, a row per patch: move it into chunks
 * (and empty `_Log` in the same transaction), then drop the table. A crash between the two leaves
 * an empty `_Log`, which the next start just drops.
 */
export async function migrateRowLog(store: GraphStore): Promise<void> {
  const [tables] = await store.run([{ kind: 'query', cypher: 'CALL show_tables() RETURN name' }], { reads: true });
  if (!tables!.some((t) => t.name === '_Log')) return;
  const cypher = 'MATCH (l:_Log) RETURN l.version AS version, l.id AS id, l.patch AS patch ORDER BY version';
  const [rows] = await store.run([{ kind: 'query', cypher }], { reads: true });
  // Only consecutive versions share a chunk: a hole (none is expected) starts a new one.
  const runs: Logged[][] = [];
  for (const r of rows!) {
    const entry = {
      version: r.version as number,
      patch: { id: r.id as string },
      json: storedJson<Patch>(r.patch as string),
    };
    const run = runs[runs.length - 1];
    if (run && run[run.length - 1]!.version + 1 === entry.version) run.push(entry);
    else runs.push([entry]);
  }
  const steps = runs.flatMap(chunkSteps);
  steps.push({ kind: 'query', cypher: 'MATCH (l:_Log) DELETE l' });
  await store.run(steps);
  await store.run([{ kind: 'query', cypher: 'DROP TABLE _Log', ddl: true }]);
}
