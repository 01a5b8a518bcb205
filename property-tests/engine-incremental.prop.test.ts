/**
 * Incremental observation (ADR 0006): after a round that looks only at the paths a watcher reported
 * (every path the person touched) and reads the cloud's change feed, the task's local and cloud
 * trees, folded from the log, hold exactly what the two sides hold — the same as a full scan and
 * listing would have found. Person changes on both sides, two-way, no faults (a fault may leave a
 * path unobserved on purpose; the other engine properties cover faults, crashes and dropped
 * watcher events, which the next full round repairs).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { EntryKind } from '../src/lib/model.js';
import type { RelPath } from '../src/lib/names.js';
import { cloudShape, currentFilter, localShape, treesFromLog, type SideShape } from '../src/sim/checks.js';
import { applyPersonOp, budget, choicesArb, cloudOpArb, localOpArb, reportCount, scenario, setupArb, testTimeout } from './sim-model.js';

type Shape = Map<RelPath, { kind: EntryKind; hash: string | null }>;

function diff(a: SideShape, aName: string, b: SideShape, bName: string): string[] {
  const out: string[] = [];
  for (const [p, e] of a) {
    const o = b.get(p);
    if (o === undefined) out.push(`${p} is in ${aName} but not in ${bName}`);
    else if (o.kind !== e.kind || o.hash !== e.hash) out.push(`${p} differs: ${aName} ${e.kind} ${e.hash ?? ''} vs ${bName} ${o.kind} ${o.hash ?? ''}`);
  }
  for (const p of b.keys()) if (!a.has(p)) out.push(`${p} is in ${bName} but not in ${aName}`);
  return out;
}

describe('engine simulation: incremental rounds observe what a full scan would', () => {
  it('after each syncChanges, the trees folded from the log equal both sides', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.array(fc.array(fc.oneof(localOpArb, cloudOpArb), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }), choicesArb, async (setup, batches, choices) => {
        const real = await scenario('two-way', choices, setup);
        const { sim } = real;
        for (const batch of batches) {
          for (const op of batch) await applyPersonOp(real, op);
          const paths = [...real.notes].sort();
          real.notes.clear();
          const outcome = await sim.call((e) => e.syncChanges(sim.taskId, { paths, rescans: [] }));
          if (outcome.status !== 'done') throw new Error(`syncChanges did not finish: ${JSON.stringify(outcome)}`);
          const trees = await treesFromLog(sim);
          const filter = currentFilter(sim);
          const local: Shape = new Map();
          for (const p of trees.paths('local')) {
            const m = trees.local(p);
            if (m !== undefined) local.set(p, { kind: m.kind, hash: m.kind === 'file' ? (m.hash ?? null) : null });
          }
          const cloud: Shape = new Map();
          for (const p of trees.paths('cloud')) {
            const m = trees.cloud(p);
            if (m !== undefined && !filter.ignores(p, m.kind, m.size)) cloud.set(p, { kind: m.kind, hash: m.kind === 'file' ? (m.hash ?? null) : null });
          }
          const problems = [...diff(localShape(sim, filter), 'the local folder', local, 'the local tree'), ...diff(await cloudShape(sim, filter), 'the cloud folder', cloud, 'the cloud tree')];
          if (problems.length > 0) throw new Error(`after syncChanges(${JSON.stringify(paths)}):\n${problems.join('\n')}`);
        }
      }),
      budget(150, 10),
    );
    reportCount('incremental');
  }, testTimeout(10));
});
