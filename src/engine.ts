/**
 * `createEngine`: the engine with its batteries: a data folder with its lock and SQLite event
 * log, the real disk, and a cloud: the one given, or else the embedded reference cloud server,
 * started in the data folder on 127.0.0.1 with a local user. Tokens never go into the event log
 * (it is exported and shared to debug); they are kept in the data folder, readable by its owner only.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createEngineCore, type EngineCore } from './actors/engine.js';
import type { EmbeddedCloud } from './cloud/embedded.js';
import { readCredentials, startEmbedded, takePrestarted, writeCredentials } from './embedded-start.js';
import { createSqliteEventLog } from './events/sqlite-event-log.js';
import type { EventLog } from './events/event-log.js';
import { createSystemClock, type Clock } from './io/clock.js';
import { lockDataDir } from './io/data-dir.js';
import { createHttpRemoteDrive } from './io/http-remote-drive.js';
import { createRandomIds, type Ids } from './io/ids.js';
import { createNodeLocalFs } from './io/node-local-fs.js';
import { createFileSnapshotStore } from './io/snapshot-store.js';
import { checkTaskFolder } from './io/task-folder-checks.js';
import { createTrash, type Trash } from './io/trash.js';
import { FoldsyncError } from './lib/errors.js';

/** Options of {@link createEngine}. */
export interface CreateEngineOptions {
  /** The engine's data folder: its event log, its lock, the embedded cloud's data. */
  readonly dataDir: string;
  /** The cloud new tasks talk to; default: the embedded reference cloud. */
  readonly cloud?: { readonly url: string; readonly token: string };
  readonly clock?: Clock;
  readonly ids?: Ids;
  /** This terminal's name in conflict copies; default the host name. */
  readonly terminalName?: string;
  /** Where local deletes go; default the user's freedesktop.org trash. */
  readonly trash?: Trash;
  /** Files per terminal, all tasks together (default 1,000,000; SPEC.md section 5). */
  readonly maxFiles?: number;
  /**
   * Told of an error a task's round did not expect while `run` runs (a bug: the task fails and is
   * tried again later). Default: one line with its stack on standard error, so a bug is never silent.
   */
  readonly onTaskError?: (taskId: string, error: unknown) => void;
}

/** A running engine. */
export interface Engine extends EngineCore {
  readonly dataDir: string;
  /** The engine's event log (read it; the engine alone appends to it). */
  readonly log: EventLog;
  /** The URL of the cloud new tasks use (the embedded server's while it runs). */
  readonly cloudUrl: string;
  /** The token for {@link cloudUrl}. */
  readonly cloudToken: string;
}

/** The file a running engine writes its embedded cloud's URL to, for `foldsync remote`. */
const EMBEDDED_URL_FILE = 'embedded-cloud.url';

/** The default {@link CreateEngineOptions.onTaskError}: the error and its stack on standard error. */
function reportTaskError(taskId: string, error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  process.stderr.write(`foldsync: task ${taskId} stopped on an unexpected error and will be tried again; please report it:\n${text}\n`);
}

/**
 * Reaches the embedded cloud of the engine data folder `dataDir`: the running engine's server when
 * there is one, else a server started here until `close`. For `foldsync remote` with no flags.
 */
export async function openEmbeddedCloud(dataDir: string): Promise<{ readonly url: string; readonly token: string; close(): Promise<void> }> {
  mkdirSync(dataDir, { recursive: true });
  const credentials = readCredentials(dataDir);
  const urlFile = join(dataDir, EMBEDDED_URL_FILE);
  if (existsSync(urlFile) && credentials.embedded !== undefined) {
    const url = readFileSync(urlFile, 'utf8').trim();
    const probe = createHttpRemoteDrive({ baseUrl: url, token: credentials.embedded.token, attempts: 1, headersTimeoutMs: 2000 });
    try {
      await probe.spaces();
      return { url, token: credentials.embedded.token, close: () => Promise.resolve() };
    } catch {
      // A URL left by an engine that stopped without cleaning up: start the server here instead.
    } finally {
      await probe.close();
    }
  }
  const { cloud, token } = await startEmbedded(dataDir);
  return { url: cloud.url, token, close: () => cloud.close() };
}

