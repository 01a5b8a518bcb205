/**
 * One-way upload (issue 8, property 3; SPEC.md 2.2 as properties): whatever the person does on
 * both sides, with faults, crashes and restarts, and user commands, the engine never asks its
 * LocalFs to create, modify, move or delete anything; and once quiescent, every local file's
 * content is in the cloud, live or (after a cloud-side modify, SPEC.md 2.2) as an older version of
 * a live file — and when the person left the cloud alone (and no conflict copy was made, known
 * case K2 below), at the same path with the same content.
 * Nothing is lost either (the ledger of property 2). Precondition (known case K3 below): the
 * person does not move cloud items.
 * A failure prints fast-check's seed and path and writes the run's event log under the OS temp
 * dir, naming it; FOLDSYNC_DEEP=1 (npm run test:deep) runs many more scenarios.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uploadBackupProblems, uploadLocalProblems } from '../src/sim/checks.js';
import { applyPersonOp, budget, choicesArb, commandsArb, localSetupArb, QUIESCENCE_ROUNDS, runScenario, scenario, settle, type Real } from './sim-model.js';
import { reportCount, testTimeout } from './sim-model.js';

const conflictRenamed = async (r: Real): Promise<boolean> =>
  (await r.sim.events()).some((e) => e.event.type === 'PlanMade' && e.event.actions.some((a) => a.action.op === 'conflict-rename'));

describe('engine simulation: one-way upload', () => {
  it('never changes the local side and backs every local file up', async () => {
    await fc.assert(
      fc.asyncProperty(localSetupArb, commandsArb({ cloudMoves: false }), choicesArb, fc.boolean(), async (setup, cmds, choices, deleteInCloud) => {
        const real = await scenario('upload', choices, setup, { deleteInCloud });
        await runScenario('upload', real, cmds, async (r) => {
          const quiet = await settle(r);
          return [
            ...(quiet === null ? [`no quiet round within ${QUIESCENCE_ROUNDS} rounds`] : []),
            ...uploadLocalProblems(r.sim),
            // Precondition (ADR 0080, known case K2): exact paths only when no conflict copy was made.
            ...(await uploadBackupProblems(r.sim, !r.cloudTouched && !(await conflictRenamed(r)))),
            ...r.ledger.problems(),
          ];
        });
      }),
      budget(400, 15),
    );
    reportCount('upload');
  }, testTimeout(15));
});

describe('engine simulation: known one-way cases (ADR 0080)', () => {
  // K2, found by the property above (seed-independent): in upload mode the person replaces the
  // synced folder a (holding a/b/z) by a file a; the engine moves the cloud folder aside as a
  // conflict copy and uploads the file. When the person makes a/b/z again, its new content goes to
  // "a (conflict ...)/b/z" (the backup follows the item by id) and Docs/a/b/z stays missing. In
  // the planner (another helper's area): recorded, not fixed here. When fixed, drop `.fails`.
  it.fails('a file re-created under a folder that was moved aside as a conflict copy is backed up at its own path', async () => {
    const real = await scenario('upload', [], [{ side: 'local', op: 'write', path: 'a/b/z' }]);
    await applyPersonOp(real, { side: 'local', op: 'write', path: 'a' });
    await real.sim.call((e) => e.syncOnce());
    await applyPersonOp(real, { side: 'local', op: 'write', path: 'a/b/z' });
    expect(await settle(real)).not.toBeNull();
    expect(await uploadBackupProblems(real.sim, true)).toEqual([]);
  });

  // K3, found by a deep run of the property above (08:27): in upload mode the person moves the
  // backed-up Docs/b/x to Docs/a in the cloud, then deletes Docs/a. SPEC.md 2.2 says a cloud delete
  // of an item this task uploaded uploads the local file again; the engine does nothing, and the
  // local b/x is backed up only in the recycle bin. In the planner (another helper's area):
  // recorded, not fixed. When fixed, drop `.fails` and the property's precondition.
  it.fails('a backed-up file moved and then deleted in the cloud is uploaded again', async () => {
    const real = await scenario('upload', [], [{ side: 'local', op: 'write', path: 'b/x' }]);
    await applyPersonOp(real, { side: 'cloud', op: 'move', path: 'b/x', to: 'a' });
    await real.sim.call((e) => e.syncOnce());
    await applyPersonOp(real, { side: 'cloud', op: 'delete', path: 'a' });
    expect(await settle(real)).not.toBeNull();
    expect(await uploadBackupProblems(real.sim, false)).toEqual([]);
  });
});
