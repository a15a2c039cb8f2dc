/**
 * Auth and safety for browsers (#21, item 3), against a real server on loopback. Raw `ws` sockets
 * act as a browser would: no headers of their own, the token in a subprotocol or the query string,
 * an `Origin` when the test says so.
 */
import { spawnSync } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket, { WebSocketServer } from 'ws';
import { bearerToken, tokenProtocols, tokenUrl } from '../../src/net/bearer.js';
import type { Principal, SyncServerOptions } from '../../src/server/options.js';
import { rejects } from '../helpers/assert.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { cli, ServerProcess } from '../helpers/server-process.js';
import { client, server, until } from '../helpers/sync.js';

const principals: Record<string, Principal> = {
  alice: { id: 'alice', clientIds: ['alice'] },
  // A token with characters a subprotocol cannot carry as they are, nor a query string.
  'b o/b(1)=&?': { id: 'bob', clientIds: ['bob'] },
};

/** A server whose authenticate records each token it was given (by bearerToken) and the principal. */
async function authServer(extra: SyncServerOptions = {}) {
  const seen: Array<string | undefined> = [];
  const logs: string[] = [];
  const log = (...a: unknown[]) => logs.push(a.map(String).join(' '));
  const s = await server({
    authenticate: (req: IncomingMessage) => {
      const token = bearerToken(req);
      seen.push(token);
      return principals[token ?? ''] ?? null;
    },
    logger: { debug: log, info: log, warn: log, error: log },
    ...extra,
  });
  return { s, seen, logs };
}

interface Opened {
  ws: WebSocket;
  /** The Sec-WebSocket-Protocol of the upgrade response. */
  echoed: string | undefined;
  closed: Promise<{ code: number; reason: string }>;
}

/** A browser-like socket: resolves once open, rejects with the HTTP status of a refused upgrade. */
function browserSocket(url: string, protocols: string[] = [], origin?: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, origin ? { origin } : {});
    let echoed: string | undefined;
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.once('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.once('upgrade', (res) => (echoed = res.headers['sec-websocket-protocol'] as string | undefined));
    ws.once('open', () => resolve({ ws, echoed, closed }));
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
    );
    ws.once('error', reject);
  });
}

