// The test page's side (plain JavaScript, served as is): the bundle's createSyncClient, driven by
// test/browser/browser.test.ts through window.kz. Values cross to Node as JSON.
import * as ks from './kuzu-sync.js';

const clients = new Map();
const events = [];

window.kz = {
  /** `driverOptions`: browserDriver's (`{ thread: 'main' }`, another `kuzuUrl`), or the default driver. */
  async open(name, options, driverOptions) {
    const started = performance.now();
    const driver = driverOptions ? { driver: ks.browserDriver(driverOptions) } : {};
    const client = await ks.createSyncClient({ ...options, ...driver });
    clients.set(name, client);
    client.on('error', (e) => events.push({ name, type: 'error', code: e.code, message: e.message }));
    client.on('status', (s) => events.push({ name, type: 'status', status: typeof s === 'string' ? s : s?.status }));
    return { clientId: client.clientId, ms: performance.now() - started };
  },
  /** Like open, but a refusal comes back as its code (a second tab on one databasePath). */
  async tryOpen(name, options, driverOptions) {
    try {
      return { opened: (await kz.open(name, options, driverOptions)).clientId };
    } catch (e) {
      return { code: e.code, message: e.message };
    }
  },
  /** Opens, then times the first query: a reload of a database kept in IndexedDB. */
  async openAndQuery(name, options, cypher, driverOptions) {
    const started = performance.now();
    const opened = await kz.open(name, options, driverOptions);
    const rows = await clients.get(name).query(cypher);
    return { ...opened, rows, version: clients.get(name).getServerVersion(), firstQueryMs: performance.now() - started };
  },
  persistenceStats: () => ks.persistenceStats(),
  async call(name, method, ...args) {
    return await clients.get(name)[method](...args);
  },
  /** `count` awaited writes in a row (the executor yields a turn every so often: no setImmediate here). */
  async writeMany(name, label, count) {
    const started = performance.now();
    for (let i = 0; i < count; i++) await clients.get(name).createNode(label, { n: i });
    return performance.now() - started;
  },
  /** A live query's results so far, each as the subscriber got it. */
  live(name, cypher) {
    const seen = [];
    clients.get(name).live(cypher).subscribe((rows) => seen.push(rows));
    return (window.liveSeen = seen).length;
  },
  liveSeen: () => window.liveSeen,
  get(name, what) {
    const c = clients.get(name);
    return { status: c.getStatus(), pending: c.getPendingPatchCount(), version: c.getServerVersion() }[what];
  },
  events: () => events,
  /** Two holds of one name: the second must be refused (SyncError locked). */
  async lockTwice(name) {
    const first = await ks.webLock(name, 'the first');
    try {
      await ks.webLock(name, 'the second');
      return { refused: false };
    } catch (e) {
      return { refused: true, code: e.code, message: e.message };
    } finally {
      first.release();
    }
  },
  /** One hold, released at once: refused while another tab holds the name. */
  async tryLock(name) {
    try {
      (await ks.webLock(name)).release();
      return { refused: false };
    } catch (e) {
      return { refused: true, code: e.code, message: e.message };
    }
  },
  async lockAgain(name) {
    (await ks.webLock(name)).release();
    return true;
  },
};
window.kzReady = true;
