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
export { EventLogError, StreamConflictError, UNREADABLE_EVENT_CODES } from './events/errors.js';
export type { EventLogErrorCode } from './events/errors.js';
export { CURRENT_VERSIONS, decodeEvent, decodeRow, encodeEvent, parseData } from './events/upcast.js';
export type { EncodedEvent, StoredRow } from './events/upcast.js';
export { DEFAULT_PAGE_SIZE, readPages } from './events/event-log.js';
export type { AppendResult, EventLog, ExpectedVersion, TransferSummary } from './events/event-log.js';
export { EXPORT_FORMAT, EXPORT_FORMAT_VERSION } from './events/export-file.js';
export { createMemoryEventLog } from './events/memory-event-log.js';
export type { MemoryEventLog, MemoryEventLogOptions } from './events/memory-event-log.js';
export { SQLITE_LOG_FORMAT, createSqliteEventLog } from './events/sqlite-event-log.js';
export type { SqliteEventLogOptions } from './events/sqlite-event-log.js';
export type { TreeName, TreeView, Trees } from './reconcile/trees.js';
export { createTrees } from './reconcile/trees.js';
export type { Plan, PlanInput } from './reconcile/planner.js';
export { builtInMatcher, planActions, WINDOWS_PATH_LIMIT } from './reconcile/planner.js';
export type { FeedFold } from './reconcile/feed.js';
export { foldFeed } from './reconcile/feed.js';
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
export type {
  HashOutcome,
  LocalEntryKind,
  LocalFs,
  LocalFsErrorCode,
  LocalStat,
  ScanItem,
  ScanOptions,
  SkipReason,
  WatchBatch,
  WatchChange,
  WatchOptions,
  WriteOptions,
} from './io/local-fs.js';
export { LocalFsError, checkRelPath, metaOf, sameLocal } from './io/local-fs.js';
export type { NodeLocalFsOptions } from './io/node-local-fs.js';
export { createNodeLocalFs } from './io/node-local-fs.js';
export type { SimFaultOp, SimLocalFs, SimLocalFsOptions, SimTrashed, SimUser } from './io/sim-local-fs.js';
export { createSimLocalFs } from './io/sim-local-fs.js';
export type { Trash, TrashOptions } from './io/trash.js';
export { createTrash } from './io/trash.js';
export type { Mount, MountTable } from './io/mounts.js';
export { mountOf, parseMountInfo, readMountTable } from './io/mounts.js';
export type { CheckedTaskFolder, Platform, TaskFolderCheckOptions, TaskFolderRefusal } from './io/task-folder-checks.js';
export { SYNC_MARKERS, TaskFolderError, checkTaskFolder, mountKind, nestingOf, syncMarkerIn, systemFolderOf } from './io/task-folder-checks.js';
export { createEngine } from './engine.js';
export type { CreateEngineOptions, Engine } from './engine.js';
export { createEngineCore, parseCloudFolder } from './actors/engine.js';
export type { CreateTaskRequest, EngineCore, EngineCoreOptions, LocalFolderCheck } from './actors/engine.js';
export { createTaskRunner } from './actors/task-runner.js';
export type { LocalNotes, SyncOnceOptions, SyncResult, TaskProgress, TaskRunner, TaskRunnerOptions } from './actors/task-runner.js';
export { executeAction, failureOf } from './actors/executor.js';
export type { ExecOutcome, ExecutorContext } from './actors/executor.js';
export { createTokenBucket, createTransferPool } from './actors/transfer-limits.js';
export type { TokenBucket, TransferPool } from './actors/transfer-limits.js';
export { taskMachine, taskStatusOf, retryDelayMs } from './machines/task-machine.js';
export type { TaskMachineContext, TaskMachineEvent, TaskMachineInput, TaskMachineState, PauseReason } from './machines/task-machine.js';
export { checkNewTask, cloudFoldersOverlap, MAX_FILES_PER_TERMINAL, MAX_TASKS_PER_TERMINAL } from './machines/task-creation-rules.js';
export type { Projection } from './projections/projection.js';
export { foldEvents } from './projections/projection.js';
export { taskSummariesProjection, querySyncDetails, summariesOf, showsFailedMark } from './projections/task-summaries.js';
export type { SyncDetailsQuery, TaskSummary, TaskSummariesState } from './projections/task-summaries.js';
export { failedFilesProjection, failedFilesOf } from './projections/failed-files.js';
export type { FailedFile, FailedFilesState, OpenActionInfo } from './projections/failed-files.js';
export { taskRegistryProjection } from './projections/task-registry.js';
export type { RegisteredTask, TaskRegistry } from './projections/task-registry.js';
export type { AnyPersistedProjection, PersistedProjection } from './projections/projection.js';
export { ALL_PROJECTIONS } from './projections/all.js';
export { fileStatusProjection, fileStatusesOf } from './projections/file-status.js';
export type { FileStatusQuery, FileStatusRow, FileStatusState } from './projections/file-status.js';
export { createPathActivity } from './projections/path-activity.js';
export type { PathActivity } from './projections/path-activity.js';
export { createReplay } from './projections/replay.js';
export type { Mismatch, Replay, ReplayOptions, StatusStep, Unverifiable, Verification } from './projections/replay.js';
export { createProjectionStore } from './actors/projection-store.js';
export type { Checkpoint, ProjectionStore, ProjectionStoreOptions } from './actors/projection-store.js';
export { limitsAt } from './lib/throttle-windows.js';
export type { RateLimits } from './lib/throttle-windows.js';
export { actionBytes, actionPath, actionSide } from './lib/actions.js';
export * from './lib/cloud-api.js';
export { RemoteError, readAll } from './io/remote-drive.js';
export type { RemoteDrive, RemoteTarget, UploadBody, UploadOptions, UploadItem, UploadItemResult, DownloadOptions, ChangesOptions } from './io/remote-drive.js';
export { createHttpRemoteDrive } from './io/http-remote-drive.js';
export type { HttpRemoteDriveOptions } from './io/http-remote-drive.js';
export { createSimCloud } from './io/sim-remote-drive.js';
export type { SimCloud, SimCloudOptions } from './io/sim-remote-drive.js';
export { startCloudServer } from './cloud/server.js';
export type { CloudServer, CloudServerOptions } from './cloud/server.js';
export { openCloudData } from './cloud/open-data.js';
export type { CloudData, OpenCloudDataOptions } from './cloud/open-data.js';
export { CloudError, CloudStartError } from './cloud/cloud-error.js';
export type { CloudStartCode } from './cloud/cloud-error.js';
export { createDiskBlobStore } from './cloud/blob-store.js';
export type { BlobStore } from './cloud/blob-store.js';
export { choicesChooser, createSimScheduler, seededChooser } from './sim/scheduler.js';
export type { DriveOptions, DriveOutcome, SimChooser, SimScheduler } from './sim/scheduler.js';
export { contentHash, createEngineSimulation, isInsideRoot, SIM_CLOUD_FOLDER, SIM_USER } from './sim/world.js';
export type { EngineSimulation, EngineSimulationOptions, LocalCallRecord, SimCallOutcome, SimDriveFault, SimLocalFaultOp } from './sim/world.js';
export {
  cloudShape,
  convergenceProblems,
  createContentLedger,
  currentFilter,
  localShape,
  outsideRootProblems,
  reachableHashes,
  replayProblems,
  treesFromLog,
  uploadBackupProblems,
  uploadLocalProblems,
  writeFailureLog,
} from './sim/checks.js';
export type { ContentLedger, SideShape } from './sim/checks.js';
export { createHostileDrive, hostilePaths } from './sim/hostile-drive.js';
