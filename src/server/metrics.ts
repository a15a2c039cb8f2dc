import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { Histogram, type HistogramSnapshot } from '../histogram.js';
import type { ErrorCode, PatchStatus } from '../protocol/types.js';
import type { AuthorityEvents } from './authority.js';
import { requestPath } from './request-path.js';

/** Upper bounds (ms) of the server's acknowledgement latency histogram; the last bucket is +Inf. */
export const SERVER_ACK_BUCKETS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** What `server.getMetrics()` returns: counters since the server started, and two gauges. */
export interface SyncServerMetrics {
  /** Patches committed with a new version. */
  patchesAccepted: number;
  /** Patches answered `rejected`, every code together. */
  patchesRejected: number;
  /** The same by code (`validation_failed`, `forbidden`, `conflict`, `out_of_order`, ...); absent codes are 0. */
  rejectedByCode: Partial<Record<ErrorCode, number>>;
  /** Re-sent patches answered `ignored` (already processed). */
  patchesIgnored: number;
  /**
   * From the receipt of a patch frame to its `patch_response` being sent, ms. `counts[i]` counts the
   * answers <= `buckets[i]` and above the bucket before (not cumulative); the last count is above every bucket.
   */
  ackLatency: HistogramSnapshot;
  /** Transactions the authority committed, each holding a group of patches. */
  commitGroups: number;
  /** `patch_broadcast` messages handed to other clients (one per recipient). */
  broadcastsSent: number;
  /** `sync_request`s answered, by the mode of the answer. */
  syncRequests: { delta: number; snapshot: number };
  /** Message payload bytes received and sent (JSON text, before permessage-deflate). */
  bytesIn: number;
  bytesOut: number;
  /** WebSocket frames received and sent: with protocol 2 a frame carries a tick's messages. */
  framesIn: number;
  framesOut: number;
  /** Open WebSocket connections now (a gauge). */
  connectedClients: number;
  /** WebSocket connections accepted since the start. */
  connectionsOpened: number;
  /** Frames refused before processing, by error code (`bad_message`, `message_too_large`, `invalid_value`, ...). */
  decodeErrors: Partial<Record<ErrorCode, number>>;
  /** Connections dropped because they did not read their messages (`maxBufferedBytes`). */
  slowClientDrops: number;
  /** The server's version now (a gauge). */
  version: number;
  /** In a cluster, gateways and standbys: how many versions this process is behind the cluster's log. */
  clusterLag?: number;
}

/** The live figures `getMetrics()` reads at the time of asking rather than counting. */
export interface MetricsGauges {
  connectedClients(): number;
  version(): number;
  clusterLag?(): number;
}

function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/**
 * The server's counters: plain numbers bumped in place (no allocation per patch), read by
 * `server.getMetrics()` and, when `metricsPath` is set, by the Prometheus registry at scrape time.
 */
export class ServerMetrics implements AuthorityEvents {
  patchesAccepted = 0;
  patchesRejected = 0;
  patchesIgnored = 0;
  commitGroups = 0;
  broadcastsSent = 0;
  syncDelta = 0;
  syncSnapshot = 0;
  bytesIn = 0;
  bytesOut = 0;
  framesIn = 0;
  framesOut = 0;
  connectionsOpened = 0;
  slowClientDrops = 0;
  readonly rejectedByCode = new Map<ErrorCode, number>();
  readonly decodeErrors = new Map<ErrorCode, number>();
  private readonly ackLatency = new Histogram(SERVER_ACK_BUCKETS);
  /** The Prometheus histogram, observed alongside when metrics are exposed. */
  promAckLatency: { observe(seconds: number): void } | undefined;

  constructor(private readonly gauges: MetricsGauges) {}

  onAnswered(status: PatchStatus, code: ErrorCode | undefined, receivedAt: number, answeredAt: number): void {
    if (status === 'accepted') this.patchesAccepted++;
    else if (status === 'ignored') this.patchesIgnored++;
    else {
      this.patchesRejected++;
      bump(this.rejectedByCode, code ?? 'internal');
    }
    const ms = answeredAt - receivedAt;
    this.ackLatency.observe(ms);
    this.promAckLatency?.observe(ms / 1000);
  }

  onCommitted(broadcasts: number): void {
    this.commitGroups++;
    this.broadcastsSent += broadcasts;
  }

  onSyncAnswered(mode: 'delta' | 'snapshot'): void {
    if (mode === 'delta') this.syncDelta++;
    else this.syncSnapshot++;
  }

  decodeError(code: ErrorCode): void {
    bump(this.decodeErrors, code);
  }

  snapshot(): SyncServerMetrics {
    return {
      patchesAccepted: this.patchesAccepted,
      patchesRejected: this.patchesRejected,
      rejectedByCode: Object.fromEntries(this.rejectedByCode),
      patchesIgnored: this.patchesIgnored,
      ackLatency: this.ackLatency.snapshot(),
      commitGroups: this.commitGroups,
      broadcastsSent: this.broadcastsSent,
      syncRequests: { delta: this.syncDelta, snapshot: this.syncSnapshot },
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      connectedClients: this.gauges.connectedClients(),
      connectionsOpened: this.connectionsOpened,
      decodeErrors: Object.fromEntries(this.decodeErrors),
      slowClientDrops: this.slowClientDrops,
      version: this.gauges.version(),
      ...(this.gauges.clusterLag ? { clusterLag: this.gauges.clusterLag() } : {}),
    };
  }
}

