/**
 * The cluster's log, entry by entry: a committed group (what the sequencer's own tables record of it:
 * the accepted patches, the seqs, the rejections, a compaction), or the mark a sequencer leaves when
 * it takes over. Entry ids are `<version after it>-<n>`: n is 0 for a group that took versions and
 * counts up for entries that took none, so ids rise strictly and a version finds its entry by range.
 */
import { type Json, storedJson } from '../protocol/encode.js';
import type { ErrorCode, Patch } from '../protocol/types.js';
import type { GroupRecord, LogEntry } from '../server/server-log.js';

export type LogRecord =
  | { kind: 'group'; group: GroupRecord }
  /**
   * A new sequencer holds the log from here on: what gateways were told by another may be lost.
   * `serverId`: the cluster's identity (its first sequencer's database's), which every copy adopts.
   */
  | { kind: 'takeover'; epoch: number; version: number; serverId: string };

export class ClusterFormatError extends Error {}

/** Spliced: each patch goes in as the text it was accepted as, never parsed and stringified again. */
export function encodeGroup(g: GroupRecord): string {
  const patches = g.entries.map((e) => e.json).join(',');
  const rejections = [...g.rejections].map(([id, r]) => [id, r.code, r.reason]);
  const compact = g.compactTo === undefined ? '' : `,"c":${g.compactTo}`;
  return `{"k":"g","v":${g.version}${compact},"p":[${patches}],"s":${JSON.stringify([...g.seqs])},"r":${JSON.stringify(rejections)}}`;
}

export const encodeTakeover = (epoch: number, version: number, serverId: string): string =>
  JSON.stringify({ k: 't', epoch, v: version, sid: serverId });

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export function decodeLogRecord(body: string): LogRecord {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new ClusterFormatError('a log entry is not JSON');
  }
  if (raw.k === 't' && isCount(raw.epoch) && isCount(raw.v) && typeof raw.sid === 'string') {
    return { kind: 'takeover', epoch: raw.epoch, version: raw.v, serverId: raw.sid };
  }
  const { v, c, p, s, r } = raw;
  if (raw.k !== 'g' || !isCount(v) || !Array.isArray(p) || !Array.isArray(s) || !Array.isArray(r)) {
    throw new ClusterFormatError('a log entry is neither a group nor a takeover');
  }
  // The group's patches took the versions just before its own, in order.
  const entries: LogEntry[] = (p as Patch[]).map((patch, i) => ({
    version: v - p.length + 1 + i,
    patch,
    json: storedJson<Patch>(JSON.stringify(patch)) as Json<Patch>,
  }));
  return {
    kind: 'group',
    group: {
      entries,
      seqs: new Map(s as Array<[string, number]>),
      rejections: new Map(
        (r as Array<[string, ErrorCode, string]>).map(([id, code, reason]) => [id, { code, reason }]),
      ),
      version: v,
      compactTo: isCount(c) ? c : undefined,
    },
  };
}

/** The version after which a log starting with this entry holds every patch. */
export function floorOf(oldestBody: string): number {
  const r = decodeLogRecord(oldestBody);
  return r.kind === 'takeover' ? r.version : r.group.version - r.group.entries.length;
}

/** An entry id as [version, n]. */
export function parseId(id: string): [number, number] {
  const dash = id.indexOf('-');
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

export function compareIds(a: string, b: string): number {
  const [av, an] = parseId(a);
  const [bv, bn] = parseId(b);
  return av === bv ? an - bn : av - bv;
}

/** The id of the entry after `last` that leaves the log at `version`. */
export function nextId(last: string, version: number): string {
  const [lv, ln] = parseId(last);
  if (version > lv) return `${version}-0`;
  if (version === lv) return `${version}-${ln + 1}`;
  throw new ClusterFormatError(`the log is at version ${lv}; an entry cannot go back to ${version}`);
}

/** The patch's client, from its id (`clientId:seq`, as every patch id is). */
export const clientOfPatchId = (patchId: string): string => patchId.slice(0, patchId.lastIndexOf(':'));
