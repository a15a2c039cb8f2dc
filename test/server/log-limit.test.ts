import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LogLimit } from '../../src/server/log-limit.js';
import { rawHttp } from '../helpers/raw-http.js';
import { server } from '../helpers/sync.js';

test('a log limit tells one line per interval, and the next says how many it left out', () => {
  let now = 1_000;
  const limit = new LogLimit(10_000, () => now);
  const lines: string[] = [];
  for (let i = 0; i < 5; i++) limit.tell((more) => lines.push(`refused${more}`));
  now += 9_999;
  limit.tell((more) => lines.push(`refused${more}`));
  now += 1;
  limit.tell((more) => lines.push(`refused${more}`));
  limit.tell((more) => lines.push(`refused${more}`));
  assert.equal(lines, ['refused', 'refused (and 5 more like it since the last line)']);
});

test('upgrades from a refused origin in a loop give one warning, not one each', async () => {
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (...a: unknown[]) => warnings.push(a.join(' ')), error() {} };
  const s = await server({ allowedOrigins: ['https://app.example'], logger });
  try {
    const { port } = new URL(s.url);
    for (let i = 0; i < 20; i++) {
      const res = await rawHttp(
        Number(port),
        'GET /sync HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://evil.example\r\n\r\n',
      );
      assert.match(res.split('\r\n')[0]!, /403/);
    }
    assert.is(warnings.filter((w) => w.includes('refused an upgrade')).length, 1);
  } finally {
    await s.close();
  }
});

test.run();
