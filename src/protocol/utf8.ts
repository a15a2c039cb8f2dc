/**
 * UTF-8 lengths and decoding: on Node's Buffer where there is one (native, and no copy of a Buffer),
 * else on TextEncoder/TextDecoder, so the protocol code runs in browsers too (#21).
 */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const utf8Length: (text: string) => number = NodeBuffer
  ? (text) => NodeBuffer.byteLength(text)
  : (text) => encoder.encode(text).length;

/** The text of UTF-8 bytes: one chunk, or several (a fragmented frame). */
export function utf8Text(bytes: Uint8Array | ArrayBuffer | Uint8Array[]): string {
  if (NodeBuffer) {
    if (Array.isArray(bytes)) return NodeBuffer.concat(bytes).toString('utf8');
    // Buffer.from(aBuffer) would copy it first: every message, on both ends.
    return (NodeBuffer.isBuffer(bytes) ? bytes : NodeBuffer.from(bytes as ArrayBuffer)).toString('utf8');
  }
  if (!Array.isArray(bytes)) return decoder.decode(bytes);
  const whole = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    whole.set(b, at);
    at += b.length;
  }
  return decoder.decode(whole);
}
