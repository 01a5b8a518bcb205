/**
 * The sync details view (SPEC.md section 6): one summary per task, folded from the engine stream
 * (creation, options, cancellation) and each task's stream (status, plans, outcomes).
 */
import { actionBytes, actionPath } from '../lib/actions.js';
import { baseName } from '../lib/names.js';
import type { ActionOp, SpaceType, SyncMode, TaskFailureReason, TaskStatus } from '../lib/model.js';
import type { EventType, StoredEvent } from '../events/types.js';
import { unreachable } from '../lib/assert.js';
import type { PersistedProjection } from './projection.js';
import { taskIdOfStream } from './projection.js';

/** One task's line in the sync details view. */
export interface TaskSummary {
  readonly taskId: string;
  /** The cloud folder's name: its last path segment, or the space's name for a space's root. */
  readonly cloudName: string;
  readonly localPath: string;
  readonly cloudPath: string;
  readonly space: string;
  readonly spaceType: SpaceType;
  readonly mode: SyncMode;
  readonly status: TaskStatus;
  readonly reason: TaskFailureReason | null;
  readonly message: string | null;
  readonly filesInSync: number;
  readonly filesPending: number;
  readonly filesFailed: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Bytes per second over the last {@link SPEED_WINDOW_MS} of event time; 0 once completed. */
  readonly speedBps: number;
  readonly createdAt: number;
  readonly lastCompletedAt: number | null;
}

/** The time over which the current speed is averaged. */
export const SPEED_WINDOW_MS = 5000;

interface PlannedInfo {
  readonly path: string;
  readonly op: ActionOp;
  readonly bytes: number;
}

