import type { Connections } from './connection.js';
import { ClusterArgumentError } from './errors.js';
import { checkCount, type GraphKeys } from './keys.js';

/** The sequencer lease: ks:{graph}:lease holds the owner token with PX ttl; ks:{graph}:epoch counts holders. */
export interface Lease {
  /**
   * SET NX PX, then INCR epoch, in one Lua script: the new epoch. undefined while anyone holds the
   * lease, `owner` included (renew() is how a holder keeps it).
   */
  acquire(owner: string, ttlMs: number): Promise<number | undefined>;
  /** Resets the ttl only if the lease still holds `owner` (Lua); false when it is lost. */
  renew(owner: string, ttlMs: number): Promise<boolean>;
  /** Deletes the lease only if it holds `owner`; a no-op otherwise. */
  release(owner: string): Promise<void>;
  holder(): Promise<string | undefined>;
  /** The epoch of the latest holder, 0 before the first. */
  epoch(): Promise<number>;
}

function checkOwner(owner: string): string {
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > 256)
    throw new ClusterArgumentError('owner must be a string of 1 to 256 characters');
  return owner;
}

export function lease(conn: Connections, keys: GraphKeys): Lease {
  return {
    async acquire(owner, ttlMs) {
      checkOwner(owner);
      checkCount('ttlMs', ttlMs);
      const epoch = await conn.call('acquire the lease', (c) => c.acquireLease(keys.lease, keys.epoch, owner, ttlMs));
      return epoch ?? undefined;
    },
    async renew(owner, ttlMs) {
      checkOwner(owner);
      checkCount('ttlMs', ttlMs);
      return (await conn.call('renew the lease', (c) => c.renewLease(keys.lease, owner, ttlMs))) === 1;
    },
    async release(owner) {
      checkOwner(owner);
      await conn.call('release the lease', (c) => c.releaseLease(keys.lease, owner));
    },
    holder: () => conn.call('read the lease', async (c) => (await c.get(keys.lease)) ?? undefined),
    epoch: () => conn.call('read the epoch', async (c) => Number((await c.get(keys.epoch)) ?? 0)),
  };
}
