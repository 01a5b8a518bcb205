/**
 * The engine actor: the terminal's tasks, created after the checks of SPEC.md section 3, every
 * user command recorded on the `engine` stream, and each task run by its task runner. Rebuilt
 * from the log on start, so it carries on where it stopped (ADR 0004). Which cloud and which
 * disk a task talks to come from injected factories: real ones in production, simulated ones in
 * the simulation.
 */
import type { EventLog } from '../events/event-log.js';
import { readPages } from '../events/event-log.js';
import type { CloudLocation } from '../events/types.js';
import { ENGINE_STREAM } from '../events/types.js';
import type { Clock } from '../io/clock.js';
import type { Ids } from '../io/ids.js';
import type { LocalFs } from '../io/local-fs.js';
import type { RemoteDrive } from '../io/remote-drive.js';
import { FoldsyncError, isFoldsyncError } from '../lib/errors.js';
import { DEFAULT_OPTIONS, type SpaceType, type SyncMode, type TaskOptions } from '../lib/model.js';
import { checkNewTask, MAX_FILES_PER_TERMINAL, normalizeCloudPath } from '../machines/task-creation-rules.js';
import { foldEvents } from '../projections/projection.js';
import { taskRegistryProjection, type RegisteredTask, type TaskRegistry } from '../projections/task-registry.js';
import { createStreamWriter } from './stream-writer.js';
import { createPathFilter } from '../lib/filters.js';
import type { SnapshotStore } from '../io/snapshot-store.js';
import { createTaskRunner, type LocalNotes, type SyncResult, type TaskProgress, type TaskRunner } from './task-runner.js';
import type { Observable } from 'rxjs';
import { Subject } from '../lib/rx.js';
import type { RelPath } from '../lib/names.js';
import { retryDelayMs } from '../machines/task-machine.js';

/** Checks a local folder for SPEC.md section 3's refusals; throws a typed error, or returns its identity. */
export type LocalFolderCheck = (path: string, existingRoots: readonly string[]) => { readonly root: string; readonly rootId: string | null };

/** What the engine is built from. */
export interface EngineCoreOptions {
  readonly log: EventLog;
  readonly clock: Clock;
  readonly ids: Ids;
  /** This terminal's name, recorded once and used in conflict copy names. */
  readonly terminalName: string;
  /** The drive a task talks to (its cloud, acting in its mode). */
  readonly driveFor: (cloud: CloudLocation, mode: SyncMode) => RemoteDrive;
  /** The local side of a task. */
  readonly localFor: (root: string) => LocalFs;
  readonly checkLocalFolder: LocalFolderCheck;
  /** The URL tasks on the default cloud record (null: the embedded one). */
  readonly defaultCloudUrl: string | null;
  /** Files per terminal, all tasks together (default {@link MAX_FILES_PER_TERMINAL}). */
  readonly maxFiles?: number;
  /** Time between two full observations of a task while {@link EngineCore.run} runs, ms (default one hour). */
  readonly safetyRescanMs?: number;
  /**
   * Where task runners keep snapshots of their folds, so that a task's next runner (after a restart,
   * a configure) folds only the events after the snapshot (ADR 0012). Without it every runner folds
   * its whole stream.
   */
  readonly snapshots?: SnapshotStore;
  /**
   * Told of an error a task's round did not expect while {@link EngineCore.run} runs (a bug: the
   * task fails and is tried again later, and run() carries on); default: nothing is told.
   */
  readonly onTaskError?: (taskId: string, error: unknown) => void;
  /** Events a task's stream may grow by after its last snapshot before a round writes a new one (default {@link SNAPSHOT_EVERY_EVENTS}). */
  readonly snapshotEvery?: number;
}

/** Events a task's stream may grow by after its last snapshot before a round writes a new one. */
export const SNAPSHOT_EVERY_EVENTS = 20_000;

/**
 * Events a task's stream must have grown by since its last snapshot for a retired runner to write
 * one: a quiet `run --once` appends a handful of events, which the next runner folds in
 * microseconds, while writing a snapshot of 20,000 files (encode, fsync, rename) cost ~0.1-0.2 s
 * of its exit. Never more than `snapshotEvery`, so a world that snapshots every round still does.
 */
export const SNAPSHOT_AT_RETIRE_EVENTS = 1_000;

