import type { AnyStateMachine } from 'xstate';

/**
 * Diagrams of XState v5 machines, from the machine objects themselves: Mermaid `stateDiagram-v2`
 * (GitHub renders it) and Graphviz DOT (rendered to SVG by a WASM Graphviz). Compound states become
 * clusters; eventless (`always`) transitions, which @xstate/graph's toDirectedGraph leaves out, are
 * drawn; delays, actor completions and guards are labelled in words, not internal event names.
 */

interface StateNodeLike {
  key: string;
  path: string[];
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  states: Record<string, StateNodeLike>;
  initial?: { target: StateNodeLike[] };
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  invoke: Array<{ id: string; src: unknown }>;
  description?: string;
}
interface TransitionLike {
  target?: StateNodeLike[];
  guard?: unknown;
  eventType: string;
}

export interface DiagramState {
  id: string;
  name: string;
  type: StateNodeLike['type'];
  initial?: string;
  children: DiagramState[];
}
export interface DiagramEdge {
  source: string;
  /** Absent: the transition stays where it is (actions only). */
  target?: string;
  label: string;
}
export interface Diagram {
  id: string;
  root: DiagramState;
  edges: DiagramEdge[];
}

const idOf = (n: StateNodeLike) => (n.path.length ? n.path.join('.') : '(root)');

/** `twoHeartbeatsMissed` -> `two heartbeats missed`. */
const words = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

function guardText(g: unknown): string | undefined {
  if (g === undefined) return undefined;
  if (typeof g === 'string') return words(g);
  if (typeof g === 'function') {
    const fn = g as { guards?: unknown[]; name?: string };
    if (Array.isArray(fn.guards)) {
      const parts = fn.guards.map(guardText);
      return fn.name === 'not' ? `not ${parts[0]}` : parts.join(fn.name === 'or' ? ' or ' : ' and ');
    }
    return fn.name ? words(fn.name) : 'a condition';
  }
  if (typeof g === 'object' && g && 'type' in g) return words(String((g as { type: unknown }).type));
  return 'a condition';
}

function eventText(e: string, node: StateNodeLike): string {
  let m = /^xstate\.after\.([^.]+)\./.exec(e);
  if (m) return `after ${/^\d+$/.test(m[1]!) ? `${m[1]} ms` : words(m[1]!)}`;
  m = /^xstate\.(done|error)\.actor\.(.+)$/.exec(e);
  if (m) {
    const inv = node.invoke.find((i) => i.id === m![2]);
    const name = typeof inv?.src === 'string' ? inv.src : m[2]!;
    return `${name} ${m[1] === 'done' ? 'done' : 'failed'}`;
  }
  if (e === '') return 'always';
  return e;
}

function collect(node: StateNodeLike, edges: DiagramEdge[]): DiagramState {
  const add = (t: TransitionLike, event: string, fallback: boolean) => {
    // The unguarded last candidate after guarded ones is their "otherwise".
    const guard = guardText(t.guard) ?? (fallback ? 'otherwise' : undefined);
    const label =
      event === 'always'
        ? guard
          ? guard === 'otherwise'
            ? guard
            : `if ${guard}`
          : 'at once'
        : `${event}${guard ? ` [${guard}]` : ''}`;
    const targets = t.target ?? [];
    if (targets.length === 0) edges.push({ source: idOf(node), label });
    for (const target of targets) edges.push({ source: idOf(node), target: idOf(target), label });
  };
  for (const [event, ts] of node.transitions) {
    // Wildcards and events meant for children only do not belong in the picture.
    if (event === '*') continue;
    ts.forEach((t, i) => add(t, eventText(event, node), i > 0));
  }
  (node.always ?? []).forEach((t, i) => add(t, 'always', i > 0));
  const children = Object.values(node.states).map((c) => collect(c, edges));
  const initial = node.initial?.target[0];
  return { id: idOf(node), name: node.key, type: node.type, ...(initial ? { initial: idOf(initial) } : {}), children };
}

export function diagramOf(machine: AnyStateMachine): Diagram {
  const edges: DiagramEdge[] = [];
  const root = collect(machine.root as unknown as StateNodeLike, edges);
  return { id: machine.id, root, edges };
}

// ---- Mermaid ----------------------------------------------------------------------------

