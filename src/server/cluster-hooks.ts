import type { Peer } from './authority.js';
import type { FirstChunk, SyncStateHead } from '../protocol/encode.js';
import type { Step } from '../store/kuzu/steps.js';
import type { GroupRecord } from './server-log.js';

/**
 * A cluster's sequencer: each group goes into the cluster's log before it commits here, and the
 * gateways tell clients what the log says (acceptances, recorded rejections, broadcasts).
 */
export interface ClusterHooks {
  /** Steps that commit with the group here: where in the log it goes, to resume from after a restart. */
  stepsFor(record: GroupRecord): Step[];
  /** Resolves once the log holds the group; throws StepDown when this process may no longer write it. */
  append(record: GroupRecord): Promise<void>;
  /** The authority stopped for good: it processes nothing more. */
  steppedDown(why: StepDown): void;
  /** Whether `peer`'s gateway sends this delta from the cluster's log (then it is not sent here). */
  delta(peer: Peer, head: SyncStateHead, first: FirstChunk): boolean;
  /** A sync answer went out to `peer`: it hears the log from here on. */
  subscribe(peer: Peer): void;
}

/** This authority must stop: another holds the log, or the log holds what this database does not. */
export class StepDown extends Error {}
