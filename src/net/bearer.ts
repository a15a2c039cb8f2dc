import type { IncomingMessage } from 'node:http';

/**
 * How a token travels to the server. Browsers cannot set an `Authorization` header on a WebSocket,
 * so a token may also ride in a subprotocol or in the query string; `bearerToken(req)` reads all three.
 *
 * The subprotocol form is a pair, as Kubernetes and Jupyter do it: `kuzu-sync` (the protocol the
 * server echoes) and `kuzu-sync.bearer.<token>` (never echoed, so the token is not reflected in the
 * response). The token is percent-encoded, because a subprotocol may hold only HTTP token characters;
 * JWTs and base64url or hex tokens pass unchanged.
 */
export const SYNC_SUBPROTOCOL = 'kuzu-sync';
export const BEARER_SUBPROTOCOL_PREFIX = `${SYNC_SUBPROTOCOL}.bearer.`;
/** The query parameter: `ws://host/sync?token=...`. */
export const TOKEN_QUERY_PARAM = 'token';

/** Where a client puts its token: the header (Node's default), a subprotocol, or the query string. */
export type TokenIn = 'header' | 'subprotocol' | 'query';

/** encodeURIComponent, plus the characters it leaves that are not HTTP token characters. */
const encode = (token: string) =>
  encodeURIComponent(token).replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The subprotocols to open a WebSocket with: `new WebSocket(url, tokenProtocols(token))`. */
export function tokenProtocols(token: string): string[] {
  return [SYNC_SUBPROTOCOL, BEARER_SUBPROTOCOL_PREFIX + encode(token)];
}

/** The sync URL with `?token=` (or `&token=`) added. Query strings end up in proxies' access logs. */
export function tokenUrl(url: string, token: string): string {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  return `${base}${base.includes('?') ? '&' : '?'}${TOKEN_QUERY_PARAM}=${encodeURIComponent(token)}`;
}

/** The subprotocols a request offers (`Sec-WebSocket-Protocol`, comma-separated). */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return header
    ? header
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
    : [];
}

function fromHeader(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

function fromSubprotocol(req: IncomingMessage): string | undefined {
  const p = offeredProtocols(req).find((x) => x.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  return p && p.length > BEARER_SUBPROTOCOL_PREFIX.length
    ? decode(p.slice(BEARER_SUBPROTOCOL_PREFIX.length))
    : undefined;
}

function fromQuery(req: IncomingMessage): string | undefined {
  const target = req.url ?? '';
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  // URLSearchParams, not new URL(): it never throws, whatever the request target.
  const token = new URLSearchParams(target.slice(q + 1)).get(TOKEN_QUERY_PARAM);
  return token ? token : undefined;
}

/** Which of the three places a request's token came from (the first that has one), if any. */
export function tokenSource(req: IncomingMessage): TokenIn | undefined {
  if (fromHeader(req) !== undefined) return 'header';
  if (fromSubprotocol(req) !== undefined) return 'subprotocol';
  if (fromQuery(req) !== undefined) return 'query';
  return undefined;
}

/**
 * The bearer token of an upgrade request, for `authenticate(req)`: the `Authorization: Bearer`
 * header, else the `kuzu-sync.bearer.<token>` subprotocol, else the `token` query parameter;
 * undefined when none has one. Never log it.
 */
export function bearerToken(req: IncomingMessage): string | undefined {
  return fromHeader(req) ?? fromSubprotocol(req) ?? fromQuery(req);
}

/**
 * The subprotocol the server answers with (ws's `handleProtocols`): `kuzu-sync` when offered, else
 * the first one that carries no token; never a token. False: none (a browser that offered some then
 * fails the connection, as it should for a client that did not offer `kuzu-sync`).
 */
export function selectProtocol(protocols: Set<string>): string | false {
  if (protocols.has(SYNC_SUBPROTOCOL)) return SYNC_SUBPROTOCOL;
  for (const p of protocols) if (!p.startsWith(BEARER_SUBPROTOCOL_PREFIX)) return p;
  return false;
}