/** The close of a socket the server should close: a test fails, never hangs, when it does not. */
function closeOf(o: Opened, ms = 10_000): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the server did not close the socket in ${ms} ms`)), ms);
  });
  return Promise.race([o.closed, late]).finally(() => clearTimeout(timer));
}

/** Sends sync_request as `clientId` and waits for the first message back (or the close, as `closed`). */
function firstAnswer(ws: WebSocket, clientId: string): Promise<{ type: string; code?: string | number }> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data))));
    ws.once('close', (code) => resolve({ type: 'closed', code }));
    ws.send(JSON.stringify({ type: 'sync_request', clientId, fromVersion: 0, protocol: 1 }));
  });
}

test('a token in a subprotocol is seen by authenticate, and only `kuzu-sync` is echoed', async () => {
  const { s, seen } = await authServer();
  // The token's protocol first: the server still answers with `kuzu-sync`.
  const bob = await browserSocket(s.url, tokenProtocols('b o/b(1)=&?').reverse());
  assert.is(bob.echoed, 'kuzu-sync', 'the upgrade response names the subprotocol, not the token');
  assert.is(bob.ws.protocol, 'kuzu-sync');
  assert.equal(seen, ['b o/b(1)=&?'], 'authenticate read the token, decoded');
  assert.is((await firstAnswer(bob.ws, 'bob')).type, 'sync_state', 'bob syncs');
  bob.ws.close();
  // Without a token, a browser offering kuzu-sync still gets it echoed (or it would fail the connection).
  const open = await server({});
  const anon = await browserSocket(open.url, ['kuzu-sync']);
  assert.is(anon.echoed, 'kuzu-sync');
  anon.ws.close();
  await open.close();
  await s.close();
});

test('a token in the query string is seen by authenticate; the path still matches', async () => {
  const { s, seen } = await authServer();
  const bob = await browserSocket(tokenUrl(s.url, 'b o/b(1)=&?'));
  assert.equal(seen, ['b o/b(1)=&?']);
  assert.is(bob.echoed, undefined, 'no subprotocol offered, none echoed');
  assert.is((await firstAnswer(bob.ws, 'bob')).type, 'sync_state');
  bob.ws.close();
  await s.close();
});

test('a refused token by subprotocol, by query, or an Origin without one: the upgrade, then close 4401', async () => {
  const { s, seen } = await authServer();
  for (const [url, protocols, origin] of [
    [s.url, tokenProtocols('mallory')],
    [tokenUrl(s.url, 'mallory')],
    [s.url, [], 'http://app.example'],
  ] as Array<[string, string[]?, string?]>) {
    const socket = await browserSocket(url, protocols, origin);
    assert.equal(await closeOf(socket), { code: 4401, reason: 'unauthorized' }, `${url} ${protocols} ${origin}`);
  }
  assert.equal(seen, ['mallory', 'mallory', undefined]);
  assert.is(s.connectionCount(), 0, 'none of them became a connection');
  // A Node client's way (no Origin, the header or nothing) is still an HTTP 401 at the upgrade.
  const e = await rejects(RawPeer.connect(s.url, 'alice', { authorization: 'Bearer mallory' }), /HTTP 401/);
  assert.is((e as { status?: number }).status, 401);
  await s.close();
});

test('the token is never logged, however it came and whatever the verdict', async () => {
  const { s, logs } = await authServer();
  const secret = 'alice';
  const good = await browserSocket(tokenUrl(s.url, secret));
  await firstAnswer(good.ws, 'alice');
  good.ws.close();
  const bad = await browserSocket(s.url, tokenProtocols('mallory-secret'));
  await closeOf(bad);
  await until(() => logs.some((l) => l.includes('disconnected')), 10_000, 'the disconnect logged');
  assert.ok(logs.length > 0);
  for (const line of logs) {
    assert.not.match(line, /token=/, line);
    assert.not.match(line, /mallory-secret/, line);
  }
  await s.close();
});

test('a real client with a refused token by subprotocol goes unauthorized on 4401 and stops', async () => {
  const { s, seen } = await authServer();
  const c = await client(s, { clientId: 'alice', token: 'mallory', tokenIn: 'subprotocol' });
  await until(() => c.getStatus() === 'unauthorized', 20_000, 'the client gives up');
  await rejects(c.whenSynced(), 'unauthorized');
  const attempts = seen.length;
  await new Promise((r) => setTimeout(r, 600)); // longer than its whole backoff: it does not retry
  assert.is(seen.length, attempts, 'no further attempt');
  assert.is(c.getStatus(), 'unauthorized');
  await c.close();
  // The same client option with a good token, by query this time, syncs.
  const alice = await client(s, { clientId: 'alice', token: 'alice', tokenIn: 'query' });
  await alice.whenSynced();
  await alice.close();
  await s.close();
});

test('a refused clientId: error forbidden, then close 4403; the real client goes unauthorized with forbidden', async () => {
  const { s, seen } = await authServer();
  const peer = await browserSocket(s.url, tokenProtocols('alice'));
  const answer = await firstAnswer(peer.ws, 'bob');
  assert.equal([answer.type, answer.code], ['error', 'forbidden']);
  assert.is((await closeOf(peer)).code, 4403);
  // A connection that already syncs keeps its clientId and its connection: an error only.
  const alice = await browserSocket(s.url, tokenProtocols('alice'));
  assert.is((await firstAnswer(alice.ws, 'alice')).type, 'sync_state');
  assert.equal(await firstAnswer(alice.ws, 'bob'), {
    type: 'error',
    code: 'forbidden',
    message: 'this principal may not sync as "bob"',
  });
  assert.is((await firstAnswer(alice.ws, 'alice')).type, 'sync_state', 'still open, still alice');
  alice.ws.close();

  const c = await client(s, { clientId: 'bob', token: 'alice', tokenIn: 'subprotocol' });
  await until(() => c.getStatus() === 'unauthorized', 20_000, 'the client gives up');
  await rejects(c.whenSynced(), 'forbidden');
  const attempts = seen.length;
  await new Promise((r) => setTimeout(r, 600));
  assert.is(seen.length, attempts, 'no further attempt');
  await c.close();
  await s.close();
});

/** A server that accepts every upgrade and closes it at once with `code`: the close alone decides. */
async function closingServer(code: number) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  let upgrades = 0;
  wss.on('connection', (ws) => {
    upgrades++;
    ws.close(code, 'scripted');
  });
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/sync`;
  return { url, upgrades: () => upgrades, close: () => new Promise((r) => wss.close(r)) };
}

