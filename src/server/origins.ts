import type { SyncServerOptions } from './options.js';

export type OriginCheck = (origin: string | undefined) => boolean;

/**
 * `allowedOrigins` as a check. A list holds origins (`https://app.example.com`; a trailing path is
 * dropped, so a page's URL works too): a request with an `Origin` header must match one exactly, and
 * a request without one (a Node client: browsers always send it) passes. A function decides alone,
 * for both. Unset: anything passes. Throws at start on an entry that is not a URL.
 */
export function originCheck(allowed: SyncServerOptions['allowedOrigins']): OriginCheck {
  if (allowed === undefined) return () => true;
  if (typeof allowed === 'function') return allowed;
  const origins = new Set(allowed.map(normalizeOrigin));
  return (origin) => origin === undefined || origins.has(origin);
}

function normalizeOrigin(entry: string): string {
  if (entry === 'null') return entry; // what a sandboxed page or a file:// page sends
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new Error(`kuzu-sync: allowedOrigins: ${JSON.stringify(entry)} is not an origin (https://host[:port])`);
  }
  if (url.origin === 'null') throw new Error(`kuzu-sync: allowedOrigins: ${JSON.stringify(entry)} has no origin`);
  return url.origin;
}
