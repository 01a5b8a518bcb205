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
import { createTaskRunner, type SyncResult, type TaskRunner } from './task-runner.js';

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
}

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
  /** Syncs every live task (or one) until nothing is left to do; resolves with each task's result. */
  syncOnce(taskId?: string): Promise<ReadonlyMap<string, SyncResult>>;
  /**
   * Syncs continuously until `signal` aborts: a round over every task with `autoSync`, then a wait
   * for the next local change (the watcher) or cloud change (the change feed), or a minute.
   */
  run(signal: AbortSignal, onRound?: (results: ReadonlyMap<string, SyncResult>) => void): Promise<void>;
  close(): Promise<void>;
}

/** The longest the continuous loop sleeps without a change: a safety net for a missed event. */
const IDLE_WAKE_MS = 60_000;

/** Parses `SPACE:/path`. */
export function parseCloudFolder(text: string): { readonly space: string; readonly path: string } {
  const at = text.indexOf(':');
  if (at <= 0) throw new FoldsyncError('bad-cloud-folder', `"${text}" is not a cloud folder; write it as SPACE:/path, for example personal:/Photos.`);
  return { space: text.slice(0, at), path: normalizeCloudPath(text.slice(at + 1)) };
}

/** Creates the engine over an open log and rebuilds it from the log. */
export async function createEngineCore(options: EngineCoreOptions): Promise<EngineCore> {
  const { log, clock, ids } = options;
  const p = taskRegistryProjection;
  let registry: TaskRegistry = p.initial();
  for await (const page of readPages(log, { stream: ENGINE_STREAM })) registry = foldEvents(p, registry, page);
  const writer = createStreamWriter(log, ENGINE_STREAM, await log.streamVersion(ENGINE_STREAM), (events) => {
    registry = foldEvents(p, registry, events.map((event) => ({ position: 0, stream: ENGINE_STREAM, streamVersion: 0, at: clock.now(), event })));
  });
  if (registry.terminalId === null) {
    await writer.write([{ type: 'TerminalInitialized', v: 1, terminalId: ids.next('terminal'), terminalName: options.terminalName }]);
  }

  const runners = new Map<string, { runner: TaskRunner; drive: RemoteDrive }>();
  const get = (taskId: string): RegisteredTask => {
    const t = registry.tasks.get(taskId);
    if (t === undefined) throw new FoldsyncError('unknown-task', `There is no task ${taskId}; \`foldsync task list\` shows the tasks.`, { taskId });
    return t;
  };
  /** Drops a task's runner so the next sync starts from the log with the task's current settings. */
  const retire = async (taskId: string): Promise<void> => {
    const r = runners.get(taskId);
    if (r === undefined) return;
    runners.delete(taskId);
    r.runner.stop();
    await r.drive.close();
  };
  const runnerOf = async (task: RegisteredTask): Promise<TaskRunner> => {
    const existing = runners.get(task.taskId);
    if (existing !== undefined) return existing.runner;
    const drive = options.driveFor(task.cloud, task.mode);
    const others = (): number => {
      let n = 0;
      for (const [id, r] of runners) if (id !== task.taskId) n += r.runner.files();
      return n;
    };
    const runner = await createTaskRunner({
      task,
      log,
      local: options.localFor(task.localRoot),
      drive,
      clock,
      ids,
      terminal: registry.terminalName ?? options.terminalName,
      fileLimit: { others, max: options.maxFiles ?? MAX_FILES_PER_TERMINAL },
    });
    runners.set(task.taskId, { runner, drive });
    return runner;
  };
  /** Resolves at the first local or cloud change of any of `tasks`, after `waitMs`, or when `signal` aborts. */
  const nextChange = (tasks: readonly RegisteredTask[], signal: AbortSignal, waitMs: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const stop = new AbortController();
      const cleanups: (() => void)[] = [];
      const done = (): void => {
        stop.abort();
        for (const c of cleanups) c();
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done);
      cleanups.push(clock.setTimeout(done, waitMs));
      for (const task of tasks) {
        const sub = options.localFor(task.localRoot).watch({ filter: createPathFilter(task.options.filters) }).subscribe({ next: done, error: done });
        cleanups.push(() => {
          sub.unsubscribe();
        });
        const drive = options.driveFor(task.cloud, task.mode);
        cleanups.push(() => void drive.close());
        const prefix = task.cloud.path.split('/').filter((x) => x !== '').join('/');
        void (async () => {
          try {
            let cursor = await drive.cursor(task.cloud.space);
            while (!stop.signal.aborted) {
              const batch = await drive.changes(task.cloud.space, cursor, { waitSeconds: 25, signal: stop.signal });
              cursor = batch.cursor;
              if (batch.changes.some((c) => prefix === '' || c.path === prefix || c.path.startsWith(`${prefix}/`) || (c.fromPath ?? '').startsWith(`${prefix}/`))) {
                done();
                return;
              }
            }
          } catch {
            // The feed failed (server gone, aborted): the minute's timer still wakes the next round.
          }
        })();
      }
    });

  /**
   * One sync round of a task. A pause the task decided itself (the mass-delete guard) is recorded
   * as a pause on the engine stream, so it lasts across restarts until the user resumes.
   */
  const syncTask = async (task: RegisteredTask): Promise<SyncResult> => {
    const result = await (await runnerOf(task)).syncOnce();
    if (result.status === 'paused' && !get(task.taskId).paused) await command('TaskPaused', task.taskId);
    return result;
  };

  const command = async (type: 'TaskPaused' | 'TaskResumed' | 'TaskCancelled' | 'SyncRequested' | 'RetryRequested', taskId: string): Promise<void> => {
    get(taskId);
    await writer.write([{ type, v: 1, taskId }]);
    await retire(taskId);
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
      await retire(taskId);
      return get(taskId);
    },
    retry: async (taskId) => {
      await command('RetryRequested', taskId);
      return syncTask(get(taskId));
    },
    syncOnce: async (taskId) => {
      const results = new Map<string, SyncResult>();
      const chosen = taskId === undefined ? [...registry.tasks.values()] : [get(taskId)];
      for (const task of chosen) results.set(task.taskId, await syncTask(task));
      return results;
    },
    run: async (signal, onRound) => {
      // A function, not the property: the compiler would take `aborted` as fixed across awaits.
      const aborted = (): boolean => signal.aborted;
      while (!aborted()) {
        const results = new Map<string, SyncResult>();
        for (const task of registry.tasks.values()) {
          if (!task.options.autoSync || aborted()) continue;
          results.set(task.taskId, await syncTask(task));
        }
        onRound?.(results);
        if (aborted()) return;
        let retryAt: number | null = null;
        for (const { runner } of runners.values()) {
          const at = runner.nextRetryAt();
          if (at !== null && (retryAt === null || at < retryAt)) retryAt = at;
        }
        const waitMs = retryAt === null ? IDLE_WAKE_MS : Math.max(0, Math.min(IDLE_WAKE_MS, retryAt - clock.now()));
        await nextChange([...registry.tasks.values()].filter((t) => t.options.autoSync), signal, waitMs);
      }
    },
    close: async () => {
      for (const id of [...runners.keys()]) await retire(id);
      await writer.settled();
    },
  };
}