/** A request to create a task. */
export interface CreateTaskRequest {
  readonly localRoot: string;
  /** `SPACE:/path`. */
  readonly cloud: string;
  readonly mode?: SyncMode;
  readonly options?: Partial<TaskOptions>;
  /** The cloud's URL; default: the engine's default cloud. */
  readonly cloudUrl?: string | null;
}

/** The engine's public face (see `createEngine` in src/engine.ts for the batteries-included one). */
export interface EngineCore {
  /** The live tasks, oldest first. */
  tasks(): RegisteredTask[];
  task(taskId: string): RegisteredTask;
  /** Creates a task after every check; a refusal throws a {@link FoldsyncError} and is recorded. */
  createTask(request: CreateTaskRequest): Promise<RegisteredTask>;
  pause(taskId: string): Promise<void>;
  resume(taskId: string): Promise<void>;
  /** Stops and removes a task; no file on either side is touched. */
  cancel(taskId: string): Promise<void>;
  configure(taskId: string, options: Partial<TaskOptions>): Promise<RegisteredTask>;
  /**
   * Retries a task's failed files now (SPEC.md section 6's "retry failed files"): records
   * `RetryRequested`, then syncs the task, planning its failed paths again whatever their retry time.
   */
  retry(taskId: string): Promise<SyncResult>;
  /**
   * One incremental round of a task (ADR 0006), for an embedder that watches the local folder
   * itself: looks again at `notes` (the paths its watcher reported), reads the cloud change feed,
   * plans over what changed and acts. The task's first round after the engine starts is full.
   */
  syncChanges(taskId: string, notes: LocalNotes): Promise<SyncResult>;
  /** Syncs every live task (or one) until nothing is left to do; resolves with each task's result. */
  syncOnce(taskId?: string): Promise<ReadonlyMap<string, SyncResult>>;
  /**
   * Syncs continuously until `signal` aborts. Every task with `autoSync` that is not paused is
   * watched (the local watcher, and a long poll on the cloud change feed); its first round observes
   * both sides in full, later rounds only what the watcher reported and what the feed says, plus
   * failed transfers whose retry time has come; once an hour (`safetyRescanMs`) a round observes in
   * full again. `onRound` receives the results of the tasks that had a round.
   */
  run(signal: AbortSignal, onRound?: (results: ReadonlyMap<string, SyncResult>) => void): Promise<void>;
  /**
   * The progress of every task that syncs, as it changes (often during transfers: sample it, for
   * example with RxJS `auditTime`). Completes when the engine closes.
   *
   * @example
   * engine.progress$.pipe(auditTime(200)).subscribe((p) => console.log(p.taskId, p.bytesDone, p.bytesTotal));
   */
  readonly progress$: Observable<TaskProgress>;
  close(): Promise<void>;
}

/** The longest the continuous loop sleeps without a change. */
const IDLE_WAKE_MS = 60_000;
/** How long the change feed's long poll waits for a change before asking again. */
const FEED_WAIT_SECONDS = 25;
/** Pause before asking a failing change feed again. */
const FEED_RETRY_MS = 5_000;
/** Quiet time after the watcher reports a delete before the task plans (a burst of deletes is planned whole). */
const DELETE_SETTLE_MS = 1_500;
/** Default time between two full observations (scan and listing) of a running task: a safety net for a missed event. */
const SAFETY_RESCAN_MS = 60 * 60 * 1000;

/** What the continuous loop keeps per watched task. */
interface TaskWatch {
  /** The task as it was when the watch began (a configured task is a new object: a new watch). */
  readonly task: RegisteredTask;
  /** Local paths the watcher reported since the task's last round. */
  readonly paths: Set<RelPath>;
  /** Folders the watcher asked to scan again. */
  readonly rescans: Set<RelPath>;
  /** The change feed has news for this task. */
  cloudWoken: boolean;
  /** No round before this time (ms): a burst of deletes is still coming in. */
  settleUntil: number;
  /** When the task was last observed in full (ms). */
  lastFullAt: number;
  /** A round ran: the feed's long poll restarts from the task's cursor. */
  resync: boolean;
  stop(): void;
}

