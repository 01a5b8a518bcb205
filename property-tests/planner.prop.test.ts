/**
 * Invariants of the planner, checked over random trees and random concurrent operations on both
 * sides of a simulated task (src/reconcile/simulate.ts): after the sides were in sync, the user
 * changes either or both; the engine observes, plans once and executes the plan. Then:
 * (1) convergence — in two-way mode the local tree, the cloud tree and the synced tree agree, path
 * for path, kind for kind and content for content, and no planned action was refused;
 * (2) termination — planning again plans nothing;
 * (3) no data loss — every content live on either side before the plan is still live, in the
 * cloud's version history, in the recycle bin or in the trash;
 * (4) upload mode never plans a local effect, for any input, and leaves the local side untouched;
 * (5) order independence — the same observations folded in any order give the same plan;
 * (6) identity — a moved item keeps its cloud id (a rename is a rename) and no second copy of any
 * content is left on a side.
 * A failure prints fast-check's seed and path; FOLDSYNC_DEEP=1 runs many more cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Action, SyncMode, TaskOptions } from '../src/lib/model.js';
import type { RelPath } from '../src/lib/names.js';
import { createSimTask, type SimTask } from '../src/reconcile/sim-task.js';
import {
  diffCloud,
  diffLocal,
  userDeleteCloud,
  userDeleteLocal,
  userMkdirCloud,
  userMkdirLocal,
  userMoveCloud,
  userMoveLocal,
  userWriteCloud,
  userWriteLocal,
  type SimWorld,
} from '../src/reconcile/simulate.js';
import { createTrees } from '../src/reconcile/trees.js';
import { planActions } from '../src/reconcile/planner.js';

const DEEP = process.env['FOLDSYNC_DEEP'] === '1';
const runs = (n: number): number => (DEEP ? n * 20 : n);

const PATHS: readonly RelPath[] = ['a', 'b', 'c.txt', 'a/x', 'a/y.txt', 'b/x', 'a/b', 'a/b/z', 'b/a', 'b/a/x'];

type Op =
  | { readonly kind: 'write'; readonly path: RelPath }
  | { readonly kind: 'mkdir'; readonly path: RelPath }
  | { readonly kind: 'delete'; readonly path: RelPath }
  | { readonly kind: 'move'; readonly path: RelPath; readonly to: RelPath };

const pathArb = fc.constantFrom(...PATHS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), path: pathArb }),
  fc.record({ kind: fc.constant('mkdir' as const), path: pathArb }),
  fc.record({ kind: fc.constant('delete' as const), path: pathArb }),
  fc.record({ kind: fc.constant('move' as const), path: pathArb, to: pathArb }),
);
const opsArb = fc.array(opArb, { maxLength: 8 });

let contentCounter = 0;
function applyOp(w: SimWorld, side: 'local' | 'cloud', op: Op): void {
  contentCounter += 1;
  const content = `${side}-${contentCounter}`;
  switch (op.kind) {
    case 'write':
      if (side === 'local') userWriteLocal(w, op.path, content);
      else userWriteCloud(w, op.path, content);
      return;
    case 'mkdir':
      if (side === 'local') userMkdirLocal(w, op.path);
      else userMkdirCloud(w, op.path);
      return;
    case 'delete':
      if (side === 'local') userDeleteLocal(w, op.path);
      else userDeleteCloud(w, op.path);
      return;
    case 'move':
      if (side === 'local') userMoveLocal(w, op.path, op.to);
      else userMoveCloud(w, op.path, op.to);
      return;
  }
}

function liveContents(w: SimWorld): string[] {
  const out: string[] = [];
  for (const e of w.local.values()) if (e.kind === 'file') out.push(e.content);
  for (const e of w.cloud.values()) if (e.kind === 'file') out.push(e.content);
  return out;
}

function shape(map: ReadonlyMap<RelPath, { kind: string; content: string }>): string[] {
  return [...map.entries()].map(([p, e]) => `${p}:${e.kind}:${e.content}`).sort();
}

function localEffect(a: Action): boolean {
  switch (a.op) {
    case 'download':
    case 'local-mkdir':
    case 'local-move':
    case 'local-delete':
      return true;
    case 'conflict-rename':
      return a.side === 'local';
    case 'upload':
    case 'cloud-mkdir':
    case 'cloud-move':
    case 'cloud-delete':
    case 'link':
    case 'forget':
    case 'reject':
      return false;
  }
}

/** Builds a task whose sides were brought in sync from `setup` (local operations). */
function syncedTask(mode: SyncMode, setup: readonly Op[], options: Partial<TaskOptions> = {}): SimTask {
  const task = createSimTask({ mode: 'two-way', options: { ...options, massDeleteMinFiles: 1_000_000 } });
  for (const op of setup) applyOp(task.world, 'local', op);
  task.step();
  task.step();
  task.mode = mode;
  return task;
}

function refused(outcomes: readonly { ok: boolean; reason?: string }[]): string[] {
  return outcomes.filter((o) => !o.ok).map((o) => o.reason ?? '?');
}

