export * from './protocol/index.js';
export { GraphStore, WriteTx, QueryError, DEFAULT_BUFFER_SIZE, type Applied, type GraphStoreOptions } from './store/graph-store.js';
export type { KuzuDriver, KuzuConnection } from './store/kuzu/driver.js';
export type { Step, RunResult, RunOptions } from './store/kuzu/steps.js';
export { wasmDriver } from './store/kuzu/wasm-driver.js';
