/**
 * A process of bare protocol peers that only listen (WirePeer): each syncs from the current
 * version, then counts the patch broadcasts it is sent. Fan-out to many connections needs them
 * outside the bench's process and the servers', so the servers' CPU is theirs alone.
 */
import { Child, isEntry, serveParent } from './child.js';
import { until } from './wait.js';
import { BROADCAST, occurrences, WirePeer } from './wire-peer.js';

export interface OpenReceivers {
  /** Peer i connects to urls[i % urls.length]. */
  urls: string[];
  count: number;
  /** Their clientIds: `${prefix}-${i}`. */
  prefix: string;
  fromVersion: number;
}

/** Connections opened at once: a burst of a thousand handshakes is not what is measured. */
const CONNECT_AT_ONCE = 50;

function receivers() {
  let peers: WirePeer[] = [];
  let received = 0;
  const open = async (o: OpenReceivers) => {
    for (let i = 0; i < o.count; i += CONNECT_AT_ONCE) {
      const ids = Array.from({ length: Math.min(CONNECT_AT_ONCE, o.count - i) }, (_, k) => i + k);
      const batch = await Promise.all(ids.map((n) => WirePeer.connect(o.urls[n % o.urls.length]!, `${o.prefix}-${n}`)));
      await Promise.all(batch.map((p) => p.sync(o.fromVersion)));
      for (const p of batch) p.onFrame((frame) => (received += occurrences(frame, BROADCAST)));
      peers.push(...batch);
    }
  };
  const close = () => {
    for (const p of peers) p.close();
    peers = [];
    received = 0;
  };
  return {
    info: {},
    handlers: {
      open: (arg: unknown) => open(arg as OpenReceivers),
      received: () => received,
      /** Resolves once `target` broadcasts have arrived in all, since the peers opened. */
      reach: (target: unknown) =>
        until(() => received >= (target as number), `${target as number} broadcasts`, 600_000, 5),
      close,
      stop: close,
    },
  };
}

export type ReceiversChild = Child<Record<string, never>>;

export const startReceivers = (): Promise<ReceiversChild> => Child.start('./receivers-child.ts');

if (isEntry(import.meta.url)) await serveParent(async () => receivers());
