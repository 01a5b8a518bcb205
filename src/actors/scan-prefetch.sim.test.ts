/**
 * The engine's early listing of a task's folder (ADR 0030): `syncOnce` asks the local side for it
 * when it builds a runner from a snapshot, hands it to that runner's first scan, and closes it
 * whatever happens; other rounds never ask for one.
 */
import { describe, expect, it } from 'vitest';
import type { LocalFs } from '../io/local-fs.js';
import { createSimLocalFs } from '../io/sim-local-fs.js';
import { createMemorySnapshotStore } from '../io/snapshot-store.js';
import { createVirtualClock } from '../io/clock.js';
import { simEngineWorld } from './sim-engine.fixture.js';

/** The simulated local side with a prefetch that counts what becomes of it. */
function counted(local: LocalFs) {
  const counts = { started: 0, given: 0, closed: 0 };
  const wrapped: LocalFs = {
    ...local,
    prefetchScan: () => {
      counts.started++;
      let closed = false;
      return {
        close: () => {
          if (!closed) counts.closed++;
          closed = true;
        },
      };
    },
    scan: (under, options = {}) => {
      const { prefetch, ...rest } = options;
      if (prefetch !== undefined) {
        counts.given++;
        prefetch.close();
      }
      return local.scan(under, rest);
    },
  };
  return { wrapped, counts };
}

async function world() {
  const clock = createVirtualClock();
  const local = createSimLocalFs({ clock });
  const { wrapped, counts } = counted(local);
  const snapshots = createMemorySnapshotStore();
  const w = await simEngineWorld({ clock, snapshots, localFor: () => wrapped });
  const task = await w.engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs' });
  return { ...w, local, counts, task };
}

describe('the early listing of a task folder', () => {
  it('is started for a runner syncOnce builds from a snapshot, given to its scan and closed', async () => {
    const w = await world();
    w.local.user.write('a.txt', 'one');
    // No snapshot yet: nothing to restore, nothing to list early.
    await w.engine.syncOnce(w.task.taskId);
    expect(w.counts).toEqual({ started: 0, given: 0, closed: 0 });
    // Configure retires the runner; the next syncOnce builds one from the snapshot.
    await w.engine.configure(w.task.taskId, { conflicts: 'keep-both' });
    w.local.user.write('b.txt', 'two');
    expect((await w.engine.syncOnce(w.task.taskId)).get(w.task.taskId)?.status).toBe('completed');
    expect(w.counts).toEqual({ started: 1, given: 1, closed: 1 });
    expect(await w.person.stat('personal', 'Docs/b.txt')).not.toBeNull();
    // The runner is kept: its next round lists the folder itself.
    await w.engine.syncOnce(w.task.taskId);
    expect(w.counts).toEqual({ started: 1, given: 1, closed: 1 });
  });

  it('is closed unused when the first round does not scan (a paused task), and never started for other rounds or exclude patterns', async () => {
    const w = await world();
    w.local.user.write('a.txt', 'one');
    await w.engine.syncOnce(w.task.taskId);
    // A paused task: its round ends before it scans.
    await w.engine.pause(w.task.taskId);
    expect((await w.engine.syncOnce(w.task.taskId)).get(w.task.taskId)?.status).toBe('paused');
    expect(w.counts).toEqual({ started: 1, given: 0, closed: 1 });

    const x = await world();
    x.local.user.write('a.txt', 'one');
    await x.engine.syncOnce(x.task.taskId);
    await x.engine.configure(x.task.taskId, { filters: { include: [], exclude: ['*.log'], maxFileSize: null } });
    await x.engine.syncOnce(x.task.taskId);
    // Incremental rounds and retries never list early.
    await x.engine.configure(x.task.taskId, { conflicts: 'local-wins' });
    await x.engine.syncChanges(x.task.taskId, { paths: ['a.txt'], rescans: [] });
    await x.engine.retry(x.task.taskId);
    expect(x.counts).toEqual({ started: 0, given: 0, closed: 0 });
  });
});
