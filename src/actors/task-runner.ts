/**
 * One sync task at work (ADR 0004): rebuilds its trees from its stream, observes both sides,
 * plans over what changed, runs the actions, and appends every observation, decision and
 * outcome, in that order, to the log. The task machine (src/machines) says which status it shows.
 */
import { createActor, type Actor } from 'xstate';
import type { EventLog } from '../events/event-log.js';
import { readPages } from '../events/event-log.js';
import type { CloudChange, CloudChanged, FoldsyncEvent, LocalChange, PlannedAction, StoredEvent } from '../events/types.js';
import { MAX_RECORDED_DIRTY, taskStream } from '../events/types.js';
import { sortRelPaths } from '../reconcile/columns.js';
import type { Clock } from '../io/clock.js';
import type { Ids } from '../io/ids.js';
import type { HashOutcome, LocalFs, ScanPrefetchHandle } from '../io/local-fs.js';
import { LocalFsError, metaOf } from '../io/local-fs.js';
import type { RemoteDrive } from '../io/remote-drive.js';
import type { ChangeEntry } from '../lib/cloud-api.js';
import { createPathFilter, type PathFilter } from '../lib/filters.js';
import type { Action, LocalMeta, TaskFailureReason, TaskStatus } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { compareRelPaths, isAtOrBelow, isRelPath, parentOf } from '../lib/names.js';
import { actionPath } from '../lib/actions.js';
import { limitsAt } from '../lib/throttle-windows.js';
import { retryDelayMs, taskMachine, taskStatusOf, type PauseReason } from '../machines/task-machine.js';
import { foldFeed, sameCloudMeta } from '../reconcile/feed.js';
import { planActions } from '../reconcile/planner.js';
import { createTrees, type Trees } from '../reconcile/trees.js';
import type { RegisteredTask } from '../projections/task-registry.js';
import { cloudMetaOf, executeAction, feedCatcher, SMALL_UPLOAD, taskFailureOf, type ExecutorContext } from './executor.js';
import { BATCH_MAX_BYTES, createUploadBatcher } from './upload-batcher.js';
import { RemoteError } from '../io/remote-drive.js';
import { createByteBudget, createTokenBucket, createTransferPool, type ByteBudget, type TokenBucket, type TransferPool } from './transfer-limits.js';
import { toXStateClock } from './xstate-clock.js';
import { createStreamWriter } from './stream-writer.js';
import { unexpectedFailure } from './round-failure.js';
import { readRunnerSnapshot, writeRunnerSnapshot, type FoldedTo, type RunnerFold } from './runner-snapshot.js';
import { SnapshotFormatError, type SnapshotWriter } from '../lib/snapshot-codec.js';
import { diffLocalScan, localPathsBelow as localPathsBelowIn, sameLocalMeta, ScanStopped } from './local-scan.js';

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
  /**
   * Told when the user's resume accepted a replaced local folder, with its identity, before the
   * task syncs it: the engine records it, so the task does not pause again after a restart.
   */
  readonly onRootAccepted?: (rootId: string) => Promise<void>;
  /** Told whenever the task's progress changes (often during transfers: sample it). */
  readonly onProgress?: (progress: TaskProgress) => void;
  /**
   * A snapshot an earlier runner of the task wrote ({@link TaskRunner.writeSnapshot}): the runner
   * starts from it and folds only the events after it. Not used (the whole stream is folded) when it
   * is of another build, another task, or does not match the log (ADR 0012).
   */
  readonly snapshot?: Uint8Array<ArrayBuffer> | null;
  /**
   * True when `snapshot`'s bytes are handed over to the runner (the caller never reads or keeps
   * them): its trees may then keep parts of them in place instead of copies. Default false.
   */
  readonly snapshotGiven?: boolean;
  /**
   * A listing of the local folder the engine started for this runner's first round
   * ({@link LocalFs.prefetchScan}): its scan of the whole folder takes it; closed after that round.
   */
  readonly prefetch?: ScanPrefetchHandle | null;
}

/** Where a task's current sync stands: what `foldsync run` draws as its progress bar. */
export interface TaskProgress {
  readonly taskId: string;
  readonly status: TaskStatus;
  /** Actions planned since the sync began, and how many have an outcome. */
  readonly planned: number;
  readonly done: number;
  /** Bytes of the planned transfers, and how many have moved. */
  readonly bytesTotal: number;
  readonly bytesDone: number;
  /** Bytes per second over the last few seconds of the injected clock. */
  readonly speedBps: number;
  /** Files whose last action failed. */
  readonly failedFiles: number;
}

/** How a sync round ended. */
export interface SyncResult {
  readonly status: TaskStatus;
  /** Files whose last action failed. */
  readonly failedFiles: number;
}

/** What the watcher reported since the last round: paths to look at again, folders to scan again. */
export interface LocalNotes {
  readonly paths: Iterable<RelPath>;
  readonly rescans: Iterable<RelPath>;
}

/** How {@link TaskRunner.syncOnce} observes the cloud side. */
export interface SyncOnceOptions {
  /**
   * List the whole cloud folder instead of reading the change feed from the task's cursor (the
   * default when the task has no cursor yet). A safety net, not needed for correctness.
   */
  readonly list?: boolean;
}

