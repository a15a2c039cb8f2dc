import type { Op, PlainOp, Props } from '../protocol/types.js';

/** What is known of one node or edge while a run of ops is replayed. */
export interface EntityState {
  label: string;
  props: Props;
  from?: string;
  to?: string;
}

/**
 * Node and edge states known during a replay: read from the database before the run, or created by
 * the run itself. `null` means known not to exist; a missing entry means unknown (never needed).
 */
export class Overlay {
  readonly nodes = new Map<string, EntityState | null>();
  readonly edges = new Map<string, EntityState | null>();

  /** Applies `op` to what is known. Ops on unknown entities change nothing known. */
  apply(op: PlainOp, incident: string[] = []): void {
    switch (op.op) {
      case 'create_node':
        this.nodes.set(op.id, { label: op.label, props: { ...op.properties } });
        return;
      case 'create_edge':
        this.edges.set(op.id, { label: op.label, props: { ...op.properties }, from: op.from, to: op.to });
        return;
      case 'set_property': {
        const s = (op.target === 'node' ? this.nodes : this.edges).get(op.id);
        if (!s) return;
        const props = { ...s.props };
        if (op.value === null) delete props[op.key];
        else props[op.key] = op.value;
        (op.target === 'node' ? this.nodes : this.edges).set(op.id, { ...s, props });
        return;
      }
      case 'delete_node':
        this.nodes.set(op.id, null);
        for (const e of incident) this.edges.set(e, null);
        return;
      case 'delete_edge':
        this.edges.set(op.id, null);
        return;
    }
  }
}

function known(state: EntityState | null | undefined, what: string): EntityState {
  if (!state) throw new Error(`invert: ${what} was not read before the run`);
  return state;
}

/** Key lookup that folds case, as Kuzu does: `Name` and `name` are one property. */
function propValue(props: Props, key: string) {
  if (key in props) return props[key]!;
  const folded = key.toLowerCase();
  for (const [k, v] of Object.entries(props)) if (k.toLowerCase() === folded) return v;
  return null;
}

/**
 * The ops that undo `op` (an upsert as it resolved), given the state just before it. Undo records are ordinary ops, so a
 * rollback is just another patch applied in the same transaction as everything else.
 */
export function invertOp(op: PlainOp, before: Overlay, incident: string[] = []): Op[] {
  switch (op.op) {
    case 'create_node':
      return [{ op: 'delete_node', id: op.id }];
    case 'create_edge':
      return [{ op: 'delete_edge', id: op.id }];
    case 'set_property': {
      const s = known((op.target === 'node' ? before.nodes : before.edges).get(op.id), `${op.target} ${op.id}`);
      return [{ op: 'set_property', target: op.target, id: op.id, key: op.key, value: propValue(s.props, op.key) }];
    }
    case 'delete_node': {
      const n = known(before.nodes.get(op.id), `node ${op.id}`);
      const edges: Op[] = incident.map((id) => {
        const e = known(before.edges.get(id), `edge ${id}`);
        return { op: 'create_edge', label: e.label, id, from: e.from!, to: e.to!, properties: e.props };
      });
      return [{ op: 'create_node', label: n.label, id: op.id, properties: n.props }, ...edges];
    }
    case 'delete_edge': {
      const e = known(before.edges.get(op.id), `edge ${op.id}`);
      return [{ op: 'create_edge', label: e.label, id: op.id, from: e.from!, to: e.to!, properties: e.props }];
    }
  }
}

/** Undo for a whole patch: each op's undo, last op first. */
export function invertOps(ops: Op[], inverses: Op[][]): Op[] {
  const out: Op[] = [];
  for (let i = ops.length - 1; i >= 0; i--) out.push(...inverses[i]!);
  return out;
}
