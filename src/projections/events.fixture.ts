/** Builders of stored events for projection tests. Not part of the public API. */
import { DEFAULT_OPTIONS, type Action, type SpaceType, type SyncMode } from '../lib/model.js';
import { ENGINE_STREAM, taskStream, type FoldsyncEvent, type StoredEvent } from '../events/types.js';

/** Appends events to an in-memory list with positions and stream versions, like a log would. */
export function createEventList(): {
  readonly events: StoredEvent[];
  add(stream: string, at: number, ...events: FoldsyncEvent[]): void;
  created(taskId: string, at: number, opts?: { space?: string; spaceType?: SpaceType; path?: string; mode?: SyncMode }): void;
  task(taskId: string, at: number, ...events: FoldsyncEvent[]): void;
} {
  const events: StoredEvent[] = [];
  const versions = new Map<string, number>();
  const add = (stream: string, at: number, ...batch: FoldsyncEvent[]): void => {
    for (const event of batch) {
      const streamVersion = (versions.get(stream) ?? 0) + 1;
      versions.set(stream, streamVersion);
      events.push({ position: events.length + 1, stream, streamVersion, at, event });
    }
  };
  return {
    events,
    add,
    created: (taskId, at, opts = {}) => {
      add(ENGINE_STREAM, at, {
        type: 'TaskCreated',
        v: 2,
        taskId,
        localRoot: `/home/u/${taskId}`,
        localRootId: '1:2',
        cloud: { url: null, space: opts.space ?? 'personal', spaceType: opts.spaceType ?? 'personal', path: opts.path ?? `/${taskId}` },
        mode: opts.mode ?? 'two-way',
        options: DEFAULT_OPTIONS,
      });
    },
    task: (taskId, at, ...batch) => {
      add(taskStream(taskId), at, ...batch);
    },
  };
}

/** An upload action of `size` bytes to `path`. */
export function upload(path: string, size: number): Action {
  return { op: 'upload', path, local: { kind: 'file', size, mtimeNs: '1', fileId: `1:${path}` }, cloudId: null, baseVersion: null, rule: 'test' };
}

/** A successful outcome that makes `path` a synced file. */
export function succeeded(actionId: string, path: string, size: number): FoldsyncEvent {
  return { type: 'ActionSucceeded', v: 1, actionId, local: [], cloud: [], synced: [{ path, entry: { kind: 'file', size } }] };
}
