import { ClusterArgumentError } from './errors.js';

/** Graph names and gateway ids go into key names: a strict alphabet, so no key can name another's. */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** A full stream id, `<ms or version>-<seq>`: no `*`, `$`, `-`, `+` or `(` from callers. */
const ID = /^\d{1,20}-\d{1,20}$/;

export function checkName(what: string, name: string): string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new ClusterArgumentError(`${what} must match ${NAME.source}, got ${JSON.stringify(name)}`);
  return name;
}

export function checkId(what: string, id: string): string {
  if (typeof id !== 'string' || !ID.test(id))
    throw new ClusterArgumentError(`${what} must be a stream id like 12-0, got ${JSON.stringify(id)}`);
  return id;
}

export function checkCount(what: string, n: number, min = 1): number {
  if (!Number.isSafeInteger(n) || n < min)
    throw new ClusterArgumentError(`${what} must be an integer >= ${min}, got ${String(n)}`);
  return n;
}

/**
 * Every key of one graph, under `ks:{graph}:`: the braces are Redis Cluster's hash tag, so a graph's
 * keys share one slot and its Lua scripts may touch several of them.
 */
export function graphKeys(graph: string) {
  const prefix = `ks:{${checkName('graph', graph)}}:`;
  return {
    log: `${prefix}log`,
    logLast: `${prefix}log:last`,
    serverId: `${prefix}server-id`,
    epoch: `${prefix}epoch`,
    lease: `${prefix}lease`,
    inbox: `${prefix}in`,
    gateway: (id: string) => `${prefix}gw:${checkName('gateway id', id)}`,
  };
}

export type GraphKeys = ReturnType<typeof graphKeys>;

/** Stream ids in Redis's order: by the first part, then the second, as integers. */
export function idAbove(id: string, than: string): boolean {
  const [a = 0n, b = 0n] = id.split('-').map(BigInt);
  const [c = 0n, d = 0n] = than.split('-').map(BigInt);
  return a > c || (a === c && b > d);
}
