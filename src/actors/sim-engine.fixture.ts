/**
 * One engine on simulated sides and a virtual clock, for tests of the engine's own rules: user
 * `ada` with folders in her personal space (`Docs` unless told), and the simulated local side.
 * Tests wrap what they need to hold or fail (the log, every drive, the local side of a root).
 */
import type { EventLog } from '../events/event-log.js';
import { createMemoryEventLog } from '../events/memory-event-log.js';
import { createVirtualClock, type VirtualClock } from '../io/clock.js';
import { createSequentialIds } from '../io/ids.js';
import type { LocalFs } from '../io/local-fs.js';
import type { RemoteDrive } from '../io/remote-drive.js';
import { createSimCloud } from '../io/sim-remote-drive.js';
import { createSimLocalFs } from '../io/sim-local-fs.js';
import type { SnapshotStore } from '../io/snapshot-store.js';
import { createEngineCore } from './engine.js';
import { DEFAULT_OPTIONS, type SyncMode } from '../lib/model.js';
import type { RegisteredTask } from '../projections/task-registry.js';

/** Options of {@link simEngineWorld}. */
export interface SimEngineWorldOptions {
  /** The clock (default: a new virtual clock), for sides a test makes before the world. */
  readonly clock?: VirtualClock;
  /** Folders made in ada's personal space first (default: `Docs`). */
  readonly folders?: readonly string[];
  /** The log the engine writes, made from the in-memory one (default: that one). */
  readonly log?: (memory: EventLog) => EventLog;
  /** Wraps every drive the engine gets. */
  readonly drive?: (drive: RemoteDrive) => RemoteDrive;
  /** The local side of a task root (default: the world's `local` for every root). */
  readonly localFor?: (root: string) => LocalFs;
  /** Told of a task's unexpected error in run() (default: nothing). */
  readonly onTaskError?: (taskId: string, error: unknown) => void;
  /** Where runners keep snapshots, written after every round (default: none kept). */
  readonly snapshots?: SnapshotStore;
  /** The engine's `snapshotEvery` when `snapshots` is given (default 1: after every round). */
  readonly snapshotEvery?: number;
}

/** Builds the world (no task yet: each test creates its own). */
export async function simEngineWorld(options: SimEngineWorldOptions = {}) {
  const clock = options.clock ?? createVirtualClock();
  const cloud = createSimCloud({ clock, ids: createSequentialIds(100) });
  cloud.addUser('ada');
  const person = cloud.drive('ada', 'two-way');
  for (const folder of options.folders ?? ['Docs']) await person.mkdir('personal', folder);
  const local = createSimLocalFs({ clock });
  /** The in-memory log under whatever the test wrapped around it. */
  const log = createMemoryEventLog({ clock });
  const drive = options.drive ?? ((d: RemoteDrive) => d);
  const engine = await createEngineCore({
    log: options.log?.(log) ?? log,
    clock,
    ids: createSequentialIds(),
    terminalName: 'sim',
    defaultCloudUrl: null,
    driveFor: (_c, m) => drive(cloud.drive('ada', m)),
    localFor: options.localFor ?? (() => local),
    checkLocalFolder: (path) => ({ root: path, rootId: null }),
    ...(options.snapshots === undefined ? {} : { snapshots: options.snapshots, snapshotEvery: options.snapshotEvery ?? 1 }),
    ...(options.onTaskError === undefined ? {} : { onTaskError: options.onTaskError }),
  });
  return { clock, cloud, person, local, log, engine };
}

/** The task the runner sim tests sync: `/home/ada/Docs` with `personal:/Docs`, default options. */
export function docsTask(mode: SyncMode = 'two-way'): RegisteredTask {
  return {
    taskId: 't1',
    localRoot: '/home/ada/Docs',
    localRootId: null,
    cloud: { url: null, space: 'personal', spaceType: 'personal', path: '/Docs' },
    mode,
    options: DEFAULT_OPTIONS,
    paused: false,
    resumedAt: null,
    createdAt: 0,
    syncRequests: 0,
    retryRequests: 0,
  };
}
