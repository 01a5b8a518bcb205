/**
 * fast-check arbitraries of plausible event logs: a few tasks created, configured, cancelled;
 * observations, plans, starts and outcomes on a small set of paths, with action ids that sometimes
 * name no planned action (a damaged or partial history must not break a projection either).
 */
import fc from 'fast-check';
import { DEFAULT_OPTIONS, type Action, type CloudMeta, type LocalMeta } from '../src/lib/model.js';
import { ENGINE_STREAM, taskStream, type FoldsyncEvent } from '../src/events/types.js';

const TASKS = ['t1', 't2'] as const;
const PATHS = ['a', 'b.txt', 'a/x', 'a/y.txt', 'c'] as const;
const ACTION_IDS = ['a1', 'a2', 'a3', 'a4'] as const;

/** One batch to append: a stream and its events. */
export interface Batch {
  readonly stream: string;
  readonly events: readonly FoldsyncEvent[];
  /** Milliseconds the clock moves before the batch. */
  readonly tick: number;
}

const path = fc.constantFrom(...PATHS);
const taskId = fc.constantFrom(...TASKS);
const actionId = fc.constantFrom(...ACTION_IDS);
const size = fc.integer({ min: 0, max: 5000 });

const localMeta: fc.Arbitrary<LocalMeta> = fc.record({
  kind: fc.constantFrom('file' as const, 'dir' as const),
  size,
  mtimeNs: fc.integer({ min: 1, max: 9 }).map(String),
  fileId: fc.integer({ min: 1, max: 9 }).map((n) => `1:${n}`),
});
const cloudMeta: fc.Arbitrary<CloudMeta> = fc.record({
  kind: fc.constantFrom('file' as const, 'dir' as const),
  id: fc.integer({ min: 1, max: 9 }).map((n) => `c${n}`),
  version: fc.integer({ min: 1, max: 9 }).map(String),
  size,
});

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ path, local: localMeta }).map(({ path: p, local }): Action => ({ op: 'upload', path: p, local: { ...local, kind: 'file' }, cloudId: null, baseVersion: null, rule: '2.1 create' })),
  fc.record({ path, cloud: cloudMeta }).map(({ path: p, cloud }): Action => ({ op: 'download', path: p, cloud: { ...cloud, kind: 'file' }, expectLocal: null, rule: '2.1 create' })),
  path.map((p): Action => ({ op: 'cloud-mkdir', path: p, rule: '2.1 create' })),
  fc.record({ path, local: localMeta }).map(({ path: p, local }): Action => ({ op: 'local-delete', path: p, expect: local, how: 'trash', rule: '2.1 delete' })),
  fc.record({ from: path, to: path }).map(({ from, to }): Action => ({ op: 'conflict-rename', side: 'local', from, to, rule: '2.1 conflict keep-both' })),
  path.map((p): Action => ({ op: 'reject', path: p, side: 'local', reason: 'bad-name', message: 'rename it', rule: '5 bad-name' })),
);

