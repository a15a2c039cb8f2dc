#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { SchemaDef } from './schema/define.js';
import { metricsPathProblem } from './server/metrics.js';
import { defaultEngine } from './store/kuzu/worker-driver.js';
import { migrateDatabase } from './store/migrate.js';
import { createSyncServer, type SyncServer } from './server/sync-server.js';
import type { Logger, SyncServerOptions } from './server/options.js';

const HELP = `kuzu-sync: a sync server for KuzuDB graphs

Usage:
  kuzu-sync serve [options]
  kuzu-sync migrate <from-db> <to-db> --to ladybug|kuzu

Options:
  --port <n>               port to listen on (default 8080; 0 = any free port)
  --host <addr>            address to bind (default 127.0.0.1; 0.0.0.0 for all)
  --path <path>            WebSocket path (default /sync)
  --db <file>              database file (default: in memory, lost on exit)
  --driver <engine>        wasm (default, kuzu-wasm 0.11.3), native (npm install kuzu@0.11.3)
                           or ladybug (npm install @ladybugdb/wasm-core@0.22.3); a file
                           written by another engine is refused: convert it with migrate
  --conflict <strategy>    last-writer-wins (default) or reject-stale
  --max-message-bytes <n>  larger frames are refused (default 1048576)
  --log-retention <n>      accepted patches kept for deltas (default 100000)
  --schema <file.json>     the graph's schema: { "nodes": { "Person": { "name": "string" } },
                           "edges": { "KNOWS": { "from": "Person", "to": "Person" } } }
  --rejection-retention <n>
                           unacknowledged rejections kept per client (default 10000)
  --no-compression         turn permessage-deflate off
  --metrics-path <path>    serve Prometheus metrics at this HTTP path on the same port
                           (e.g. /metrics; off by default; no authentication)
  --allowed-origin <url>   a page origin that may connect (e.g. https://app.example.com);
                           repeatable; others get HTTP 403, requests without an Origin
                           header (Node clients) pass; default: any origin
  --redis <url>            cluster mode: redis://host:port, shared by every process of the graph
  --role <role>            with --redis: gateway (clients connect here; no database),
                           sequencer (judges and commits to --db; takes no clients) or
                           standby (follows the log in --db; takes over when the sequencer dies)
  --graph <name>           with --redis: the graph's name in Redis (default: default)
  --quiet                  no log line per connection
  -h, --help               this text

Clients connect to ws://<host>:<port><path>. SIGINT or SIGTERM finishes what is queued,
closes every connection and the database, then exits.

migrate converts a database file (a server's or a client's, closed) from kuzu-wasm 0.11.3 to
LadybugDB's wasm build (--to ladybug) or back (--to kuzu) into a new file, with kuzu-sync's own
tables: the log, client seqs and serverId of a server, the pending patches of a client. From a
kuzu-wasm file, --to kuzu rewrites it without compression (a file made by kuzu-sync before December
2026 is compressed, and Kuzu 0.11.3 garbles its strings: see the README's Engines).`;

function fail(message: string): never {
  console.error(`kuzu-sync: ${message}; see kuzu-sync --help`);
  process.exit(2);
}

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  path: { type: 'string' },
  db: { type: 'string' },
  driver: { type: 'string' },
  conflict: { type: 'string' },
  'max-message-bytes': { type: 'string' },
  'log-retention': { type: 'string' },
  'rejection-retention': { type: 'string' },
  schema: { type: 'string' },
  'no-compression': { type: 'boolean' },
  'metrics-path': { type: 'string' },
  'allowed-origin': { type: 'string', multiple: true },
  redis: { type: 'string' },
  role: { type: 'string' },
  graph: { type: 'string' },
  quiet: { type: 'boolean' },
  to: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];
type Command = { command: 'serve'; values: Flags } | { command: 'migrate'; from: string; to: string; values: Flags };

