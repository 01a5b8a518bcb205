/**
 * Failed files per task (SPEC.md section 6): path, operation, reason code, a message that says
 * what to do, attempts, and when it is retried next. A path leaves the list when an action on it
 * succeeds or is abandoned, or when its task is cancelled.
 */
import { actionPath } from '../lib/actions.js';
import type { ActionOp, FileFailureReason } from '../lib/model.js';
import type { EventType } from '../events/types.js';
import type { PersistedProjection } from './projection.js';
import { taskIdOfStream } from './projection.js';

/** One failed file. */
export interface FailedFile {
  readonly path: string;
  readonly operation: ActionOp;
  readonly reason: FileFailureReason;
  readonly message: string;
  readonly attempts: number;
  /** When it is retried next (ms since the epoch); null when it waits for the user. */
  readonly nextRetryAt: number | null;
  readonly failedAt: number;
}

/** What an open action is about. */
export interface OpenActionInfo {
  readonly path: string;
  readonly op: ActionOp;
}

/**
 * Failed files by task id, then by path; plus what each open action is about, by task id, then by
 * action id (an action id is unique within its task's stream only: a replayed or imported log may
 * hold the same id in two tasks).
 */
export interface FailedFilesState {
  readonly byTask: Map<string, Map<string, FailedFile>>;
  readonly actions: Map<string, Map<string, OpenActionInfo>>;
}

const HANDLES: readonly EventType[] = ['TaskCancelled', 'PlanMade', 'ActionSucceeded', 'ActionFailed', 'ActionAbandoned'];

/** The failed files projection. */
export const failedFilesProjection: PersistedProjection<FailedFilesState> = {
  name: 'failed-files',
  // 2: open actions kept per task (an action id of one task no longer finds another's).
  version: 2,
  handles: new Set(HANDLES),
  initial: () => ({ byTask: new Map(), actions: new Map() }),
  apply: (state, stored) => {
    const e = stored.event;
    if (e.type === 'TaskCancelled') {
      state.byTask.delete(e.taskId);
      state.actions.delete(e.taskId);
      return state;
    }
    const taskId = taskIdOfStream(stored.stream);
    if (taskId === null) return state;
    let actions = state.actions.get(taskId);
    if (e.type === 'PlanMade') {
      if (actions === undefined) {
        actions = new Map();
        state.actions.set(taskId, actions);
      }
      for (const { actionId, action } of e.actions) actions.set(actionId, { path: actionPath(action), op: action.op });
      return state;
    }
    if (e.type !== 'ActionSucceeded' && e.type !== 'ActionFailed' && e.type !== 'ActionAbandoned') return state;
    const info = actions?.get(e.actionId);
    if (actions === undefined || info === undefined) return state;
    let files = state.byTask.get(taskId);
    if (e.type === 'ActionFailed') {
      if (files === undefined) {
        files = new Map();
        state.byTask.set(taskId, files);
      }
      files.set(info.path, {
        path: info.path,
        operation: info.op,
        reason: e.reason,
        message: e.message,
        attempts: e.attempt,
        nextRetryAt: e.nextRetryAt,
        failedAt: stored.at,
      });
      if (!e.transient) actions.delete(e.actionId);
      return state;
    }
    files?.delete(info.path);
    if (e.type === 'ActionSucceeded') for (const c of e.synced) files?.delete(c.path);
    actions.delete(e.actionId);
    return state;
  },
  encode: (state) => ({
    byTask: [...state.byTask].map(([id, files]) => [id, [...files.values()]]),
    actions: [...state.actions].map(([id, actions]) => [id, [...actions]]),
  }),
  decode: (json) => {
    const j = json as { byTask: [string, FailedFile[]][]; actions: [string, [string, OpenActionInfo][]][] };
    return {
      byTask: new Map(j.byTask.map(([id, files]) => [id, new Map(files.map((f) => [f.path, f]))])),
      actions: new Map(j.actions.map(([id, actions]) => [id, new Map(actions)])),
    };
  },
};

/** A task's failed files, sorted by path. */
export function failedFilesOf(state: FailedFilesState, taskId: string): FailedFile[] {
  return [...(state.byTask.get(taskId)?.values() ?? [])].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
