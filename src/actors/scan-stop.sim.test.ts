/**
 * A task paused while it scans (issue 6): the scan stops at its next batch, what it saw is
 * recorded, and nothing it did not reach is taken as deleted.
 */
import { describe, expect, it } from 'vitest';
import { taskStream } from '../events/types.js';
import { createVirtualClock } from '../io/clock.js';
import type { LocalFs } from '../io/local-fs.js';
import { createSimLocalFs } from '../io/sim-local-fs.js';
import { simEngineWorld } from './sim-engine.fixture.js';

describe('pause during a scan', () => {
  it('stops the scan at its next batch: no scan completion, no local deletes, no actions; resume syncs everything', async () => {
    const clock = createVirtualClock();
    const local = createSimLocalFs({ clock });
    for (let i = 0; i < 10; i++) local.user.write(`f${i}.txt`, `file ${i}`);
    let holdAt: number | null = null;
    let reached!: () => void;
    let open!: () => void;
    let batchesAfterHold = 0;
    const atHold = new Promise<void>((r) => (reached = r));
    const opened = new Promise<void>((r) => (open = r));
    // The scan gives one entry a batch and holds after the second until the test opens it.
    const scanning: LocalFs = {
      ...local,
      scan: async function* (under, options) {
        let n = 0;
        for await (const batch of local.scan(under, options)) {
          for (const item of batch) {
            if (holdAt !== null && n > holdAt) batchesAfterHold += 1;
            yield [item];
            n += 1;
            if (n === holdAt) {
              reached();
              await opened;
            }
          }
        }
      },
    };
    const { engine, log, person } = await simEngineWorld({ clock, localFor: () => scanning });
    const task = await engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs' });
    expect((await engine.syncOnce(task.taskId)).get(task.taskId)?.status).toBe('completed');
    const before = (await log.readStream(taskStream(task.taskId), 1, 100_000)).length;

    holdAt = 2;
    const round = engine.syncOnce(task.taskId);
    await atHold;
    await engine.pause(task.taskId);
    open();
    await round;
    const after = (await log.readStream(taskStream(task.taskId), before + 1, 100_000)).map((e) => e.event);
    expect(after.some((e) => e.type === 'LocalScanStarted')).toBe(true);
    expect(after.some((e) => e.type === 'LocalScanCompleted')).toBe(false);
    expect(after.some((e) => e.type === 'PlanMade')).toBe(false);
    expect(after.flatMap((e) => (e.type === 'LocalChanged' ? e.changes : [])).filter((c) => c.meta === null)).toEqual([]);
    expect(batchesAfterHold).toBeLessThanOrEqual(1);

    holdAt = null;
    await engine.resume(task.taskId);
    local.user.write('new.txt', 'new');
    expect((await engine.syncOnce(task.taskId)).get(task.taskId)?.status).toBe('completed');
    expect(await person.stat('personal', 'Docs/new.txt')).not.toBeNull();
    expect(await person.stat('personal', 'Docs/f9.txt')).not.toBeNull();
  });
});
