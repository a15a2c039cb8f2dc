import { createMachine, type AnyStateMachine } from 'xstate';

/** One transition of a statechart, as written in its definition. */
export interface TransitionInfo {
  id: string;
  /** Source state path, e.g. `online.ready.idle`. */
  source: string;
  /** Event type: a user event, `xstate.after.<delay>.<state>`, `xstate.done.actor.<id>`, or `always`. */
  event: string;
  guard?: string;
  targets: string[];
  /** Readable: `online.ready.idle -> backoff on heartbeat delay [twoHeartbeatsMissed]`. */
  label: string;
}

type TransitionConfig = { target?: string | string[]; guard?: unknown; actions?: unknown; reenter?: boolean } & Record<
  string,
  unknown
>;
type StateConfig = Record<string, unknown> & {
  states?: Record<string, StateConfig>;
  on?: Record<string, unknown>;
  always?: unknown;
  after?: Record<string, unknown>;
  invoke?: unknown;
  onDone?: unknown;
};

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

function guardName(g: unknown): string | undefined {
  if (g === undefined) return undefined;
  if (typeof g === 'string') return g;
  if (typeof g === 'object' && g && 'type' in g) return String((g as { type: unknown }).type);
  if (typeof g === 'function') return (g as { name?: string }).name || 'guard';
  return 'guard';
}

function targetNames(t: TransitionConfig): string[] {
  return asArray(t.target).map((x) =>
    String(x)
      .replace(/^#[^.]+\./, '')
      .replace(/^\./, ''),
  );
}

/**
 * A copy of `machine` in which every transition also runs a marker action `__t` carrying its id.
 * Replaying a path with xstate's pure `transition()` then tells exactly which transitions it took
 * (eventless and delayed ones included), without running any effect.
 */
export function probe(machine: AnyStateMachine): { machine: AnyStateMachine; transitions: TransitionInfo[] } {
  const transitions: TransitionInfo[] = [];
  const tag = (source: string, event: string, raw: unknown, eventLabel = event): unknown =>
    asArray(raw as TransitionConfig | string | TransitionConfig[]).map((t) => {
      const tc: TransitionConfig = typeof t === 'string' ? { target: t } : { ...t };
      const id = `t${transitions.length}`;
      const guard = guardName(tc.guard);
      const targets = targetNames(tc);
      transitions.push({
        id,
        source,
        event,
        ...(guard ? { guard } : {}),
        targets,
        label: `${source || '(root)'} -> ${targets.length ? targets.join(', ') : '(stays)'} on ${eventLabel}${guard ? ` [${guard}]` : ''}`,
      });
      tc.actions = [...asArray(tc.actions as unknown[]), { type: '__t', params: { id } }];
      return tc;
    });

  const walk = (cfg: StateConfig, path: string): StateConfig => {
    const out: StateConfig = { ...cfg };
    if (cfg.on) out.on = Object.fromEntries(Object.entries(cfg.on).map(([e, t]) => [e, tag(path, e, t)]));
    if (cfg.always) out.always = tag(path, 'always', cfg.always);
    if (cfg.after)
      out.after = Object.fromEntries(
        Object.entries(cfg.after).map(([d, t]) => [d, tag(path, `after:${d}`, t, `${d} delay`)]),
      );
    if (cfg.onDone) out.onDone = tag(path, 'done', cfg.onDone);
    if (cfg.invoke) {
      out.invoke = asArray(cfg.invoke as Array<Record<string, unknown>>).map((inv) => {
        const name = String(inv.id ?? inv.src);
        // Traversal creates children in one throwaway system, again and again: no systemIds there.
        const { systemId: _systemId, ...i } = inv as Record<string, unknown>;
        if (inv.onDone) i.onDone = tag(path, `done:${name}`, inv.onDone, `${name} done`);
        if (inv.onError) i.onError = tag(path, `error:${name}`, inv.onError, `${name} failed`);
        return i;
      });
    }
    if (cfg.states)
      out.states = Object.fromEntries(
        Object.entries(cfg.states).map(([k, s]) => [k, walk(s, path ? `${path}.${k}` : k)]),
      );
    return out;
  };

  const config = walk(machine.config as StateConfig, '');
  const impl = machine.implementations as unknown as Record<string, Record<string, unknown>>;
  // Traversal is pure: keep the actions that shape the context (assign), silence the ones that talk
  // to other actors (a parent that does not exist here) or to the world.
  const actions = Object.fromEntries(
    Object.entries(impl.actions ?? {}).map(([name, a]) => [
      name,
      (a as { type?: string })?.type === 'xstate.assign' ? a : () => {},
    ]),
  );
  const probed = createMachine(
    config as never,
    {
      ...impl,
      actions: { ...actions, __t: () => {} },
    } as never,
  ) as unknown as AnyStateMachine;
  return { machine: probed, transitions };
}
