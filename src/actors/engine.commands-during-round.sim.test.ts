/**
 * User commands that arrive while a round of the same task is in flight (ADR 0099): pause, cancel
 * and configure stop the round (the action in flight finishes and is recorded, nothing new starts,
 * no event reaches a stopped machine); retry waits for the round and then runs its own, so two
 * rounds of one task never write its stream at once.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { taskStream } from '../events/types.js';
import { createVirtualClock } from '../io/clock.js';
import type { LocalFs } from '../io/local-fs.js';
import type { RemoteDrive } from '../io/remote-drive.js';
import { createSimLocalFs } from '../io/sim-local-fs.js';
import { simEngineWorld } from './sim-engine.fixture.js';

/** Holds the next hooked call until opened; `reached` resolves when a call is held. */
interface Gate {
  readonly wait: () => Promise<void>;
  readonly open: () => void;
  readonly reached: Promise<void>;
}
function gate(): Gate {
  let open!: () => void;
  let reach!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const reached = new Promise<void>((r) => (reach = r));
  return { wait: () => (reach(), opened), open, reached };
}

async function world() {
  const clock = createVirtualClock();
  const local = createSimLocalFs({ clock });
  let hold: Gate | null = null;
  const held = async (): Promise<void> => {
    if (hold === null) return;
    const h = hold;
    hold = null;
    await h.wait();
  };
  const removes: string[] = [];
  let uploads = 0;
  let uploading = 0;
  let overlapped = false;
  const wrappedLocal: LocalFs = {
    ...local,
    remove: async (p, expect, how, filter) => {
      await held();
      removes.push(p);
      return local.remove(p, expect, how, filter);
    },
  };
  const wrapDrive = (d: RemoteDrive): RemoteDrive => ({
    ...d,
    uploadMany: async (...args: Parameters<NonNullable<RemoteDrive['uploadMany']>>) => {
      uploading += 1;
      if (uploading > 1) overlapped = true;
      try {
        await held();
        uploads += 1;
        return await d.uploadMany!(...args);
      } finally {
        uploading -= 1;
      }
    },
  });
  const { person, log, engine } = await simEngineWorld({ clock, drive: wrapDrive, localFor: () => wrappedLocal });
  return {
    clock,
    person,
    local,
    log,
    engine,
    removes,
    uploads: () => uploads,
    overlapped: () => overlapped,
    hold: (): Gate => (hold = gate()),
  };
}

/** A synced task with four files; the person then deletes three of them in the cloud, so the next round plans three local deletes. */
async function threeDeletesPlanned(w: Awaited<ReturnType<typeof world>>): Promise<string> {
  for (const n of ['a', 'b', 'c', 'd']) w.local.user.write(`${n}.txt`, n);
  const t = await w.engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs' });
  expect((await w.engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('completed');
  for (const n of ['a', 'b', 'c']) {
    const e = await w.person.stat('personal', `Docs/${n}.txt`);
    await w.person.delete('personal', e!.id, e!.version);
  }
  return t.taskId;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let warn: MockInstance;
let error: MockInstance;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn');
  error = vi.spyOn(console, 'error');
});
afterEach(() => {
  // xstate warns about an event sent to a stopped actor: no round may talk to a stopped task.
  expect(warn).not.toHaveBeenCalled();
  expect(error).not.toHaveBeenCalled();
  vi.restoreAllMocks();
});

describe('a command while a round of the same task runs', () => {
  it('pause: the delete in flight finishes and is recorded, the rest of the plan does not run; resume finishes it', async () => {
    const w = await world();
    const taskId = await threeDeletesPlanned(w);
    const g = w.hold();
    const round = w.engine.syncOnce(taskId);
    await g.reached;
    await w.engine.pause(taskId);
    g.open();
    const result = await round;
    expect(result.get(taskId)?.status).toBe('paused');
    expect(w.engine.task(taskId).paused).toBe(true);
    expect(w.removes).toHaveLength(1);
    const stream = (await w.log.readStream(taskStream(taskId))).map((e) => e.event);
    expect(stream.filter((e) => e.type === 'ActionSucceeded')).toHaveLength(4 + 1);
    // The paused task recorded no 'completed' after the pause.
    expect(stream.at(-1)?.type === 'TaskStatusChanged' && stream.at(-1)).not.toMatchObject({ status: 'completed' });
    expect((await w.engine.syncOnce(taskId)).get(taskId)?.status).toBe('paused');
    expect(w.removes).toHaveLength(1);
    await w.engine.resume(taskId);
    expect((await w.engine.syncOnce(taskId)).get(taskId)?.status).toBe('completed');
    expect(w.removes).toHaveLength(3);
    expect(w.local.paths().filter((p) => p.endsWith('.txt'))).toEqual(['d.txt']);
    await w.engine.close();
  });

  it('cancel: the cancelled task deletes nothing more', async () => {
    const w = await world();
    const taskId = await threeDeletesPlanned(w);
    const g = w.hold();
    const round = w.engine.syncOnce(taskId).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await g.reached;
    await w.engine.cancel(taskId);
    g.open();
    expect(await round).toBe('resolved');
    expect(w.removes).toHaveLength(1);
    expect(w.engine.tasks()).toEqual([]);
    await w.engine.close();
  });

  it('configure: the old settings start nothing more; the next round uses the new ones', async () => {
    const w = await world();
    const taskId = await threeDeletesPlanned(w);
    const g = w.hold();
    const round = w.engine.syncOnce(taskId);
    await g.reached;
    await w.engine.configure(taskId, { filters: { ...w.engine.task(taskId).options.filters, exclude: ['c.txt'] } });
    g.open();
    await round;
    expect(w.removes).toHaveLength(1);
    expect((await w.engine.syncOnce(taskId)).get(taskId)?.status).toBe('completed');
    // c.txt is excluded now: it stays; b.txt (or a.txt) is deleted by the new round.
    expect(w.removes).toHaveLength(2);
    expect(w.local.paths()).toContain('c.txt');
    await w.engine.close();
  });

  it('retry while run() is mid-round: the retry waits for the round, one writer at a time, and run() goes on', async () => {
    const w = await world();
    for (const n of ['a', 'b']) w.local.user.write(`${n}.txt`, n);
    const t = await w.engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs' });
    const g = w.hold();
    const stop = new AbortController();
    const running = w.engine.run(stop.signal).then(
      () => 'run resolved',
      (e: unknown) => e,
    );
    await g.reached;
    const retried = w.engine.retry(t.taskId).then(
      (r) => r,
      (e: unknown) => e,
    );
    await sleep(20);
    g.open();
    expect(await retried).toEqual({ status: 'completed', failedFiles: 0 });
    await sleep(20);
    stop.abort();
    expect(await running).toBe('run resolved');
    expect(w.overlapped()).toBe(false);
    expect(w.uploads()).toBe(1);
    expect(await w.person.stat('personal', 'Docs/b.txt')).not.toBeNull();
    await w.engine.close();
  });

  it('pause while run() is mid-round: the loop starts nothing more for the task and carries on', async () => {
    const w = await world();
    const taskId = await threeDeletesPlanned(w);
    const g = w.hold();
    const stop = new AbortController();
    const rounds: string[] = [];
    const running = w.engine.run(stop.signal, (r) => rounds.push(r.get(taskId)?.status ?? 'none'));
    await g.reached;
    await w.engine.pause(taskId);
    g.open();
    await sleep(20);
    w.clock.advance(120_000);
    await sleep(20);
    stop.abort();
    await running;
    expect(w.removes).toHaveLength(1);
    expect(rounds).toEqual(['paused']);
    await w.engine.close();
  });
});
