import type { IncomingMessage } from 'node:http';

/**
 * The path of a request, without its query. Not `new URL(req.url)`: it throws on request targets
 * such as `//[`, and nothing a client sends may crash the server.
 */
export function requestPath(req: IncomingMessage): string {
  const target = req.url ?? '/';
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}