/** A running task. */
export interface TaskRunner {
  /**
   * Scans the whole local folder and reads the cloud's changes (the feed from the task's cursor, or
   * a full listing), then plans and acts until nothing is left to do (or the task pauses or fails).
   */
  syncOnce(options?: SyncOnceOptions): Promise<SyncResult>;
  /**
   * An incremental round: looks again only at the local paths the watcher reported and reads the
   * cloud's change feed, then plans over what changed and acts; failed transfers whose retry time
   * has come are tried again. Falls back to {@link syncOnce} when the task has not been fully
   * observed since this runner started, or when the last round failed.
   */
  syncChanges(notes: LocalNotes): Promise<SyncResult>;
  /** True when an incremental round would plan something even with no new notes (a retry is due). */
  hasDueWork(): boolean;
  /** The change-feed position the task's cloud tree is at, or null before the first observation. */
  cloudCursor(): string | null;
  /** The status shown now. */
  status(): TaskStatus;
  /** The trees, read-only (tests and views). */
  readonly trees: Trees;
  /** Files this task holds: the larger of its local and cloud trees. */
  files(): number;
  /** When the earliest transient failure (of a file, or of the task as a whole) is due for a retry (ms since the epoch), or null. */
  nextRetryAt(): number | null;
  /** Where the current (or last) sync stands. */
  progress(): TaskProgress;
  /**
   * Stops the task: no new action starts (one in flight finishes and is recorded), a round in
   * progress ends at its next step, the throttles' waiters are rejected, and the machine stops.
   */
  stop(): void;
  /** True once the task's stream could not be written (a failed append, another writer): build a new runner from the log. */
  broken(): boolean;
  /** The last event of the task's stream this runner has folded. */
  foldedTo(): FoldedTo;
  /** The stream version of the snapshot this runner started from, or null when it folded the whole stream. */
  readonly restoredFrom: number | null;
  /** Writes what the runner has folded so far, for {@link TaskRunnerOptions.snapshot}: call it between rounds. */
  writeSnapshot(w: SnapshotWriter): void;
}

/** How long after a file was seen changing while read it is looked at again, ms. */
const CHANGING_RETRY_MS = 1000;

/** The window over which the speed is measured, ms. */
const SPEED_WINDOW_MS = 3000;

/** Upper bound on plan/execute rounds in one sync: a plan that never settles is a bug, not a reason to spin. */
const MAX_ROUNDS = 100;
/** Changes per observation event, so one event stays a reasonable size. */
const CHANGES_PER_EVENT = 1000;

