/** A message this large goes in a frame of its own (and may be compressed): snapshot chunks, mostly. */
const ALONE_BYTES = 64 * 1024;

export interface Frame {
  /** JSON text: one message, or (protocol v2) an array of them. */
  text: string;
  /** How many messages it carries: a batch goes out uncompressed (see FrameBatcher). */
  count: number;
}

/**
 * Packs encoded messages, in order, into as few frames as fit `maxBytes` each: a batch of one is the
 * plain message, more are a JSON array (protocol v2). A message larger than `maxBytes` on its own
 * still goes, alone: refusing it is the receiver's call, with the error that says why.
 */
export function packFrames(messages: readonly string[], maxBytes: number): Frame[] {
  const frames: Frame[] = [];
  let batch: string[] = [];
  let bytes = 1;
  const close = () => {
    if (batch.length === 1) frames.push({ text: batch[0]!, count: 1 });
    else if (batch.length > 1) frames.push({ text: `[${batch.join(',')}]`, count: batch.length });
    batch = [];
    bytes = 1;
  };
  for (const m of messages) {
    // A UTF-16 unit is at most 3 UTF-8 bytes: a bound without a scan (an ASCII batch fills a third).
    const size = m.length * 3 + 1;
    if (size >= ALONE_BYTES || bytes + size > maxBytes) close();
    batch.push(m);
    bytes += size;
    if (size >= ALONE_BYTES) close();
  }
  close();
  return frames;
}

/**
 * Gathers what one tick produces and sends it as few frames as fit (protocol v2), in order. The
 * tick ends with the microtask queue: a burst of patches, or a commit group's answers and
 * broadcasts, leaves together. Until the peer has said it speaks v2, every message is a frame of
 * its own, as in v1.
 */
export class FrameBatcher {
  private queue: string[] = [];
  batching = false;

  constructor(
    private readonly maxBytes: number,
    private readonly write: (frame: Frame) => void,
  ) {}

  push(json: string): void {
    if (!this.batching) return this.write({ text: json, count: 1 });
    if (this.queue.push(json) === 1) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    const messages = this.queue;
    this.queue = [];
    for (const frame of packFrames(messages, this.maxBytes)) this.write(frame);
  }
}
