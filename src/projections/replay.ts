/**
 * Replay (SPEC.md section 7, ADR 0072): one pass over a log, in position order, with no file
 * system and no network, that rebuilds the task registry, every task's three trees and every
 * persisted view, records the task machine's shown status over time, and re-runs each recorded
 * `PlanMade` decision: the planner is called on the trees folded up to just before it, with the
 * task's mode and options at that point and what the event recorded (`now`, `allowMassDelete`,
 * the paths planned over). Pure: the planner is pure, and the events carry everything else.
 */
import type { PlannedAction, StoredEvent } from '../events/types.js';
import { ENGINE_STREAM } from '../events/types.js';
import type { TaskFailureReason, TaskStatus } from '../lib/model.js';
import { planActions } from '../reconcile/planner.js';
import { createTrees, type Trees } from '../reconcile/trees.js';
import { ALL_PROJECTIONS } from './all.js';
import { createPathActivity, type PathActivity } from './path-activity.js';
import { taskIdOfStream, type AnyPersistedProjection } from './projection.js';
import { taskRegistryProjection, type TaskRegistry } from './task-registry.js';

/** What to replay. */
export interface ReplayOptions {
  /** Only this task's statuses, decisions and story (the engine stream is always folded). */
  readonly taskId?: string;
  /** Stop after this log position. */
  readonly until?: number;
  /** Tell this path's story (needs `taskId`, or the log's only task). */
  readonly path?: string;
  /** Re-run every recorded decision. */
  readonly verify?: boolean;
}

/** The task machine entered a shown status. */
export interface StatusStep {
  readonly position: number;
  readonly at: number;
  readonly taskId: string;
  readonly status: TaskStatus;
  readonly reason: TaskFailureReason | null;
  readonly message: string | null;
}

/** A recorded decision replay could not re-run, and why. */
export interface Unverifiable {
  readonly position: number;
  readonly taskId: string;
  readonly planId: string;
  readonly why: string;
}

/** The first recorded decision the planner does not make again. */
export interface Mismatch {
  readonly position: number;
  readonly taskId: string;
  readonly planId: string;
  /** Index of the first differing action (or -1 when only the guard differs). */
  readonly index: number;
  readonly recorded: unknown;
  readonly replayed: unknown;
}

/** The outcome of `--verify`. */
export interface Verification {
  readonly checked: number;
  readonly unverifiable: Unverifiable[];
  readonly mismatch: Mismatch | null;
}

/** A replay in progress: feed it the log in order, then read what it rebuilt. */
export interface Replay {
  /** Folds one event; false once past `until` (the caller may stop reading). */
  apply(e: StoredEvent): boolean;
  readonly statuses: StatusStep[];
  readonly verification: Verification;
  /** The path's story, when a path was given. */
  readonly story: PathActivity[];
  /** Each persisted projection's state, by name. */
  states(): ReadonlyMap<string, unknown>;
  /** The last position folded. */
  position(): number;
}

/** JSON with sorted keys and no `undefined` members: how two actions are compared. */
function canonical(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  });
}

/** Creates a replay. */
export function createReplay(options: ReplayOptions = {}): Replay {
  const projections: readonly AnyPersistedProjection[] = ALL_PROJECTIONS;
  const states = new Map<string, unknown>(projections.map((p) => [p.name, p.initial()]));
  // The registry the planner's options come from is folded here too (it is also in `states`).
  let registry: TaskRegistry = taskRegistryProjection.initial();
  const trees = new Map<string, Trees>();
  const statuses: StatusStep[] = [];
  const verification: { checked: number; unverifiable: Unverifiable[]; mismatch: Mismatch | null } = { checked: 0, unverifiable: [], mismatch: null };
  let story: ReturnType<typeof createPathActivity> | null = null;
  let last = 0;

  const treesOf = (taskId: string): Trees => {
    let t = trees.get(taskId);
    if (t === undefined) {
      t = createTrees();
      trees.set(taskId, t);
    }
    return t;
  };

  const check = (e: StoredEvent, taskId: string, t: Trees): void => {
    const ev = e.event;
    if (ev.type !== 'PlanMade' || verification.mismatch !== null) return;
    const task = registry.tasks.get(taskId);
    const why =
      ev.now === null || ev.allowMassDelete === null
        ? 'recorded by a foldsync that did not keep what the planner read (PlanMade v1)'
        : ev.dirty === null
          ? 'the paths planned over were too many to record'
          : task === undefined
            ? 'the task is not in the registry at this point'
            : null;
    if (why !== null || task === undefined || ev.now === null || ev.allowMassDelete === null || ev.dirty === null) {
      verification.unverifiable.push({ position: e.position, taskId, planId: ev.planId, why: why ?? 'unknown' });
      return;
    }
    const plan = planActions({
      trees: t,
      dirty: ev.dirty,
      mode: task.mode,
      options: task.options,
      terminal: registry.terminalName ?? '',
      now: ev.now,
      allowMassDelete: ev.allowMassDelete,
      rootLength: task.localRoot.length,
    });
    verification.checked += 1;
    const recorded = ev.actions.map((a: PlannedAction) => a.action);
    const n = Math.max(recorded.length, plan.actions.length);
    for (let i = 0; i < n; i++) {
      if (canonical(recorded[i] ?? null) !== canonical(plan.actions[i] ?? null)) {
        verification.mismatch = { position: e.position, taskId, planId: ev.planId, index: i, recorded: recorded[i] ?? null, replayed: plan.actions[i] ?? null };
        return;
      }
    }
    if (canonical(ev.guard) !== canonical(plan.guard)) {
      verification.mismatch = { position: e.position, taskId, planId: ev.planId, index: -1, recorded: ev.guard, replayed: plan.guard };
    }
  };

  return {
    apply: (e) => {
      if (options.until !== undefined && e.position > options.until) return false;
      last = e.position;
      for (const p of projections) if (p.handles.has(e.event.type)) states.set(p.name, p.apply(states.get(p.name), e));
      if (e.stream === ENGINE_STREAM) {
        if (taskRegistryProjection.handles.has(e.event.type)) registry = taskRegistryProjection.apply(registry, e);
        if (e.event.type === 'TaskCancelled') trees.delete(e.event.taskId);
        return true;
      }
      const taskId = taskIdOfStream(e.stream);
      if (taskId === null) return true;
      const t = treesOf(taskId);
      const wanted = options.taskId === undefined || options.taskId === taskId;
      if (wanted && options.verify === true) check(e, taskId, t);
      if (e.event.type === 'PlanMade') t.takeDirty();
      t.apply(e.event);
      if (wanted && e.event.type === 'TaskStatusChanged') {
        const ev = e.event;
        statuses.push({ position: e.position, at: e.at, taskId, status: ev.status, reason: ev.reason, message: ev.message });
      }
      if (options.path !== undefined && wanted) {
        story ??= createPathActivity(options.taskId ?? taskId, options.path);
        story.apply(e);
      }
      return true;
    },
    statuses,
    verification,
    get story() {
      return story?.entries ?? [];
    },
    states: () => states,
    position: () => last,
  };
}
