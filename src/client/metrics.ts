import { Histogram } from '../histogram.js';
import type { SyncMetrics } from './options.js';

/** Upper bounds (ms) of the acknowledgement latency histogram; the last bucket is +Inf. */
export const ACK_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Counters a client keeps about itself; read with getMetrics() or the periodic `metrics` event. */
export class Metrics {
  patchesSent = 0;
  patchesAccepted = 0;
  patchesRejected = 0;
  patchesIgnored = 0;
  rollbacks = 0;
  rebases = 0;
  snapshots = 0;
  reconnects = 0;
  bytesIn = 0;
  bytesOut = 0;
  private readonly ackLatency = new Histogram(ACK_BUCKETS);

  observeAck(ms: number): void {
    this.ackLatency.observe(ms);
  }

  snapshot(queueDepth: number): SyncMetrics {
    return {
      patchesSent: this.patchesSent,
      patchesAccepted: this.patchesAccepted,
      patchesRejected: this.patchesRejected,
      patchesIgnored: this.patchesIgnored,
      rollbacks: this.rollbacks,
      rebases: this.rebases,
      snapshots: this.snapshots,
      reconnects: this.reconnects,
      queueDepth,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      ackLatency: this.ackLatency.snapshot(),
    };
  }
}
