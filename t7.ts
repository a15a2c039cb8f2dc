import { getShortestPaths, getSimplePaths } from '@xstate/graph';
import { transition, initialTransition, type AnyStateMachine } from 'xstate';
import { probe } from './src/testing/probe.ts';
import { patchMachine } from './machines/patch.machine.ts';

const { machine, transitions } = probe(patchMachine);
console.log(transitions.length, 'transitions');
const events = (s: any) => {
  const types = new Set<string>(s._nodes.flatMap((n: any) => [...n.transitions.keys()]));
  const cat: Record<string, any[]> = {
    'PATCH.SENT': [{ type: 'PATCH.SENT' }], 'PATCH.QUEUED': [{ type: 'PATCH.QUEUED' }], 'CONNECTION.LOST': [{ type: 'CONNECTION.LOST' }],
    'SERVER.ACCEPTED': [{ type: 'SERVER.ACCEPTED', version: 1 }], 'SERVER.REJECTED': [{ type: 'SERVER.REJECTED', code: 'forbidden', reason: 'no' }],
    'SERVER.IGNORED': [{ type: 'SERVER.IGNORED', version: 1 }, { type: 'SERVER.IGNORED', rejected: { code: 'forbidden', reason: 'no' } }],
    SETTLED: [{ type: 'SETTLED', status: 'accepted', version: 1 }, { type: 'SETTLED', status: 'rejected', code: 'conflict', reason: 'x' }],
    'LOCAL.REJECTED': [{ type: 'LOCAL.REJECTED', code: 'not_found', reason: 'x' }],
    'PATCH.RENUMBERED': [{ type: 'PATCH.RENUMBERED', patchId: 'c:9', seq: 9 }],
  };
  const out: any[] = [];
  for (const t of types) {
    if (cat[t]) out.push(...cat[t]);
    else if (t.startsWith('xstate.done.actor')) out.push({ type: t, output: undefined });
    else if (t.startsWith('xstate.error.actor')) out.push({ type: t, error: new Error('x') });
    else console.log('no event for', t);
  }
  return out;
};
const serializeState = (s: any, e: any, prev: any) => JSON.stringify([prev?.value ?? null, e?.type ?? null, s.value]);
const input = { patchId: 'c:1', seq: 1 };
const sp = getShortestPaths(machine, { events, serializeState, input } as any);
let simple: any[] = [];
try { simple = getSimplePaths(machine, { events, serializeState, input } as any); } catch (e) { console.log('simple err', (e as Error).message); }
console.log('shortest', sp.length, 'simple', simple.length);
const covered = new Set<string>();
for (const p of [...sp, ...simple]) {
  let [snap, acts] = initialTransition(machine, input);
  for (const st of p.steps.slice(1)) { [snap, acts] = transition(machine, snap, st.event); for (const a of acts) if ((a as any).type === '__t') covered.add((a as any).params.id); }
}
console.log('covered', covered.size, '/', transitions.length);
for (const t of transitions) if (!covered.has(t.id)) console.log('  missing', t.label);
console.log(sp[3].steps.map((s: any) => s.event.type + '->' + JSON.stringify(s.state.value)).join(' | '));
