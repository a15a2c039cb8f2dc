export * from './protocol/index.js';
export { createSyncClient } from './sync-client.js';
export {
  defineSchema,
  type SchemaDef,
  type EdgeDef,
  type PropertiesDef,
  type PropertyType,
  type NodeLabel,
  type NodeProps,
  type EdgeLabel,
  type EdgeProps,
  type PropertyKeyOf,
  type PropertyValue,
} from './schema/define.js';
export type * from './client/options.js';
export { createSyncServer, type SyncServer } from './server/sync-server.js';
export type { SyncServerOptions, Principal, PatchContext } from './server/options.js';
export { bearerToken, tokenProtocols, tokenUrl, type TokenIn } from './net/bearer.js';
export { CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED } from './protocol/close-codes.js';
export type { SyncServerMetrics } from './server/metrics.js';
export type { HistogramSnapshot } from './histogram.js';
export type { Conflict, ConflictStrategy } from './server/conflicts.js';
export {
  GraphStore,
  WriteTx,
  QueryError,
  DEFAULT_BUFFER_SIZE,
  type Applied,
  type GraphStoreOptions,
} from './store/graph-store.js';
export type { KuzuDriver, KuzuConnection } from './store/kuzu/driver.js';
export type { Step, RunResult, RunOptions } from './store/kuzu/steps.js';
export { defaultDriver, ladybugDriver, nativeDriver, wasmDriver } from './store/kuzu/worker-driver.js';
export type { FileFormat } from './store/kuzu/file-format.js';
export { clientMachine } from '../machines/client.machine.js';
export { connectionMachine, backoffDelay, type ConnectionStatus } from '../machines/connection.machine.js';
export { frameMachine } from '../machines/frame.machine.js';
export { patchMachine } from '../machines/patch.machine.js';
export { reconciliationMachine } from '../machines/reconciliation.machine.js';
export { storeMachine } from '../machines/store.machine.js';
