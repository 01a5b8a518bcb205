/**
 * No data loss (issue 8, property 2): every content that existed on either side while the engine
 * could see it is still reachable at the end — live on a side, in the cloud's version history, in
 * the cloud's recycle bin, or in the local trash — in two-way mode under every conflict policy and
 * both cloud-delete settings, with the person changing both sides before and during syncs, faults
 * on cloud requests and local file operations, crashes at event boundaries and restarts from the
 * log, and pause/resume/configure. The ledger records the contents live on both sides before and
 * after every engine call; a content the person destroys locally while no copy of it exists
 * anywhere else is excused (nobody could have kept it).
 * A failure prints fast-check's seed and path and writes the run's event log under the OS temp
 * dir, naming it; FOLDSYNC_DEEP=1 (npm run test:deep) runs many more scenarios.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { budget, choicesArb, commandsArb, runScenario, scenario, settle, setupArb } from './sim-model.js';
import { reportCount, testTimeout } from './sim-model.js';

describe('engine simulation: no data loss', () => {
  it('keeps every content reachable, under every conflict policy, with faults and crashes', async () => {
    await fc.assert(
      fc.asyncProperty(
        setupArb,
        commandsArb(),
        choicesArb,
        fc.constantFrom('keep-both' as const, 'local-wins' as const, 'cloud-wins' as const),
        fc.constantFrom('trash' as const, 'delete' as const),
        async (setup, cmds, choices, conflicts, cloudDeletes) => {
          const real = await scenario('two-way', choices, setup, { conflicts, cloudDeletes });
          await runScenario('no-data-loss', real, cmds, async (r) => {
            await settle(r);
            return r.ledger.problems();
          });
        },
      ),
      budget(600, 15),
    );
    reportCount('no-data-loss');
  }, testTimeout(15));
});