/** The command, or undefined when the user asked for help (or gave no command). Exits on a bad one. */
function readCommand(): Command | undefined {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (e) {
    // parseArgs names the flag in quotes inside a sentence written for programmers.
    const { message } = e as Error;
    const flag = /'(-[-\w]*)/.exec(message)?.[1];
    if (flag && (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') fail(`unknown option ${flag}`);
    if (flag && /argument missing|ambiguous/.test(message)) fail(`${flag} needs a value`);
    if (flag && /does not take an argument/.test(message)) fail(`${flag} takes no value`);
    fail(message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return undefined;
  if (positionals[0] === 'migrate') {
    if (positionals.length !== 3) fail('migrate takes two files: <from-db> <to-db>');
    if (values.to !== 'ladybug' && values.to !== 'kuzu') fail('migrate needs --to ladybug or --to kuzu');
    return { command: 'migrate', from: positionals[1]!, to: positionals[2]!, values };
  }
  if (positionals[0] !== 'serve' || positionals.length > 1) {
    fail(`unknown command ${JSON.stringify(positionals.join(' '))}`);
  }
  if (values.to !== undefined) fail('--to is an option of migrate');
  return { command: 'serve', values };
}

function wholeNumber(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

function portNumber(v: string | undefined): number {
  const port = wholeNumber('port', v) ?? 8080;
  if (port > 65535) fail(`--port must be at most 65535, got ${port}`);
  return port;
}

const stamp = () => new Date().toISOString();

/** The server's options from the flags; every refusal happens here, before anything starts. */
function serverOptions(values: Flags): SyncServerOptions {
  const path = values.path ?? '/sync';
  if (!path.startsWith('/')) fail(`--path must start with /, got ${JSON.stringify(values.path)}`);
  const metricsPath = values['metrics-path'];
  const metricsProblem = metricsPath === undefined ? undefined : metricsPathProblem(metricsPath, path);
  if (metricsProblem) fail(`--metrics-path ${metricsProblem}`);
  const driver = values.driver;
  if (driver !== undefined && driver !== 'wasm' && driver !== 'native' && driver !== 'ladybug') {
    fail(`--driver must be wasm, native or ladybug`);
  }
  const conflict = values.conflict ?? 'last-writer-wins';
  if (conflict !== 'last-writer-wins' && conflict !== 'reject-stale') {
    fail(`--conflict must be last-writer-wins or reject-stale`);
  }
  const maxMessageBytes = wholeNumber('max-message-bytes', values['max-message-bytes']);
  const logRetention = wholeNumber('log-retention', values['log-retention']);
  const rejectionRetention = wholeNumber('rejection-retention', values['rejection-retention']);
  const allowedOrigins = values['allowed-origin'];
  for (const origin of allowedOrigins ?? []) {
    if (!/^https?:\/\/[^/]/.test(origin) && origin !== 'null') {
      fail(`--allowed-origin must be an origin such as https://app.example.com, got ${JSON.stringify(origin)}`);
    }
  }
  const cluster = clusterOptions(values);
  const logger: Logger = {
    debug() {},
    info: (...a) => values.quiet || console.log(stamp(), ...a),
    warn: (...a) => console.warn(stamp(), ...a),
    error: (...a) => console.error(stamp(), ...a),
  };
  return {
    port: portNumber(values.port),
    ...(values.host ? { host: values.host } : {}),
    ...(values.path ? { path: values.path } : {}),
    ...(values.db ? { databasePath: values.db } : {}),
    ...(driver !== undefined ? { driver } : {}),
    conflictStrategy: conflict,
    ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
    ...(logRetention !== undefined ? { logRetention } : {}),
    ...(rejectionRetention !== undefined ? { rejectionRetention } : {}),
    ...(values.schema !== undefined ? { schema: readSchema(values.schema) } : {}),
    compression: !values['no-compression'],
    ...(metricsPath !== undefined ? { metricsPath } : {}),
    ...(allowedOrigins !== undefined ? { allowedOrigins } : {}),
    ...(cluster ? { cluster } : {}),
    logger,
  };
}

function clusterOptions(values: Flags): SyncServerOptions['cluster'] {
  const { redis, role, graph } = values;
  if (redis === undefined) {
    if (role !== undefined || graph !== undefined) fail('--role and --graph need --redis');
    return undefined;
  }
  if (!/^rediss?:\/\//.test(redis)) fail(`--redis must be a redis:// URL, got ${JSON.stringify(redis)}`);
  if (role !== 'sequencer' && role !== 'gateway' && role !== 'standby') {
    fail('--role must be sequencer, gateway or standby');
  }
  if (role === 'gateway' && values.db !== undefined) fail('--db: a gateway holds no database (the sequencer does)');
  const name = graph ?? 'default';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    fail(`--graph must be letters, digits, _ . -, up to 64, got ${JSON.stringify(name)}`);
  return { redisUrl: redis, role, graph: name };
}

/** A schema file, as defineSchema takes it; its contents are checked when the server starts. */
function readSchema(file: string): SchemaDef {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return fail(`--schema: cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as SchemaDef;
  } catch (e) {
    return fail(`--schema: ${file} is not JSON: ${(e as Error).message}`);
  }
}

/** SIGINT or SIGTERM: finish what is queued, close, exit; a second signal changes nothing. */
function closeOnSignals(server: SyncServer): void {
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

const ENGINE_NAMES = { wasm: 'kuzu-wasm', native: 'native kuzu', ladybug: 'ladybug-wasm' } as const;

async function migrate(from: string, to: string, target: 'ladybug' | 'kuzu'): Promise<void> {
  const started = Date.now();
  const { tables } = await migrateDatabase(from, to, target);
  const rows = Object.values(tables).reduce((a, b) => a + b, 0);
  const n = Object.keys(tables).length;
  console.log(`${stamp()} ${from} -> ${to} (${target}): ${n} tables, ${rows} rows, ${Date.now() - started} ms`);
}

async function main(): Promise<void> {
  const cmd = readCommand();
  if (!cmd) return console.log(HELP);
  if (cmd.command === 'migrate') return migrate(cmd.from, cmd.to, cmd.values.to as 'ladybug' | 'kuzu');
  const values = cmd.values;
  const options = serverOptions(values);
  const server = await createSyncServer(options);
  const engine = ENGINE_NAMES[(options.driver as keyof typeof ENGINE_NAMES | undefined) ?? defaultEngine()];
  const c = options.cluster;
  const db = `database ${values.db ?? ':memory:'}, ${engine}, version ${server.getVersion()}`;
  const what = !c ? db : `cluster ${c.role} of graph ${c.graph}${c.role === 'gateway' ? '' : `, ${db}`}`;
  console.log(`${stamp()} kuzu-sync listening on ${server.url} (${what})`);
  if (options.metricsPath !== undefined) {
    console.log(`${stamp()} metrics at ${new URL(options.metricsPath, server.url.replace(/^ws/, 'http'))}`);
  }
  closeOnSignals(server);
  // Closed on its own (its engine crashed): a non-zero exit, for the supervisor to start it again.
  void server.closed.then((why) => {
    if (!why) return;
    console.error(`${stamp()} ${why.message}`);
    process.exit(1);
  });
}

main().catch((e) => {
  console.error(`kuzu-sync: ${(e as Error).message}`);
  process.exit(1);
});