const mid = (id: string) => `s_${id.replace(/[^A-Za-z0-9]/g, '_')}`;
const mlabel = (s: string) => s.replace(/[:;#]/g, ' ').replace(/\s+/g, ' ').trim();

export function toMermaid(d: Diagram): string {
  const lines = ['stateDiagram-v2', '  direction LR'];
  const emit = (s: DiagramState, indent: string) => {
    for (const [i, c] of s.children.entries()) {
      // The regions of a parallel state run at once: Mermaid separates them with `--`.
      if (i > 0 && s.type === 'parallel') lines.push(`${indent}--`);
      if (c.children.length) {
        lines.push(`${indent}state "${c.name}" as ${mid(c.id)} {`);
        emit(c, `${indent}  `);
        lines.push(`${indent}}`);
      } else lines.push(`${indent}state "${c.name}" as ${mid(c.id)}`);
      if (c.type === 'final') lines.push(`${indent}${mid(c.id)} --> [*]`);
    }
    if (s.initial) lines.push(`${indent}[*] --> ${mid(s.initial)}`);
  };
  emit(d.root, '  ');
  for (const e of d.edges) {
    if (e.source === '(root)') continue; // root-level handlers: listed under the diagram instead
    lines.push(`  ${mid(e.source)} --> ${mid(e.target ?? e.source)} : ${mlabel(e.label)}`);
  }
  return lines.join('\n') + '\n';
}

// ---- DOT --------------------------------------------------------------------------------

const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Graphviz DOT; compound states are clusters with an entry point edges can attach to. */
export function toDot(d: Diagram): string {
  const out = [
    `digraph ${q(d.id)} {`,
    '  compound=true; rankdir=LR; fontname="Helvetica"; fontsize=11;',
    '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#4a6fa5", fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    `  label=${q(`${d.id} (generated from machines/${d.id}.machine.ts)`)}; labelloc=t;`,
  ];
  // A cluster's edges attach to an invisible anchor (clipped at its border by lhead/ltail); its
  // initial state gets a marker of its own, drawn only where there is one (not in a parallel state).
  const anchor = (s: DiagramState) => (s.children.length ? `${s.id}.__anchor` : s.id);
  const emit = (s: DiagramState, indent: string) => {
    for (const c of s.children) {
      if (c.children.length) {
        out.push(`${indent}subgraph ${q(`cluster_${c.id}`)} {`);
        // A region of a parallel state (it runs beside its siblings): dashed.
        const style = s.type === 'parallel' ? 'rounded,dashed' : 'rounded';
        out.push(`${indent}  label=${q(c.name)}; style="${style}"; color="#4a6fa5";`);
        out.push(`${indent}  ${q(anchor(c))} [shape=point, style=invis, width=0.01, label=""];`);
        emit(c, `${indent}  `);
        if (c.initial) {
          const entry = q(`${c.id}.__entry`);
          out.push(`${indent}  ${entry} [shape=point, width=0.12, label=""];`);
          out.push(`${indent}  ${entry} -> ${q(anchorOf(c.initial))} [style=dashed, arrowhead=vee];`);
        }
        out.push(`${indent}}`);
      } else {
        const shape = c.type === 'final' ? ', peripheries=2' : '';
        out.push(`${indent}${q(c.id)} [label=${q(c.name)}${shape}];`);
      }
    }
  };
  const byId = new Map<string, DiagramState>();
  const index = (s: DiagramState) => {
    byId.set(s.id, s);
    s.children.forEach(index);
  };
  index(d.root);
  const anchorOf = (id: string) => anchor(byId.get(id)!);
  out.push('  "__start" [shape=circle, width=0.15, style=filled, fillcolor=black, label=""];');
  emit(d.root, '  ');
  if (d.root.initial) out.push(`  "__start" -> ${q(anchorOf(d.root.initial))};`);
  for (const e of d.edges) {
    if (e.source === '(root)') continue;
    const src = byId.get(e.source)!;
    const dst = byId.get(e.target ?? e.source)!;
    const attrs = [`label=${q(e.label)}`];
    if (src.children.length) attrs.push(`ltail=${q(`cluster_${src.id}`)}`);
    if (dst.children.length && dst !== src) attrs.push(`lhead=${q(`cluster_${dst.id}`)}`);
    if (!e.target) attrs.push('style=dotted');
    out.push(`  ${q(anchor(src))} -> ${q(anchor(dst))} [${attrs.join(', ')}];`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

/** Handlers on the machine's root: they apply in every state. */
export function rootHandlers(d: Diagram): string[] {
  return d.edges.filter((e) => e.source === '(root)').map((e) => (e.target ? `${e.label} -> ${e.target}` : e.label));
}