/** The projection's working state for one task. */
interface TaskWork {
  summary: Mutable<TaskSummary>;
  /** Actions planned and without a final outcome. */
  readonly open: Map<string, PlannedInfo>;
  /** Paths whose last outcome is a failure. */
  readonly failed: Set<string>;
  /** How many actions of `open` are on each path (derived from `open`, not saved). */
  readonly openOnPath: Map<string, number>;
  /** Open actions on paths not in `failed`: the pending files, kept as they change, not counted at every event. */
  pending: number;
  /** Synced files (paths with a synced entry of kind file). */
  readonly syncedFiles: Set<string>;
  /** Recent completions for the speed: [at, bytes], oldest first. */
  recent: [number, number][];
  /** The bytes in `recent` (kept beside it: summing the window at every event would be quadratic). */
  recentBytes: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The view's state: tasks by id, cancelled tasks removed. */
export interface TaskSummariesState {
  readonly tasks: Map<string, TaskWork>;
}

const HANDLES: readonly EventType[] = [
  'TaskCreated',
  'TaskCancelled',
  'TaskStatusChanged',
  'PlanMade',
  'ActionSucceeded',
  'ActionFailed',
  'ActionAbandoned',
];

/** The task summaries projection. */
export const taskSummariesProjection: PersistedProjection<TaskSummariesState> = {
  name: 'task-summaries',
  version: 1,
  handles: new Set(HANDLES),
  initial: () => ({ tasks: new Map() }),
  apply: (state, stored) => {
    applySummaryEvent(state, stored);
    return state;
  },
  encode: (state) =>
    [...state.tasks].map(([id, w]) => [id, { summary: w.summary, open: [...w.open], failed: [...w.failed], syncedFiles: [...w.syncedFiles], recent: w.recent }]),
  decode: (json) => {
    const tasks = new Map<string, TaskWork>();
    for (const [id, w] of json as [string, EncodedWork][]) {
      const recentBytes = w.recent.reduce((sum, [, b]) => sum + b, 0);
      const work: TaskWork = { summary: { ...w.summary }, open: new Map(), failed: new Set(w.failed), openOnPath: new Map(), pending: 0, syncedFiles: new Set(w.syncedFiles), recent: w.recent, recentBytes };
      for (const [actionId, info] of w.open) openAction(work, actionId, info);
      tasks.set(id, work);
    }
    return { tasks };
  },
  view: (state) => summariesOf(state),
};

interface EncodedWork {
  readonly summary: TaskSummary;
  readonly open: [string, PlannedInfo][];
  readonly failed: string[];
  readonly syncedFiles: string[];
  recent: [number, number][];
}

// `pending` counts the open actions whose path is not failed. These four keep it exact as `open`
// and `failed` change, so no event has to walk every open action (a plan of 1,000,000 actions
// would make each outcome cost 1,000,000 steps).

/** Opens `actionId` (replacing an open action of the same id). */
function openAction(work: TaskWork, actionId: string, info: PlannedInfo): void {
  closeAction(work, actionId);
  work.open.set(actionId, info);
  work.openOnPath.set(info.path, (work.openOnPath.get(info.path) ?? 0) + 1);
  if (!work.failed.has(info.path)) work.pending += 1;
}

/** Closes `actionId` if open; returns what it was about. */
function closeAction(work: TaskWork, actionId: string): PlannedInfo | undefined {
  const info = work.open.get(actionId);
  if (info === undefined) return undefined;
  work.open.delete(actionId);
  const n = (work.openOnPath.get(info.path) ?? 1) - 1;
  if (n === 0) work.openOnPath.delete(info.path);
  else work.openOnPath.set(info.path, n);
  if (!work.failed.has(info.path)) work.pending -= 1;
  return info;
}

function markFailed(work: TaskWork, path: string): void {
  if (work.failed.has(path)) return;
  work.failed.add(path);
  work.pending -= work.openOnPath.get(path) ?? 0;
}

function clearFailed(work: TaskWork, path: string): void {
  if (work.failed.delete(path)) work.pending += work.openOnPath.get(path) ?? 0;
}

function applySummaryEvent(state: TaskSummariesState, stored: StoredEvent): void {
  const e = stored.event;
  if (e.type === 'TaskCreated') {
    state.tasks.set(e.taskId, {
      summary: {
        taskId: e.taskId,
        cloudName: e.cloud.path === '/' || e.cloud.path === '' ? e.cloud.space : baseName(e.cloud.path.replace(/\/+$/, '')),
        localPath: e.localRoot,
        cloudPath: e.cloud.path,
        space: e.cloud.space,
        spaceType: e.cloud.spaceType,
        mode: e.mode,
        status: 'scanning',
        reason: null,
        message: null,
        filesInSync: 0,
        filesPending: 0,
        filesFailed: 0,
        bytesDone: 0,
        bytesTotal: 0,
        speedBps: 0,
        createdAt: stored.at,
        lastCompletedAt: null,
      },
      open: new Map(),
      failed: new Set(),
      openOnPath: new Map(),
      pending: 0,
      syncedFiles: new Set(),
      recent: [],
      recentBytes: 0,
    });
    return;
  }
  if (e.type === 'TaskCancelled') {
    state.tasks.delete(e.taskId);
    return;
  }
  const taskId = taskIdOfStream(stored.stream);
  const work = taskId === null ? undefined : state.tasks.get(taskId);
  if (work === undefined) return;
  const s = work.summary;
  switch (e.type) {
    case 'TaskStatusChanged':
      s.status = e.status;
      s.reason = e.reason;
      s.message = e.message;
      if (e.status === 'completed') {
        s.lastCompletedAt = stored.at;
        // A finished round starts the next one's byte counts from zero.
        s.bytesDone = 0;
        s.bytesTotal = 0;
        work.recent = [];
        work.recentBytes = 0;
      }
      break;
    case 'PlanMade':
      for (const { actionId, action } of e.actions) {
        const info = { path: actionPath(action), op: action.op, bytes: actionBytes(action) };
        openAction(work, actionId, info);
        s.bytesTotal += info.bytes;
      }
      break;
    case 'ActionSucceeded': {
      const info = closeAction(work, e.actionId);
      for (const change of e.synced) {
        if (change.entry !== null && change.entry.kind === 'file') work.syncedFiles.add(change.path);
        else work.syncedFiles.delete(change.path);
        clearFailed(work, change.path);
      }
      if (info !== undefined) {
        clearFailed(work, info.path);
        s.bytesDone += info.bytes;
        work.recent.push([stored.at, info.bytes]);
        work.recentBytes += info.bytes;
      }
      break;
    }
    case 'ActionFailed': {
      const info = work.open.get(e.actionId);
      if (info !== undefined) {
        markFailed(work, info.path);
        // A failure that will not be retried is final; one that will is still open.
        if (!e.transient) {
          closeAction(work, e.actionId);
          s.bytesTotal -= info.bytes;
        }
      }
      break;
    }
    case 'ActionAbandoned': {
      const info = closeAction(work, e.actionId);
      if (info !== undefined) s.bytesTotal -= info.bytes;
      break;
    }
    case 'TerminalInitialized':
    case 'TaskCreationRefused':
    case 'TaskConfigured':
    case 'TaskPaused':
    case 'TaskResumed':
    case 'SyncRequested':
    case 'RetryRequested':
    case 'LocalScanStarted':
    case 'LocalScanCompleted':
    case 'LocalChanged':
    case 'LocalSkipped':
    case 'CloudChanged':
    case 'ActionStarted':
      return;
    default:
      unreachable(e, 'event');
  }
  const cutoff = stored.at - SPEED_WINDOW_MS;
  // Event times only grow (one clock stamps the log), so the window drops from its old end.
  let drop = 0;
  while (drop < work.recent.length && (work.recent[drop] as [number, number])[0] <= cutoff) {
    work.recentBytes -= (work.recent[drop] as [number, number])[1];
    drop += 1;
  }
  if (drop > 0) work.recent.splice(0, drop);
  s.speedBps = s.status === 'completed' ? 0 : Math.round(work.recentBytes / (SPEED_WINDOW_MS / 1000));
  s.filesInSync = work.syncedFiles.size;
  s.filesFailed = work.failed.size;
  s.filesPending = work.pending;
}

/** The summaries in the view, in no particular order. */
export function summariesOf(state: TaskSummariesState): TaskSummary[] {
  return [...state.tasks.values()].map((w) => ({ ...w.summary }));
}

/** How the sync details list is sorted and filtered (SPEC.md section 6). */
export interface SyncDetailsQuery {
  readonly sort?: 'name' | 'created';
  readonly desc?: boolean;
  readonly status?: TaskStatus;
  readonly type?: SyncMode;
  readonly space?: string;
}

/**
 * The sync details list: filtered by status, mode ("type") and space; sorted by cloud name or
 * creation time in either direction, ties broken by task id so the order is total.
 */
export function querySyncDetails(summaries: readonly TaskSummary[], query: SyncDetailsQuery = {}): TaskSummary[] {
  const by = query.sort ?? 'created';
  const dir = query.desc === true ? -1 : 1;
  return summaries
    .filter((s) => query.status === undefined || s.status === query.status)
    .filter((s) => query.type === undefined || s.mode === query.type)
    .filter((s) => query.space === undefined || s.space === query.space)
    .sort((a, b) => {
      const primary = by === 'name' ? a.cloudName.localeCompare(b.cloudName, 'en') : a.createdAt - b.createdAt;
      if (primary !== 0) return dir * primary;
      return dir * (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0);
    });
}

/** The "red exclamation" of SPEC.md section 6: some files failed while the task is completed or synchronizing. */
export function showsFailedMark(summary: TaskSummary): boolean {
  return summary.filesFailed > 0 && (summary.status === 'completed' || summary.status === 'synchronizing');
}
