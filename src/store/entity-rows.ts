import type { Props, SnapshotEdge, SnapshotNode, Value } from '../protocol/types.js';
import type { Row } from './kuzu/steps.js';

/** A node as `RETURN n` gives it. Kuzu returns unset properties as null: a snapshot and an inverse leave them out. */
export function nodeOfRow(row: Row): SnapshotNode {
  const n = row.n as Record<string, unknown>;
  return { label: n._label as string, id: n.id as string, properties: propsOf(n) };
}

/** What an edge read `MATCH (a)-[r]->(b)` returns for `edgeOfRow`. */
export const EDGE_RETURN = 'RETURN r, a.id AS _from, b.id AS _to';

/** An edge as `EDGE_RETURN` gives it. */
export function edgeOfRow(row: Row): SnapshotEdge {
  const r = row.r as Record<string, unknown>;
  const [from, to] = [row._from as string, row._to as string];
  return { label: r._label as string, id: r.id as string, from, to, properties: propsOf(r) };
}

function propsOf(entity: Record<string, unknown>): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(entity)) {
    if (k === 'id' || k.startsWith('_') || v === null || v === undefined) continue;
    out[k] = v as Value;
  }
  return out;
}
