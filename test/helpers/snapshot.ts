import * as assert from 'uvu/assert';
import type { Snapshot } from '../../src/protocol/types.js';

/**
 * `s` itself, once checked to be in canonical order: exportSnapshot sorts (#19, item 5), so every
 * comparison of two exports through this helper also checks that order, against a sort of its own.
 */
export function canonical(s: Snapshot): Snapshot {
  const sorted = sortedCopy(s);
  assert.is(JSON.stringify(s), JSON.stringify(sorted), 'exportSnapshot is in canonical order');
  return s;
}

function sortedCopy(s: Snapshot): Snapshot {
  const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const sortKeys = <T extends object>(o: T): T =>
    Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))) as T;
  return {
    schema: {
      nodes: s.schema.nodes
        .map((t) => ({ ...t, properties: sortKeys(t.properties) }))
        .sort((a, b) => (a.label < b.label ? -1 : 1)),
      edges: s.schema.edges
        .map((t) => ({ ...t, pairs: [...t.pairs].sort(), properties: sortKeys(t.properties) }))
        .sort((a, b) => (a.label < b.label ? -1 : 1)),
    },
    nodes: s.nodes.map((n) => ({ ...n, properties: sortKeys(n.properties) })).sort(byId),
    edges: s.edges.map((e) => ({ ...e, properties: sortKeys(e.properties) })).sort(byId),
  };
}

/** Data only: undo leaves tables and columns it created behind, empty. */
export function data(s: Snapshot): Pick<Snapshot, 'nodes' | 'edges'> {
  const c = canonical(s);
  return { nodes: c.nodes, edges: c.edges };
}
