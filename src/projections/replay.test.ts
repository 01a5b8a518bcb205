import { describe, expect, it } from 'vitest';
import type { FoldsyncEvent, PlanMade } from '../events/types.js';
import { DEFAULT_OPTIONS, type LocalMeta } from '../lib/model.js';
import { planActions } from '../reconcile/planner.js';
import { createTrees } from '../reconcile/trees.js';
import { createEventList } from './events.fixture.js';
import { createReplay } from './replay.js';

const meta = (size: number): LocalMeta => ({ kind: 'file', size, mtimeNs: '5', fileId: `1:${size}`, hash: 'ab'.repeat(32) });
const seen: FoldsyncEvent = { type: 'LocalChanged', v: 1, source: 'scan', changes: [{ path: 'a.txt', meta: meta(3) }, { path: 'b.txt', meta: meta(4) }] };

/** A log with one task whose one plan is what the real planner decides for `seen`. */
function logWithPlan(alter: (p: PlanMade) => FoldsyncEvent = (p) => p) {
  const log = createEventList();
  log.add('engine', 0, { type: 'TerminalInitialized', v: 1, terminalId: 'term', terminalName: 'laptop' });
  log.created('t', 1);
  log.task('t', 2, { type: 'TaskStatusChanged', v: 1, status: 'scanning', reason: null, message: null }, seen);
  const trees = createTrees();
  trees.apply(seen);
  const dirty = ['a.txt', 'b.txt'];
  const plan = planActions({ trees, dirty, mode: 'two-way', options: DEFAULT_OPTIONS, terminal: 'laptop', now: 7, allowMassDelete: false });
  expect(plan.actions.length).toBeGreaterThan(0);
  const made: PlanMade = { type: 'PlanMade', v: 2, planId: 'p1', guard: plan.guard, now: 7, allowMassDelete: false, dirty, actions: plan.actions.map((action, i) => ({ actionId: `a${i}`, action })) };
  log.task('t', 3, { type: 'TaskStatusChanged', v: 1, status: 'synchronizing', reason: null, message: null }, alter(made));
  return log;
}

describe('replay --verify (ADR 0072)', () => {
  it('re-runs a recorded decision with the planner and finds it the same', () => {
    const r = createReplay({ verify: true });
    for (const e of logWithPlan().events) r.apply(e);
    expect(r.verification).toEqual({ checked: 1, unverifiable: [], mismatch: null });
  });

  it('reports the first action that differs, with its position', () => {
    const log = logWithPlan((p) => ({ ...p, actions: p.actions.map((a, i) => (i === 1 ? { ...a, action: { ...a.action, rule: 'made up' } } : a)) }));
    const r = createReplay({ verify: true });
    for (const e of log.events) r.apply(e);
    const planAt = log.events.find((e) => e.event.type === 'PlanMade')?.position;
    expect(r.verification.mismatch).toMatchObject({ position: planAt, taskId: 't', planId: 'p1', index: 1 });
  });

  it('a dropped action and a different guard are differences too', () => {
    const dropped = createReplay({ verify: true });
    for (const e of logWithPlan((p) => ({ ...p, actions: p.actions.slice(1) })).events) dropped.apply(e);
    expect(dropped.verification.mismatch).not.toBeNull();
    const guarded = createReplay({ verify: true });
    for (const e of logWithPlan((p) => ({ ...p, guard: { reason: 'mass-delete', gone: 1, synced: 1 } })).events) guarded.apply(e);
    expect(guarded.verification.mismatch).toMatchObject({ index: -1 });
  });

  it('lists a plan without what the planner read (v1) as not checkable', () => {
    const r = createReplay({ verify: true });
    for (const e of logWithPlan((p) => ({ ...p, now: null, allowMassDelete: null, dirty: null })).events) r.apply(e);
    expect(r.verification.checked).toBe(0);
    expect(r.verification.unverifiable).toEqual([expect.objectContaining({ planId: 'p1', why: expect.stringMatching(/v1/) as unknown })]);
  });

  it('records the status over time and stops after --until', () => {
    const log = logWithPlan();
    const all = createReplay();
    for (const e of log.events) all.apply(e);
    expect(all.statuses.map((s) => s.status)).toEqual(['scanning', 'synchronizing']);
    const until = log.events.find((e) => e.event.type === 'LocalChanged')!.position;
    const early = createReplay({ until });
    for (const e of log.events) if (!early.apply(e)) break;
    expect(early.position()).toBe(until);
    expect(early.statuses.map((s) => s.status)).toEqual(['scanning']);
  });
});