describe('planner properties (two-way)', () => {
  it('converges, terminates and loses nothing, under every conflict policy', () => {
    fc.assert(
      fc.property(opsArb, opsArb, opsArb, fc.constantFrom('keep-both', 'local-wins', 'cloud-wins' as const), (setup, localOps, cloudOps, conflicts) => {
        const task = syncedTask('two-way', setup, { conflicts });
        for (const op of localOps) applyOp(task.world, 'local', op);
        for (const op of cloudOps) applyOp(task.world, 'cloud', op);
        const before = liveContents(task.world);
        const { plan, outcomes } = task.step();
        // (1) convergence
        expect(refused(outcomes), JSON.stringify(plan.actions)).toEqual([]);
        expect(shape(task.world.local)).toEqual(shape(task.world.cloud));
        expect(task.trees.paths('synced')).toEqual(task.trees.paths('local'));
        expect(task.trees.paths('local')).toEqual(task.trees.paths('cloud'));
        // (2) termination
        const again = task.step();
        expect(again.plan.actions).toEqual([]);
        // (3) no data loss
        const w = task.world;
        const reachable = new Set([...liveContents(w), ...w.cloudHistory, ...w.recycleBin, ...w.trash]);
        for (const c of before) expect(reachable.has(c), `lost ${c}`).toBe(true);
        // (6) no second copy of a content on a side
        const localFiles = [...w.local.values()].filter((e) => e.kind === 'file').map((e) => e.content);
        expect(new Set(localFiles).size).toBe(localFiles.length);
      }),
      { numRuns: runs(1500) },
    );
  });

  it('a moved item keeps its cloud identity (rename is a rename)', () => {
    fc.assert(
      fc.property(opsArb, fc.array(fc.record({ path: pathArb, to: pathArb }), { minLength: 1, maxLength: 4 }), (setup, moves) => {
        const task = syncedTask('two-way', setup);
        const idOf = new Map<string, string>();
        for (const e of task.world.cloud.values()) if (e.kind === 'file') idOf.set(e.content, e.id);
        for (const m of moves) userMoveLocal(task.world, m.path, m.to);
        task.step();
        for (const e of task.world.cloud.values()) {
          if (e.kind === 'file') expect(e.id).toBe(idOf.get(e.content));
        }
        expect(task.world.recycleBin.size).toBe(0);
      }),
      { numRuns: runs(600) },
    );
  });
});

describe('planner properties (upload)', () => {
  it('never plans a local effect, backs every local file up, terminates and loses nothing', () => {
    fc.assert(
      fc.property(opsArb, opsArb, opsArb, fc.boolean(), (setup, localOps, cloudOps, deleteInCloud) => {
        const task = syncedTask('upload', setup, { deleteInCloud });
        for (const op of localOps) applyOp(task.world, 'local', op);
        for (const op of cloudOps) applyOp(task.world, 'cloud', op);
        const before = liveContents(task.world);
        const localBefore = shape(task.world.local);
        const { plan, outcomes } = task.step();
        // (4)
        expect(plan.actions.filter(localEffect)).toEqual([]);
        expect(shape(task.world.local)).toEqual(localBefore);
        expect(refused(outcomes), JSON.stringify(plan.actions)).toEqual([]);
        // every local file's content is backed up: live in the cloud, or (when the cloud changed
        // it since, SPEC 2.2 "modify content: nothing now") in the item's version history
        const cloudContents = new Set([...[...task.world.cloud.values()].map((e) => e.content), ...task.world.cloudHistory]);
        for (const e of task.world.local.values()) if (e.kind === 'file') expect(cloudContents.has(e.content), `not backed up: ${e.content}`).toBe(true);
        // (2) and (3)
        expect(task.step().plan.actions).toEqual([]);
        const w = task.world;
        const reachable = new Set([...liveContents(w), ...w.cloudHistory, ...w.recycleBin, ...w.trash]);
        for (const c of before) expect(reachable.has(c), `lost ${c}`).toBe(true);
      }),
      { numRuns: runs(1000) },
    );
  });
});

describe('planner properties (determinism)', () => {
  it('the same observations in any order give the same plan', () => {
    fc.assert(
      fc.property(opsArb, opsArb, opsArb, fc.nat(), fc.constantFrom('two-way', 'upload' as const), (setup, localOps, cloudOps, seed, mode) => {
        const task = syncedTask(mode, setup);
        const localBefore = new Map(task.world.local);
        const cloudBefore = new Map(task.world.cloud);
        for (const op of localOps) applyOp(task.world, 'local', op);
        for (const op of cloudOps) applyOp(task.world, 'cloud', op);
        const changesL = diffLocal(localBefore, task.world);
        const changesC = diffCloud(cloudBefore, task.world);
        const build = (shuffle: boolean) => {
          const trees = createTrees();
          // Replay the synced state, then the observations.
          trees.applyLocal(diffLocal(new Map(), { ...task.world, local: localBefore }));
          trees.applyCloud(diffCloud(new Map(), { ...task.world, cloud: cloudBefore }));
          trees.applySynced(task.trees.paths('synced').map((path) => ({ path, entry: task.trees.synced(path) ?? null })));
          trees.takeDirty();
          const l = shuffle ? permute(changesL, seed) : changesL;
          const c = shuffle ? permute(changesC, seed + 1) : changesC;
          if (shuffle) {
            trees.applyCloud(c);
            trees.applyLocal(l);
          } else {
            trees.applyLocal(l);
            trees.applyCloud(c);
          }
          const dirty = trees.takeDirty();
          return planActions({ trees, dirty: shuffle ? permute(dirty, seed + 2) : dirty, mode, options: task.options, terminal: 't', now: 0 });
        };
        expect(build(true)).toEqual(build(false));
      }),
      { numRuns: runs(600) },
    );
  });
});

function permute<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
