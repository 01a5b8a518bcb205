/**
 * The event vocabulary: everything the engine observes, decides and does, as readonly
 * discriminated unions on `type`, each with a schema version `v`. When a shape changes, its
 * version goes up, the old shape keeps its type here (see `TaskCreatedV1`) and an upcaster turns
 * it into the current one on read. Pure types: no IO.
 *
 * Streams: `engine` holds the terminal's and the user's commands; `task:<taskId>` holds one
 * task's observations, plans and outcomes.
 */
import type { RelPath } from '../lib/names.js';
import type {
  Action,
  CloudMeta,
  FileFailureReason,
  LocalMeta,
  SpaceType,
  SyncedEntry,
  SyncMode,
  TaskFailureReason,
  TaskOptions,
  TaskStatus,
} from '../lib/model.js';

/** The stream of terminal-wide events and user commands. */
export const ENGINE_STREAM = 'engine';

/** The stream of one task's events. */
export function taskStream(taskId: string): string {
  return `task:${taskId}`;
}

/** A local entry appeared or changed (`meta`), or is gone (`meta: null`). */
export interface LocalChange {
  readonly path: RelPath;
  readonly meta: LocalMeta | null;
}

/** A cloud item appeared, changed or moved here (`meta`), or is gone from this path (`meta: null`). */
export interface CloudChange {
  readonly path: RelPath;
  readonly meta: CloudMeta | null;
}

/** A path became in sync (`entry`) or stopped being tracked (`entry: null`). */
export interface SyncedChange {
  readonly path: RelPath;
  readonly entry: SyncedEntry | null;
}

/** Where a task's cloud folder is. */
export interface CloudLocation {
  /** The cloud server's URL; null for the embedded default cloud. */
  readonly url: string | null;
  readonly space: string;
  readonly spaceType: SpaceType;
  /** Absolute path in the space, `/` for its root. */
  readonly path: string;
}

// ---------------------------------------------------------------- engine stream

/** The terminal's identity; its name goes into conflict file names. */
export interface TerminalInitialized {
  readonly type: 'TerminalInitialized';
  readonly v: 1;
  readonly terminalId: string;
  readonly terminalName: string;
}

/** The first shape of TaskCreated: the cloud folder as one `space:/path` string. Upcast on read. */
export interface TaskCreatedV1 {
  readonly type: 'TaskCreated';
  readonly v: 1;
  readonly taskId: string;
  readonly localRoot: string;
  readonly cloudPath: string;
  readonly mode: SyncMode;
  readonly options: TaskOptions;
}

/** A task passed every check of SPEC.md section 3 and was created. */
export interface TaskCreated {
  readonly type: 'TaskCreated';
  readonly v: 2;
  readonly taskId: string;
  /** Absolute, resolved local folder. */
  readonly localRoot: string;
  /** `${dev}:${ino}` of the local folder when the task was created (the replaced-folder guard); null if unknown. */
  readonly localRootId: string | null;
  readonly cloud: CloudLocation;
  readonly mode: SyncMode;
  readonly options: TaskOptions;
}

/** A task creation was refused; nothing was created. */
export interface TaskCreationRefused {
  readonly type: 'TaskCreationRefused';
  readonly v: 1;
  readonly localRoot: string;
  readonly cloud: string;
  readonly reason: string;
  readonly message: string;
}

/** The user changed a task's options; `options` is the whole new set. */
export interface TaskConfigured {
  readonly type: 'TaskConfigured';
  readonly v: 1;
  readonly taskId: string;
  readonly options: TaskOptions;
  /** Set when the user accepted a replaced local folder (SPEC.md section 5): its identity from now on. */
  readonly localRootId?: string;
}

/** The shape of a user command on one task. */
export interface TaskCommandOf<T extends string> {
  readonly type: T;
  readonly v: 1;
  readonly taskId: string;
}

/** The user paused a task. */
export type TaskPaused = TaskCommandOf<'TaskPaused'>;
/** The user resumed a task. */
export type TaskResumed = TaskCommandOf<'TaskResumed'>;
/** The user cancelled a task: it stops and is removed; no file on either side is touched. */
export type TaskCancelled = TaskCommandOf<'TaskCancelled'>;
/** The user asked to sync now. */
export type SyncRequested = TaskCommandOf<'SyncRequested'>;
/** The user asked to retry a task's failed files. */
export type RetryRequested = TaskCommandOf<'RetryRequested'>;

/** A user command on one task. */
export type TaskCommand = TaskPaused | TaskResumed | TaskCancelled | SyncRequested | RetryRequested;

// ---------------------------------------------------------------- task stream

/** The task machine entered a status. */
export interface TaskStatusChanged {
  readonly type: 'TaskStatusChanged';
  readonly v: 1;
  readonly status: TaskStatus;
  readonly reason: TaskFailureReason | null;
  readonly message: string | null;
}

/** A local scan began, of the whole root (`under: ''`) or one folder. */
export interface LocalScanStarted {
  readonly type: 'LocalScanStarted';
  readonly v: 1;
  readonly scanId: string;
  readonly under: RelPath;
}

