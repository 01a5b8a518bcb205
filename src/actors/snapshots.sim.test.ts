/**
 * Runner snapshots (ADR 0012): a task's next runner starts from the snapshot its last runner wrote
 * and folds only the events after it, and then acts exactly as a runner that folded everything.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventLog } from '../events/memory-event-log.js';
import { createMemorySnapshotStore } from '../io/snapshot-store.js';
import { taskStream } from '../events/types.js';
import { SNAPSHOT_AT_RETIRE_EVENTS } from './engine.js';
import { createTaskRunner } from './task-runner.js';
import { simEngineWorld } from './sim-engine.fixture.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

async function world() {
  const snapshots = createMemorySnapshotStore();
  const w = await simEngineWorld({ snapshots });
  const task = await w.engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs', options: { filters: { include: [], exclude: ['*.log'], maxFileSize: null } } });
  return { ...w, snapshots, task };
}

describe('runner snapshots', () => {
  it('a round writes a snapshot; the next runner starts from it and syncs on like the first', async () => {
    const w = await world();
    w.local.user.write('a.txt', 'one');
    expect((await w.engine.syncOnce(w.task.taskId)).get(w.task.taskId)?.status).toBe('completed');
    expect(w.snapshots.count()).toBe(1);
    // Configure builds a new runner for the task, from the snapshot.
    await w.engine.configure(w.task.taskId, { conflicts: 'keep-both' });
    w.local.user.write('b.txt', 'two');
    expect((await w.engine.syncOnce(w.task.taskId)).get(w.task.taskId)?.status).toBe('completed');
    expect(await w.person.stat('personal', 'Docs/b.txt')).not.toBeNull();
    // Nothing already synced was uploaded again: a.txt is still at its first version.
    const versions = await w.person.versions('personal', (await w.person.stat('personal', 'Docs/a.txt'))!.id);
    expect(versions).toHaveLength(1);
  });

  it('a filter removed after the snapshot applies to what the cloud tree already held (every path is planned again)', async () => {
    const w = await world();
    await w.person.upload('personal', { path: 'Docs/b.log' }, new TextEncoder().encode('log'), { size: 3, hash: sha('log'), baseVersion: null });
    expect((await w.engine.syncOnce(w.task.taskId)).get(w.task.taskId)?.status).toBe('completed');
    expect(w.local.contentOf('b.log')).toBeNull();
    await w.engine.configure(w.task.taskId, { filters: { include: [], exclude: [], maxFileSize: null } });
    expect((await w.engine.syncOnce(w.task.taskId)).get(w.task.taskId)?.status).toBe('completed');
    expect(new TextDecoder().decode(w.local.contentOf('b.log'))).toBe('log');
  });

  it('is not used when it does not match the log (another log, a stream that is shorter): the whole stream is folded', async () => {
    const w = await world();
    w.local.user.write('a.txt', 'one');
    await w.engine.syncOnce(w.task.taskId);
    const bytes = await w.snapshots.load(w.task.taskId);
    expect(bytes).not.toBeNull();
    const base = { task: w.engine.tasks().find((t) => t.taskId === w.task.taskId)!, local: w.local, drive: w.cloud.drive('ada', 'two-way'), clock: w.clock, ids: { next: (k: string) => `${k}-x` }, terminal: 'sim' };
    const same = await createTaskRunner({ ...base, log: w.log, snapshot: bytes });
    expect(same.restoredFrom).not.toBeNull();
    expect(same.trees.paths('synced')).toEqual(['a.txt']);
    // Another log in which the task's stream is empty: the snapshot says more than the log holds.
    const other = createMemoryEventLog({ clock: w.clock });
    const fresh = await createTaskRunner({ ...base, log: other, snapshot: bytes });
    expect(fresh.restoredFrom).toBeNull();
    expect(fresh.trees.paths('synced')).toEqual([]);
    // Same stream length, other events: the recorded position does not match.
    const events = (await w.log.readStream(taskStream(w.task.taskId), 1, 100_000)).map((e) => e.event);
    const shifted = createMemoryEventLog({ clock: w.clock });
    await shifted.append('other', [{ type: 'SyncRequested', v: 1, taskId: 'x' }], 'any');
    await shifted.append(taskStream(w.task.taskId), events, 0);
    const moved = await createTaskRunner({ ...base, log: shifted, snapshot: bytes });
    expect(moved.restoredFrom).toBeNull();
    expect(moved.trees.paths('synced')).toEqual(['a.txt']);
    // A damaged snapshot is not used either.
    const damaged = bytes!.slice();
    damaged[damaged.length - 5] = (damaged[damaged.length - 5] ?? 0) ^ 0xff;
    const third = await createTaskRunner({ ...base, log: w.log, snapshot: damaged });
    expect(third.restoredFrom).toBeNull();
    expect(third.trees.paths('synced')).toEqual(['a.txt']);
  });

  it('a retired runner writes a snapshot only when its stream grew by enough events to be worth it', async () => {
    const snapshots = createMemorySnapshotStore();
    const w = await simEngineWorld({ snapshots, snapshotEvery: 1_000_000 });
    const task = await w.engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs' });
    w.local.user.write('a.txt', 'one');
    await w.engine.syncOnce(task.taskId);
    // A handful of events since no snapshot at all: folding them again is cheaper than writing one.
    await w.engine.configure(task.taskId, { conflicts: 'keep-both' });
    expect(snapshots.count()).toBe(0);
    for (let i = 0; i < SNAPSHOT_AT_RETIRE_EVENTS / 2; i++) w.local.user.write(`f${i}.txt`, `file ${i}`);
    await w.engine.syncOnce(task.taskId);
    expect((await w.log.readStream(taskStream(task.taskId), 0, 1_000_000)).length).toBeGreaterThan(SNAPSHOT_AT_RETIRE_EVENTS);
    await w.engine.configure(task.taskId, { conflicts: 'local-wins' });
    expect(snapshots.count()).toBe(1);
  });

  it('a cancelled task leaves no snapshot behind', async () => {
    const w = await world();
    await w.engine.syncOnce(w.task.taskId);
    expect(w.snapshots.count()).toBe(1);
    await w.engine.cancel(w.task.taskId);
    expect(w.snapshots.count()).toBe(0);
  });
});
