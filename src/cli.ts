#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { metricsPathProblem } from './server/metrics.js';
import { createSyncServer } from './server/sync-server.js';
import type { Logger } from './server/options.js';

const HELP = `kuzu-sync: a sync server for KuzuDB graphs

Usage:
  kuzu-sync serve [options]

Options:
  --port <n>               port to listen on (default 8080; 0 = any free port)
  --host <addr>            address to bind (default 127.0.0.1; 0.0.0.0 for all)
  --path <path>            WebSocket path (default /sync)
  --db <file>              database file (default: in memory, lost on exit)
  --driver <engine>        wasm (default) or native (needs: npm install kuzu@0.11.3)
  --conflict <strategy>    last-writer-wins (default) or reject-stale
  --max-message-bytes <n>  larger frames are refused (default 1048576)
  --log-retention <n>      accepted patches kept for deltas (default 100000)
  --no-compression         turn permessage-deflate off
  --metrics-path <path>    serve Prometheus metrics at this HTTP path on the same port
                           (e.g. /metrics; off by default; no authentication)
  --quiet                  no log line per connection
  -h, --help               this text

Clients connect to ws://<host>:<port><path>. SIGINT or SIGTERM finishes what is queued,
closes every connection and the database, then exits.`;

function fail(message: string): never {
  console.error(`kuzu-sync: ${message}; see kuzu-sync --help`);
  process.exit(2);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        path: { type: 'string' },
        db: { type: 'string' },
        driver: { type: 'string' },
        conflict: { type: 'string' },
        'max-message-bytes': { type: 'string' },
        'log-retention': { type: 'string' },
        'no-compression': { type: 'boolean' },
        'metrics-path': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    const flag = /'(-[^']*)'/.exec((e as Error).message)?.[1];
    fail(flag ? `unknown option ${flag}` : (e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    return;
  }
  if (positionals[0] !== 'serve' || positionals.length > 1) fail(`unknown command ${JSON.stringify(positionals.join(' '))}`);
  const int = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
    return n;
  };
  if (values.path !== undefined && !values.path.startsWith('/')) fail(`--path must start with /, got ${JSON.stringify(values.path)}`);
  const metricsPath = values['metrics-path'];
  const metricsProblem = metricsPath === undefined ? undefined : metricsPathProblem(metricsPath, values.path ?? '/sync');
  if (metricsProblem) fail(`--metrics-path ${metricsProblem}`);
  const driver = values.driver ?? 'wasm';
  if (driver !== 'wasm' && driver !== 'native') fail(`--driver must be wasm or native`);
  const conflict = values.conflict ?? 'last-writer-wins';
  if (conflict !== 'last-writer-wins' && conflict !== 'reject-stale') fail(`--conflict must be last-writer-wins or reject-stale`);

  const stamp = () => new Date().toISOString();
  const logger: Logger = {
    debug() {},
    info: (...a) => values.quiet || console.log(stamp(), ...a),
    warn: (...a) => console.warn(stamp(), ...a),
    error: (...a) => console.error(stamp(), ...a),
  };
  const port = int('port', values.port) ?? 8080;
  const maxMessageBytes = int('max-message-bytes', values['max-message-bytes']);
  const logRetention = int('log-retention', values['log-retention']);
  const server = await createSyncServer({
    port,
    ...(values.host ? { host: values.host } : {}),
    ...(values.path ? { path: values.path } : {}),
    ...(values.db ? { databasePath: values.db } : {}),
    driver,
    conflictStrategy: conflict,
    ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
    ...(logRetention !== undefined ? { logRetention } : {}),
    compression: !values['no-compression'],
    ...(metricsPath !== undefined ? { metricsPath } : {}),
    logger,
  });
  console.log(`${stamp()} kuzu-sync listening on ${server.url} (database ${values.db ?? ':memory:'}, ${driver === 'native' ? 'native kuzu' : 'kuzu-wasm'}, version ${server.getVersion()})`);
  if (metricsPath !== undefined) console.log(`${stamp()} metrics at ${new URL(metricsPath, server.url.replace(/^ws/, 'http'))}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${stamp()} ${signal}: closing`);
    server.close().then(
      () => {
        console.log(`${stamp()} closed at version ${server.getVersion()}`);
        process.exit(0);
      },
      (e) => {
        console.error(`${stamp()} close failed:`, e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e) => {
  console.error(`kuzu-sync: ${(e as Error).message}`);
  process.exit(1);
});
