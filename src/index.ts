/**
 * foldsync's public API. Named exports only; everything here is documented with TSDoc.
 */
export { VERSION } from './version.js';
export { FoldsyncError, isFoldsyncError } from './lib/errors.js';
export type { Result } from './lib/result.js';
export { ok, fail } from './lib/result.js';
export { unreachable, assert } from './lib/assert.js';
export * from './lib/names.js';
export * from './lib/model.js';
export * from './events/types.js';
export type { Clock, VirtualClock } from './io/clock.js';
export { createSystemClock, createVirtualClock } from './io/clock.js';
export type { Ids } from './io/ids.js';
export { createRandomIds, createSequentialIds } from './io/ids.js';
export { BUILT_IN_IGNORES, TEMP_PREFIX, createPathFilter, isTempName } from './lib/filters.js';
export type { FilterVerdict, PathFilter } from './lib/filters.js';
export type { TreeName, TreeView, Trees } from './reconcile/trees.js';
export { createTrees } from './reconcile/trees.js';
export type { Plan, PlanInput } from './reconcile/planner.js';
export { builtInMatcher, planActions, WINDOWS_PATH_LIMIT } from './reconcile/planner.js';
export { conflictPath, conflictStamp } from './reconcile/conflict-name.js';
export type { SimCloudEntry, SimLocalEntry, SimOutcome, SimTrees, SimWorld } from './reconcile/simulate.js';
export {
  applyAction,
  createSimWorld,
  diffCloud,
  diffLocal,
  executeActions,
  simCloudMeta,
  simHash,
  simLocalMeta,
  syncedEntryOf,
  userDeleteCloud,
  userDeleteLocal,
  userMkdirCloud,
  userMkdirLocal,
  userMoveCloud,
  userMoveLocal,
  userWriteCloud,
  userWriteLocal,
} from './reconcile/simulate.js';
export type { SimTask } from './reconcile/sim-task.js';
export { createSimTask } from './reconcile/sim-task.js';
