/**
 * Replay (issue 8, property 4): whatever happened in a run — the person's changes on both sides,
 * faults, crashes and restarts, incremental rounds with dropped watcher events, pause, resume and
 * configure, in two-way and upload mode — the run's event log alone rebuilds the engine's state and
 * decisions: the task registry folded afresh equals the engine's live one, the task summaries
 * folded in one pass equal those folded event by event, and every recorded decision (`PlanMade`)
 * is made again, identically, by the planner from the state the log had just before it
 * (`foldsync replay --verify`); every decision of a simulated run must be checkable.
 * A failure prints fast-check's seed and path and writes the run's event log under the OS temp
 * dir, naming it; FOLDSYNC_DEEP=1 (npm run test:deep) runs many more scenarios.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { replayProblems } from '../src/sim/checks.js';
import { budget, choicesArb, commandsArb, reportCount, runScenario, scenario, settle, setupArb, testTimeout } from './sim-model.js';

describe('engine simulation: the log replays to the same state and decisions', () => {
  it('registry, summaries and every decision are rebuilt from the log alone', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('two-way' as const, 'upload' as const), setupArb, commandsArb({}), choicesArb, async (mode, setup, cmds, choices) => {
        const real = await scenario(mode, choices, setup);
        await runScenario('replay', real, cmds, async (r) => {
          await settle(r);
          return replayProblems(r.sim);
        });
      }),
      budget(300, 12),
    );
    reportCount('replay');
  }, testTimeout(12));
});
