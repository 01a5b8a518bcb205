/**
 * One sync task at work (ADR 0004): rebuilds its trees from its stream, observes both sides,
 * plans over what changed, runs the actions, and appends every observation, decision and
 * outcome, in that order, to the log. The task machine (src/machines) says which status it shows.
 */
import { createActor, type Actor } from 'xstate';
import type { EventLog } from '../events/event-log.js';
import { readPages } from '../events/event-log.js';
import type { CloudChange, FoldsyncEvent, LocalChange, PlannedAction, StoredEvent } from '../events/types.js';
import { taskStream } from '../events/types.js';
import type { Clock } from '../io/clock.js';
import type { Ids } from '../io/ids.js';
import type { LocalFs } from '../io/local-fs.js';
import type { RemoteDrive } from '../io/remote-drive.js';
import { createPathFilter, type PathFilter } from '../lib/filters.js';
import type { Action, CloudMeta, LocalMeta, TaskFailureReason, TaskStatus } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { actionPath } from '../lib/actions.js';
import { limitsAt } from '../lib/throttle-windows.js';
import { retryDelayMs, taskMachine, taskStatusOf } from '../machines/task-machine.js';
import { planActions } from '../reconcile/planner.js';
import { createTrees, type Trees } from '../reconcile/trees.js';
import type { RegisteredTask } from '../projections/task-registry.js';
import { cloudMetaOf, executeAction, taskFailureOf, type ExecutorContext } from './executor.js';
import { RemoteError } from '../io/remote-drive.js';
import { createTokenBucket, createTransferPool, type TokenBucket, type TransferPool } from './transfer-limits.js';
import { toXStateClock } from './xstate-clock.js';
import { createStreamWriter } from './stream-writer.js';

/** What a task runner needs. */
export interface TaskRunnerOptions {
  readonly task: RegisteredTask;
  readonly log: EventLog;
  readonly local: LocalFs;
  readonly drive: RemoteDrive;
  readonly clock: Clock;
  readonly ids: Ids;
  /** This terminal's name, for conflict copies. */
  readonly terminal: string;
  /**
   * Files the terminal's other tasks hold, and the most the terminal may hold (SPEC.md section 5);
   * a task that would pass it fails with `file-limit` before it plans anything.
   */
  readonly fileLimit?: { readonly others: () => number; readonly max: number };
}

/** How a sync round ended. */
export interface SyncResult {
  readonly status: TaskStatus;
  /** Files whose last action failed. */
  readonly failedFiles: number;
}

/** A running task. */
export interface TaskRunner {
  /** Scans both sides, then plans and acts until nothing is left to do (or the task pauses or fails). */
  syncOnce(): Promise<SyncResult>;
  /** The status shown now. */
  status(): TaskStatus;
  /** The trees, read-only (tests and views). */
  readonly trees: Trees;
  /** Files this task holds: the larger of its local and cloud trees. */
  files(): number;
  /** When the earliest transient failure is due for a retry (ms since the epoch), or null. */
  nextRetryAt(): number | null;
  /** Stops the machine and the throttles. */
  stop(): void;
}

/** Upper bound on plan/execute rounds in one sync: a plan that never settles is a bug, not a reason to spin. */
const MAX_ROUNDS = 100;
/** Changes per observation event, so one event stays a reasonable size. */
const CHANGES_PER_EVENT = 1000;

