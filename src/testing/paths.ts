import { getShortestPaths, getSimplePaths } from '@xstate/graph';
import {
  initialTransition,
  matchesState,
  transition,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type StateValue,
} from 'xstate';
import { probe, type TransitionInfo } from './probe.js';

export interface ModelStep {
  event: EventObject;
  state: StateValue;
  /** The transitions this step took (probe ids), eventless ones included. */
  took: string[];
}

export interface ModelPath {
  name: string;
  /** Step 0 is the initial state (`xstate.init`). */
  steps: ModelStep[];
  /** The machine input the path starts from. */
  input: unknown;
}

export interface ModelOptions {
  /**
   * The events to try in a state: concrete events, with payloads that make the guards go each way.
   * Give events of one type that take different transitions a `variant` name: it tells them apart.
   */
  events: (snapshot: AnyMachineSnapshot) => EventObject[];
  /** The part of the context that decides guards (it goes into the state key; the rest does not). */
  key?: (snapshot: AnyMachineSnapshot) => unknown;
  input?: unknown;
  /** Several starting inputs (each a family of paths); overrides `input`. */
  inputs?: unknown[];
  /** Pure implementations for traversal, where the machine's defaults are placeholders (guards). */
  guards?: Record<string, (args: { context: never; event: never }) => boolean>;
  /** Add simple paths that take transition pairs the shortest paths miss (at most this many). */
  simplePaths?: number;
}

export interface ModelCoverage {
  machine: string;
  paths: ModelPath[];
  transitions: TransitionInfo[];
  covered: Set<string>;
  /** Consecutive transition pairs taken by the selected paths, and by all generated paths. */
  pairs: { covered: Set<string>; possible: Set<string> };
  generated: { shortest: number; simple: number };
}

type RawPath = { steps: Array<{ event: EventObject; state: AnyMachineSnapshot }> };

/**
 * Paths through a statechart from @xstate/graph, ready to drive a real system. The state key is the
 * state value, the incoming transition (previous value and event) and `key(context)`: keying by value
 * alone reaches every state once and never takes a transition into a state already visited; keying by
 * the whole context makes the graph explode. Shortest paths to every such key take every reachable
 * transition; simple paths are added where they take a new pair of consecutive transitions. Paths that
 * are prefixes of others are dropped: every step of a path is checked anyway.
 */
export function generatePaths(machine: AnyStateMachine, options: ModelOptions): ModelCoverage {
  if (options.inputs) {
    const parts = options.inputs.map((input) => generatePaths(machine, { ...options, inputs: undefined, input }));
    const paths = parts.flatMap((p) => p.paths);
    return {
      machine: machine.id,
      paths,
      transitions: parts[0]!.transitions,
      covered: new Set(paths.flatMap((p) => p.steps.flatMap((s) => s.took))),
      pairs: {
        covered: new Set(parts.flatMap((p) => [...p.pairs.covered])),
        possible: new Set(parts.flatMap((p) => [...p.pairs.possible])),
      },
      generated: {
        shortest: parts.reduce((n, p) => n + p.generated.shortest, 0),
        simple: parts.reduce((n, p) => n + p.generated.simple, 0),
      },
    };
  }
  const probed = probe(machine);
  let logic = probed.machine;
  if (options.guards) logic = logic.provide({ guards: options.guards as never }) as AnyStateMachine;
  const traversal = {
    events: options.events,
    input: options.input,
    serializeState: (s: AnyMachineSnapshot, e: EventObject | undefined, prev?: AnyMachineSnapshot) =>
      JSON.stringify([
        prev?.value ?? null,
        e?.type ?? null,
        (e as { variant?: string } | undefined)?.variant ?? null,
        s.value,
        options.key?.(s) ?? null,
      ]),
  };
  const replay = (raw: RawPath): ModelPath => {
    let [snap, actions] = initialTransition(logic, options.input as never);
    const steps: ModelStep[] = [{ event: { type: 'xstate.init' }, state: snap.value, took: tookOf(actions) }];
    for (const step of raw.steps.slice(1)) {
      [snap, actions] = transition(logic, snap, step.event as never);
      steps.push({ event: step.event, state: snap.value, took: tookOf(actions) });
    }
    return { name: describe(steps), steps, input: options.input };
  };
  const shortest = (getShortestPaths(logic, traversal as never) as unknown as RawPath[]).map(replay);
  // Simple paths walk the plain statechart (state value and guard context only): with the incoming
  // transition in the key as well, their number explodes.
  let simple: ModelPath[] = [];
  if (options.simplePaths) {
    const coarse = {
      ...traversal,
      serializeState: (s: AnyMachineSnapshot) => JSON.stringify([s.value, options.key?.(s) ?? null]),
    };
    simple = (getSimplePaths(logic, coarse as never) as unknown as RawPath[]).map(replay);
  }

  const pairsOf = (p: ModelPath) => {
    const ids = p.steps.flatMap((s) => s.took);
    return ids.slice(1).map((id, i) => `${ids[i]}>${id}`);
  };
  let selected = dropPrefixes(shortest);
  const pairSet = new Set(selected.flatMap(pairsOf));
  const possible = new Set([...shortest, ...simple].flatMap(pairsOf));
  const extra: ModelPath[] = [];
  for (const p of simple.sort((a, b) => a.steps.length - b.steps.length)) {
    if (extra.length >= (options.simplePaths ?? 0)) break;
    const fresh = pairsOf(p).filter((x) => !pairSet.has(x));
    if (fresh.length === 0) continue;
    fresh.forEach((x) => pairSet.add(x));
    extra.push(p);
  }
  selected = dropPrefixes([...selected, ...extra]);
  const covered = new Set(selected.flatMap((p) => p.steps.flatMap((s) => s.took)));
  return {
    machine: machine.id,
    paths: selected,
    transitions: probed.transitions,
    covered,
    pairs: { covered: pairSet, possible },
    generated: { shortest: shortest.length, simple: simple.length },
  };
}

