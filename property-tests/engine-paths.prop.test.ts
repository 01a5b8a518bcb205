/**
 * The engine never touches a path outside its task's root, whatever names the cloud sends
 * (issue 8, property 6). The engine's drive adds to every listing files whose paths a hostile or
 * broken cloud might send — `..`, `../..`, absolute paths, NUL, names over 255 bytes, empty and
 * `.` segments, backslashes — among the person's ordinary changes on both sides, faults and
 * crashes. Every path the engine hands its LocalFs must be a well-formed path inside the root
 * (no empty, `.` or `..` segment, no NUL, no leading `/`), the local folder never holds another,
 * and `syncOnce` never throws for it (a bad name is one file's failure, SPEC.md section 5).
 * A failure prints fast-check's seed and path and writes the run's event log under the OS temp
 * dir, naming it; FOLDSYNC_DEEP=1 (npm run test:deep) runs many more scenarios.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { outsideRootProblems } from '../src/sim/checks.js';
import { createHostileDrive, hostilePaths } from '../src/sim/hostile-drive.js';
import { createContentLedger } from '../src/sim/checks.js';
import { choicesChooser } from '../src/sim/scheduler.js';
import { createEngineSimulation, SIM_CLOUD_FOLDER } from '../src/sim/world.js';
import { applyPersonOp, budget, choicesArb, commandsArb, runScenario, settle, setupArb, type Real } from './sim-model.js';
import { reportCount, testTimeout } from './sim-model.js';

const ALL = hostilePaths(SIM_CLOUD_FOLDER);

describe('engine simulation: paths stay inside the task root', () => {
  it('never hands its LocalFs a path outside the root, whatever names the cloud sends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(ALL, { minLength: 1 }),
        fc.constantFrom('two-way' as const, 'upload' as const),
        setupArb,
        commandsArb({ maxCommands: 8 }),
        choicesArb,
        async (names, mode, setup, cmds, choices) => {
          const sim = await createEngineSimulation({
            mode,
            options: { massDeleteMinFiles: 1_000_000 },
            choose: choicesChooser(choices),
            wrapDrive: (d) => createHostileDrive(d, names),
          });
          const real: Real = { sim, ledger: createContentLedger(sim), n: 0, cloudTouched: false, thrown: [], notes: new Set() };
          for (const op of setup) await applyPersonOp(real, op);
          await runScenario('paths', real, cmds, async (r) => {
            await settle(r);
            return outsideRootProblems(r.sim);
          });
        },
      ),
      budget(200, 12),
    );
    reportCount('paths');
  }, testTimeout(12));
});
