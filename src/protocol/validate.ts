import { SyncError } from './errors.js';
import type { Issue } from './schema.js';
import { OpSchema, PatchSchema } from './messages.js';
import type { Op, Patch } from './types.js';

export { MAX_OPS_PER_PATCH } from './messages.js';

/** Why `op` is not a well-formed op (shape, identifiers, values), or null. Knows nothing of the graph. */
export const opProblem = (op: unknown): Issue | null => OpSchema.check(op);
export const patchProblem = (patch: unknown): Issue | null => PatchSchema.check(patch);
/** A copy of a valid op with only the fields of its kind and normalised values. */
export const normalizeOp: (op: Op) => Op = OpSchema.clean;
export const normalizePatch: (patch: Patch) => Patch = PatchSchema.clean;

/**
 * For local writes: throw the typed error at once, before anything is applied or sent. A malformed
 * op here came from the caller's arguments (`undefined` as a value, a target that is neither 'node'
 * nor 'edge'), not over the wire: `invalid_value`, as the API's other bad arguments are.
 */
export function assertValidOp(op: Op): Op {
  const problem = opProblem(op);
  if (problem) throw new SyncError(problem.code === 'bad_message' ? 'invalid_value' : problem.code, problem.message);
  return normalizeOp(op);
}
