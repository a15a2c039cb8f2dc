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
  const add = (label: string | undefined) => label !== undefined && into.add(label.toLowerCase());
  switch (op.op) {
    case 'create_node':
    case 'create_edge':
      add(op.label);
      return;
    case 'set_property':
      add(op.target === 'node' ? model.nodeLabel(op.id) : model.edge(op.id)?.label);
      return;
    case 'delete_node':
      add(model.nodeLabel(op.id));
      for (const e of model.incidentEdges(op.id)) add(model.edge(e)?.label);
      return;
    case 'delete_edge':
      add(model.edge(op.id)?.label);
      return;
  }
}
