/**
 * How the example's server and test/browser's harness send a file: its content type by extension
 * (`application/wasm` for kuzu-wasm's wasm: WebAssembly.compileStreaming refuses anything else) and
 * `cache-control: no-cache` with an ETag, so the browser asks every time (a rebuilt bundle is seen at
 * once) and gets a 304 when nothing changed. A cached response is what lets Chromium keep the
 * compiled wasm across reloads: with `no-store` it compiles it again on every load.
 */
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
};

/** The content type of `path` by its extension (html when it has none: `/`). */
export const contentType = (path: string): string => TYPES[extname(path)] ?? TYPES['.html']!;

/** The file at `path`, read only when the browser's copy is not current (its ETag: size and mtime). */
export function sendFile(req: IncomingMessage, res: ServerResponse, path: string, type = contentType(path)): void {
  const { size, mtimeMs } = statSync(path);
  const etag = `"${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}"`;
  const headers = { 'content-type': type, 'cache-control': 'no-cache', etag };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, headers).end(readFileSync(path));
}
