import { register as globalRegistry } from 'prom-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RejectedEvent } from '../../src/client/options.js';
import type { ServerMessage } from '../../src/protocol/types.js';
import { SERVER_ACK_BUCKETS, type SyncServerMetrics } from '../../src/server/metrics.js';
import type { SyncServer } from '../../src/server/sync-server.js';
import { rejects } from '../helpers/assert.js';
import { node } from '../helpers/ops.js';
import { rawHttp } from '../helpers/raw-http.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { ServerProcess } from '../helpers/server-process.js';
import { caughtUp, client, server, synced, until } from '../helpers/sync.js';

const httpUrl = (s: SyncServer, path: string) => `http://127.0.0.1:${s.port}${path}`;

// ---- A strict reader of the Prometheus text exposition format (0.0.4) -------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  name: string;
  type: string;
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(v: string, line: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  assert.ok(
    /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v),
    `not a float: ${JSON.stringify(v)} in ${JSON.stringify(line)}`,
  );
  return Number(v);
}

/** Parses the text as Prometheus does, failing on anything its parser would refuse. */
function parseProm(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const families = new Map<string, Family>();
  const seriesSeen = new Set<string>();
  let current: Family | undefined;
  const familyOf = (sampleName: string): Family | undefined => {
    for (const suffix of ['', '_bucket', '_sum', '_count']) {
      if (suffix && !sampleName.endsWith(suffix)) continue;
      const f = families.get(sampleName.slice(0, sampleName.length - suffix.length));
      if (f && (suffix === '' || f.type === 'histogram' || f.type === 'summary')) return f;
    }
    return undefined;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      assert.ok(METRIC_NAME.test(name), `metric name ${name}`);
      let f = families.get(name);
      if (!f) {
        f = { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, f);
      }
      assert.is(f.samples.length, 0, `${kind} for ${name} comes before its samples`);
      if (kind === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest), `type ${rest} of ${name}`);
        f.type = rest;
      } else {
        assert.is(f.help, undefined, `one HELP for ${name}`);
        f.help = rest;
      }
      current = f;
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const [, name, , labelText, value] = m!;
    const labels: Record<string, string> = {};
    if (labelText) {
      const re = /\s*([^=\s]+)="((?:[^"\\]|\\[\\"n])*)"\s*(,|$)/y;
      let at = 0;
      while (at < labelText.length) {
        re.lastIndex = at;
        const l = re.exec(labelText);
        assert.ok(l, `bad labels in ${JSON.stringify(line)}`);
        assert.ok(LABEL_NAME.test(l![1]!) && !l![1]!.startsWith('__'), `label name ${l![1]}`);
        assert.not.ok(l![1]! in labels, `duplicate label ${l![1]}`);
        labels[l![1]!] = l![2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        at = re.lastIndex;
      }
    }
    const f =
      familyOf(name!) ??
      (families.get(name!) ??
        families.set(name!, { name: name!, type: 'untyped', help: undefined, samples: [] }).get(name!))!;
    assert.ok(f === current || f.samples.length === 0, `samples of ${f.name} are contiguous`);
    current = f;
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    assert.not.ok(seriesSeen.has(key), `duplicate series ${key}`);
    seriesSeen.add(key);
    f.samples.push({ name: name!, labels, value: parseValue(value!, line) });
  }
  for (const f of families.values()) {
    if (f.type === 'counter') for (const s of f.samples) assert.ok(s.value >= 0, `${s.name} is a counter`);
    if (f.type !== 'histogram') continue;
    const buckets = f.samples.filter((s) => s.name === `${f.name}_bucket`);
    assert.ok(buckets.length > 0 && buckets.every((b) => 'le' in b.labels), `${f.name}: buckets with le`);
    const les = buckets.map((b) => parseValue(b.labels.le!, f.name));
    assert.equal(
      les,
      [...les].sort((x, y) => x - y),
      `${f.name}: buckets in order`,
    );
    assert.is(les[les.length - 1], Infinity, `${f.name}: a +Inf bucket`);
    for (let i = 1; i < buckets.length; i++)
      assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${f.name}: cumulative buckets`);
    const count = f.samples.find((s) => s.name === `${f.name}_count`);
    assert.ok(count && f.samples.some((s) => s.name === `${f.name}_sum`), `${f.name}: _sum and _count`);
    assert.is(buckets[buckets.length - 1]!.value, count!.value, `${f.name}: +Inf bucket = count`);
  }
  return families;
}

/**
 * The value of one series. A labelled counter has no series for a label value it has not counted yet,
 * so that reads as 0; an unlabelled series or a histogram bucket is always exposed, so a missing one fails.
 */
function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = families.get(name.replace(/_(bucket|sum|count)$/, '')) ?? families.get(name);
  assert.ok(f, `no family ${name}`);
  const s = f!.samples.find(
    (x) =>
      x.name === name &&
      Object.entries(labels).every(([k, v]) => x.labels[k] === v) &&
      Object.keys(x.labels).length === Object.keys(labels).length,
  );
  if (s) return s.value;
  assert.ok(
    Object.keys(labels).some((k) => k !== 'le'),
    `no series ${name}${JSON.stringify(labels)}`,
  );
  return 0;
}

async function scrape(s: SyncServer, path = '/metrics'): Promise<Map<string, Family>> {
  const res = await fetch(httpUrl(s, path));
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseProm(await res.text());
}

/** The same figures, read from a scrape, as a check that the exposition says what getMetrics() says. */
function assertScrapeMatches(f: Map<string, Family>, m: SyncServerMetrics): void {
  assert.is(valueOf(f, 'kuzu_sync_patches_accepted_total'), m.patchesAccepted);
  assert.is(valueOf(f, 'kuzu_sync_patches_ignored_total'), m.patchesIgnored);
  for (const [code, n] of Object.entries(m.rejectedByCode))
    assert.is(valueOf(f, 'kuzu_sync_patches_rejected_total', { code }), n, code);
  assert.is(
    families(f, 'kuzu_sync_patches_rejected_total').reduce((n, s) => n + s.value, 0),
    m.patchesRejected,
  );
  for (const [code, n] of Object.entries(m.decodeErrors))
    assert.is(valueOf(f, 'kuzu_sync_decode_errors_total', { code }), n, code);
  assert.is(valueOf(f, 'kuzu_sync_commit_groups_total'), m.commitGroups);
  assert.is(valueOf(f, 'kuzu_sync_broadcasts_sent_total'), m.broadcastsSent);
  assert.is(valueOf(f, 'kuzu_sync_sync_requests_total', { mode: 'delta' }), m.syncRequests.delta);
  assert.is(valueOf(f, 'kuzu_sync_sync_requests_total', { mode: 'snapshot' }), m.syncRequests.snapshot);
  assert.is(valueOf(f, 'kuzu_sync_received_bytes_total'), m.bytesIn);
  assert.is(valueOf(f, 'kuzu_sync_sent_bytes_total'), m.bytesOut);
  assert.is(valueOf(f, 'kuzu_sync_received_frames_total'), m.framesIn);
  assert.is(valueOf(f, 'kuzu_sync_sent_frames_total'), m.framesOut);
  assert.is(valueOf(f, 'kuzu_sync_connected_clients'), m.connectedClients);
  assert.is(valueOf(f, 'kuzu_sync_connections_opened_total'), m.connectionsOpened);
  assert.is(valueOf(f, 'kuzu_sync_slow_client_drops_total'), m.slowClientDrops);
  assert.is(valueOf(f, 'kuzu_sync_version'), m.version);
  assert.is(valueOf(f, 'kuzu_sync_ack_latency_seconds_count'), m.ackLatency.count);
  assert.ok(
    Math.abs(valueOf(f, 'kuzu_sync_ack_latency_seconds_sum') - m.ackLatency.sum / 1000) < 1e-9,
    'latency sum in seconds',
  );
  let cumulative = 0;
  m.ackLatency.buckets.forEach((ms, i) => {
    cumulative += m.ackLatency.counts[i]!;
    assert.is(
      valueOf(f, 'kuzu_sync_ack_latency_seconds_bucket', { le: String(ms / 1000) }),
      cumulative,
      `le ${ms / 1000}`,
    );
  });
  assert.is(valueOf(f, 'kuzu_sync_ack_latency_seconds_bucket', { le: '+Inf' }), m.ackLatency.count);
}
const families = (f: Map<string, Family>, name: string) => f.get(name)?.samples ?? [];

// ---- Tests --------------------------------------------------------------------------------------

test('counters follow accepted, rejected and ignored patches, broadcasts, syncs and decode errors; /metrics says the same', async () => {
  const s = await server({
    metricsPath: '/metrics',
    validatePatch: (patch) =>
      patch.ops.some((o) => o.op === 'create_node' && o.label === 'Secret') ? 'no secrets here' : true,
  });
  const fresh = s.getMetrics();
  assert.equal(
    { ...fresh, ackLatency: undefined },
    {
      patchesAccepted: 0,
      patchesRejected: 0,
      rejectedByCode: {},
      patchesIgnored: 0,
      ackLatency: undefined,
      commitGroups: 0,
      broadcastsSent: 0,
      syncRequests: { delta: 0, snapshot: 0 },
      bytesIn: 0,
      bytesOut: 0,
      framesIn: 0,
      framesOut: 0,
      connectedClients: 0,
      connectionsOpened: 0,
      decodeErrors: {},
      slowClientDrops: 0,
      version: 0,
    },
  );
  assert.equal(fresh.ackLatency, {
    buckets: SERVER_ACK_BUCKETS,
    counts: new Array(SERVER_ACK_BUCKETS.length + 1).fill(0),
    sum: 0,
    count: 0,
  });

  // No heartbeats during the test: one would add its bytes to bytesIn between the two readings below.
  const a = await client(s, { clientId: 'metrics-a', heartbeatInterval: 600_000 });
  const b = await client(s, { clientId: 'metrics-b', heartbeatInterval: 600_000 });
  await synced(a, b);
  let m = s.getMetrics();
  assert.is(m.connectedClients, 2);
  assert.is(m.connectionsOpened, 2);
  assert.is(m.syncRequests.delta, 2, 'each client asked once; an empty server answers with a delta');

  // Two accepted, one rejected by validatePatch. b is subscribed: each accepted patch is one broadcast.
  const rejected: RejectedEvent[] = [];
  a.on('rejected', (e) => rejected.push(e));
  await a.createNode('Person', { name: 'Ann' });
  await a.createNode('Person', { name: 'Bo' });
  await a.createNode('Secret', { code: 42 });
  await caughtUp(s, a, b);
  assert.equal(
    rejected.map((e) => e.code),
    ['validation_failed'],
  );
  m = s.getMetrics();
  assert.is(m.patchesAccepted, 2);
  assert.is(m.patchesRejected, 1);
  assert.equal(m.rejectedByCode, { validation_failed: 1 });
  assert.is(m.patchesIgnored, 0);
  assert.is(m.broadcastsSent, 2);
  assert.is(m.version, 2);
  assert.ok(m.commitGroups >= 1 && m.commitGroups <= 3, `commit groups ${m.commitGroups}`);
  assert.is(m.ackLatency.count, 3);
  assert.is(
    m.ackLatency.counts.reduce((x, y) => x + y, 0),
    3,
  );
  assert.ok(m.ackLatency.sum > 0);
  assert.ok(m.bytesIn > 0 && m.bytesOut > 0);

  // A raw peer: a patch, the same patch again (ignored), garbage, and a patch whose ops the decoder refuses.
  const raw = await RawPeer.connect(s.url, 'metrics-raw');
  await raw.sync(s.getVersion()); // up to date: a delta (from 0 the server would weigh a snapshot)
  const bytesIn = s.getMetrics().bytesIn;
  const p = raw.patch([node('r1')]);
  assert.is((await raw.response(p.id)).status, 'accepted');
  const frame = JSON.stringify({ type: 'patch', patch: p });
  raw.sendRaw(frame);
  await raw.next((msg) => msg.type === 'patch_response' && msg.patchId === p.id && msg.status === 'ignored');
  assert.is(s.getMetrics().bytesIn, bytesIn + 2 * Buffer.byteLength(frame), 'bytes in: the payloads received');
  raw.sendRaw('this is not json');
  await raw.next((msg) => msg.type === 'error' && msg.code === 'bad_message');
  const bad = raw.patch([{ op: 'create_node', label: '_reserved', id: 'r2', properties: {} }]);
  const r = await raw.response(bad.id);
  assert.equal([r.status, r.code], ['rejected', 'invalid_identifier']);
  await caughtUp(s, a, b);

  m = s.getMetrics();
  assert.is(m.patchesAccepted, 3);
  assert.is(m.patchesIgnored, 1);
  assert.is(m.patchesRejected, 2);
  assert.equal(m.rejectedByCode, { validation_failed: 1, invalid_identifier: 1 });
  assert.equal(m.decodeErrors, { bad_message: 1, invalid_identifier: 1 });
  assert.is(m.broadcastsSent, 4, 'the raw patch went to a and b');
  assert.is(m.ackLatency.count, 6, 'every patch_response, accepted, rejected or ignored');
  assert.is(m.syncRequests.delta, 3);
  assert.is(m.connectedClients, 3);
  assert.is(m.slowClientDrops, 0);

  assertScrapeMatches(await scrape(s), s.getMetrics());

  await raw.close();
  await Promise.all([a.close(), b.close()]);
  await until(() => s.getMetrics().connectedClients === 0, 10_000, 'every connection closed');
  assert.is(valueOf(await scrape(s), 'kuzu_sync_connected_clients'), 0);
  await s.close();
});

test('GET /metrics: every kuzu_sync_ family with HELP and TYPE; HEAD, other methods and other paths', async () => {
  const s = await server({ metricsPath: '/metrics' });
  const raw = await RawPeer.connect(s.url, 'fmt');
  await raw.sync(0);
  const p = raw.patch([node('a', { n: 1 })]);
  await raw.response(p.id);

  const f = await scrape(s);
  const expected: Record<string, string> = {
    kuzu_sync_patches_accepted_total: 'counter',
    kuzu_sync_patches_rejected_total: 'counter',
    kuzu_sync_patches_ignored_total: 'counter',
    kuzu_sync_ack_latency_seconds: 'histogram',
    kuzu_sync_commit_groups_total: 'counter',
    kuzu_sync_broadcasts_sent_total: 'counter',
    kuzu_sync_sync_requests_total: 'counter',
    kuzu_sync_received_bytes_total: 'counter',
    kuzu_sync_sent_bytes_total: 'counter',
    kuzu_sync_connected_clients: 'gauge',
    kuzu_sync_connections_opened_total: 'counter',
    kuzu_sync_decode_errors_total: 'counter',
    kuzu_sync_slow_client_drops_total: 'counter',
    kuzu_sync_version: 'gauge',
    kuzu_sync_received_frames_total: 'counter',
    kuzu_sync_sent_frames_total: 'counter',
  };
  assert.equal(
    Object.fromEntries([...f.values()].map((x) => [x.name, x.type])),
    expected,
    'exactly these families (no default process metrics)',
  );
  for (const x of f.values()) assert.ok(x.help && x.help.length > 10, `help text for ${x.name}`);
  assert.is(valueOf(f, 'kuzu_sync_patches_accepted_total'), 1);
  assert.is(valueOf(f, 'kuzu_sync_version'), 1);
  assert.is(valueOf(f, 'kuzu_sync_connected_clients'), 1);
  assert.is(valueOf(f, 'kuzu_sync_ack_latency_seconds_count'), 1);
  assertScrapeMatches(f, s.getMetrics());

  // HEAD is allowed (its body Node leaves out by itself, so there is nothing of ours to check there).
  const head = await fetch(httpUrl(s, '/metrics'), { method: 'HEAD' });
  assert.equal([head.status, head.headers.get('content-type')?.startsWith('text/plain')], [200, true]);
  assert.is((await fetch(httpUrl(s, '/metrics?x=1'))).status, 200, 'a query string is fine');
  const post = await fetch(httpUrl(s, '/metrics'), { method: 'POST', body: 'x' });
  assert.is(post.status, 405);
  assert.is(post.headers.get('allow'), 'GET, HEAD');
  await post.text();
  // Every other plain HTTP request keeps its answer: 426, use the WebSocket.
  for (const path of ['/', '/sync', '/metrics/x', '/other']) {
    const res = await fetch(httpUrl(s, path));
    assert.is(res.status, 426, path);
    assert.match(await res.text(), /connect with a WebSocket to \/sync/);
  }
  // And a WebSocket upgrade at the metrics path is refused as at any other path.
  const upgrade = await rejects(RawPeer.connect(httpUrl(s, '/metrics').replace('http', 'ws'), 'x'));
  assert.is((upgrade as Error & { status?: number }).status, 404);
  await raw.close();
  await s.close();
});

test('odd request targets do not reach the metrics; frames over the limit count as message_too_large', async () => {
  const s = await server({ metricsPath: '/metrics', maxMessageBytes: 4096 });
  for (const target of ['//[', '/metrics/../metrics', '*']) {
    const status = (await rawHttp(s.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).split(
      '\r\n',
    )[0]!;
    assert.match(status, /^HTTP\/1\.1 (426|400)/, target);
  }
  const p = await RawPeer.connect(s.url, 'big');
  await p.sync(0);
  p.sendRaw(JSON.stringify({ type: 'heartbeat', ts: 1, pad: 'x'.repeat(5000) }));
  await p.next((m: ServerMessage) => m.type === 'error' && m.code === 'message_too_large');
  p.sendRaw('x'.repeat(5 << 20)); // past the hard limit: ws cuts the connection off (1009)
  await until(() => p.closed, 10_000, 'the connection cut off');
  await until(() => s.getMetrics().decodeErrors.message_too_large === 2, 10_000, 'both oversize frames counted');
  assert.is(p.closeCode, 1009);
  assert.is(valueOf(await scrape(s), 'kuzu_sync_decode_errors_total', { code: 'message_too_large' }), 2);
  await s.close();
});

test('two servers in one process keep separate registries, and neither touches the global one', async () => {
  const s1 = await server({ metricsPath: '/metrics' });
  const s2 = await server({ metricsPath: '/metrics' });
  assert.ok(s1.metricsRegistry && s2.metricsRegistry && s1.metricsRegistry !== s2.metricsRegistry);
  const p1 = await RawPeer.connect(s1.url, 'one');
  await p1.sync(0);
  for (let i = 0; i < 3; i++) await p1.response(p1.patch([node(`n${i}`)]).id);
  const p2 = await RawPeer.connect(s2.url, 'two');
  await p2.sync(0);
  await p2.response(p2.patch([node('m')]).id);
  p2.sendRaw('{');
  await p2.next((m: ServerMessage) => m.type === 'error');

  const [f1, f2] = await Promise.all([scrape(s1), scrape(s2)]);
  assert.is(valueOf(f1, 'kuzu_sync_patches_accepted_total'), 3);
  assert.is(valueOf(f2, 'kuzu_sync_patches_accepted_total'), 1);
  assert.is(valueOf(f1, 'kuzu_sync_version'), 3);
  assert.is(valueOf(f2, 'kuzu_sync_version'), 1);
  assert.is(valueOf(f1, 'kuzu_sync_decode_errors_total', { code: 'bad_message' }), 0);
  assert.is(valueOf(f2, 'kuzu_sync_decode_errors_total', { code: 'bad_message' }), 1);
  assertScrapeMatches(f1, s1.getMetrics());
  assertScrapeMatches(f2, s2.getMetrics());
  assert.not.match(await globalRegistry.metrics(), /kuzu_sync_/, "prom-client's default registry stays empty of ours");
  await Promise.all([p1.close(), p2.close()]);
  await Promise.all([s1.close(), s2.close()]);
});

test('metrics are off by default: /metrics gets what any plain HTTP request got (426); getMetrics() still counts', async () => {
  const s = await server();
  assert.is(s.metricsRegistry, undefined);
  const res = await fetch(httpUrl(s, '/metrics'));
  assert.is(res.status, 426);
  const body = await res.text();
  const other = await fetch(httpUrl(s, '/elsewhere'));
  assert.equal([other.status, await other.text()], [426, body]);
  const p = await RawPeer.connect(s.url, 'off');
  await p.sync(0);
  await p.response(p.patch([node('x')]).id);
  assert.is(s.getMetrics().patchesAccepted, 1);
  await p.close();
  await s.close();
  for (const bad of ['metrics', '//metrics', '/metrics?x=1', '/m#x'])
    await rejects(server({ metricsPath: bad }), /metricsPath must be a path starting with one \//);
  await rejects(server({ metricsPath: '/sync' }), /differ from the WebSocket path/);
});

test('a client that does not read is dropped and counted; a snapshot answer is counted as one', async () => {
  // Compression makes the first large chunk wait in the deflater, so the second sees a backlog.
  const s = await server({ maxBufferedBytes: 1000, metricsPath: '/metrics' });
  const writer = await RawPeer.connect(s.url, 'writer');
  await writer.sync(0);
  const big = 'x'.repeat(25_000);
  const p = writer.patch(Array.from({ length: 30 }, (_, i) => node(`big${i}`, { big })));
  assert.is((await writer.response(p.id)).status, 'accepted');
  const reader = await RawPeer.connect(s.url, 'reader');
  reader.send({ type: 'sync_request', clientId: 'reader', fromVersion: 0, protocol: 1, snapshot: true });
  await until(() => reader.closed, 10_000, 'the reader is dropped');
  await until(() => s.getMetrics().syncRequests.snapshot === 1, 10_000, 'the snapshot answer is counted');
  const m = s.getMetrics();
  assert.is(m.slowClientDrops, 1);
  assert.is(m.syncRequests.delta, 1, "the writer's");
  assert.is(valueOf(await scrape(s), 'kuzu_sync_slow_client_drops_total'), 1);
  await writer.close();
  await s.close();
});

test('kuzu-sync serve --metrics-path serves the same text', async () => {
  const serve = new ServerProcess(['--port', '0', '--quiet', '--metrics-path', '/prom']);
  await serve.start();
  let code: number | null;
  try {
    await until(() => /metrics at http:\/\/\S+/.test(serve.output), 30_000, 'the metrics line');
    const metricsUrl = /metrics at (http:\/\/\S+)/.exec(serve.output)![1]!;
    assert.is(new URL(metricsUrl).pathname, '/prom');
    const p = await RawPeer.connect(serve.url, 'cli');
    await p.sync(0);
    await p.response(p.patch([node('c')]).id);
    const res = await fetch(metricsUrl);
    assert.is(res.status, 200);
    const f = parseProm(await res.text());
    assert.is(valueOf(f, 'kuzu_sync_patches_accepted_total'), 1);
    assert.is(valueOf(f, 'kuzu_sync_connected_clients'), 1);
    await p.close();
  } finally {
    // Asserting here would replace the body's own failure with this one.
    code = await serve.stop('SIGTERM');
  }
  assert.is(code, 0, serve.output);
});

test.run();
