import { SyncError } from './errors.js';
import { identifierProblem, idProblem } from './identifiers.js';
import type { Op, Patch } from './types.js';
import { normalizeProps, normalizeValue, propsProblem, valueProblem } from './values.js';

export const MAX_OPS_PER_PATCH = 10_000;

type Problem = { code: 'bad_message' | 'invalid_identifier' | 'invalid_value'; message: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function idIssue(v: unknown, what: string): Problem | null {
  const p = idProblem(v);
  return p ? { code: 'invalid_value', message: `${what}: ${p}` } : null;
}
function labelIssue(v: unknown): Problem | null {
  const p = identifierProblem(v, 'label');
  return p ? { code: 'invalid_identifier', message: p } : null;
}

/** Why `op` is not a well-formed op (shape, identifiers, values), or null. Knows nothing of the graph. */
export function opProblem(op: unknown): Problem | null {
  if (!isObject(op)) return { code: 'bad_message', message: 'op must be an object' };
  switch (op.op) {
    case 'create_node': {
      const pp = propsProblem(op.properties ?? {});
      return labelIssue(op.label) ?? idIssue(op.id, 'create_node id') ?? (pp && { ...pp });
    }
    case 'create_edge': {
      const pp = propsProblem(op.properties ?? {});
      return (
        labelIssue(op.label) ??
        idIssue(op.id, 'create_edge id') ??
        idIssue(op.from, 'create_edge from') ??
        idIssue(op.to, 'create_edge to') ??
        (pp && { ...pp })
      );
    }
    case 'set_property': {
      if (op.target !== 'node' && op.target !== 'edge') {
        return { code: 'bad_message', message: "set_property target must be 'node' or 'edge'" };
      }
      const kp = identifierProblem(op.key, 'property key');
      if (kp) return { code: 'invalid_identifier', message: kp };
      if (!('value' in op)) return { code: 'bad_message', message: 'set_property needs a value (null removes)' };
      const vp = op.value === null ? null : valueProblem(op.value);
      return idIssue(op.id, 'set_property id') ?? (vp ? { code: 'invalid_value', message: `value: ${vp}` } : null);
    }
    case 'delete_node':
    case 'delete_edge':
      return idIssue(op.id, `${op.op} id`);
    default:
      return { code: 'bad_message', message: `unknown op ${JSON.stringify(String(op.op)).slice(0, 40)}` };
  }
}

/** A copy of a valid op with only the fields of its kind and normalised values. */
export function normalizeOp(op: Op): Op {
  switch (op.op) {
    case 'create_node':
      return { op: op.op, label: op.label, id: op.id, properties: normalizeProps(op.properties ?? {}) };
    case 'create_edge':
      return { op: op.op, label: op.label, id: op.id, from: op.from, to: op.to, properties: normalizeProps(op.properties ?? {}) };
    case 'set_property':
      return { op: op.op, target: op.target, id: op.id, key: op.key, value: op.value === null ? null : normalizeValue(op.value) };
    case 'delete_node':
    case 'delete_edge':
      return { op: op.op, id: op.id };
  }
}

export function patchProblem(p: unknown): Problem | null {
  if (!isObject(p)) return { code: 'bad_message', message: 'patch must be an object' };
  const cp = idProblem(p.clientId);
  if (cp) return { code: 'bad_message', message: `patch clientId: ${cp}` };
  if (!Number.isSafeInteger(p.seq) || (p.seq as number) < 1) return { code: 'bad_message', message: 'patch seq must be an integer >= 1' };
  if (!Number.isSafeInteger(p.baseVersion) || (p.baseVersion as number) < 0) {
    return { code: 'bad_message', message: 'patch baseVersion must be an integer >= 0' };
  }
  if (p.id !== `${p.clientId as string}:${p.seq as number}`) return { code: 'bad_message', message: "patch id must be clientId + ':' + seq" };
  if (!Array.isArray(p.ops) || p.ops.length === 0) return { code: 'bad_message', message: 'patch ops must be a non-empty array' };
  if (p.ops.length > MAX_OPS_PER_PATCH) return { code: 'invalid_value', message: `more than ${MAX_OPS_PER_PATCH} ops in one patch` };
  for (let i = 0; i < p.ops.length; i++) {
    const problem = opProblem(p.ops[i]);
    if (problem) return { ...problem, message: `op ${i}: ${problem.message}` };
  }
  return null;
}

export function normalizePatch(p: Patch): Patch {
  return { id: p.id, clientId: p.clientId, seq: p.seq, baseVersion: p.baseVersion, ops: p.ops.map(normalizeOp) };
}

/** For local writes: throw the typed error at once, before anything is applied or sent. */
export function assertValidOp(op: Op): Op {
  const problem = opProblem(op);
  if (problem) throw new SyncError(problem.code, problem.message);
  return normalizeOp(op);
}
