/**
 * kuzu-sync in a browser (the package's `browser` export condition, #21): the same createSyncClient,
 * over the native WebSocket, with kuzu-wasm's sync build in a module Web Worker (browserDriver) and
 * Web Locks instead of lock files. Bundle it with scripts/bundle-browser.mjs, which puts the worker
 * and kuzu-wasm's build next to it.
 */
import { browserDriver } from './browser/driver.js';
import { webLock } from './browser/web-lock.js';
import { openWebSocket } from './browser/web-socket.js';
import { useSocket } from './client/socket.js';
import { GraphStore } from './store/graph-store.js';

export { createSyncClient } from './sync-client.js';
export type * from './sync-client.js';
export { SyncError } from './protocol/errors.js';
export { QueryError } from './store/query-error.js';
export { browserDriver, type BrowserDriverOptions, persistenceStats } from './browser/driver.js';
export { webLock } from './browser/web-lock.js';
// A schema shared with the server, and the token in the two places a browser can put it.
export { defineSchema } from './schema/define.js';
export { tokenProtocols, tokenUrl } from './net/bearer.js';

useSocket(openWebSocket, 'subprotocol');
GraphStore.defaultHost = {
  defaultDriver: () => browserDriver(),
  lock: (path, holder) => webLock(path, holder),
  // A databasePath names an IndexedDB directory (browserDriver): the tab holds it through Web Locks,
  // and there is no header to read before the engine loads it; `_Meta` records its writer.
  checkFile: () => true,
};