function tookOf(actions: Array<{ type: string; params?: unknown }>): string[] {
  return actions.filter((a) => a.type === '__t').map((a) => (a.params as { id: string }).id);
}

const valueText = (v: StateValue): string =>
  typeof v === 'string'
    ? v
    : Object.entries(v)
        .map(([k, c]) =>
          c && (typeof c === 'string' || Object.keys(c).length) ? `${k}.${valueText(c as StateValue)}` : k,
        )
        .join('+');

function eventText(e: EventObject): string {
  const t = e.type
    .replace(/^xstate\.after\.([^.]+)\..*/, 'after $1')
    .replace(/^xstate\.(done|error)\.actor\.(.*)/, '$2 $1');
  const detail = (e as { variant?: string }).variant;
  return detail ? `${t}(${detail})` : t;
}

function describe(steps: ModelStep[]): string {
  return [
    valueText(steps[0]!.state),
    ...steps.slice(1).map((s) => `${eventText(s.event)} -> ${valueText(s.state)}`),
  ].join(' | ');
}

function dropPrefixes(paths: ModelPath[]): ModelPath[] {
  const sig = (p: ModelPath) =>
    p.steps
      .slice(1)
      .map((s) => JSON.stringify(s.event))
      .join('\n');
  const sigs = paths.map(sig);
  const out: ModelPath[] = [];
  const seen = new Set<string>();
  paths.forEach((p, i) => {
    const s = sigs[i]!;
    if (seen.has(s)) return;
    const isPrefix = sigs.some((o, j) => j !== i && o.length > s.length && o.startsWith(s + (s ? '\n' : '')));
    if (!isPrefix) {
      seen.add(s);
      out.push(p);
    }
  });
  return out;
}

/**
 * Whether the step's state is `value` or inside it, as `snapshot.matches(value)` says of a snapshot:
 * `inState(step, 'unanswered')` holds for `{ unanswered: 'queued' }`.
 */
export function inState(step: Pick<ModelStep, 'state'>, value: StateValue): boolean {
  return matchesState(value, step.state);
}

/** `connection: 17 paths, transitions covered 21/21` and the missing ones, for the test output. */
export function coverageReport(c: ModelCoverage, unreachable: Record<string, string> = {}): string[] {
  const lines = [
    `${c.machine}: ${c.paths.length} paths, transitions covered ${c.covered.size}/${c.transitions.length}` +
      ` (from ${c.generated.shortest} shortest and ${c.generated.simple} simple paths; transition pairs ${c.pairs.covered.size}/${c.pairs.possible.size})`,
  ];
  for (const t of c.transitions) {
    if (c.covered.has(t.id)) continue;
    const why = Object.entries(unreachable).find(([label]) => t.label.includes(label))?.[1];
    lines.push(`  not covered: ${t.label}${why ? ` (${why})` : ''}`);
  }
  return lines;
}
