/**
 * Crash anywhere (issue 8, property 5): the engine is dropped at an event boundary — right after
 * any append of any sync, at a random point, or between calls — and a new engine is built over the
 * same log and the same sides, as a restart would. Whatever else happens (the person's changes on
 * both sides, faults, user commands), once changes stop: the engine becomes quiescent within the
 * bound, the two-way sides converge with the synced tree, nothing is lost, and (replay, property
 * 4) the engine's live task registry equals the registry folded afresh from the log, the summaries
 * folded in one pass equal those folded event by event, and every recorded decision is made again
 * by the planner from the state the log had before it (`replay --verify`).
 * A failure prints fast-check's seed and path and writes the run's event log under the OS temp
 * dir, naming it; FOLDSYNC_DEEP=1 (npm run test:deep) runs many more scenarios.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { convergenceProblems, replayProblems } from '../src/sim/checks.js';
import { budget, choicesArb, commandsArb, QUIESCENCE_ROUNDS, runScenario, scenario, settle, setupArb } from './sim-model.js';
import { reportCount, testTimeout } from './sim-model.js';

describe('engine simulation: crash anywhere, then restart from the log', () => {
  it('still converges, loses nothing and rebuilds the same views', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, commandsArb({ faults: false }), choicesArb, fc.integer({ min: 1, max: 25 }), async (setup, cmds, choices, firstCrash) => {
        const real = await scenario('two-way', choices, setup);
        // One crash always, during the first sync after the setup; the commands add more.
        real.sim.crashAfter(firstCrash);
        await runScenario('crash', real, cmds, async (r) => {
          const quiet = await settle(r);
          return [
            ...(quiet === null ? [`no quiet round within ${QUIESCENCE_ROUNDS} rounds`] : []),
            ...(await convergenceProblems(r.sim)),
            ...r.ledger.problems(),
            ...(await replayProblems(r.sim)),
          ];
        });
      }),
      budget(400, 15),
    );
    reportCount('crash');
  }, testTimeout(15));
});
