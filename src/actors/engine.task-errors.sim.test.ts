/**
 * One task's error does not end continuous sync for the others (ADR 0098): a local error outside
 * one file, a failed append to the task's stream (disk full) and another writer on the task's
 * stream each fail that task, retryably and with a message that says what to do; run() carries on
 * with the other tasks and the failed one recovers by itself once the cause is gone. Only a
 * failure of the engine's own stream ends run().
 */
import { describe, expect, it } from 'vitest';
import type { EventLog } from '../events/event-log.js';
import { ENGINE_STREAM, taskStream, type FoldsyncEvent } from '../events/types.js';
import { createVirtualClock } from '../io/clock.js';
import { LocalFsError, type LocalFs } from '../io/local-fs.js';
import { createSimLocalFs, type SimLocalFs } from '../io/sim-local-fs.js';
import { simEngineWorld } from './sim-engine.fixture.js';
import type { SyncResult } from './task-runner.js';

type Fault = 'none' | 'lstat' | 'append' | 'conflict' | 'engine-append';

async function twoTasks() {
  const clock = createVirtualClock();
  const sides = new Map<string, SimLocalFs>([
    ['/a', createSimLocalFs({ clock, root: '/a' })],
    ['/b', createSimLocalFs({ clock, root: '/b', dev: 2 })],
  ]);
  let fault: Fault = 'none';
  let aStream = '';
  const failing = (memory: EventLog): EventLog => ({
    ...memory,
    append: async (stream, events, expected) => {
      if (fault === 'append' && stream === aStream) throw new Error('SQLITE_FULL: database or disk is full');
      if (fault === 'engine-append' && stream === ENGINE_STREAM) throw new Error('SQLITE_FULL: database or disk is full');
      if (fault === 'conflict' && stream === aStream) {
        // Another writer got there first, once.
        fault = 'none';
        await memory.append(stream, [{ type: 'SyncRequested', v: 1, taskId: aStream.slice('task:'.length) }], 'any');
      }
      return memory.append(stream, events, expected);
    },
  });
  const localFor = (root: string): LocalFs => {
    const l = sides.get(root)!;
    // With the engine's stream failing, B's folder is gone too: its guard pauses it, which is recorded on the engine stream.
    if (root !== '/a') return { ...l, lstat: (p) => (fault === 'engine-append' && p === '' ? Promise.resolve(null) : l.lstat(p)) };
    return { ...l, lstat: (p) => (fault === 'lstat' ? Promise.reject(new LocalFsError('permission', p, 'EACCES on the way to the root')) : l.lstat(p)) };
  };
  const { person, log: memory, engine } = await simEngineWorld({ clock, folders: ['A', 'B'], log: failing, localFor });
  const a = await engine.createTask({ localRoot: '/a', cloud: 'personal:/A' });
  const b = await engine.createTask({ localRoot: '/b', cloud: 'personal:/B' });
  aStream = taskStream(a.taskId);
  const rounds: Map<string, SyncResult>[] = [];
  const stop = new AbortController();
  let running: Promise<unknown> | null = null;
  const start = (): void => {
    running = engine.run(stop.signal, (r) => rounds.push(new Map(r))).then(
      () => 'resolved',
      (e: unknown) => e,
    );
  };
  /** Lets the loop work: real time for its promises, virtual time for its timers. */
  const pass = async (ms: number): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 10));
      clock.advance(ms / 10);
    }
    await new Promise((r) => setTimeout(r, 10));
  };
  const outcome = async (): Promise<unknown> => Promise.race([running, new Promise((r) => {
    setTimeout(() => {
      r('still running');
    }, 50);
  })]);
  const end = async (): Promise<unknown> => {
    stop.abort();
    const r = await running;
    await engine.close();
    return r;
  };
  const statuses = async (taskId: string) =>
    (await memory.readStream(taskStream(taskId))).flatMap((e) => (e.event.type === 'TaskStatusChanged' ? [e.event] : []));
  return {
    engine, person, sides, rounds, start, pass, outcome, end, statuses,
    aId: a.taskId, bId: b.taskId,
    setFault: (f: Fault): void => {
      fault = f;
    },
  };
}

