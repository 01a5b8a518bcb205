import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createVirtualClock } from '../io/clock.js';
import { toXStateClock } from '../actors/xstate-clock.js';
import { retryDelayMs, taskMachine, taskStatusOf, type TaskMachineEvent, type TaskMachineState } from './task-machine.js';

function start(input: { autoSync: boolean; paused?: boolean } = { autoSync: true }) {
  const clock = createVirtualClock(0);
  const actor = createActor(taskMachine, { input, clock: toXStateClock(clock) });
  actor.start();
  const send = (...events: TaskMachineEvent[]): void => {
    for (const e of events) actor.send(e);
  };
  const state = (): TaskMachineState => actor.getSnapshot().value;
  return { actor, clock, send, state, ctx: () => actor.getSnapshot().context };
}

describe('task machine (SPEC.md section 6: task states)', () => {
  it('scanning, then synchronizing, then completed ("Synchronized completion")', () => {
    const t = start();
    expect(t.state()).toBe('scanning');
    t.send({ type: 'SCAN_DONE' });
    expect(t.state()).toBe('synchronizing');
    t.send({ type: 'IDLE' });
    expect(t.state()).toBe('completed');
  });

  it('with autoSync, new work moves a completed task back to synchronizing', () => {
    const t = start();
    t.send({ type: 'SCAN_DONE' }, { type: 'IDLE' }, { type: 'WORK_FOUND' });
    expect(t.state()).toBe('synchronizing');
  });

  it('without autoSync, new work waits for "sync now", which rescans', () => {
    const t = start({ autoSync: false });
    t.send({ type: 'SCAN_DONE' }, { type: 'IDLE' }, { type: 'WORK_FOUND' });
    expect(t.state()).toBe('completed');
    t.send({ type: 'SYNC_NOW' });
    expect(t.state()).toBe('scanning');
  });

  it('configuring autoSync changes it live', () => {
    const t = start({ autoSync: false });
    t.send({ type: 'SCAN_DONE' }, { type: 'IDLE' }, { type: 'CONFIGURE', autoSync: true }, { type: 'WORK_FOUND' });
    expect(t.state()).toBe('synchronizing');
  });

  it.each<TaskMachineEvent[]>([[], [{ type: 'SCAN_DONE' }], [{ type: 'SCAN_DONE' }, { type: 'IDLE' }]])(
    'pause works from any running state, and resume rescans (after %j)',
    (...before) => {
      const t = start();
      t.send(...before, { type: 'PAUSE' });
      expect(t.state()).toBe('paused');
      expect(t.ctx().reason).toBe('user');
      t.send({ type: 'SCAN_DONE' }, { type: 'WORK_FOUND' });
      expect(t.state()).toBe('paused');
      t.send({ type: 'RESUME' });
      expect(t.state()).toBe('scanning');
      expect(t.ctx().reason).toBeNull();
    },
  );

  it('a task paused before the engine stopped starts paused', () => {
    expect(start({ autoSync: true, paused: true }).state()).toBe('paused');
  });

  it('the mass-delete guard pauses with its reason and message (SPEC.md section 5)', () => {
    const t = start();
    t.send({ type: 'SCAN_DONE' }, { type: 'GUARD', reason: 'mass-delete', message: '150 of 200 synced files are gone' });
    expect(t.state()).toBe('paused');
    expect(t.ctx()).toMatchObject({ reason: 'mass-delete', message: '150 of 200 synced files are gone' });
  });

  it('a non-retryable failure stays failed until the user resumes', () => {
    const t = start();
    t.send({ type: 'FAIL', reason: 'token-revoked', message: 'the token was revoked', retryable: false });
    expect(t.state()).toBe('failed');
    t.clock.advance(24 * 3600 * 1000);
    expect(t.state()).toBe('failed');
    t.send({ type: 'RESUME' });
    expect(t.state()).toBe('scanning');
  });

  it('a retryable failure is retried on the injected clock, with growing backoff, reset by success', () => {
    const t = start();
    t.send({ type: 'FAIL', reason: 'folder-gone', message: 'gone', retryable: true });
    expect(t.state()).toBe('failed');
    t.clock.advance(retryDelayMs(1) - 1);
    expect(t.state()).toBe('failed');
    t.clock.advance(1);
    expect(t.state()).toBe('scanning');
    t.send({ type: 'FAIL', reason: 'folder-gone', message: 'gone', retryable: true });
    expect(t.ctx().attempt).toBe(2);
    t.clock.advance(retryDelayMs(1));
    expect(t.state()).toBe('failed');
    t.clock.advance(retryDelayMs(2) - retryDelayMs(1));
    expect(t.state()).toBe('scanning');
    t.send({ type: 'SCAN_DONE' }, { type: 'IDLE' });
    expect(t.ctx().attempt).toBe(0);
  });

  it('the backoff is capped at five minutes', () => {
    expect(retryDelayMs(1)).toBe(1000);
    expect(retryDelayMs(3)).toBe(4000);
    expect(retryDelayMs(50)).toBe(300_000);
  });

  it('cancel ends the task from any state, and pending retries never fire', () => {
    const t = start();
    t.send({ type: 'FAIL', reason: 'folder-gone', message: 'gone', retryable: true }, { type: 'CANCEL' });
    expect(t.state()).toBe('cancelled');
    expect(t.actor.getSnapshot().status).toBe('done');
    t.clock.advance(retryDelayMs(1) * 2);
    expect(t.state()).toBe('cancelled');
  });

  it('shows exactly the five statuses of SPEC.md section 6', () => {
    const states: TaskMachineState[] = ['starting', 'scanning', 'synchronizing', 'completed', 'paused', 'failed', 'cancelled'];
    expect(states.map(taskStatusOf).filter((s) => s !== null)).toEqual(['scanning', 'synchronizing', 'completed', 'paused', 'failed']);
  });
});
