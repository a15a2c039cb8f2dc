/**
 * kuzu-sync/testing: run model-based tests of the kuzu-sync statecharts (or your own) against a real
 * system. Generate paths with @xstate/graph, know which transitions they take, drive a real client
 * along each one and check what must hold in every state.
 */
export { probe, type TransitionInfo } from './probe.js';
export {
  generatePaths,
  coverageReport,
  inState,
  type ModelOptions,
  type ModelPath,
  type ModelStep,
  type ModelCoverage,
} from './paths.js';
export { runPath, SnapshotRecorder, type PathDriver } from './run-path.js';
export { patchLives } from './patch-lives.js';
export { ScriptedServer } from './scripted-server.js';
export { TestClock } from './test-clock.js';
export {
  FaultDriver,
  isWrite,
  runValues,
  writesValue,
  type DriverRun,
  type HeldRun,
  type RunMatcher,
  type RunOutcome,
} from './fault-driver.js';
export { diagramOf, toMermaid, toDot, type Diagram } from './diagram.js';
export { openClient } from '../sync-client.js';
export { clientMachine } from '../../machines/client.machine.js';
export { connectionMachine } from '../../machines/connection.machine.js';
export { frameMachine } from '../../machines/frame.machine.js';
export { patchMachine } from '../../machines/patch.machine.js';
export { reconciliationMachine } from '../../machines/reconciliation.machine.js';
export { storeMachine } from '../../machines/store.machine.js';