/** A sleep on the injected clock that another part of the engine can cut short. */
function createWakeUp(clock: Clock): { readonly until: (at: number) => Promise<void>; readonly wake: () => void } {
  let pending: (() => void) | null = null;
  let woken = false;
  return {
    until: (at) => {
      if (woken) {
        woken = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const cancel = clock.setTimeout(() => {
          pending = null;
          resolve();
        }, Math.max(0, at - clock.now()));
        pending = () => {
          cancel();
          pending = null;
          resolve();
        };
      });
    },
    wake: () => {
      if (pending === null) woken = true;
      else pending();
    },
  };
}

/** Parses `SPACE:/path`. */
export function parseCloudFolder(text: string): { readonly space: string; readonly path: string } {
  const at = text.indexOf(':');
  if (at <= 0) throw new FoldsyncError('bad-cloud-folder', `"${text}" is not a cloud folder; write it as SPACE:/path, for example personal:/Photos.`);
  return { space: text.slice(0, at), path: normalizeCloudPath(text.slice(at + 1)) };
}

/** Creates the engine over an open log and rebuilds it from the log. */
export async function createEngineCore(options: EngineCoreOptions): Promise<EngineCore> {
  const { log, clock, ids } = options;
  const safetyRescanMs = options.safetyRescanMs ?? SAFETY_RESCAN_MS;
  const p = taskRegistryProjection;
  let registry: TaskRegistry = p.initial();
  for await (const page of readPages(log, { stream: ENGINE_STREAM })) registry = foldEvents(p, registry, page);
  const writer = createStreamWriter(log, ENGINE_STREAM, await log.streamVersion(ENGINE_STREAM), (stored) => {
    registry = foldEvents(p, registry, stored);
  });
  if (registry.terminalId === null) {
    await writer.write([{ type: 'TerminalInitialized', v: 1, terminalId: ids.next('terminal'), terminalName: options.terminalName }]);
  }

  /** Each task's runner, built for `task` (the registry's object for the task when it was built). */
  const runners = new Map<string, { runner: TaskRunner; drive: RemoteDrive; task: RegisteredTask }>();
  const progress$ = new Subject<TaskProgress>();
  const get = (taskId: string): RegisteredTask => {
    const t = registry.tasks.get(taskId);
    if (t === undefined) throw new FoldsyncError('unknown-task', `There is no task ${taskId}; \`foldsync task list\` shows the tasks.`, { taskId });
    return t;
  };

  /**
   * One round of a task at a time (ADR 0099): each task's rounds, and anything that must not
   * overlap one (building its runner, retry's fresh start), run one after another in its lane.
   */
  const lanes = new Map<string, Promise<void>>();
  const inLane = <T>(taskId: string, job: () => Promise<T>): Promise<T> => {
    const result = (lanes.get(taskId) ?? Promise.resolve()).then(job);
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    lanes.set(taskId, done);
    void done.then(() => {
      if (lanes.get(taskId) === done) lanes.delete(taskId);
    });
    return result;
  };
  /** Drives of retired runners still being closed (a retired runner's last action may still use its drive). */
  const closing = new Set<Promise<void>>();
  /**
   * Drops a task's runner so the next sync starts from the log with the task's current settings.
   * The runner stops at once: no new action starts, and a round in progress ends at its next step.
   * Its drive is closed once that round is over; resolves then, or at once when `wait` is false.
   */
  const retire = async (taskId: string, wait = true): Promise<void> => {
    const r = runners.get(taskId);
    if (r === undefined) return;
    runners.delete(taskId);
    r.runner.stop();
    const closed = (lanes.get(taskId) ?? Promise.resolve())
      .then(() => (registry.tasks.has(taskId) ? snapshot(taskId, r.runner, Math.min(SNAPSHOT_AT_RETIRE_EVENTS, options.snapshotEvery ?? SNAPSHOT_EVERY_EVENTS)) : options.snapshots?.remove(taskId)))
      .catch(() => undefined)
      .then(() => r.drive.close())
      .catch(() => undefined);
    closing.add(closed);
    void closed.then(() => closing.delete(closed));
    if (wait) await closed;
  };
  /**
   * Tasks whose runner broke (its stream could not be written): consecutive breaks, and when the
   * continuous loop builds a new runner from the log.
   */
  const broken = new Map<string, { attempt: number; retryAt: number }>();
  /** The stream version of each task's last snapshot, written or read. */
  const snapshotAt = new Map<string, number>();
  /**
   * Writes a snapshot of `runner` (between its rounds) when its fold went at least `after` events
   * past the task's last one. A snapshot that cannot be written is skipped: it is only a cache.
   */
  const snapshot = async (taskId: string, runner: TaskRunner, after: number): Promise<void> => {
    const store = options.snapshots;
    const to = runner.foldedTo().streamVersion;
    if (store === undefined || runner.broken() || to - (snapshotAt.get(taskId) ?? 0) < after) return;
    try {
      await store.save(taskId, (w) => {
        runner.writeSnapshot(w);
      });
      snapshotAt.set(taskId, to);
    } catch {
      // The next runner folds more of the stream; nothing else depends on it.
    }
  };
  /**
   * The task's runner, built from its snapshot and the log when there is none yet. With
   * `prefetch` (a round that writes nothing into the local folder before its scan, as
   * `syncOnce`'s), a task that has a snapshot starts listing its folder while the snapshot is
   * restored (ADR 0030). A task with exclude patterns does not: the listing would enter them.
   */
  const runnerOf = async (task: RegisteredTask, prefetch = false): Promise<TaskRunner> => {
    const existing = runners.get(task.taskId);
    // A runner built for an older version of the task (paused, configured since) is not used.
    if (existing !== undefined && existing.task === task) return existing.runner;
    if (existing !== undefined) await retire(task.taskId, false);
    const drive = options.driveFor(task.cloud, task.mode);
    const others = (): number => {
      let n = 0;
      for (const [id, r] of runners) if (id !== task.taskId) n += r.runner.files();
      return n;
    };
    const local = options.localFor(task.localRoot);
    const listing = prefetch && task.options.filters.exclude.length === 0 && options.snapshots?.has(task.taskId) === true ? (local.prefetchScan?.() ?? null) : null;
    const saved = (await options.snapshots?.load(task.taskId).catch(() => null)) ?? null;
    let runner: TaskRunner;
    try {
      runner = await createTaskRunner({
        task,
        log,
        snapshot: saved,
        // A store's load gives bytes of the caller's own (SnapshotStore.load).
        snapshotGiven: true,
        prefetch: listing,
        local,
        drive,
        clock,
        ids,
        terminal: registry.terminalName ?? options.terminalName,
        fileLimit: { others, max: options.maxFiles ?? MAX_FILES_PER_TERMINAL },
        onProgress: (p) => {
          progress$.next(p);
        },
        onRootAccepted: async (rootId) => {
          await writer.write([{ type: 'TaskConfigured', v: 1, taskId: task.taskId, options: get(task.taskId).options, localRootId: rootId }]);
          // The runner itself accepted the new folder: it stays the runner of the task as recorded now.
          const entry = runners.get(task.taskId);
          if (entry?.runner === runner) runners.set(task.taskId, { ...entry, task: get(task.taskId) });
        },
      });
    } catch (error) {
      listing?.close();
      throw error;
    }
    runners.set(task.taskId, { runner, drive, task });
    snapshotAt.set(task.taskId, runner.restoredFrom ?? 0);
    return runner;
  };
  /** Wakes the continuous loop (a command changed what it should do); null while it is not running. */
  let wakeRun: (() => void) | null = null;

  /**
   * Watches one task's two sides for the continuous loop: the local watcher's paths (looked at
   * again by the next round) and the cloud change feed, read from the task's cursor by a long
   * poll that only says "something changed"; the round itself reads the feed.
   */
  const watchTask = (task: RegisteredTask, wake: () => void): TaskWatch => {
    const stop = new AbortController();
    const w: TaskWatch = {
      task,
      paths: new Set(),
      rescans: new Set(),
      cloudWoken: false,
      settleUntil: 0,
      lastFullAt: clock.now(),
      resync: false,
      stop: () => {
        stop.abort();
        cancelRetry?.();
        sub.unsubscribe();
        drive.close().catch(() => undefined);
      },
    };
    const knownId = (p: RelPath): string | undefined => runners.get(task.taskId)?.runner.trees.local(p)?.fileId;
    const sub = options
      .localFor(task.localRoot)
      .watch({ filter: createPathFilter(task.options.filters), knownId })
      .subscribe({
        next: (batch) => {
          for (const c of batch.changes) {
            if (c.type === 'rescan') w.rescans.add(c.under);
            else if (c.type === 'moved') w.paths.add(c.from).add(c.to);
            else w.paths.add(c.path);
            if (c.type === 'gone') w.settleUntil = clock.now() + DELETE_SETTLE_MS;
          }
          wake();
        },
        error: () => {
          w.rescans.add('');
          wake();
        },
      });
    const drive = options.driveFor(task.cloud, task.mode);
    const prefix = task.cloud.path.split('/').filter((x) => x !== '').join('/');
    const touches = (c: { path: string; fromPath?: string }): boolean =>
      prefix === '' || [c.path, c.fromPath ?? ''].some((p) => p === prefix || p.startsWith(`${prefix}/`) || prefix.startsWith(`${p}/`));
    // A function, not the property: the compiler would take `aborted` as fixed across awaits.
    const stopped = (): boolean => stop.signal.aborted;
    /** Ends the pause before the feed is asked again (the watch stopped). */
    let cancelRetry: (() => void) | null = null;
    void (async () => {
      let from: string | null = null;
      while (!stopped()) {
        try {
          if (w.resync || from === null) {
            from = runners.get(task.taskId)?.runner.cloudCursor() ?? from ?? (await drive.cursor(task.cloud.space));
            w.resync = false;
          }
          const batch = await drive.changes(task.cloud.space, from, { waitSeconds: FEED_WAIT_SECONDS, signal: stop.signal });
          from = batch.cursor;
          if (batch.changes.some(touches)) {
            w.cloudWoken = true;
            wake();
          }
        } catch {
          // The feed failed (the server is gone, or the watch stopped): try again a little later;
          // the task's own round reports an unreachable cloud.
          if (!stopped()) {
            await new Promise<void>((resolve) => {
              const cancel = clock.setTimeout(resolve, FEED_RETRY_MS);
              cancelRetry = () => {
                cancel();
                resolve();
              };
            });
            cancelRetry = null;
          }
        }
      }
    })();
    return w;
  };

  /**
   * One sync round of a task, in the task's lane, with the task as the registry holds it when the
   * round begins (a command given while the task waited for its lane has taken effect). With
   * `live`, a task that is gone, paused or no longer auto-synced gets no round: null. With `fresh`,
   * the task's runner is built anew from the log first (retry). A pause the task decided itself
   * (the mass-delete guard) is recorded as a pause on the engine stream, so it lasts across
   * restarts until the user resumes.
   */
  const syncTask = (
    taskId: string,
    how: { full: true; list: boolean } | { full: false; notes: LocalNotes } = { full: true, list: false },
    mode: { live?: boolean; fresh?: boolean; prefetch?: boolean } = {},
  ): Promise<SyncResult | null> =>
    inLane(taskId, async () => {
      const task = mode.live === true ? registry.tasks.get(taskId) : get(taskId);
      if (task === undefined || (mode.live === true && (task.paused || !task.options.autoSync))) return null;
      if (mode.fresh === true) await retire(taskId, false);
      const runner = await runnerOf(task, how.full && mode.prefetch === true);
      const result = await (how.full ? runner.syncOnce({ list: how.list }) : runner.syncChanges(how.notes));
      if (runners.get(taskId)?.runner !== runner) {
        // A command retired the runner during the round, which ended early: say what the task is now.
        return registry.tasks.get(taskId)?.paused === true ? { ...result, status: 'paused' } : result;
      }
      if (runner.broken()) {
        const attempt = (broken.get(taskId)?.attempt ?? 0) + 1;
        broken.set(taskId, { attempt, retryAt: clock.now() + retryDelayMs(attempt) });
        await retire(taskId, false);
      } else if (result.status !== 'failed') {
        broken.delete(taskId);
      }
      await snapshot(taskId, runner, options.snapshotEvery ?? SNAPSHOT_EVERY_EVENTS);
      if (result.status === 'paused' && !get(taskId).paused) await command('TaskPaused', taskId);
      return result;
    });
  /** {@link syncTask} for a task that gets its round whatever its state. */
  const syncNow = async (taskId: string, how?: { full: true; list: boolean } | { full: false; notes: LocalNotes }, fresh = false): Promise<SyncResult> => {
    const result = await syncTask(taskId, how, { fresh });
    if (result === null) throw new Error(`unreachable: task ${taskId} got no round`);
    return result;
  };

  const command = async (type: 'TaskPaused' | 'TaskResumed' | 'TaskCancelled' | 'SyncRequested' | 'RetryRequested', taskId: string): Promise<void> => {
    get(taskId);
    await writer.write([{ type, v: 1, taskId }]);
    // Inside the task's own round (its guard paused it) the drive closes when the round is over.
    await retire(taskId, !lanes.has(taskId));
    wakeRun?.();
  };

  const createTask = async (request: CreateTaskRequest): Promise<RegisteredTask> => {
    const mode = request.mode ?? 'two-way';
    const refuse = async (reason: string, message: string): Promise<never> => {
      await writer.write([{ type: 'TaskCreationRefused', v: 1, localRoot: request.localRoot, cloud: request.cloud, reason, message }]);
      throw new FoldsyncError(reason, message, { localRoot: request.localRoot, cloud: request.cloud });
    };
    let parsed: { space: string; path: string };
    let checked: { root: string; rootId: string | null };
    try {
      parsed = parseCloudFolder(request.cloud);
      checked = options.checkLocalFolder(request.localRoot, [...registry.tasks.values()].map((t) => t.localRoot));
    } catch (error) {
      if (isFoldsyncError(error)) return refuse(error.code, error.message);
      throw error;
    }
    const url = request.cloudUrl === undefined ? options.defaultCloudUrl : request.cloudUrl;
    const draft: CloudLocation = { url, space: parsed.space, spaceType: 'personal', path: parsed.path };
    const rules = checkNewTask([...registry.tasks.values()], draft);
    if (!rules.ok) return refuse(rules.reason, rules.message);
    const drive = options.driveFor(draft, mode);
    let spaceType: SpaceType;
    try {
      const spaces = await drive.spaces();
      const space = spaces.find((s) => s.name === parsed.space);
      if (space === undefined) {
        return await refuse('unknown-space', `The cloud has no space "${parsed.space}" for this user; the spaces are: ${spaces.map((s) => s.name).join(', ')}.`);
      }
      spaceType = space.type;
      const verdict = await drive.checkPermission(parsed.space, mode);
      if (!verdict.allowed) {
        return await refuse('not-permitted', `A ${mode} task is not permitted on ${parsed.space} with the role ${verdict.role ?? 'none'}: ${verdict.message}.`);
      }
    } finally {
      await drive.close();
    }
    const taskId = ids.next('task');
    const merged: TaskOptions = { ...DEFAULT_OPTIONS, ...request.options };
    await writer.write([
      { type: 'TaskCreated', v: 2, taskId, localRoot: checked.root, localRootId: checked.rootId, cloud: { ...draft, spaceType }, mode, options: merged },
    ]);
    return get(taskId);
  };

  return {
    tasks: () => [...registry.tasks.values()].sort((a, b) => a.createdAt - b.createdAt || (a.taskId < b.taskId ? -1 : 1)),
    task: get,
    createTask,
    pause: (taskId) => command('TaskPaused', taskId),
    resume: (taskId) => command('TaskResumed', taskId),
    cancel: (taskId) => command('TaskCancelled', taskId),
    configure: async (taskId, changes) => {
      const t = get(taskId);
      const merged: TaskOptions = { ...t.options, ...changes };
      await writer.write([{ type: 'TaskConfigured', v: 1, taskId, options: merged }]);
      await retire(taskId, !lanes.has(taskId));
      wakeRun?.();
      return get(taskId);
    },
    retry: async (taskId) => {
      get(taskId);
      await writer.write([{ type: 'RetryRequested', v: 1, taskId }]);
      // A round in progress finishes first; then the task starts afresh from the log.
      return syncNow(taskId, undefined, true);
    },
    syncChanges: (taskId, notes) => syncNow(get(taskId).taskId, { full: false, notes }),
    syncOnce: async (taskId) => {
      const results = new Map<string, SyncResult>();
      const chosen = taskId === undefined ? [...registry.tasks.keys()] : [get(taskId).taskId];
      for (const id of chosen) {
        // A task cancelled while another synced is not synced.
        // Nothing else writes into the task's folder before its scan: it may be listed early.
        const result = await syncTask(id, undefined, { live: false, prefetch: true }).catch((error: unknown) => {
          if (taskId === undefined && isFoldsyncError(error, 'unknown-task')) return null;
          throw error;
        });
        if (result !== null) results.set(id, result);
      }
      return results;
    },
    run: async (signal, onRound) => {
      // A function, not the property: the compiler would take `aborted` as fixed across awaits.
      const aborted = (): boolean => signal.aborted;
      const watches = new Map<string, TaskWatch>();
      const wait = createWakeUp(clock);
      wakeRun = wait.wake;
      const onAbort = (): void => {
        wait.wake();
      };
      signal.addEventListener('abort', onAbort);
      try {
        while (!aborted()) {
          const live = [...registry.tasks.values()].filter((t) => t.options.autoSync && !t.paused);
          // Watch what is live with its current settings; a configured task gets a new watch.
          for (const [id, w] of watches) {
            if (live.some((t) => t === w.task)) continue;
            w.stop();
            watches.delete(id);
          }
          for (const t of live) if (!watches.has(t.taskId)) watches.set(t.taskId, watchTask(t, wait.wake));
          const results = new Map<string, SyncResult>();
          const now = clock.now();
          let nextAt = now + IDLE_WAKE_MS;
          for (const { taskId } of live) {
            if (aborted()) break;
            const w = watches.get(taskId);
            if (w === undefined) continue;
            // A command given during another task's round changed this one: the next pass watches it anew.
            if (registry.tasks.get(taskId) !== w.task) {
              nextAt = now;
              continue;
            }
            const runner = runners.get(taskId)?.runner;
            const retryAt = runner?.nextRetryAt() ?? null;
            const safetyAt = w.lastFullAt + safetyRescanMs;
            const rebuildAt = runner === undefined ? (broken.get(taskId)?.retryAt ?? null) : null;
            if (rebuildAt !== null && rebuildAt > now) {
              nextAt = Math.min(nextAt, rebuildAt);
              continue;
            }
            const due = runner === undefined || w.paths.size > 0 || w.rescans.size > 0 || w.cloudWoken || (retryAt !== null && retryAt <= now) || safetyAt <= now;
            if (!due) {
              nextAt = Math.min(nextAt, retryAt ?? Infinity, safetyAt);
              continue;
            }
            // Deletes arrive in bursts (rm -r): wait for the burst to end, so the mass-delete guard sees it whole.
            if (w.settleUntil > now) {
              nextAt = Math.min(nextAt, w.settleUntil);
              continue;
            }
            const notes: LocalNotes = { paths: [...w.paths], rescans: [...w.rescans] };
            w.paths.clear();
            w.rescans.clear();
            w.cloudWoken = false;
            const full = safetyAt <= now;
            if (full) w.lastFullAt = now;
            let result: SyncResult | null;
            try {
              result = await syncTask(taskId, full ? { full: true, list: true } : { full: false, notes }, { live: true });
            } catch (error) {
              // Only a failure of the engine's own stream ends the loop; any other error is this
              // task's (its runner could not be built, a bug in its round): it is tried again later.
              await writer.settled();
              try {
                options.onTaskError?.(taskId, error);
              } catch {
                // A logger's own failure changes nothing here.
              }
              const attempt = (broken.get(taskId)?.attempt ?? 0) + 1;
              broken.set(taskId, { attempt, retryAt: clock.now() + retryDelayMs(attempt) });
              result = { status: 'failed', failedFiles: runners.get(taskId)?.runner.progress().failedFiles ?? 0 };
              await retire(taskId, false);
            }
            w.resync = true;
            nextAt = now;
            if (result !== null) results.set(taskId, result);
          }
          if (results.size > 0) onRound?.(results);
          if (aborted()) return;
          if (nextAt > clock.now()) await wait.until(nextAt);
        }
      } finally {
        wakeRun = null;
        signal.removeEventListener('abort', onAbort);
        for (const w of watches.values()) w.stop();
      }
    },
    progress$: progress$.asObservable(),
    close: async () => {
      progress$.complete();
      for (const id of [...runners.keys()]) await retire(id);
      await Promise.all([...closing]);
      await writer.settled();
    },
  };
}
