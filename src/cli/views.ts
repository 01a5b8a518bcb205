/**
 * The views the CLI reads: the data folder's event log and its persisted projections
 * (`views.sqlite` beside `events.sqlite`, ADR 0070), caught up with the log on every read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createProjectionStore, type ProjectionStore } from '../actors/projection-store.js';
import type { EventLog } from '../events/event-log.js';
import { createSqliteEventLog } from '../events/sqlite-event-log.js';
import { createSystemClock } from '../io/clock.js';
import { resolveDataDir } from '../io/data-dir.js';
import { FoldsyncError } from '../lib/errors.js';
import { ALL_PROJECTIONS } from '../projections/all.js';

/** The event log file in a data folder. */
export const LOG_FILE = 'events.sqlite';
/** The persisted projections file in a data folder. */
export const VIEWS_FILE = 'views.sqlite';

/** Opens the data folder's log, or fails with `no-log` when there is none. */
export async function openDataLog(command: Command): Promise<{ log: EventLog; dataDir: string }> {
  const dataDir = resolveDataDir(command.optsWithGlobals<{ data?: string }>().data);
  const file = join(dataDir, LOG_FILE);
  if (!existsSync(file)) throw new FoldsyncError('no-log', `There is no foldsync data in ${dataDir} yet; create a task first.`);
  return { log: await createSqliteEventLog({ file, clock: createSystemClock() }), dataDir };
}

/** Runs `fn` over the projections, caught up with the data folder's log. */
export async function withViews<T>(command: Command, fn: (store: ProjectionStore, head: number, log: EventLog) => T | Promise<T>): Promise<T> {
  const { log, dataDir } = await openDataLog(command);
  const store = createProjectionStore({ file: join(dataDir, VIEWS_FILE), projections: ALL_PROJECTIONS });
  try {
    const head = await store.catchUp(log);
    return await fn(store, head, log);
  } finally {
    store.close();
    await log.close();
  }
}
