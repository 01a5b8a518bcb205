/**
 * A safety guard's hold is recorded on the task's stream, the engine's pause on the engine's
 * stream: two appends. A crash between them must not read as the user's resume (found by review).
 */
import { describe, expect, it } from 'vitest';
import { createEngineSimulation, SIM_CLOUD_FOLDER } from '../sim/world.js';

describe('a crash right after a safety guard held', () => {
  it('never lets the held deletes through without a resume, whichever append the crash follows; a resume then does', async () => {
    let crashedAfterHold = 0;
    for (let n = 1; n <= 12; n++) {
      const sim = await createEngineSimulation({ options: { massDeleteMinFiles: 2 } });
      for (const x of ['a', 'b', 'c', 'd']) sim.local.user.write(`${x}.txt`, x);
      expect((await sim.call((e) => e.syncOnce(sim.taskId))).status).toBe('done');
      for (const x of ['a', 'b', 'c']) sim.local.user.remove(`${x}.txt`);
      sim.crashAfter(n);
      if ((await sim.call((e) => e.syncOnce(sim.taskId))).status !== 'crashed') continue;
      // Restarted: a round must hold again, not delete.
      await sim.call((e) => e.syncOnce(sim.taskId));
      const listed = async () => (await sim.person.list('personal', SIM_CLOUD_FOLDER, { recursive: true })).map((e) => e.path);
      expect(await listed(), `crash after ${n} appends`).toContain(`${SIM_CLOUD_FOLDER}/a.txt`);
      const events = await sim.events();
      if (events.some((e) => e.event.type === 'TaskStatusChanged' && e.event.reason === 'mass-delete')) crashedAfterHold += 1;
      // The user resumes: now the deletes go ahead.
      expect(sim.engine().task(sim.taskId).paused).toBe(true);
      await sim.call((e) => e.resume(sim.taskId));
      await sim.call((e) => e.syncOnce(sim.taskId));
      expect(await listed()).toEqual([`${SIM_CLOUD_FOLDER}/d.txt`]);
    }
    // The window the test is about was hit at least once.
    expect(crashedAfterHold).toBeGreaterThan(0);
  });
});