const failedWith = (events: (FoldsyncEvent & { type: 'TaskStatusChanged' })[], reason: string) => events.find((e) => e.status === 'failed' && e.reason === reason);

describe('one task\'s error during run()', () => {
  it('the local folder cannot be looked at: that task fails (retryably, said why), the other syncs, and it recovers', async () => {
    const w = await twoTasks();
    w.setFault('lstat');
    w.sides.get('/a')!.user.write('a.txt', 'a');
    w.sides.get('/b')!.user.write('b.txt', 'b');
    w.start();
    await w.pass(100);
    expect(await w.outcome()).toBe('still running');
    expect(await w.person.stat('personal', 'B/b.txt')).not.toBeNull();
    const failed = failedWith(await w.statuses(w.aId), 'local-unreadable');
    expect(failed?.message).toContain('EACCES on the way to the root');
    expect(failed?.message).toContain('tries again by itself');
    expect(w.rounds.some((r) => r.get(w.aId)?.status === 'failed')).toBe(true);
    w.setFault('none');
    await w.pass(10_000);
    expect(await w.person.stat('personal', 'A/a.txt')).not.toBeNull();
    expect((await w.statuses(w.aId)).at(-1)?.status).toBe('completed');
    expect(await w.end()).toBe('resolved');
  });

  it('the task\'s stream cannot be written (disk full): that task fails, the other syncs, and it recovers from the log', async () => {
    const w = await twoTasks();
    w.setFault('append');
    w.sides.get('/a')!.user.write('a.txt', 'a');
    w.sides.get('/b')!.user.write('b.txt', 'b');
    w.start();
    await w.pass(100);
    expect(await w.outcome()).toBe('still running');
    expect(await w.person.stat('personal', 'B/b.txt')).not.toBeNull();
    expect(w.rounds.some((r) => r.get(w.aId)?.status === 'failed')).toBe(true);
    w.setFault('none');
    await w.pass(10_000);
    expect(await w.person.stat('personal', 'A/a.txt')).not.toBeNull();
    expect((await w.statuses(w.aId)).at(-1)?.status).toBe('completed');
    expect(await w.end()).toBe('resolved');
  });

  it('another writer on the task\'s stream: that task fails with a stream conflict, reloads, and recovers', async () => {
    const w = await twoTasks();
    w.sides.get('/a')!.user.write('a.txt', 'a');
    w.sides.get('/b')!.user.write('b.txt', 'b');
    w.setFault('conflict');
    w.start();
    await w.pass(100);
    expect(await w.outcome()).toBe('still running');
    expect(await w.person.stat('personal', 'B/b.txt')).not.toBeNull();
    expect(w.rounds.some((r) => r.get(w.aId)?.status === 'failed')).toBe(true);
    w.setFault('none');
    await w.pass(10_000);
    expect(await w.person.stat('personal', 'A/a.txt')).not.toBeNull();
    expect((await w.statuses(w.aId)).at(-1)?.status).toBe('completed');
    expect(await w.end()).toBe('resolved');
  });

  it('syncOnce: the same local error is a failed result with its reason, not a rejection', async () => {
    const w = await twoTasks();
    w.setFault('lstat');
    expect((await w.engine.syncOnce(w.aId)).get(w.aId)).toEqual({ status: 'failed', failedFiles: 0 });
    expect(failedWith(await w.statuses(w.aId), 'local-unreadable')).toBeDefined();
    await w.engine.close();
  });

  it('the engine\'s own stream cannot be written: run() ends with that error', async () => {
    const w = await twoTasks();
    w.setFault('engine-append');
    w.start();
    await w.pass(100);
    expect(String(await w.outcome())).toContain('SQLITE_FULL');
    // The engine's stream stays broken: closing reports it too.
    await expect(w.engine.close()).rejects.toThrow('SQLITE_FULL');
  });
});