/** Metric makers bound to one registry; each copies its figure from the plain counters when scraped. */
function metricMakers(prom: typeof import('prom-client'), registry: Registry) {
  const registers = [registry];
  const counter = (name: string, help: string, value: () => number) =>
    new prom.Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  const byLabel = <K extends string>(name: string, help: string, label: string, values: () => Iterable<[K, number]>) =>
    new prom.Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [k, n] of values()) this.inc({ [label]: k }, n);
      },
    });
  const gauge = (name: string, help: string, value: () => number) =>
    new prom.Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(value());
      },
    });
  return { counter, byLabel, gauge, registers };
}

/**
 * A Prometheus registry of this server's metrics (prom-client, loaded only when asked for). Its own
 * Registry, never prom-client's global one: two servers in one process keep their figures apart.
 * Counters and gauges copy the plain counters at scrape time; the histogram is observed as answers go out.
 */
export async function createPromRegistry(metrics: ServerMetrics, gauges: MetricsGauges): Promise<Registry> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  const { counter, byLabel, gauge, registers } = metricMakers(prom, registry);

  counter('kuzu_sync_patches_accepted_total', 'Patches committed with a new version.', () => metrics.patchesAccepted);
  byLabel(
    'kuzu_sync_patches_rejected_total',
    'Patches answered rejected, by rejection code.',
    'code',
    () => metrics.rejectedByCode,
  );
  counter(
    'kuzu_sync_patches_ignored_total',
    'Re-sent patches answered ignored (already processed).',
    () => metrics.patchesIgnored,
  );
  metrics.promAckLatency = new prom.Histogram({
    name: 'kuzu_sync_ack_latency_seconds',
    help: 'Time from the receipt of a patch frame to its patch_response being sent.',
    buckets: SERVER_ACK_BUCKETS.map((ms) => ms / 1000),
    registers,
  });
  counter(
    'kuzu_sync_commit_groups_total',
    'Transactions committed by the authority, each holding a group of patches.',
    () => metrics.commitGroups,
  );
  counter(
    'kuzu_sync_broadcasts_sent_total',
    'patch_broadcast messages sent to other clients (one per recipient).',
    () => metrics.broadcastsSent,
  );
  const syncHelp = 'sync_requests answered, by the mode of the answer (delta or snapshot).';
  byLabel('kuzu_sync_sync_requests_total', syncHelp, 'mode', () => [
    ['delta', metrics.syncDelta],
    ['snapshot', metrics.syncSnapshot],
  ]);
  counter(
    'kuzu_sync_received_bytes_total',
    'Message payload bytes received (before permessage-deflate).',
    () => metrics.bytesIn,
  );
  counter(
    'kuzu_sync_sent_bytes_total',
    'Message payload bytes sent (before permessage-deflate).',
    () => metrics.bytesOut,
  );
  counter(
    'kuzu_sync_received_frames_total',
    'WebSocket frames received (v2: one may hold many messages).',
    () => metrics.framesIn,
  );
  counter(
    'kuzu_sync_sent_frames_total',
    'WebSocket frames sent (v2: one may hold many messages).',
    () => metrics.framesOut,
  );
  gauge('kuzu_sync_connected_clients', 'Open WebSocket connections.', () => gauges.connectedClients());
  counter('kuzu_sync_connections_opened_total', 'WebSocket connections accepted.', () => metrics.connectionsOpened);
  byLabel(
    'kuzu_sync_decode_errors_total',
    'Frames refused before processing, by error code.',
    'code',
    () => metrics.decodeErrors,
  );
  counter(
    'kuzu_sync_slow_client_drops_total',
    'Connections dropped because they did not read their messages.',
    () => metrics.slowClientDrops,
  );
  gauge('kuzu_sync_version', 'The server version: the number of accepted patches in its database.', () =>
    gauges.version(),
  );
  const lag = gauges.clusterLag;
  if (lag)
    gauge('kuzu_sync_cluster_lag_versions', "Versions this gateway or standby is behind the cluster's log.", lag);
  return registry;
}

/** Why `metricsPath` cannot serve next to the WebSocket `path`, or undefined when it can. */
export function metricsPathProblem(metricsPath: string, path: string): string | undefined {
  // Requests are matched on their path alone: '?' or '#' could never match, '//' reads as a host.
  if (!/^\/(?!\/)[^?#]*$/.test(metricsPath) || metricsPath === path) {
    const got = JSON.stringify(metricsPath);
    return `must be a path starting with one / (no ? or #) and differ from the WebSocket path (${path}), got ${got}`;
  }
  return undefined;
}

type HttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Answers GET and HEAD on `path` with the registry's text; false for any other path (the caller answers it). */
export function metricsHandler(path: string, registry: Registry): HttpHandler {
  return (req, res) => {
    if (requestPath(req) !== path) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const headers = { allow: 'GET, HEAD', 'content-type': 'text/plain' };
      res.writeHead(405, headers).end('kuzu-sync: metrics are read with GET\n');
      return true;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        // Node's HTTP server leaves out the body of an answer to HEAD by itself.
        res.end(text);
      },
      (e: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`kuzu-sync: metrics failed: ${e.message}\n`);
      },
    );
    return true;
  };
}
