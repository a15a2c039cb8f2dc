import type { ErrorCode, Patch } from '../protocol/types.js';
import type { Logger, PatchContext, Principal } from './options.js';
import type { Rejection } from './server-log.js';

export interface AppHooks {
  authorize?: ((principal: Principal, patch: Patch) => true | string | Promise<true | string>) | undefined;
  validatePatch?: ((patch: Patch, ctx: PatchContext) => true | string | Promise<true | string>) | undefined;
  logger: Logger;
}

/**
 * The app's own checks of a patch: a read-only principal, then `authorize` (`forbidden`), then
 * `validatePatch` (`validation_failed`). A hook that throws refuses the patch with that hook's code:
 * the app's failure, not kuzu-sync's (not `internal`). What it threw goes to the server's log, not
 * into the reason sent to the client.
 */
export async function appChecks(hooks: AppHooks, principal: Principal, patch: Patch, version: number) {
  if (principal.readOnly) return { code: 'forbidden', reason: 'this principal may only read' } satisfies Rejection;
  const run = async (name: string, code: ErrorCode, hook: () => true | string | Promise<true | string>) => {
    let verdict: true | string;
    try {
      verdict = await hook();
    } catch (e) {
      hooks.logger.error(`kuzu-sync: ${name} threw on patch ${patch.id}:`, e);
      return { code, reason: `the server could not check this patch (${name} failed)` } satisfies Rejection;
    }
    return verdict === true ? undefined : ({ code, reason: String(verdict) } satisfies Rejection);
  };
  const { authorize, validatePatch } = hooks;
  const refused = authorize && (await run('authorize', 'forbidden', () => authorize(principal, patch)));
  if (refused) return refused;
  if (!validatePatch) return undefined;
  return run('validatePatch', 'validation_failed', () => validatePatch(patch, { principal, version }));
}