/** Creates the runner of one task and rebuilds it from the log. */
export async function createTaskRunner(options: TaskRunnerOptions): Promise<TaskRunner> {
  const { task, log, local, drive, clock, ids } = options;
  const stream = taskStream(task.taskId);
  const restored = options.snapshot == null ? null : await usableSnapshot(log, stream, task.taskId, options.snapshot, options.snapshotGiven === true);
  const trees = restored?.trees ?? createTrees();
  // A snapshot is taken after rounds whose plans consumed the dirty paths; a fold of the whole
  // stream leaves every path it saw dirty. Planning every path again (cheap: an unchanged path is one
  // byte) makes the first round the same either way, and applies options changed since.
  if (restored !== null) trees.markAllDirty();
  const open = new Map<string, { action: Action; attempts: number }>([...(restored?.open ?? [])].map(([id, o]) => [id, { ...o }]));
  /**
   * Failed attempts so far of an operation on a path (see {@link failureKey}), until it succeeds. A
   * retried action is planned anew under a new id, so counting by id alone would never back off.
   */
  const failuresOf = new Map<string, number>(restored?.failuresOf ?? []);
  /** Actions whose last outcome is a failure, by id: the task's failed files. */
  const failedActions = new Map<string, { action: Action; nextRetryAt?: number | null }>([...(restored?.failedActions ?? [])].map(([id, f]) => [id, { ...f }]));
  /** The last event folded. */
  let foldedTo: FoldedTo = restored?.foldedTo ?? { streamVersion: 0, position: 0, at: 0 };
  let version = foldedTo.streamVersion;
  let firstRound = true;
  /** The engine's listing for the first round's scan, until that round is over. */
  let prefetch = options.prefetch ?? null;
  const dropPrefetch = (): void => {
    prefetch?.close();
    prefetch = null;
  };
  /** The safety guard that holds the task (since it last completed) and the log position of its pause. */
  let held: { readonly reason: string; readonly position: number } | null = restored?.held ?? null;
  /**
   * The guard the user lifted: set at creation when the task was resumed after the guard held it,
   * so that round goes ahead (the deletes, the new folder); a later hold or completion ends it.
   */
  let acceptedGuard: string | null = null;
  /** The local folder's identity (`dev:ino`): the one recorded at creation, or the replacement the user accepted. */
  let rootId = task.localRootId;

  /** The change-feed position the cloud tree is at. */
  let cursor: string | null = restored?.cursor ?? null;
  /** The last cursor the log holds (the in-memory one may be ahead after reads or own writes that changed nothing). */
  let recordedCursor: string | null = cursor;
  /** The id of the task's cloud folder when it was last listed (recorded in the listing; null before). */
  let cloudRootId: string | null = restored?.cloudRootId ?? null;
  /** Set after a round that did not finish (a task-level failure, an error): the next round observes in full. */
  let needsFull = true;

  /**
   * The task's own changes in the change feed (ADR 0100): the feed entries of its cloud writes, by
   * feed number, each added once its action's outcome is recorded (so it is in the cloud tree). The
   * cursor may pass a run of them that starts right after it and has no gap; another writer's
   * change (or a write whose place in the feed is unknown) is a gap, and stops the run before it.
   */
  const own = new Map<number, ChangeEntry>();
  /** How far the cursor may move over own entries, checked but not recorded yet; null: not past the cursor. */
  let ownTo: number | null = null;
  /** A check failed: no other until the plan ends (keeps a stuck run from being folded again for each action). */
  let ownStuck = false;
  /** A gap outlived the plan that made the run: nothing can pass it but a read of the feed. */
  let ownBlocked = false;

  const follow = (e: StoredEvent): void => {
    const event = e.event;
    foldedTo = { streamVersion: e.streamVersion, position: e.position, at: e.at };
    trees.apply(event);
    switch (event.type) {
      case 'CloudChanged':
        if (event.cursor !== null) {
          cursor = event.cursor;
          recordedCursor = event.cursor;
        }
        if (event.rootId !== undefined) cloudRootId = event.rootId;
        break;
      case 'TaskStatusChanged':
        if (event.status === 'paused' && event.reason !== null && GUARD_REASONS.has(event.reason)) {
          held = { reason: event.reason, position: e.position };
          acceptedGuard = null;
        } else if (event.status === 'completed') {
          held = null;
          acceptedGuard = null;
        }
        break;
      case 'PlanMade':
        for (const { actionId, action } of event.actions) open.set(actionId, { action, attempts: 0 });
        break;
      case 'ActionSucceeded':
      case 'ActionAbandoned': {
        const done = open.get(event.actionId);
        if (event.type === 'ActionSucceeded' && done !== undefined) failuresOf.delete(failureKey(done.action));
        failedActions.delete(event.actionId);
        open.delete(event.actionId);
        break;
      }
      case 'ActionFailed': {
        const o = open.get(event.actionId);
        if (o !== undefined) {
          o.attempts = event.attempt;
          failuresOf.set(failureKey(o.action), event.attempt);
          failedActions.set(event.actionId, { action: o.action, nextRetryAt: event.nextRetryAt });
        }
        if (!event.transient) open.delete(event.actionId);
        break;
      }
      default:
        break;
    }
  };

  for await (const page of readPages(log, { stream, from: version + 1 })) {
    for (const e of page) follow(e);
    const last = page[page.length - 1];
    if (last !== undefined) version = last.streamVersion;
  }

  // A function, not the variable: the compiler would take `held` as still null after the fold.
  const heldAfterFold = (): typeof held => held;
  const holding = heldAfterFold();
  if (holding !== null && task.resumedAt !== null && task.resumedAt > holding.position) acceptedGuard = holding.reason;

  const writer = createStreamWriter(log, stream, version, (stored) => {
    for (const e of stored) follow(e);
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

  // Progress of the current sync (reset when a round begins to plan after a quiet time).
  const prog = { planned: 0, done: 0, bytesTotal: 0, bytesDone: 0 };
  // Bytes moved in the last SPEED_WINDOW_MS: a queue read from `head` with a running sum, since a
  // first sync of small files adds thousands of samples a second and reports after each.
  let samples: { at: number; bytes: number }[] = [];
  let head = 0;
  let moved = 0;
  const progress = (): TaskProgress => {
    const now = clock.now();
    for (let x = samples[head]; x !== undefined && x.at < now - SPEED_WINDOW_MS; x = samples[head]) {
      moved -= x.bytes;
      head += 1;
    }
    if (head > 1024 && head * 2 > samples.length) {
      samples = samples.slice(head);
      head = 0;
    }
    return {
      taskId: task.taskId,
      status: taskStatusOf(machine.getSnapshot().value) ?? 'completed',
      ...prog,
      speedBps: Math.round((moved * 1000) / SPEED_WINDOW_MS),
      failedFiles: failedActions.size,
    };
  };
  const report = (): void => {
    options.onProgress?.(progress());
  };
  machine.subscribe(report);
  /** Counts the bytes that pass a throttle: every transferred byte does. */
  const counted = (bucket: TokenBucket): TokenBucket => ({
    take: async (bytes) => {
      await bucket.take(bytes);
      prog.bytesDone += bytes;
      samples.push({ at: clock.now(), bytes });
      moved += bytes;
      report();
    },
    refresh: () => {
      bucket.refresh();
    },
    abort: (reason) => {
      bucket.abort(reason);
    },
  });

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
  const uploadMany = drive.uploadMany?.bind(drive);
  const uploadSmall = uploadMany === undefined ? undefined : createUploadBatcher(uploadMany, space, pool);
  /**
   * Small uploads read their file before they join a batch: this bounds the bytes they hold at once
   * (a batch per transfer in flight and one gathering), each file counted with 4 KiB for its keep.
   */
  const smallReads: ByteBudget = createByteBudget((task.options.throttle.maxTransfers + 1) * BATCH_MAX_BYTES);
  const ctx: ExecutorContext = {
    local,
    drive,
    space,
    cloudRoot,
    trees,
    filter,
    upload: counted(upload),
    download: counted(download),
    ...(uploadSmall === undefined ? {} : { uploadSmall }),
  };

  const flushChanges = async <C>(changes: C[], make: (batch: C[]) => FoldsyncEvent): Promise<void> => {
    const events: FoldsyncEvent[] = [];
    for (let i = 0; i < changes.length; i += CHANGES_PER_EVENT) events.push(make(changes.slice(i, i + CHANGES_PER_EVENT)));
    changes.length = 0;
    await write(events);
  };

  /** Files that were being written when they were read: looked at again by a later round. */
  const changing = new Set<RelPath>();
  let changingSince: number | null = null;

  /**
   * Hashes `meta` when its size, mtime or identity changed since `prev`; null when it cannot be
   * read now (changing under us, unreadable: recorded in `skipped`), `gone` when it vanished.
   */
  const withHash = async (path: RelPath, meta: LocalMeta, prev: LocalMeta | undefined, skipped: FoldsyncEvent[]): Promise<LocalMeta | null | 'gone'> => {
    if (meta.kind !== 'file') return meta;
    // Hashed by the scan itself, beside its listing (a first scan's worker thread).
    if (meta.hash !== undefined) return meta;
    if (prev?.hash !== undefined && prev.kind === 'file' && prev.size === meta.size && prev.mtimeNs === meta.mtimeNs && prev.fileId === meta.fileId) {
      return { ...meta, hash: prev.hash };
    }
    let hashed: HashOutcome;
    try {
      hashed = await local.hash(path, prev ?? null);
    } catch (error) {
      // Seen, then gone or unreadable before it was read (the person deleted it, an IO error): one
      // file's problem, never the round's. Gone counts as a delete; unreadable keeps what the tree
      // knew, so nothing is propagated from it.
      if (!(error instanceof LocalFsError)) throw error;
      if (error.code === 'not-found') return 'gone';
      skipped.push({ type: 'LocalSkipped', v: 1, path, reason: 'unreadable', message: error.message });
      return null;
    }
    if (hashed.status === 'changing') {
      skipped.push({ type: 'LocalSkipped', v: 1, path, reason: 'changing', message: hashed.message });
      changing.add(path);
      changingSince ??= clock.now();
      return null;
    }
    return hashed.meta;
  };

  const localPathsBelow = (under: RelPath): RelPath[] => localPathsBelowIn(trees, under);

  /** True when a folder above `path` is one the filters prune (nothing below it syncs). */
  const prunedAbove = (path: RelPath): boolean => {
    for (let up = parentOf(path); up !== ''; up = parentOf(up)) if (filter.prunes(up)) return true;
    return false;
  };

  const localChanged = (c: LocalChange[], source: 'scan' | 'watch'): FoldsyncEvent => ({ type: 'LocalChanged', v: 1, source, changes: c });

  /** Scans folder `under` ('' for the whole root) and records every difference from the local tree. */
  const scanLocal = async (under: RelPath = ''): Promise<void> => {
    const scanId = ids.next('scan');
    await write([{ type: 'LocalScanStarted', v: 1, scanId, under }]);
    const known = trees.count('local');
    const pre = under === '' ? prefetch : null;
    if (pre !== null) prefetch = null;
    const { files, dirs, bytes, skipped } = await diffLocalScan(trees, under, local.scan(under, {
        filter,
        expectedEntries: under === '' ? known : 0,
        // A first scan hashes every file: small ones may be hashed beside the listing.
        hashUpTo: known === 0 ? SMALL_UPLOAD : 0,
        ...(pre === null ? {} : { prefetch: pre }),
      }), {
      withHash,
      flush: (changes) => flushChanges(changes, (c) => localChanged(c, 'scan')),
      flushAt: CHANGES_PER_EVENT,
      // A stopped task (paused, cancelled, configured) does not scan on.
      stopped,
    });
    await write([...skipped, { type: 'LocalScanCompleted', v: 1, scanId, files, dirs, bytes }]);
  };

  /**
   * Looks again at the paths the watcher reported and at the folders it asked to rescan, now,
   * while no action of this task runs (so what is recorded is never older than the task's own
   * effects), and records every difference from the local tree.
   */
  const observeLocal = async (notes: LocalNotes): Promise<void> => {
    const rescans = [...new Set(notes.rescans)].sort(compareRelPaths);
    if (rescans.includes('')) {
      await scanLocal('');
      return;
    }
    const covered = (p: RelPath): boolean => rescans.some((r) => isAtOrBelow(p, r));
    const scanned: RelPath[] = [];
    for (const r of rescans) if (!scanned.some((s) => isAtOrBelow(r, s))) scanned.push(r);
    const changes: LocalChange[] = [];
    const skipped: FoldsyncEvent[] = [];
    const subtrees: RelPath[] = [];
    const removed: RelPath[] = [];
    const paths = [...new Set(notes.paths)].sort(compareRelPaths);
    for (const reported of paths) {
      // A path whose folder the tree does not know yet: the topmost unknown folder is scanned instead.
      let path = reported;
      for (let up = parentOf(path); up !== ''; up = parentOf(up)) if (trees.local(up)?.kind !== 'dir') path = up;
      if (covered(path) || [...subtrees, ...removed].some((s) => isAtOrBelow(path, s))) continue;
      const prev = trees.local(path);
      const found = await local.lstat(path);
      const meta = found === null ? null : metaOf(found);
      // Gone, a link or special file now, or ignored by the filters: the path and all below it leave the tree.
      if (meta === null || filter.ignores(path, meta.kind === 'dir' ? 'dir' : 'file', meta.size) || prunedAbove(path)) {
        if (found !== null && (found.kind === 'symlink' || found.kind === 'special')) {
          const message =
            found.kind === 'symlink'
              ? `"${path}" is a symbolic link; foldsync never follows or syncs links.`
              : `"${path}" is not a regular file or folder (a pipe, socket or device); it is not synced.`;
          skipped.push({ type: 'LocalSkipped', v: 1, path, reason: found.kind, message });
        }
        if (prev !== undefined) changes.push({ path, meta: null });
        for (const p of localPathsBelow(path)) changes.push({ path: p, meta: null });
        removed.push(path);
        continue;
      }
      if (meta.kind === 'dir' && (prev === undefined || prev.kind !== 'dir' || prev.fileId !== meta.fileId)) {
        // A new folder (or one put in place of another): what is below it is scanned, not trusted to the watcher.
        if (!sameLocalMeta(prev, meta)) changes.push({ path, meta });
        subtrees.push(path);
        continue;
      }
      const hashed = await withHash(path, meta, prev, skipped);
      if (hashed === 'gone') {
        if (prev !== undefined) changes.push({ path, meta: null });
      } else if (hashed !== null && !sameLocalMeta(prev, hashed)) {
        changes.push({ path, meta: hashed });
      }
    }
    await flushChanges(changes, (c) => localChanged(c, 'watch'));
    if (skipped.length > 0) await write(skipped);
    for (const s of [...scanned, ...subtrees]) await scanLocal(s);
  };

  /**
   * Makes sure the task's cloud folder is there. A new task's folder is created. In two-way mode a
   * folder that held synced files and is gone now (deleted, moved or renamed in the cloud), or was
   * replaced by another folder since this runner listed it, holds the task instead (SPEC.md
   * section 5's guards, on the cloud side): listing it would trash every local file it lacks.
   * Upload mode puts a missing folder back and backs everything up again (SPEC.md 2.2).
   */
  const ensureCloudRoot = async (): Promise<'ok' | 'gone' | 'replaced'> => {
    if (cloudRoot === '') return 'ok';
    const root = await drive.stat(space, cloudRoot);
    const guarded = task.mode === 'two-way' && cursor !== null && trees.count('synced') > 0;
    if (root?.kind === 'dir') {
      if (guarded && cloudRootId !== null && root.id !== cloudRootId && acceptedGuard !== 'cloud-folder-replaced') return 'replaced';
      cloudRootId = root.id;
      return 'ok';
    }
    if (guarded) return 'gone';
    if (root === null) {
      // The folder and any missing folders above it: none is inside the task's folder, so their feed
      // entries change nothing in its tree, and the cursor may pass them as own (ADR 0100).
      const feed = feedCatcher();
      const created = await drive.mkdir(space, cloudRoot, { onFeed: feed.onFeed });
      cloudRootId = created.id;
      const span = feed.span();
      // Kept for the run that begins once the listing is recorded (its cursor is from before this write).
      if (span !== null) for (let n = span.first; n <= span.last; n++) own.set(n, { cursor: String(n), op: 'create', id: created.id, kind: 'dir', path: cloudRoot, version: created.version, size: 0, deleted: false, at: 0 });
    }
    return 'ok';
  };

  const listCloud = async (): Promise<void> => {
    const listedAt = await drive.cursor(space);
    const root = await ensureCloudRoot();
    if (root === 'gone') {
      throw new Held(
        'cloud-folder-gone',
        `The cloud folder ${space}:/${cloudRoot} is gone (deleted, moved or renamed in the cloud); foldsync paused instead of moving the local files in ${task.localRoot} to the trash. Restore the folder from the recycle bin or move it back, then resume the task; or cancel this task (the local files stay as they are) and create a new one.`,
      );
    }
    if (root === 'replaced') {
      throw new Held(
        'cloud-folder-replaced',
        `The cloud folder ${space}:/${cloudRoot} was replaced by another folder of the same name; foldsync paused instead of syncing the difference. Resume the task to sync with the new folder (local files missing from it go to the trash), or put the original folder back first.`,
      );
    }
    const entries = await drive.list(space, cloudRoot, { recursive: true });
    const seen = new Set<RelPath>();
    const changes: CloudChange[] = [];
    const prefix = cloudRoot === '' ? '' : `${cloudRoot}/`;
    for (const entry of entries) {
      if (!entry.path.startsWith(prefix) || entry.path === cloudRoot) continue;
      const path = entry.path.slice(prefix.length);
      // A name no local folder can hold ('..', NUL, empty or overlong segments) from a broken or
      // hostile cloud never enters the trees, so it can never become a local path outside the root.
      if (!isRelPath(path)) continue;
      seen.add(path);
      const meta = cloudMetaOf(entry);
      const prev = trees.cloud(path);
      if (prev === undefined || !sameCloudMeta(prev, meta)) changes.push({ path, meta });
    }
    for (const p of trees.paths('cloud')) if (!seen.has(p)) changes.push({ path: p, meta: null });
    const events: FoldsyncEvent[] = [];
    for (let i = 0; i < changes.length || i === 0; i += CHANGES_PER_EVENT) {
      const event: CloudChanged = { type: 'CloudChanged', v: 1, source: 'list', cursor: listedAt, changes: changes.slice(i, i + CHANGES_PER_EVENT) };
      events.push(i === 0 && cloudRootId !== null ? { ...event, rootId: cloudRootId } : event);
    }
    await write(events);
  };

  /** Adds the feed entries of an own write whose outcome is recorded, and moves {@link ownTo} over what it can. */
  const noteOwn = (entries: readonly ChangeEntry[]): void => {
    if (ownBlocked) return;
    for (const e of entries) {
      const n = feedNumber(e.cursor);
      if (n !== null) own.set(n, e);
    }
    if (!ownStuck) advanceOwn();
  };

  /**
   * Moves {@link ownTo} over the run of own entries right after the cursor, when folding them into
   * the cloud tree changes nothing: the tree holds them already, so the feed would bring nothing new
   * there. Reading the feed from past the run then ends where reading it from the cursor would.
   */
  const advanceOwn = (): void => {
    const at = feedNumber(cursor);
    if (at === null) return;
    const from = Math.max(at, ownTo ?? at);
    const run: ChangeEntry[] = [];
    for (let e = own.get(from + 1); e !== undefined; e = own.get(from + 1 + run.length)) run.push(e);
    if (run.length === 0) return;
    const fold = foldFeed(run, cloudRoot, (p) => trees.cloud(p));
    if (fold.rootTouched || fold.changes.length > 0) {
      ownStuck = true;
      return;
    }
    for (let n = from + 1; n <= from + run.length; n++) own.delete(n);
    ownTo = from + run.length;
  };

  /**
   * After a plan's actions all have their outcomes: moves the cursor past the own run. A long run
   * is recorded, after those outcomes in the log (a crash before it only means the feed is read
   * again); a short one moves it in memory only, as a short quiet read of the feed does. A gap left
   * now is never filled by this task, so later own entries wait for the next read of the feed.
   */
  const recordOwn = async (): Promise<void> => {
    ownStuck = false;
    advanceOwn();
    const at = feedNumber(cursor);
    const to = ownTo;
    const past = to ?? at ?? 0;
    for (const n of own.keys()) if (n > past) ownBlocked = true;
    own.clear();
    ownTo = null;
    if (at === null || to === null || to <= at) return;
    if (to - (feedNumber(recordedCursor) ?? 0) >= FEED_RECORD_AFTER) await write([{ type: 'CloudChanged', v: 1, source: 'feed', cursor: String(to), changes: [] }]);
    else cursor = String(to);
  };

  /** After the cloud was observed (the cursor moved): own entries it passed are dropped, and a new run may begin. */
  const observedOwn = (): void => {
    const at = feedNumber(cursor);
    for (const n of own.keys()) if (at === null || n <= at) own.delete(n);
    ownTo = null;
    ownStuck = false;
    ownBlocked = false;
  };

  /**
   * Reads the change feed from the task's cursor to its end and records what changed under the
   * task's cloud folder. Lists instead when there is no cursor yet, or when the folder itself was
   * moved or deleted. A read with no change for this task is not recorded (the cursor moves on in
   * memory; after a restart those pages are read again, which changes nothing) unless it was long
   * (FEED_RECORD_AFTER entries): then the cursor alone is recorded.
   */
  const readCloudFeed = async (): Promise<void> => {
    const from = cursor;
    if (from === null) return listCloud();
    const entries: ChangeEntry[] = [];
    let at = from;
    for (;;) {
      const page = await drive.changes(space, at, {});
      entries.push(...page.changes);
      at = page.cursor;
      if (!page.more) break;
    }
    const fold = foldFeed(entries, cloudRoot, (p) => trees.cloud(p));
    if (fold.rootTouched) return listCloud();
    if (fold.changes.length === 0) {
      // A long stretch of the feed with nothing new for this task (its own uploads, other folders'
      // changes) is recorded once, so a restart does not read it again; a short one is not, so
      // quiet rounds stay quiet.
      if (entries.length >= FEED_RECORD_AFTER) await write([{ type: 'CloudChanged', v: 1, source: 'feed', cursor: at, changes: [] }]);
      cursor = at;
      return;
    }
    const events: FoldsyncEvent[] = [];
    for (let i = 0; i < fold.changes.length; i += CHANGES_PER_EVENT) {
      events.push({ type: 'CloudChanged', v: 1, source: 'feed', cursor: at, changes: fold.changes.slice(i, i + CHANGES_PER_EVENT) });
    }
    await write(events);
  };

  /** Set by a task-level failure: the rest of the plan is not run. */
  let halted: { reason: TaskFailureReason; message: string; retryable: boolean } | null = null;
  // A function, not the variable: the compiler would take `halted` as fixed across awaits.
  const haltedBy = (): typeof halted => halted;
  /** Set by stop(): nothing new starts. The machine stops when the round in progress (if any) ends. */
  let stopping = false;
  const stopped = (): boolean => stopping;
  let inRound = false;
  /** The stream could not be written: this runner is of no more use. */
  let unusable = false;

  /** Runs one planned action through the pool, appending its start and outcome. */
  const perform = async ({ actionId, action }: PlannedAction): Promise<void> => {
    if (halted !== null || stopping) return;
    const transfer = action.op === 'upload' || action.op === 'download';
    // A small upload is one file of a batch: the batch, not the file, takes a place in the pool.
    const small = ctx.uploadSmall !== undefined && action.op === 'upload' && action.local.size <= SMALL_UPLOAD;
    const outcome = await (small
      ? smallReads.run(action.local.size + 4096, () => executeAndMark(actionId, action))
      : transfer
        ? pool.run(() => executeAndMark(actionId, action))
        : executeAndMark(actionId, action));
    if (outcome === null) return;
    prog.done += 1;
    report();
    if (outcome.ok) {
      await write([{ type: 'ActionSucceeded', v: 1, actionId, local: outcome.local, cloud: outcome.cloud, synced: outcome.synced }]);
      // Only now, with the outcome folded into the cloud tree, may the cursor pass the write's entries.
      if (outcome.own !== undefined) noteOwn(outcome.own);
      return;
    }
    if (outcome.taskFailure !== undefined) {
      halted ??= { reason: outcome.taskFailure, message: taskFailureMessage(outcome.taskFailure, outcome.message), retryable: false };
      return;
    }
    const attempt = Math.max(open.get(actionId)?.attempts ?? 0, failuresOf.get(failureKey(action)) ?? 0) + 1;
    const nextRetryAt = outcome.transient ? clock.now() + retryDelayMs(attempt) : null;
    await write([{ type: 'ActionFailed', v: 1, actionId, reason: outcome.reason, message: outcome.message, transient: outcome.transient, attempt, nextRetryAt }]);
  };

  const executeAndMark = async (actionId: string, action: Action) => {
    // Queued behind the pool when the task stopped: it never starts.
    if (stopping) return null;
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
  const guard = async (reason: Exclude<PauseReason, 'user'>, message: string): Promise<SyncResult> => {
    machine.send({ type: 'GUARD', reason, message });
    await writer.settled();
    return { status: 'paused', failedFiles: failedActions.size };
  };

  /** When a retryable task-level failure is to be tried again (ms), or null. */
  let taskRetryAt: number | null = null;

  /** Fails the task as a whole; retryable failures are retried after the machine's backoff. */
  const failTask = async (failure: { reason: TaskFailureReason; message: string; retryable: boolean }): Promise<SyncResult> => {
    machine.send({ type: 'FAIL', ...failure });
    taskRetryAt = failure.retryable ? clock.now() + retryDelayMs(machine.getSnapshot().context.attempt) : null;
    await writer.settled();
    return { status: 'failed', failedFiles: failedActions.size };
  };

  /** How a round looks at the two sides. */
  type Observation = { readonly full: true; readonly list: boolean } | { readonly full: false; readonly notes: LocalNotes };

  const runRound = async (observation: Observation): Promise<SyncResult> => {
    if (stopping) return { status: taskStatusOf(machine.getSnapshot().value) ?? 'completed', failedFiles: failedActions.size };
    inRound = true;
    try {
      return await runRoundOnce(observation);
    } finally {
      inRound = false;
      dropPrefetch();
      // A function, not the variable: the compiler would take `stopping` as fixed across awaits.
      if (stopped()) machine.stop();
    }
  };

  const runRoundOnce = async (observation: Observation): Promise<SyncResult> => {
    halted = null;
    try {
      const result = await syncRound(observation);
      const failure = haltedBy();
      if (failure !== null) needsFull = true;
      return failure === null ? result : await failTask(failure);
    } catch (error) {
      needsFull = true;
      if (error instanceof ScanStopped) return { status: taskStatusOf(machine.getSnapshot().value) ?? 'completed', failedFiles: failedActions.size };
      if (error instanceof Held) {
        if (machine.getSnapshot().value !== 'scanning') machine.send({ type: 'SYNC_NOW' });
        return await guard(error.reason, error.message);
      }
      const cause = taskFailureOf(error);
      if (cause !== null) return failTask({ reason: cause, message: taskFailureMessage(cause, error instanceof Error ? error.message : String(error)), retryable: false });
      if (error instanceof RemoteError) {
        return failTask({ reason: 'cloud-unreachable', message: `The cloud could not be reached (${error.message}); foldsync tries again by itself.`, retryable: true });
      }
      const failure = await unexpectedFailure(error, task.localRoot, writer.settled());
      if (failure === null) throw error;
      if (failure.reason === 'log-unwritable') unusable = true;
      return await failTask(failure).catch(() => ({ status: 'failed' as const, failedFiles: failedActions.size }));
    }
  };

  /** Failed actions whose retry time has come. */
  const dueFailures = (): [string, { action: Action; nextRetryAt?: number | null }][] => {
    const now = clock.now();
    return [...failedActions].filter(([, f]) => f.nextRetryAt != null && f.nextRetryAt <= now);
  };

  /**
   * Re-verification (ADR 0004): after a full observation every open or failed action is dropped and
   * its path planned again from what is there now; after an incremental one only the failures
   * that are due for a retry, or whose path changed again, are.
   */
  const reverify = async (full: boolean): Promise<void> => {
    let chosen: string[];
    if (full) {
      chosen = [...new Set([...open.keys(), ...failedActions.keys()])];
    } else {
      const dirty = new Set(trees.dirty());
      const due = new Set(dueFailures().map(([id]) => id));
      chosen = [...failedActions].filter(([id, f]) => due.has(id) || touchedPaths(f.action).some((p) => dirty.has(p))).map(([id]) => id);
    }
    const paths: RelPath[] = [];
    const abandoned: FoldsyncEvent[] = [];
    const why = firstRound ? 're-verified after restart' : full ? 'superseded by a fresh scan' : 'retried';
    const partials = new Set<RelPath>();
    for (const id of chosen) {
      const o = open.get(id) ?? failedActions.get(id);
      if (o !== undefined) paths.push(...retryPaths(trees, o.action));
      if (open.has(id)) abandoned.push({ type: 'ActionAbandoned', v: 1, actionId: id, why });
      if (o?.action.op === 'download') partials.add(parentOf(o.action.path));
      failedActions.delete(id);
    }
    // A download cut off by a crash leaves its temporary file beside the target: nobody else's, never synced.
    for (const folder of partials) await local.removePartials(folder).catch(() => 0);
    trees.markDirty(paths);
    firstRound = false;
    await write(abandoned);
  };

  const syncRound = async (observation: Observation): Promise<SyncResult> => {
    if (machine.getSnapshot().value === 'paused') return { status: 'paused', failedFiles: failedActions.size };
    // SPEC.md section 5: a vanished or replaced local folder pauses the task; an empty scan of it
    // must never turn into deletes on the cloud side.
    const root = await local.lstat('');
    if (root?.kind !== 'dir') {
      if (machine.getSnapshot().value !== 'scanning') machine.send({ type: 'SYNC_NOW' });
      return guard('folder-gone', `The local folder ${task.localRoot} is gone or is no longer a folder; foldsync paused instead of deleting its files in the cloud. Put the folder back, then resume the task.`);
    }
    if (rootId !== null && root.fileId !== rootId && acceptedGuard !== 'folder-replaced') {
      if (machine.getSnapshot().value !== 'scanning') machine.send({ type: 'SYNC_NOW' });
      return guard(
        'folder-replaced',
        `The local folder ${task.localRoot} was replaced by another folder; foldsync paused instead of syncing the difference. Resume the task to sync the new folder (files missing from it go to the cloud recycle bin), or put the original back.`,
      );
    }
    if (rootId !== null && root.fileId !== rootId) {
      // The user resumed after the guard held: the new folder is the task's from now on, also after a restart.
      await options.onRootAccepted?.(root.fileId);
      rootId = root.fileId;
    }
    if (observation.full) {
      if (machine.getSnapshot().value !== 'scanning') machine.send({ type: 'SYNC_NOW' });
      await scanLocal();
      await (observation.list ? listCloud() : readCloudFeed());
      observedOwn();
      needsFull = false;
    } else {
      await observeLocal(observation.notes);
      await readCloudFeed();
      observedOwn();
    }
    await reverify(observation.full);
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
    // An incremental round with nothing to plan shows nothing new: no status events for a quiet round.
    if (!observation.full && trees.dirty().length === 0) {
      await writer.settled();
      return { status: taskStatusOf(machine.getSnapshot().value) ?? 'completed', failedFiles: failedActions.size };
    }
    if (machine.getSnapshot().value !== 'synchronizing') Object.assign(prog, { planned: 0, done: 0, bytesTotal: 0, bytesDone: 0 });
    if (machine.getSnapshot().value === 'scanning') machine.send({ type: 'SCAN_DONE' });
    else if (machine.getSnapshot().value !== 'synchronizing') machine.send({ type: 'WORK_FOUND' });
    const allowMassDelete = acceptedGuard === 'mass-delete';
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (stopping) return { status: taskStatusOf(machine.getSnapshot().value) ?? 'completed', failedFiles: failedActions.size };
      const dirty = trees.takeDirty();
      if (dirty.length === 0) break;
      const now = clock.now();
      const plan = planActions({ trees, dirty, mode: task.mode, options: task.options, terminal: options.terminal, now, allowMassDelete, rootLength: task.localRoot.length });
      if (plan.held.length > 0) trees.markDirty(plan.held);
      const actions = plan.actions.map((action) => ({ actionId: ids.next('act'), action }));
      if (actions.length === 0 && plan.guard === null) break;
      // What the planner read besides the log, for replay --verify (ADR 0072).
      const planned = dirty.length > MAX_RECORDED_DIRTY ? null : sortRelPaths([...new Set(dirty)]);
      await write([{ type: 'PlanMade', v: 2, planId: ids.next('plan'), actions, guard: plan.guard, now, allowMassDelete, dirty: planned }]);
      prog.planned += actions.length;
      for (const { action } of actions) prog.bytesTotal += action.op === 'upload' ? action.local.size : action.op === 'download' ? action.cloud.size : 0;
      report();
      if (plan.guard !== null) {
        machine.send({ type: 'GUARD', reason: 'mass-delete', message: `${plan.guard.gone} of ${plan.guard.synced} synced files are gone at once; foldsync paused instead of deleting them. Resume the task to delete them too, or restore the files.` });
        await writer.settled();
        return { status: 'paused', failedFiles: failedActions.size };
      }
      await performPlan(actions);
      await recordOwn();
      if (haltedBy() !== null) return { status: 'failed', failedFiles: failedActions.size };
    }
    machine.send({ type: 'IDLE' });
    taskRetryAt = null;
    await writer.settled();
    return { status: taskStatusOf(machine.getSnapshot().value) ?? 'completed', failedFiles: failedActions.size };
  };

  return {
    syncOnce: (opts = {}) => {
      changing.clear();
      changingSince = null;
      return runRound({ full: true, list: opts.list === true });
    },
    syncChanges: (notes) => {
      const again = [...changing];
      changing.clear();
      changingSince = null;
      return runRound(needsFull ? { full: true, list: false } : { full: false, notes: { paths: [...notes.paths, ...again], rescans: notes.rescans } });
    },
    hasDueWork: () => dueFailures().length > 0,
    cloudCursor: () => cursor,
    files,
    nextRetryAt: () => {
      let min: number | null = taskRetryAt;
      if (changingSince !== null && (min === null || changingSince + CHANGING_RETRY_MS < min)) min = changingSince + CHANGING_RETRY_MS;
      for (const f of failedActions.values()) if (f.nextRetryAt != null && (min === null || f.nextRetryAt < min)) min = f.nextRetryAt;
      return min;
    },
    status: () => taskStatusOf(machine.getSnapshot().value) ?? 'completed',
    progress,
    trees,
    broken: () => unusable,
    foldedTo: () => foldedTo,
    restoredFrom: restored === null ? null : restored.foldedTo.streamVersion,
    writeSnapshot: (w) => {
      writeRunnerSnapshot(w, task.taskId, { trees, foldedTo, cursor, cloudRootId, held, open, failuresOf, failedActions });
    },
    stop: () => {
      stopping = true;
      dropPrefetch();
      if (!inRound) machine.stop();
      const stopped = new Error('task stopped');
      upload.abort(stopped);
      download.abort(stopped);
    },
  };
}

/**
 * Every path an action may have left changed or stale: both ends of a move. A move that failed or
 * was cut short by a crash leaves its source as it was, and nothing else would plan it again.
 */
/**
 * The paths an action is planned again from when it is retried or re-verified: its own, and for a
 * move every path below either end on any tree. The planner pairs a moved folder's children with
 * their new places by identity among the dirty paths; retrying the folder's move from its two paths
 * alone took a child that moved with it in the cloud for gone, and deleted it (property seed
 * 109724372).
 */
function retryPaths(trees: Trees, action: Action): RelPath[] {
  const own = touchedPaths(action);
  if (action.op !== 'local-move' && action.op !== 'cloud-move' && action.op !== 'conflict-rename') return own;
  const out = new Set<RelPath>();
  const walk = (tree: 'local' | 'cloud' | 'synced', p: RelPath): void => {
    for (const child of trees.children(tree, p)) {
      out.add(child);
      walk(tree, child);
    }
  };
  for (const root of own) {
    out.add(root);
    for (const tree of ['local', 'cloud', 'synced'] as const) walk(tree, root);
  }
  return [...out];
}

function touchedPaths(action: Action): RelPath[] {
  const to = actionPath(action);
  return action.op === 'local-move' || action.op === 'cloud-move' || action.op === 'conflict-rename' ? [action.from, to] : [to];
}

/** Thrown out of an observation to hold the task: the round ends in the guard's pause. */
class Held extends Error {
  constructor(
    readonly reason: Exclude<PauseReason, 'user'>,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The fold in `bytes` when it is of this build and task and ends at an event the log holds at that
 * place (same stream version, position and time); else null, and the whole stream is folded.
 */
async function usableSnapshot(log: EventLog, stream: string, taskId: string, bytes: Uint8Array<ArrayBuffer>, given: boolean): Promise<RunnerFold | null> {
  let fold: RunnerFold;
  try {
    fold = readRunnerSnapshot(bytes, taskId, given);
  } catch (error) {
    if (error instanceof SnapshotFormatError) return null;
    throw error;
  }
  const to = fold.foldedTo;
  if (to.streamVersion < 1) return null;
  const [e] = await log.readStream(stream, to.streamVersion, 1);
  return e !== undefined && e.streamVersion === to.streamVersion && e.position === to.position && e.at === to.at ? fold : null;
}

/** What a failure's attempts are counted by: the operation and the path it writes. */
function failureKey(action: Action): string {
  return `${action.op}\u0000${actionPath(action)}`;
}

/** The reasons a safety guard pauses a task for (every pause reason but the user's). */
const GUARD_REASONS: ReadonlySet<string> = new Set<Exclude<PauseReason, 'user'>>(['mass-delete', 'folder-gone', 'folder-replaced', 'cloud-folder-gone', 'cloud-folder-replaced']);

/** A feed position as a number (the reference cloud's are decimal sequence numbers), or null. */
function feedNumber(cursor: string | null): number | null {
  return cursor !== null && /^\d{1,15}$/.test(cursor) ? Number(cursor) : null;
}

/** Feed entries read without a change for the task after which the new cursor is recorded anyway. */
const FEED_RECORD_AFTER = 1000;

function taskFailureMessage(reason: TaskFailureReason, detail: string): string {
  if (reason === 'token-revoked') return `The cloud no longer accepts this task's token (${detail}). Sign in again: create the task anew with a valid --token.`;
  if (reason === 'not-permitted') return `This task's permission on its space was removed (${detail}). Ask the space's owner for the Synchronizer or Backer role, then resume the task.`;
  return detail;
}

