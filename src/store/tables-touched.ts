import type { PlainOp } from '../protocol/types.js';
import type { GraphModel } from './graph-model.js';

/**
 * The tables a committed transaction changed, by label as Kuzu knows them (case-insensitive, so
 * lower-cased), or every table (a snapshot replaced the graph). What live queries re-run on.
 */
export type TablesTouched = ReadonlySet<string> | 'all';

/**
 * Adds the tables `op` changes, read against the model before the op: a node's or edge's label, and
 * for a deleted node the labels of the edges that go with it.
 */
export function addOpTables(model: GraphModel, op: PlainOp, into: Set<string>): void {
  switch (op.op) {
    case 'create_node':
    case 'create_edge':
      return add(into, op.label);
    case 'set_property':
      return add(into, op.target === 'node' ? model.nodeLabel(op.id) : model.edge(op.id)?.label);
    case 'delete_node':
      add(into, model.nodeLabel(op.id));
      for (const e of model.incidentEdges(op.id)) add(into, model.edge(e)?.label);
      return;
    case 'delete_edge':
      return add(into, model.edge(op.id)?.label);
  }
}

// Not a closure made per op: a delta of 100k creates calls this 100k times.
function add(into: Set<string>, label: string | undefined): void {
  if (label !== undefined) into.add(label.toLowerCase());
}