test('close 4401 alone means unauthorized, 4403 and 4000 (replaced) forbidden to the client; other codes are retried', async () => {
  for (const [code, expected] of [
    [4401, 'unauthorized'],
    [4403, 'forbidden'],
    [4000, 'forbidden'],
  ] as const) {
    const srv = await closingServer(code);
    const c = await client(srv.url, { clientId: 'x' });
    await until(() => c.getStatus() === 'unauthorized', 20_000, `${code}: the client gives up`);
    await rejects(c.whenSynced(), expected);
    assert.is(srv.upgrades(), 1, `${code}: one attempt`);
    await c.close();
    await srv.close();
  }
  const srv = await closingServer(4002);
  const c = await client(srv.url, { clientId: 'x' });
  await until(() => srv.upgrades() >= 3, 20_000, 'a plain close is retried');
  assert.is.not(c.getStatus(), 'unauthorized');
  await c.close();
  await srv.close();
});

test('allowedOrigins (a list): another Origin gets HTTP 403, a listed one and none (Node) connect', async () => {
  const s = await server({ allowedOrigins: ['http://app.example', 'https://other.example:8443/page'] });
  for (const origin of ['http://evil.example', 'http://app.example:80x', 'null', 'https://other.example']) {
    const e = await rejects(browserSocket(s.url, ['kuzu-sync'], origin), /HTTP 403/);
    assert.is((e as { status?: number }).status, 403, origin);
  }
  for (const origin of ['http://app.example', 'https://other.example:8443', undefined]) {
    const ok = await browserSocket(s.url, [], origin);
    assert.is((await firstAnswer(ok.ws, `c-${origin}`)).type, 'sync_state', `${origin} syncs`);
    ok.ws.close();
  }
  const c = await client(s, { clientId: 'node' });
  await c.whenSynced();
  await c.close();
  await s.close();
});

test('allowedOrigins (a function) decides alone, also for a request without an Origin', async () => {
  const asked: Array<string | undefined> = [];
  const s = await server({
    allowedOrigins: (origin) => {
      asked.push(origin);
      return origin === 'http://app.example';
    },
  });
  await rejects(browserSocket(s.url), /HTTP 403/);
  await rejects(browserSocket(s.url, [], 'http://evil.example'), /HTTP 403/);
  const ok = await browserSocket(s.url, [], 'http://app.example');
  ok.ws.close();
  assert.equal(asked, [undefined, 'http://evil.example', 'http://app.example']);
  await s.close();
  await rejects(server({ allowedOrigins: ['app.example'] }), /allowedOrigins: "app.example" is not an origin/);
});

test('kuzu-sync serve --allowed-origin (repeatable): others get 403; a bad value stops the start', async () => {
  const serve = new ServerProcess([
    '--port',
    '0',
    '--quiet',
    '--allowed-origin',
    'http://app.example',
    '--allowed-origin',
    'http://other.example',
  ]);
  await serve.start();
  try {
    await rejects(browserSocket(serve.url, [], 'http://evil.example'), /HTTP 403/);
    for (const origin of ['http://app.example', 'http://other.example', undefined]) {
      const ok = await browserSocket(serve.url, [], origin);
      ok.ws.close();
    }
  } finally {
    await serve.stop('SIGTERM');
  }
  const bad = spawnSync(process.execPath, ['--import', 'tsx', cli, 'serve', '--allowed-origin', 'app.example'], {
    encoding: 'utf8',
  });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--allowed-origin must be an origin/);
});

test.run();