/** Creates the runner of one task and rebuilds it from the log. */
export async function createTaskRunner(options: TaskRunnerOptions): Promise<TaskRunner> {
  const { task, log, local, drive, clock, ids } = options;
  const stream = taskStream(task.taskId);
  const trees = createTrees();
  const open = new Map<string, { action: Action; attempts: number }>();
  /** Actions whose last outcome is a failure, by id: the task's failed files. */
  const failedActions = new Map<string, { action: Action; nextRetryAt?: number | null }>();
  let version = 0;
  let firstRound = true;
  /**
   * The mass-delete guard held the last round back. A runner is only created for a task that is
   * not paused, so when this is still set at the first round the user has resumed since: the
   * deletes go ahead this time.
   */
  let massDeleteHeld = false;
  /** Likewise for the replaced-folder guard: a runner created after it held means the user accepted the new folder. */
  let replacedHeld = false;

  const follow = (e: StoredEvent | { event: FoldsyncEvent }): void => {
    const event = e.event;
    trees.apply(event);
    switch (event.type) {
      case 'TaskStatusChanged':
        if (event.status === 'paused' && event.reason === 'mass-delete') massDeleteHeld = true;
        else if (event.status === 'completed') massDeleteHeld = false;
        if (event.status === 'paused' && event.reason === 'folder-replaced') replacedHeld = true;
        break;
      case 'PlanMade':
        for (const { actionId, action } of event.actions) open.set(actionId, { action, attempts: 0 });
        break;
      case 'ActionSucceeded':
      case 'ActionAbandoned':
        failedActions.delete(event.actionId);
        open.delete(event.actionId);
        break;
      case 'ActionFailed': {
        const o = open.get(event.actionId);
        if (o !== undefined) {
          o.attempts = event.attempt;
          failedActions.set(event.actionId, { action: o.action, nextRetryAt: event.nextRetryAt });
        }
        if (!event.transient) open.delete(event.actionId);
        break;
      }
      default:
        break;
    }
  };

  for await (const page of readPages(log, { stream })) {
    for (const e of page) follow(e);
    const last = page[page.length - 1];
    if (last !== undefined) version = last.streamVersion;
  }

  const writer = createStreamWriter(log, stream, version, (events) => {
    for (const event of events) follow({ event });
  });
  const write = (events: readonly FoldsyncEvent[]): Promise<void> => writer.write(events);

  const machine: Actor<typeof taskMachine> = createActor(taskMachine, {
    input: { autoSync: task.options.autoSync, paused: task.paused },
    clock: toXStateClock(clock),
  });
  let shown: TaskStatus | null = null;
  machine.subscribe((snapshot) => {
    const status = taskStatusOf(snapshot.value);
    if (status === null || status === shown) return;
    shown = status;
    const ctx = snapshot.context;
    const reason = status === 'failed' || status === 'paused' ? ctx.reason : null;
    // A failed append rejects every later write of this stream too, so the awaited ones report it;
    // this one only must not become an unhandled rejection.
    write([
      {
        type: 'TaskStatusChanged',
        v: 1,
        status,
        reason: reason === null || reason === 'user' ? null : reason,
        message: status === 'failed' || status === 'paused' ? ctx.message : null,
      },
    ]).catch(() => undefined);
  });
  machine.start();

  // Windows like "09:00-18:00" are the user's wall-clock time: the time zone's offset at that moment.
  const rates = () => {
    const now = clock.now();
    return limitsAt(task.options.throttle, now, -new Date(now).getTimezoneOffset());
  };
  const upload: TokenBucket = createTokenBucket(clock, () => rates().uploadBps);
  const download: TokenBucket = createTokenBucket(clock, () => rates().downloadBps);
  const pool: TransferPool = createTransferPool(task.options.throttle.maxTransfers);
  const filter: PathFilter = createPathFilter(task.options.filters);
  const cloudRoot = task.cloud.path.split('/').filter((s) => s !== '').join('/');
  const space = task.cloud.space;
  const ctx: ExecutorContext = { local, drive, space, cloudRoot, trees, filter, upload, download };

  const flushChanges = async <C>(changes: C[], make: (batch: C[]) => FoldsyncEvent): Promise<void> => {
    const events: FoldsyncEvent[] = [];
    for (let i = 0; i < changes.length; i += CHANGES_PER_EVENT) events.push(make(changes.slice(i, i + CHANGES_PER_EVENT)));
    changes.length = 0;
    await write(events);
  };

  const scanLocal = async (): Promise<void> => {
    const scanId = ids.next('scan');
    await write([{ type: 'LocalScanStarted', v: 1, scanId, under: '' }]);
    const seen = new Set<RelPath>();
    const changes: LocalChange[] = [];
    const skipped: FoldsyncEvent[] = [];
    let files = 0;
    let dirs = 0;
    let bytes = 0;
    for await (const batch of local.scan('', { filter })) {
      for (const item of batch) {
        seen.add(item.path);
        if (item.type === 'skipped') {
          skipped.push({ type: 'LocalSkipped', v: 1, path: item.path, reason: item.reason, message: item.message });
          continue;
        }
        if (item.ignored !== null) continue;
        const prev = trees.local(item.path);
        let meta: LocalMeta = item.meta;
        if (meta.kind === 'file') {
          if (prev?.hash !== undefined && prev.kind === 'file' && prev.size === meta.size && prev.mtimeNs === meta.mtimeNs && prev.fileId === meta.fileId) {
            meta = { ...meta, hash: prev.hash };
          } else {
            const hashed = await local.hash(item.path, prev ?? null);
            if (hashed.status === 'changing') {
              skipped.push({ type: 'LocalSkipped', v: 1, path: item.path, reason: 'changing', message: hashed.message });
              continue;
            }
            meta = hashed.meta;
          }
          files += 1;
          bytes += meta.size;
        } else {
          dirs += 1;
        }
        if (!sameLocalMeta(prev, meta)) changes.push({ path: item.path, meta });
      }
      if (changes.length >= CHANGES_PER_EVENT) await flushChanges(changes, (c) => ({ type: 'LocalChanged', v: 1, source: 'scan', changes: c }));
    }
    for (const p of trees.paths('local')) if (!seen.has(p)) changes.push({ path: p, meta: null });
    await flushChanges(changes, (c) => ({ type: 'LocalChanged', v: 1, source: 'scan', changes: c }));
    await write([...skipped, { type: 'LocalScanCompleted', v: 1, scanId, files, dirs, bytes }]);
  };

  const listCloud = async (): Promise<void> => {
    const cursor = await drive.cursor(space);
    if (cloudRoot !== '' && (await drive.stat(space, cloudRoot)) === null) await drive.mkdir(space, cloudRoot);
    const entries = await drive.list(space, cloudRoot, { recursive: true });
    const seen = new Set<RelPath>();
    const changes: CloudChange[] = [];
    const prefix = cloudRoot === '' ? '' : `${cloudRoot}/`;
    for (const entry of entries) {
      if (!entry.path.startsWith(prefix) || entry.path === cloudRoot) continue;
      const path = entry.path.slice(prefix.length);
      seen.add(path);
      const meta = cloudMetaOf(entry);
      if (!sameCloudMeta(trees.cloud(path), meta)) changes.push({ path, meta });
    }
    for (const p of trees.paths('cloud')) if (!seen.has(p)) changes.push({ path: p, meta: null });
    const events: FoldsyncEvent[] = [];
    for (let i = 0; i < changes.length || i === 0; i += CHANGES_PER_EVENT) {
      events.push({ type: 'CloudChanged', v: 1, source: 'list', cursor, changes: changes.slice(i, i + CHANGES_PER_EVENT) });
    }
    await write(events);
  };

  /** Set by a task-level failure: the rest of the plan is not run. */
  let halted: { reason: TaskFailureReason; message: string; retryable: boolean } | null = null;
  // A function, not the variable: the compiler would take `halted` as fixed across awaits.
  const haltedBy = (): typeof halted => halted;

  /** Runs one planned action through the pool, appending its start and outcome. */
  const perform = async ({ actionId, action }: PlannedAction): Promise<void> => {
    if (halted !== null) return;
    const transfer = action.op === 'upload' || action.op === 'download';
    const outcome = await (transfer ? pool.run(() => executeAndMark(actionId, action)) : executeAndMark(actionId, action));
    if (outcome.ok) {
      await write([{ type: 'ActionSucceeded', v: 1, actionId, local: outcome.local, cloud: outcome.cloud, synced: outcome.synced }]);
      return;
    }
    if (outcome.taskFailure !== undefined) {
      halted ??= { reason: outcome.taskFailure, message: taskFailureMessage(outcome.taskFailure, outcome.message), retryable: false };
      return;
    }
    const attempt = (open.get(actionId)?.attempts ?? 0) + 1;
    const nextRetryAt = outcome.transient ? clock.now() + retryDelayMs(attempt) : null;
    await write([{ type: 'ActionFailed', v: 1, actionId, reason: outcome.reason, message: outcome.message, transient: outcome.transient, attempt, nextRetryAt }]);
  };

  const executeAndMark = async (actionId: string, action: Action) => {
    if (action.op === 'upload' || action.op === 'download') await write([{ type: 'ActionStarted', v: 1, actionId }]);
    return executeAction(ctx, action);
  };

  /** Runs a plan in its order; consecutive transfers run side by side through the pool. */
  const performPlan = async (actions: readonly PlannedAction[]): Promise<void> => {
    let i = 0;
    while (i < actions.length) {
      const first = actions[i];
      if (first === undefined) break;
      if (first.action.op !== 'upload' && first.action.op !== 'download') {
        await perform(first);
        i += 1;
        continue;
      }
      const group: PlannedAction[] = [];
      while (i < actions.length) {
        const a = actions[i];
        if (a === undefined || (a.action.op !== 'upload' && a.action.op !== 'download')) break;
        group.push(a);
        i += 1;
      }
      await Promise.all(group.map(perform));
    }
  };

  const files = (): number => Math.max(trees.count('local'), trees.count('cloud'));

  /** Holds the task: the machine pauses with the guard's reason, and nothing is planned. */
  const guard = async (reason: 'folder-gone' | 'folder-replaced', message: string): Promise<SyncResult> => {
    machine.send({ type: 'GUARD', reason, message });
    await writer.settled();
    return { status: 'paused', failedFiles: failedActions.size };
  };

  /** Fails the task as a whole; retryable failures are retried at the next round. */
  const failTask = async (failure: { reason: TaskFailureReason; message: string; retryable: boolean }): Promise<SyncResult> => {
    machine.send({ type: 'FAIL', ...failure });
    await writer.settled();
    return { status: 'failed', failedFiles: failedActions.size };
  };

  const syncOnce = async (): Promise<SyncResult> => {
    halted = null;
    try {
      const result = await syncRound();
      const failure = haltedBy();
      return failure === null ? result : await failTask(failure);
    } catch (error) {
      const cause = taskFailureOf(error);
      if (cause !== null) return failTask({ reason: cause, message: taskFailureMessage(cause, error instanceof Error ? error.message : String(error)), retryable: false });
      if (error instanceof RemoteError) {
        return failTask({ reason: 'cloud-unreachable', message: `The cloud could not be reached (${error.message}); foldsync tries again by itself.`, retryable: true });
      }
      throw error;
    }
  };

  const syncRound = async (): Promise<SyncResult> => {
    if (machine.getSnapshot().value === 'paused') return { status: 'paused', failedFiles: failedActions.size };
    if (machine.getSnapshot().value !== 'scanning') machine.send({ type: 'SYNC_NOW' });
    // SPEC.md section 5: a vanished or replaced local folder pauses the task; an empty scan of it
    // must never turn into deletes on the cloud side.
    const root = await local.lstat('');
    const acceptReplaced = replacedHeld;
    if (root?.kind !== 'dir') {
      return guard('folder-gone', `The local folder ${task.localRoot} is gone or is no longer a folder; foldsync paused instead of deleting its files in the cloud. Put the folder back, then resume the task.`);
    }
    if (task.localRootId !== null && root.fileId !== task.localRootId && !acceptReplaced) {
      return guard(
        'folder-replaced',
        `The local folder ${task.localRoot} was replaced by another folder; foldsync paused instead of syncing the difference. Resume the task to sync the new folder (files missing from it go to the cloud recycle bin), or put the original back.`,
      );
    }
    await scanLocal();
    await listCloud();
    // Re-verification (ADR 0004): the fresh scan shows what open actions did before a restart, or
    // what a failed one left; their paths are planned again from what is there now.
    trees.markDirty([...open.values(), ...failedActions.values()].map((o) => actionPath(o.action)));
    const why = firstRound ? 're-verified after restart' : 'superseded by a fresh scan';
    firstRound = false;
    await write([...open.keys()].map((actionId) => ({ type: 'ActionAbandoned', v: 1, actionId, why })));
    failedActions.clear();
    const limit = options.fileLimit;
    if (limit !== undefined && limit.others() + files() > limit.max) {
      machine.send({
        type: 'FAIL',
        reason: 'file-limit',
        message: `This terminal would hold ${limit.others() + files()} files, more than the ${limit.max} it may sync; nothing was changed. Exclude folders with filters, or cancel another task.`,
        retryable: false,
      });
      await writer.settled();
      return { status: 'failed', failedFiles: failedActions.size };
    }
    machine.send({ type: 'SCAN_DONE' });
    const allowMassDelete = massDeleteHeld;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const dirty = trees.takeDirty();
      if (dirty.length === 0) break;
      const plan = planActions({ trees, dirty, mode: task.mode, options: task.options, terminal: options.terminal, now: clock.now(), allowMassDelete, rootLength: task.localRoot.length });
      if (plan.held.length > 0) trees.markDirty(plan.held);
      const actions = plan.actions.map((action) => ({ actionId: ids.next('act'), action }));
      if (actions.length === 0 && plan.guard === null) break;
      await write([{ type: 'PlanMade', v: 1, planId: ids.next('plan'), actions, guard: plan.guard }]);
      if (plan.guard !== null) {
        machine.send({ type: 'GUARD', reason: 'mass-delete', message: `${plan.guard.gone} of ${plan.guard.synced} synced files are gone at once; foldsync paused instead of deleting them. Resume the task to delete them too, or restore the files.` });
        await writer.settled();
        return { status: 'paused', failedFiles: failedActions.size };
      }
      await performPlan(actions);
      if (haltedBy() !== null) return { status: 'failed', failedFiles: failedActions.size };
    }
    machine.send({ type: 'IDLE' });
    await writer.settled();
    return { status: taskStatusOf(machine.getSnapshot().value) ?? 'completed', failedFiles: failedActions.size };
  };

  return {
    syncOnce,
    files,
    nextRetryAt: () => {
      let min: number | null = null;
      for (const f of failedActions.values()) if (f.nextRetryAt != null && (min === null || f.nextRetryAt < min)) min = f.nextRetryAt;
      return min;
    },
    status: () => taskStatusOf(machine.getSnapshot().value) ?? 'completed',
    trees,
    stop: () => {
      machine.stop();
      const stopped = new Error('task stopped');
      upload.abort(stopped);
      download.abort(stopped);
    },
  };
}

function taskFailureMessage(reason: TaskFailureReason, detail: string): string {
  if (reason === 'token-revoked') return `The cloud no longer accepts this task's token (${detail}). Sign in again: create the task anew with a valid --token.`;
  if (reason === 'not-permitted') return `This task's permission on its space was removed (${detail}). Ask the space's owner for the Synchronizer or Backer role, then resume the task.`;
  return detail;
}

function sameLocalMeta(a: LocalMeta | undefined, b: LocalMeta): boolean {
  return a !== undefined && a.kind === b.kind && a.size === b.size && a.mtimeNs === b.mtimeNs && a.fileId === b.fileId && a.hash === b.hash;
}

function sameCloudMeta(a: CloudMeta | undefined, b: CloudMeta): boolean {
  return a !== undefined && a.kind === b.kind && a.id === b.id && a.version === b.version && a.size === b.size && a.hash === b.hash;
}

