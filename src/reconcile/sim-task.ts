/**
 * One task run in simulation: a {@link SimWorld}, its trees, and the loop observe -> plan ->
 * execute. Used by the planner's unit and property tests, and meant for the engine's simulation.
 * Pure: time is the `now` it is given.
 */
import type { SyncMode, TaskOptions } from '../lib/model.js';
import { DEFAULT_OPTIONS } from '../lib/model.js';
import type { SimOutcome, SimWorld, SimCloudEntry, SimLocalEntry } from './simulate.js';
import { createSimWorld, diffCloud, diffLocal, executeActions } from './simulate.js';
import type { Trees } from './trees.js';
import { createTrees } from './trees.js';
import type { Plan } from './planner.js';
import { planActions } from './planner.js';
import type { RelPath } from '../lib/names.js';

/** A simulated task. */
export interface SimTask {
  readonly world: SimWorld;
  readonly trees: Trees;
  mode: SyncMode;
  options: TaskOptions;
  readonly terminal: string;
  now: number;
  /** Length of the simulated local folder's full path (the planner's `rootLength`). */
  rootLength: number;
  /** Folds what changed on both sides since the last observation (a scan and a feed read). */
  observe(): void;
  /** Plans over the dirty paths, consuming them (held paths stay dirty). */
  plan(extra?: { allowMassDelete?: boolean }): Plan;
  /** Executes a plan's actions, folding each success; returns the outcomes. */
  execute(plan: Plan): SimOutcome[];
  /** observe + plan + execute. */
  step(): { plan: Plan; outcomes: SimOutcome[] };
}

/** Creates a simulated task. */
export function createSimTask(init: { mode?: SyncMode; options?: Partial<TaskOptions>; terminal?: string; now?: number; rootLength?: number; world?: SimWorld } = {}): SimTask {
  const world = init.world ?? createSimWorld();
  const trees = createTrees();
  let localSnap = new Map<RelPath, SimLocalEntry>();
  let cloudSnap = new Map<RelPath, SimCloudEntry>();
  const snapshot = (): void => {
    localSnap = new Map(world.local);
    cloudSnap = new Map(world.cloud);
  };
  const task: SimTask = {
    world,
    trees,
    mode: init.mode ?? 'two-way',
    options: { ...DEFAULT_OPTIONS, ...init.options },
    terminal: init.terminal ?? 'sim',
    now: init.now ?? Date.UTC(2026, 0, 2, 3, 4, 5),
    rootLength: init.rootLength ?? 0,
    observe: () => {
      trees.applyLocal(diffLocal(localSnap, world));
      trees.applyCloud(diffCloud(cloudSnap, world));
      snapshot();
    },
    plan: (extra = {}) => {
      const dirty = trees.takeDirty();
      const plan = planActions({ trees, dirty, mode: task.mode, options: task.options, terminal: task.terminal, now: task.now, rootLength: task.rootLength, ...extra });
      trees.markDirty(plan.held);
      return plan;
    },
    execute: (plan) => {
      const outcomes = executeActions(world, trees, plan.actions);
      snapshot();
      return outcomes;
    },
    step: () => {
      task.observe();
      const plan = task.plan();
      return { plan, outcomes: task.execute(plan) };
    },
  };
  return task;
}