/**
 * Opens (or creates) the engine in `dataDir` and rebuilds it from its log.
 *
 * @example
 * const engine = await createEngine({ dataDir: '/home/ada/.foldsync' });
 * const task = await engine.createTask({ localRoot: '/home/ada/Photos', cloud: 'personal:/Photos' });
 * await engine.syncOnce(task.taskId);
 * await engine.close();
 */
export async function createEngine(options: CreateEngineOptions): Promise<Engine> {
  const clock = options.clock ?? createSystemClock();
  const ids = options.ids ?? createRandomIds();
  mkdirSync(options.dataDir, { recursive: true });
  const lock = lockDataDir(options.dataDir);
  let credentials = readCredentials(options.dataDir);
  const urlFile = join(options.dataDir, EMBEDDED_URL_FILE);
  let server: EmbeddedCloud | null = null;
  // The embedded cloud starts in its own thread while this one opens the log, unless the command
  // line started it already (bin/foldsync.js, while the modules loaded).
  const early = takePrestarted(options.dataDir);
  if (options.cloud !== undefined) void early?.then((s) => s.cloud.close()).catch(() => undefined);
  const starting = options.cloud === undefined ? (early ?? startEmbedded(options.dataDir)) : null;
  // Settled here too, so a failure to open the log never leaves its rejection unhandled.
  starting?.catch(() => undefined);
  try {
    const log = await createSqliteEventLog({ file: join(options.dataDir, 'events.sqlite'), clock }).catch(async (error: unknown) => {
      await starting?.then((s) => s.cloud.close()).catch(() => undefined);
      throw error;
    });
    let url: string;
    let token: string;
    if (options.cloud === undefined) {
      if (starting === null) throw new Error('the embedded cloud was not started');
      const started = await starting;
      server = started.cloud;
      token = started.token;
      credentials = started.credentials;
      url = server.url;
      writeFileSync(urlFile, `${url}\n`);
    } else {
      url = options.cloud.url;
      token = options.cloud.token;
      if (credentials.tokens[url] !== token) {
        credentials.tokens[url] = token;
        writeCredentials(options.dataDir, credentials);
      }
    }
    const embeddedUrl = url;
    const tokenFor = (cloudUrl: string | null): { url: string; token: string } => {
      if (cloudUrl === null) {
        if (credentials.embedded === undefined || server === null) {
          throw new FoldsyncError('cloud-unavailable', 'This task syncs with the embedded cloud, which is not running; start foldsync without --cloud-url.');
        }
        return { url: embeddedUrl, token: credentials.embedded.token };
      }
      const known = credentials.tokens[cloudUrl];
      if (known === undefined) throw new FoldsyncError('no-token', `No token is kept for ${cloudUrl}; pass --cloud-url ${cloudUrl} --token T once.`);
      return { url: cloudUrl, token: known };
    };
    const trash = options.trash ?? createTrash({ clock });
    const core = await createEngineCore({
      log,
      clock,
      ids,
      terminalName: options.terminalName ?? hostname(),
      defaultCloudUrl: options.cloud === undefined ? null : url,
      driveFor: (cloud, mode) => {
        const { url: baseUrl, token: t } = tokenFor(cloud.url);
        return createHttpRemoteDrive({ baseUrl, token: t, mode });
      },
      localFor: (root) => createNodeLocalFs({ root, clock, trash }),
      snapshots: createFileSnapshotStore(join(options.dataDir, 'snapshots')),
      onTaskError: options.onTaskError ?? reportTaskError,
      checkLocalFolder: (path, existingRoots) => checkTaskFolder(path, { existingRoots, engineDataDir: options.dataDir }),
      ...(options.maxFiles === undefined ? {} : { maxFiles: options.maxFiles }),
    });
    const running = server;
    return {
      ...core,
      dataDir: options.dataDir,
      log,
      cloudUrl: url,
      cloudToken: token,
      close: async () => {
        try {
          await core.close();
          await log.close();
          if (running !== null) {
            rmSync(urlFile, { force: true });
            await running.close();
          }
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    if (server !== null) await server.close();
    lock.release();
    throw error;
  }
}