const taskEvent: fc.Arbitrary<FoldsyncEvent> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('scanning', 'synchronizing', 'completed', 'paused', 'failed').map((status): FoldsyncEvent => ({ type: 'TaskStatusChanged', v: 1, status: status as 'completed', reason: null, message: null })) },
  { weight: 2, arbitrary: fc.array(fc.record({ path, meta: fc.option(localMeta, { nil: null }) }), { minLength: 1, maxLength: 3 }).map((changes): FoldsyncEvent => ({ type: 'LocalChanged', v: 1, source: 'scan', changes })) },
  { weight: 2, arbitrary: fc.array(fc.record({ path, meta: fc.option(cloudMeta, { nil: null }) }), { minLength: 1, maxLength: 3 }).map((changes): FoldsyncEvent => ({ type: 'CloudChanged', v: 1, source: 'feed', cursor: null, changes })) },
  { weight: 1, arbitrary: path.map((p): FoldsyncEvent => ({ type: 'LocalSkipped', v: 1, path: p, reason: 'symlink', message: 'a link' })) },
  { weight: 3, arbitrary: fc
    .record({ planId: fc.integer({ min: 1, max: 99 }), actions: fc.array(fc.record({ actionId, action }), { minLength: 1, maxLength: 3 }), now: fc.integer({ min: 0, max: 1e6 }) })
    .map(({ planId, actions, now }): FoldsyncEvent => ({ type: 'PlanMade', v: 2, planId: `p${planId}`, actions, guard: null, now, allowMassDelete: false, dirty: [] })) },
  { weight: 1, arbitrary: actionId.map((id): FoldsyncEvent => ({ type: 'ActionStarted', v: 1, actionId: id })) },
  { weight: 1, arbitrary: fc
    .record({ id: actionId, path, local: fc.option(localMeta, { nil: null }), cloud: fc.option(cloudMeta, { nil: null }) })
    .map(({ id, path: p, local, cloud }): FoldsyncEvent => ({
      type: 'ActionSucceeded',
      v: 1,
      actionId: id,
      local: [{ path: p, meta: local }],
      cloud: [{ path: p, meta: cloud }],
      synced: [{ path: p, entry: local === null ? null : { kind: local.kind, size: local.size } }],
    })) },
  { weight: 3, arbitrary: fc
    .record({ id: actionId, transient: fc.boolean(), attempt: fc.integer({ min: 1, max: 5 }) })
    .map(({ id, transient, attempt }): FoldsyncEvent => ({ type: 'ActionFailed', v: 1, actionId: id, reason: 'quota', message: 'free space', transient, attempt, nextRetryAt: transient ? 1000 * attempt : null })) },
  { weight: 1, arbitrary: actionId.map((id): FoldsyncEvent => ({ type: 'ActionAbandoned', v: 1, actionId: id, why: 'superseded by a fresh scan' })) },
);

const engineEvent: fc.Arbitrary<FoldsyncEvent> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ taskId, mode: fc.constantFrom('two-way' as const, 'upload' as const), space: fc.constantFrom('personal', 'team-a') }).map(({ taskId: t, mode, space }): FoldsyncEvent => ({
    type: 'TaskCreated',
    v: 2,
    taskId: t,
    localRoot: `/home/u/${t}`,
    localRootId: '1:1',
    cloud: { url: null, space, spaceType: space === 'personal' ? 'personal' : 'team', path: `/${t}` },
    mode,
    options: DEFAULT_OPTIONS,
  })) },
  { weight: 1, arbitrary: taskId.map((t): FoldsyncEvent => ({ type: 'TaskCancelled', v: 1, taskId: t })) },
  { weight: 1, arbitrary: taskId.map((t): FoldsyncEvent => ({ type: 'TaskPaused', v: 1, taskId: t })) },
  { weight: 1, arbitrary: taskId.map((t): FoldsyncEvent => ({ type: 'RetryRequested', v: 1, taskId: t })) },
  { weight: 1, arbitrary: taskId.map((t): FoldsyncEvent => ({ type: 'TaskConfigured', v: 1, taskId: t, options: { ...DEFAULT_OPTIONS, autoSync: false } })) },
);

/** A batch on the engine stream or a task's stream. */
export const batchArb: fc.Arbitrary<Batch> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ stream: fc.constant(ENGINE_STREAM), events: fc.array(engineEvent, { minLength: 1, maxLength: 2 }), tick: fc.integer({ min: 0, max: 3000 }) }) },
  { weight: 4, arbitrary: fc.record({ stream: taskId.map(taskStream), events: fc.array(taskEvent, { minLength: 1, maxLength: 4 }), tick: fc.integer({ min: 0, max: 3000 }) }) },
);

/** A log: the terminal first, then random batches. */
export const logArb: fc.Arbitrary<readonly Batch[]> = fc.array(batchArb, { minLength: 5, maxLength: 60, size: 'large' }).map((batches) => [
  { stream: ENGINE_STREAM, events: [{ type: 'TerminalInitialized', v: 1, terminalId: 'term-1', terminalName: 'laptop' }], tick: 0 },
  ...batches,
]);
