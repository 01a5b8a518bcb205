/**
 * A command for task B given while run() is busy with task A's round (ADR 0099): the loop reads
 * the registry again before each task's round, so B's round sees the command; a paused or
 * cancelled task gets no round, and no runner is built or kept for an outdated version of a task.
 */
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../io/clock.js';
import type { RemoteDrive } from '../io/remote-drive.js';
import { createSimLocalFs, type SimLocalFs } from '../io/sim-local-fs.js';
import { simEngineWorld } from './sim-engine.fixture.js';

/** Two tasks, A and B; run() holds in A's listing until the test opens it; B has a file to upload. */
async function twoTasks() {
  const clock = createVirtualClock();
  const sides = new Map<string, SimLocalFs>([
    ['/a', createSimLocalFs({ clock, root: '/a' })],
    ['/b', createSimLocalFs({ clock, root: '/b', dev: 2 })],
  ]);
  let hold: { reached: () => void; opened: Promise<void> } | null = null;
  const gated = (d: RemoteDrive): RemoteDrive => ({
    ...d,
    list: async (...args: Parameters<RemoteDrive['list']>) => {
      if (hold !== null && args[1] === 'A') {
        const h = hold;
        hold = null;
        h.reached();
        await h.opened;
      }
      return d.list(...args);
    },
  });
  const { person, engine } = await simEngineWorld({ clock, folders: ['A', 'B'], drive: gated, localFor: (root) => sides.get(root)! });
  await engine.createTask({ localRoot: '/a', cloud: 'personal:/A' });
  const b = await engine.createTask({ localRoot: '/b', cloud: 'personal:/B' });
  sides.get('/b')!.user.write('secret.txt', 'not while paused');
  let open!: () => void;
  let reached!: () => void;
  const atA = new Promise<void>((r) => (reached = r));
  hold = { reached, opened: new Promise<void>((r) => (open = r)) };
  const stop = new AbortController();
  const rounds: string[] = [];
  const running = engine.run(stop.signal, (r) => {
    const s = r.get(b.taskId);
    if (s !== undefined) rounds.push(s.status);
  });
  await atA;
  const settle = async (): Promise<void> => {
    open();
    await new Promise((r) => setTimeout(r, 100));
    stop.abort();
    await running;
  };
  return { engine, person, bId: b.taskId, settle, rounds };
}

describe('a command for task B while run() is in task A\'s round', () => {
  it('pause(B): B gets no round, uploads nothing, and a later syncOnce reports it paused', async () => {
    const w = await twoTasks();
    await w.engine.pause(w.bId);
    await w.settle();
    expect(w.rounds).toEqual([]);
    expect(await w.person.stat('personal', 'B/secret.txt')).toBeNull();
    expect((await w.engine.syncOnce(w.bId)).get(w.bId)?.status).toBe('paused');
    expect(await w.person.stat('personal', 'B/secret.txt')).toBeNull();
    await w.engine.close();
  });

  it('cancel(B): B gets no round and run() goes on', async () => {
    const w = await twoTasks();
    await w.engine.cancel(w.bId);
    await w.settle();
    expect(w.rounds).toEqual([]);
    expect(await w.person.stat('personal', 'B/secret.txt')).toBeNull();
    expect(w.engine.tasks()).toHaveLength(1);
    await w.engine.close();
  });

  it('configure(B): B\'s round uses the new settings', async () => {
    const w = await twoTasks();
    await w.engine.configure(w.bId, { filters: { ...w.engine.task(w.bId).options.filters, exclude: ['secret.txt'] } });
    await w.settle();
    expect(w.rounds).toEqual(['completed']);
    expect(await w.person.stat('personal', 'B/secret.txt')).toBeNull();
    await w.engine.close();
  });
});