/** A local scan finished; paths under `under` it did not see were reported gone before this event. */
export interface LocalScanCompleted {
  readonly type: 'LocalScanCompleted';
  readonly v: 1;
  readonly scanId: string;
  readonly files: number;
  readonly dirs: number;
  readonly bytes: number;
}

/** The local side changed, as seen by a scan, the watcher, or the engine's own effect. */
export interface LocalChanged {
  readonly type: 'LocalChanged';
  readonly v: 1;
  readonly source: 'scan' | 'watch';
  readonly changes: readonly LocalChange[];
}

/** A local entry that is not synced, and why. */
export interface LocalSkipped {
  readonly type: 'LocalSkipped';
  readonly v: 1;
  readonly path: RelPath;
  readonly reason: 'symlink' | 'unreadable' | 'changing' | 'special';
  readonly message: string;
}

/** The cloud side changed (a listing or the change feed); `cursor` is where the feed continues. */
export interface CloudChanged {
  readonly type: 'CloudChanged';
  readonly v: 1;
  readonly source: 'list' | 'feed';
  readonly cursor: string | null;
  readonly changes: readonly CloudChange[];
  /** On a listing: the id of the task's cloud folder, so a folder replaced later is told apart (ADR 0009). */
  readonly rootId?: string;
}

/** One planned action with its id. */
export interface PlannedAction {
  readonly actionId: string;
  readonly action: Action;
}

/** The first shape of PlanMade: the decision without what the planner read besides the log. Upcast on read. */
export interface PlanMadeV1 {
  readonly type: 'PlanMade';
  readonly v: 1;
  readonly planId: string;
  readonly actions: readonly PlannedAction[];
  readonly guard: { readonly reason: 'mass-delete'; readonly gone: number; readonly synced: number } | null;
}

/**
 * The planner ran: the actions it decided (intent, appended before any effect), or a guard that
 * stopped it; and what the planner read that the log does not otherwise hold, so that
 * `replay --verify` can run the same decision again (ADR 0072). Those fields are null when a v1
 * event was upcast (or, for `dirty`, when the set was too large to record): such a decision cannot be checked.
 */
export interface PlanMade {
  readonly type: 'PlanMade';
  readonly v: 2;
  readonly planId: string;
  readonly actions: readonly PlannedAction[];
  /** Set when the mass-delete guard held the plan back instead of deleting. */
  readonly guard: { readonly reason: 'mass-delete'; readonly gone: number; readonly synced: number } | null;
  /** The `now` the planner was given (conflict copy names). */
  readonly now: number | null;
  /** Whether the user had confirmed a held mass delete. */
  readonly allowMassDelete: boolean | null;
  /** The paths planned over, in canonical order; null when not recorded (more than {@link MAX_RECORDED_DIRTY}). */
  readonly dirty: readonly RelPath[] | null;
}

/** The most planned-over paths a PlanMade records; a larger set is recorded as null (not checkable by replay). */
export const MAX_RECORDED_DIRTY = 10_000;

/** An action's effect began (a transfer started). */
export interface ActionStarted {
  readonly type: 'ActionStarted';
  readonly v: 1;
  readonly actionId: string;
}

/** An action's effect is done: what it changed on each side, and which paths are now in sync. */
export interface ActionSucceeded {
  readonly type: 'ActionSucceeded';
  readonly v: 1;
  readonly actionId: string;
  readonly local: readonly LocalChange[];
  readonly cloud: readonly CloudChange[];
  readonly synced: readonly SyncedChange[];
}

/** An action failed; `transient` failures are retried at `nextRetryAt`. */
export interface ActionFailed {
  readonly type: 'ActionFailed';
  readonly v: 1;
  readonly actionId: string;
  readonly reason: FileFailureReason;
  readonly message: string;
  readonly transient: boolean;
  readonly attempt: number;
  readonly nextRetryAt: number | null;
}

/** An action was dropped without effect: after a crash it was re-verified and found stale, or a newer plan superseded it. */
export interface ActionAbandoned {
  readonly type: 'ActionAbandoned';
  readonly v: 1;
  readonly actionId: string;
  readonly why: string;
}

/** Every event in its current shape. */
export type FoldsyncEvent =
  | TerminalInitialized
  | TaskCreated
  | TaskCreationRefused
  | TaskConfigured
  | TaskCommand
  | TaskStatusChanged
  | LocalScanStarted
  | LocalScanCompleted
  | LocalChanged
  | LocalSkipped
  | CloudChanged
  | PlanMade
  | ActionStarted
  | ActionSucceeded
  | ActionFailed
  | ActionAbandoned;

/** Every shape ever stored, old ones included: what a reader may find in a log. */
export type StoredShape = FoldsyncEvent | TaskCreatedV1 | PlanMadeV1;

/** The event types. */
export type EventType = FoldsyncEvent['type'];

/** An event as stored: its place in the log and its stream, and when it was appended. */
export interface StoredEvent<E extends FoldsyncEvent = FoldsyncEvent> {
  /** Position in the whole log: 1, 2, 3, ... without gaps. */
  readonly position: number;
  readonly stream: string;
  /** Version of the stream after this event: 1 for the stream's first event. */
  readonly streamVersion: number;
  /** Milliseconds since the epoch, from the injected Clock. */
  readonly at: number;
  readonly event: E;
}
