/**
 * Convergence of the whole engine (issue 8, property 1) and bounded quiescence (property 7): the
 * real engine (task runners, task machine, planner, projections, event log) runs in a simulated
 * world (src/sim) while the person changes both sides — before syncs and in the middle of them —,
 * faults hit cloud requests and local file operations, and the user pauses, resumes and
 * reconfigures the task. Once the changes and faults stop, the engine reaches a quiet round (one
 * that plans nothing and leaves no failed file) within QUIESCENCE_ROUNDS calls of `syncOnce`; then,
 * in two-way mode, the local folder and the cloud folder hold the same tree with the same contents,
 * and the synced tree folded from the log holds exactly that too (paths the task's filters ignore
 * are not compared). The engine never throws out of `syncOnce` or a command.
 * A failure prints fast-check's seed and path and writes the run's event log under the OS temp
 * dir, naming it; FOLDSYNC_DEEP=1 (npm run test:deep) runs many more scenarios.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convergenceProblems } from '../src/sim/checks.js';
import { applyPersonOp, budget, choicesArb, commandsArb, setupArb, QUIESCENCE_ROUNDS, runScenario, scenario, settle } from './sim-model.js';
import { reportCount, testTimeout } from './sim-model.js';

describe('engine simulation: two-way convergence', () => {
  it('converges within a bounded number of rounds once changes stop', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, commandsArb({ crashes: false }), choicesArb, async (setup, cmds, choices) => {
        const real = await scenario('two-way', choices, setup);
        await runScenario('convergence', real, cmds, async (r) => {
          const quiet = await settle(r);
          if (quiet === null) return [`no quiet round within ${QUIESCENCE_ROUNDS} rounds`, ...(await convergenceProblems(r.sim))];
          return convergenceProblems(r.sim);
        });
      }),
      budget(600, 15),
    );
    reportCount('convergence');
  }, testTimeout(15));
});

describe('engine simulation: known non-converging cases (ADR 0080)', () => {
  // K1, found by the property above (seed -1056262066): a folder-only exclude ('b/') hides the
  // cloud folder b, the person creates a file b locally; the planner plans nothing for b, the task
  // shows `completed` with no failed file, and b never reaches the cloud. In the planner (another
  // helper's area): recorded, not fixed here. When it is fixed, this test fails: drop `.fails`.
  it.fails('a local file where the cloud holds a folder the filter ignores is synced or reported', async () => {
    const real = await scenario('two-way', []);
    await applyPersonOp(real, { side: 'cloud', op: 'write', path: 'b/x' });
    await real.sim.call((e) => e.configure(real.sim.taskId, { filters: { include: [], exclude: ['b/'], maxFileSize: null } }));
    await applyPersonOp(real, { side: 'local', op: 'write', path: 'b' });
    const quiet = await settle(real);
    const reported = (await real.sim.events()).some((e) => e.event.type === 'ActionFailed' && e.event.actionId !== '');
    const converged = quiet !== null && (await convergenceProblems(real.sim)).length === 0;
    expect(reported || converged).toBe(true);
  });
});
