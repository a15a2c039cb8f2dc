interface RandomSource {
  getRandomValues(a: Uint8Array): Uint8Array;
  randomUUID?(): string;
}

/**
 * A random (version 4) UUID. `crypto.randomUUID` exists only in a secure context: a page served over
 * http:// from a LAN address has none, but it has `getRandomValues`, which is all a v4 UUID needs.
 */
export function randomId(c: RandomSource = crypto): string {
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
