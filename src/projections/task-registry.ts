/**
 * The terminal's registry of tasks, folded from the engine stream: what the engine rebuilds on
 * start to carry on where it stopped. Pure.
 */
import type { CloudLocation, EventType } from '../events/types.js';
import type { SyncMode, TaskOptions } from '../lib/model.js';
import type { PersistedProjection } from './projection.js';

/** A task as the engine knows it. */
export interface RegisteredTask {
  readonly taskId: string;
  readonly localRoot: string;
  readonly localRootId: string | null;
  readonly cloud: CloudLocation;
  readonly mode: SyncMode;
  readonly options: TaskOptions;
  /** The user paused it (and has not resumed it). */
  readonly paused: boolean;
  /**
   * The log position of the user's latest resume, or null. A safety guard's hold, recorded on the
   * task's stream, is lifted only by a resume after it (a crash between the hold and the engine's
   * pause must not read as a resume).
   */
  readonly resumedAt: number | null;
  readonly createdAt: number;
  /** Bumped by each "sync now" and "retry failed", so a restarted engine knows one was asked. */
  readonly syncRequests: number;
  readonly retryRequests: number;
}

/** The registry: the terminal's identity and its live (not cancelled) tasks. */
export interface TaskRegistry {
  readonly terminalId: string | null;
  readonly terminalName: string | null;
  readonly tasks: ReadonlyMap<string, RegisteredTask>;
}

const HANDLES: readonly EventType[] = [
  'TerminalInitialized',
  'TaskCreated',
  'TaskConfigured',
  'TaskPaused',
  'TaskResumed',
  'TaskCancelled',
  'SyncRequested',
  'RetryRequested',
];

/** Folds the engine stream into a {@link TaskRegistry}. Returns new objects: the registry is small. */
export const taskRegistryProjection: PersistedProjection<TaskRegistry> = {
  name: 'task-registry',
  version: 2,
  handles: new Set(HANDLES),
  initial: () => ({ terminalId: null, terminalName: null, tasks: new Map() }),
  apply: (state, stored) => {
    const e = stored.event;
    const update = (taskId: string, f: (t: RegisteredTask) => RegisteredTask): TaskRegistry => {
      const t = state.tasks.get(taskId);
      if (t === undefined) return state;
      const tasks = new Map(state.tasks);
      tasks.set(taskId, f(t));
      return { ...state, tasks };
    };
    switch (e.type) {
      case 'TerminalInitialized':
        return { ...state, terminalId: e.terminalId, terminalName: e.terminalName };
      case 'TaskCreated': {
        const tasks = new Map(state.tasks);
        tasks.set(e.taskId, {
          taskId: e.taskId,
          localRoot: e.localRoot,
          localRootId: e.localRootId,
          cloud: e.cloud,
          mode: e.mode,
          options: e.options,
          paused: false,
          resumedAt: null,
          createdAt: stored.at,
          syncRequests: 0,
          retryRequests: 0,
        });
        return { ...state, tasks };
      }
      case 'TaskConfigured':
        return update(e.taskId, (t) => ({ ...t, options: e.options, ...(e.localRootId === undefined ? {} : { localRootId: e.localRootId }) }));
      case 'TaskPaused':
        return update(e.taskId, (t) => ({ ...t, paused: true }));
      case 'TaskResumed':
        return update(e.taskId, (t) => ({ ...t, paused: false, resumedAt: stored.position }));
      case 'SyncRequested':
        return update(e.taskId, (t) => ({ ...t, syncRequests: t.syncRequests + 1 }));
      case 'RetryRequested':
        return update(e.taskId, (t) => ({ ...t, retryRequests: t.retryRequests + 1 }));
      case 'TaskCancelled': {
        if (!state.tasks.has(e.taskId)) return state;
        const tasks = new Map(state.tasks);
        tasks.delete(e.taskId);
        return { ...state, tasks };
      }
      default:
        return state;
    }
  },
  encode: (state) => ({ terminalId: state.terminalId, terminalName: state.terminalName, tasks: [...state.tasks.values()] }),
  decode: (json) => {
    const j = json as { terminalId: string | null; terminalName: string | null; tasks: RegisteredTask[] };
    return { terminalId: j.terminalId, terminalName: j.terminalName, tasks: new Map(j.tasks.map((t) => [t.taskId, t])) };
  },
};
