/**
 * Engine simulation benchmark (issue 8, ADR 0080): how many whole-engine scenarios per minute the
 * harness runs on this machine — a fixed sample (fast-check seed 42) of the convergence property's
 * scenarios: a setup synced, up to 12 commands (person ops, syncs with concurrent edits, faults,
 * crashes, user commands), then the settle rounds and the convergence check.
 *
 * Anchor, measured in the same run: planner-level scenarios of the same size per minute (the
 * planner's own simulation, `createSimTask`: a setup synced, then up to 8 operations on each side,
 * one step) — the cost of the decisions alone, without actors, log, IO adapters or scheduler.
 */
import fc from 'fast-check';
import { createSimTask } from '../src/reconcile/sim-task.js';
import { userWriteCloud, userWriteLocal, userDeleteLocal, userMoveCloud } from '../src/reconcile/simulate.js';
import { convergenceProblems } from '../src/sim/checks.js';
import { choicesArb, commandsArb, runScenario, scenario, settle, setupArb } from '../property-tests/sim-model.js';
import { report, timeMs } from './report.js';

const N = Number(process.env['SIM_BENCH_N'] ?? 300);

export async function run(): Promise<void> {
  const samples = fc.sample(fc.tuple(setupArb, commandsArb(), choicesArb), { seed: 42, numRuns: N });
  let failures = 0;
  const engineMs = await timeMs(async () => {
    for (const [setup, cmds, choices] of samples) {
      const real = await scenario('two-way', choices, setup);
      try {
        await runScenario('bench', real, cmds, async (r) => {
          await settle(r);
          return convergenceProblems(r.sim);
        });
      } catch {
        failures += 1;
      }
    }
  });
  const paths = ['a', 'b', 'c.txt', 'a/x', 'a/y.txt', 'b/x'];
  const M = N * 20;
  const plannerMs = await timeMs(() => {
    for (let i = 0; i < M; i++) {
      const t = createSimTask();
      for (let k = 0; k < 4; k++) userWriteLocal(t.world, paths[(i + k) % paths.length] ?? 'a', `s${i}-${k}`);
      t.step();
      t.step();
      userWriteCloud(t.world, paths[i % paths.length] ?? 'a', `c${i}`);
      userDeleteLocal(t.world, paths[(i + 1) % paths.length] ?? 'b');
      userMoveCloud(t.world, paths[(i + 2) % paths.length] ?? 'c.txt', `moved${i % 3}`);
      t.step();
    }
  });
  if (failures > 0) console.log(`(${failures} of ${N} scenarios failed their check; see the known cases in ADR 0080)`);
  report([
    {
      bench: 'sim',
      metric: 'engine scenarios per minute',
      unit: 'scenarios/min',
      value: (N / engineMs) * 60_000,
      anchor: 'planner-level scenarios per minute',
      anchorValue: (M / plannerMs) * 60_000,
      target: 'thousands per minute',
    },
  ]);
}
