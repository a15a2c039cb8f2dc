/**
 * kuzu-sync in a browser, to look at: `npm run example:browser`, then open the printed URL in two
 * windows side by side. With SYNC_SERVER_URL unset it starts a sync server in this process (on
 * 127.0.0.1, any free port); set it to use yours. It bundles the browser entry with
 * scripts/bundle-browser.mjs into a temporary folder and serves that and the page (index.html,
 * app.js, next to this file) on 127.0.0.1 with node:http (PORT picks the port, default any free one).
 * /two.html holds the page twice, side by side: two clients in one window.
 * Ctrl-C closes both servers and removes the bundle.
 *
 * test/browser/example.test.ts starts it in-process through `startExample`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleBrowser } from '../../scripts/bundle-browser.mjs';
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/index.js';
import { sendFile } from './static-file.js';

export interface ExampleOptions {
  /** The page's port (default 0: any free one). */
  port?: number;
  /** A sync server of yours; unset, one is started in this process. */
  syncServerUrl?: string;
  /** Options for the embedded sync server (allowedOrigins, logger...). */
  server?: Partial<SyncServerOptions>;
  quiet?: boolean;
}

export interface Example {
  /** The page: http://127.0.0.1:PORT/ */
  url: string;
  syncServerUrl: string;
  /** The embedded sync server, when this process started one. */
  server?: SyncServer;
  close(): Promise<void>;
}

const here = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const BUNDLE = ['kuzu-sync.js', 'kuzu-sync-worker.js', 'kuzu-wasm-sync.js', 'kuzu-wasm-sync.wasm'];

/** The page's files, the bundle's four, and /config.json (where the sync server is): nothing else. */
function pageServer(bundleDir: string, config: object): Server {
  const files: Record<string, string> = {
    '/': here('index.html'),
    '/app.js': here('app.js'),
    '/two.html': here('two.html'),
  };
  for (const f of BUNDLE) files[`/${f}`] = join(bundleDir, f);
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(config));
      return;
    }
    const file = files[path];
    if (file) sendFile(req, res, file);
    else res.writeHead(path === '/favicon.ico' ? 204 : 404).end();
  });
}

export async function startExample(options: ExampleOptions = {}): Promise<Example> {
  const log = options.quiet ? () => {} : (line: string) => console.log(line);
  const bundleDir = mkdtempSync(join(tmpdir(), 'kuzu-sync-example-'));
  let server: SyncServer | undefined;
  let http: Server | undefined;
  try {
    await bundleBrowser(bundleDir, { quiet: options.quiet ?? false });
    let syncServerUrl = options.syncServerUrl;
    if (!syncServerUrl) {
      server = await createSyncServer({ port: 0, host: '127.0.0.1', ...options.server });
      syncServerUrl = server.url;
      log(`No SYNC_SERVER_URL set: started an embedded sync server at ${syncServerUrl}`);
    } else {
      log(`Using the sync server at ${syncServerUrl}`);
    }
    const page = pageServer(bundleDir, { serverUrl: syncServerUrl });
    http = page;
    await new Promise<void>((resolve, reject) => {
      page.once('error', reject);
      page.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const url = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        page.closeAllConnections();
        await new Promise((resolve) => page.close(resolve));
        await server?.close();
        rmSync(bundleDir, { recursive: true, force: true });
      })());
    return { url, syncServerUrl, ...(server ? { server } : {}), close };
  } catch (e) {
    http?.close();
    await server?.close();
    rmSync(bundleDir, { recursive: true, force: true });
    throw e;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const example = await startExample({
    port: Number(process.env.PORT ?? 0),
    ...(process.env.SYNC_SERVER_URL ? { syncServerUrl: process.env.SYNC_SERVER_URL } : {}),
  });
  console.log(`\nOpen ${example.url} in two windows side by side, or ${example.url}two.html (Ctrl-C to stop)`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: closing`);
    example.close().then(
      () => console.log('  done'),
      (e) => {
        console.error(e);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
