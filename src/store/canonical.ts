import type { GraphSchema, Props, Snapshot, SnapshotEdge, SnapshotNode } from '../protocol/types.js';

/** Code-unit order, the same in every locale and runtime (not localeCompare). */
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sortedKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort(cmp)) out[k] = o[k]!;
  return out;
}

/**
 * A snapshot in its one canonical form: tables by label (an edge table's pairs sorted), nodes and
 * edges by id, properties and columns by key, every object's keys in a fixed order. Two replicas
 * holding the same graph export deep-equal snapshots, and the same JSON text.
 */
export function canonicalSnapshot(schema: GraphSchema, nodes: SnapshotNode[], edges: SnapshotEdge[]): Snapshot {
  return {
    schema: {
      nodes: schema.nodes
        .map((t) => ({ label: t.label, properties: sortedKeys(t.properties) }))
        .sort((a, b) => cmp(a.label, b.label)),
      edges: schema.edges
        .map((t) => ({
          label: t.label,
          pairs: t.pairs.map(([f, to]): [string, string] => [f, to]).sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1])),
          properties: sortedKeys(t.properties),
        }))
        .sort((a, b) => cmp(a.label, b.label)),
    },
    nodes: nodes
      .map((n) => ({ label: n.label, id: n.id, properties: sortedKeys(n.properties) as Props }))
      .sort((a, b) => cmp(a.id, b.id)),
    edges: edges
      .map((e) => ({ label: e.label, id: e.id, from: e.from, to: e.to, properties: sortedKeys(e.properties) as Props }))
      .sort((a, b) => cmp(a.id, b.id)),
  };
}

/**
 * sha256 (hex) of a canonical snapshot's nodes and edges, one JSON line each. The tables and columns
 * are left out: they are not the data, and replicas holding the same data may differ in them (a
 * rolled-back write leaves the table it created behind, empty; a client creates its own schema's).
 */
export async function snapshotDigest(s: Snapshot): Promise<string> {
  const lines = ['kuzu-sync digest v1\n'];
  for (const n of s.nodes) lines.push(`n${JSON.stringify(n)}\n`);
  for (const e of s.edges) lines.push(`e${JSON.stringify(e)}\n`);
  // Web Crypto, not node:crypto: the same code runs in browsers (#21).
  const hash = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(lines.join('')));
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, '0')).join('');
}
