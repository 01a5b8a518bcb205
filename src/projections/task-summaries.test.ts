import { describe, expect, it } from 'vitest';
import { foldEvents } from './projection.js';
import { querySyncDetails, showsFailedMark, summariesOf, taskSummariesProjection, type TaskSummary } from './task-summaries.js';
import { failedFilesOf, failedFilesProjection } from './failed-files.js';
import { createEventList, succeeded, upload } from './events.fixture.js';

function summaries(events: ReturnType<typeof createEventList>['events']): TaskSummary[] {
  return summariesOf(foldEvents(taskSummariesProjection, taskSummariesProjection.initial(), events));
}

function threeTasks() {
  const log = createEventList();
  log.created('t1', 3000, { path: '/Photos', space: 'personal' });
  log.created('t2', 1000, { path: '/archive', space: 'team-a', spaceType: 'team', mode: 'upload' });
  log.created('t3', 2000, { path: '/', space: 'Budget', spaceType: 'team' });
  log.task('t1', 3100, { type: 'TaskStatusChanged', v: 1, status: 'completed', reason: null, message: null });
  log.task('t2', 3100, { type: 'TaskStatusChanged', v: 1, status: 'failed', reason: 'token-revoked', message: 'sign in again' });
  log.task('t3', 3100, { type: 'TaskStatusChanged', v: 1, status: 'synchronizing', reason: null, message: null });
  return log;
}

describe('sync details view (SPEC.md section 6)', () => {
  it('names a task by its cloud folder, or the space for a space root', () => {
    const byId = Object.fromEntries(summaries(threeTasks().events).map((s) => [s.taskId, s.cloudName]));
    expect(byId).toEqual({ t1: 'Photos', t2: 'archive', t3: 'Budget' });
  });

  it.each([
    [{ sort: 'name' as const }, ['archive', 'Budget', 'Photos']],
    [{ sort: 'name' as const, desc: true }, ['Photos', 'Budget', 'archive']],
    [{ sort: 'created' as const }, ['archive', 'Budget', 'Photos']],
    [{ sort: 'created' as const, desc: true }, ['Photos', 'Budget', 'archive']],
  ])('sorts by %j', (query, names) => {
    const rows = querySyncDetails(summaries(threeTasks().events), query);
    expect(rows.map((r) => r.cloudName)).toEqual(names);
  });

  it('sorts by creation time when no sort is given', () => {
    expect(querySyncDetails(summaries(threeTasks().events)).map((r) => r.taskId)).toEqual(['t2', 't3', 't1']);
  });

  it.each([
    [{ status: 'completed' as const }, ['t1']],
    [{ status: 'failed' as const }, ['t2']],
    [{ status: 'synchronizing' as const }, ['t3']],
    [{ status: 'paused' as const }, []],
    [{ type: 'upload' as const }, ['t2']],
    [{ type: 'two-way' as const }, ['t3', 't1']],
    [{ space: 'personal' }, ['t1']],
    [{ space: 'Budget', type: 'two-way' as const }, ['t3']],
  ])('filters by %j', (query, ids) => {
    expect(querySyncDetails(summaries(threeTasks().events), query).map((r) => r.taskId)).toEqual(ids);
  });

  it('a task just created shows scanning, and the status filter finds it by that status', () => {
    const log = threeTasks();
    log.created('t4', 5000, { path: '/new' });
    const rows = querySyncDetails(summaries(log.events), { status: 'scanning' });
    expect(rows.map((r) => [r.taskId, r.status])).toEqual([['t4', 'scanning']]);
  });

  it('shows a failed task with its reason and what to do', () => {
    const t2 = summaries(threeTasks().events).find((s) => s.taskId === 't2');
    expect(t2).toMatchObject({ status: 'failed', reason: 'token-revoked', message: 'sign in again' });
  });

  it('counts files in sync, pending and failed, bytes done and total, and the speed', () => {
    const log = createEventList();
    log.created('t', 0);
    log.task('t', 10, { type: 'TaskStatusChanged', v: 1, status: 'synchronizing', reason: null, message: null });
    log.task('t', 20, {
      type: 'PlanMade',
      v: 2,
      now: 20,
      allowMassDelete: false,
      dirty: null,
      planId: 'p1',
      guard: null,
      actions: [
        { actionId: 'a1', action: upload('a.txt', 100) },
        { actionId: 'a2', action: upload('b.txt', 300) },
        { actionId: 'a3', action: upload('c.txt', 600) },
      ],
    });
    let s = summaries(log.events)[0];
    expect(s).toMatchObject({ filesPending: 3, filesInSync: 0, bytesDone: 0, bytesTotal: 1000 });
    log.task('t', 1000, succeeded('a1', 'a.txt', 100));
    log.task('t', 2000, { type: 'ActionFailed', v: 1, actionId: 'a2', reason: 'quota', message: 'free space', transient: true, attempt: 1, nextRetryAt: 62_000 });
    s = summaries(log.events)[0];
    expect(s).toMatchObject({ filesPending: 1, filesInSync: 1, filesFailed: 1, bytesDone: 100, bytesTotal: 1000, speedBps: 20 });
    expect(showsFailedMark(s!)).toBe(true);
    log.task('t', 3000, succeeded('a2', 'b.txt', 300), succeeded('a3', 'c.txt', 600));
    log.task('t', 3000, { type: 'TaskStatusChanged', v: 1, status: 'completed', reason: null, message: null });
    s = summaries(log.events)[0];
    expect(s).toMatchObject({ status: 'completed', filesPending: 0, filesInSync: 3, filesFailed: 0, speedBps: 0, lastCompletedAt: 3000 });
    expect(showsFailedMark(s!)).toBe(false);
  });

  it('the red exclamation shows only for completed or synchronizing tasks with failed files', () => {
    const base = summaries(threeTasks().events)[0]!;
    expect(showsFailedMark({ ...base, status: 'completed', filesFailed: 1 })).toBe(true);
    expect(showsFailedMark({ ...base, status: 'synchronizing', filesFailed: 2 })).toBe(true);
    expect(showsFailedMark({ ...base, status: 'paused', filesFailed: 2 })).toBe(false);
    expect(showsFailedMark({ ...base, status: 'completed', filesFailed: 0 })).toBe(false);
  });

  it('a cancelled task leaves the view', () => {
    const log = threeTasks();
    log.add('engine', 4000, { type: 'TaskCancelled', v: 1, taskId: 't2' });
    expect(summaries(log.events).map((s) => s.taskId).sort()).toEqual(['t1', 't3']);
  });

  it('folding in two parts equals folding at once', () => {
    const log = threeTasks();
    const half = Math.floor(log.events.length / 2);
    const p = taskSummariesProjection;
    const inParts = foldEvents(p, foldEvents(p, p.initial(), log.events.slice(0, half)), log.events.slice(half));
    expect(summariesOf(inParts)).toEqual(summaries(log.events));
  });
});

describe('failed files of a task (SPEC.md section 6)', () => {
  it('lists path, operation, reason, message, attempts and next retry; a later success clears it', () => {
    const log = createEventList();
    log.created('t', 0);
    log.task('t', 1, { type: 'PlanMade', v: 2, planId: 'p', guard: null, now: 1, allowMassDelete: false, dirty: null, actions: [{ actionId: 'a', action: upload('x/big.iso', 10) }] });
    log.task('t', 2, { type: 'ActionFailed', v: 1, actionId: 'a', reason: 'quota', message: 'The space is full: free space or raise the quota.', transient: true, attempt: 2, nextRetryAt: 500 });
    const p = failedFilesProjection;
    let state = foldEvents(p, p.initial(), log.events);
    expect(failedFilesOf(state, 't')).toEqual([
      { path: 'x/big.iso', operation: 'upload', reason: 'quota', message: 'The space is full: free space or raise the quota.', attempts: 2, nextRetryAt: 500, failedAt: 2 },
    ]);
    log.task('t', 3, succeeded('a', 'x/big.iso', 10));
    state = foldEvents(p, p.initial(), log.events);
    expect(failedFilesOf(state, 't')).toEqual([]);
  });

  it('a cancelled task has no failed files left', () => {
    const log = createEventList();
    log.created('t', 0);
    log.task('t', 1, { type: 'PlanMade', v: 2, planId: 'p', guard: null, now: 1, allowMassDelete: false, dirty: null, actions: [{ actionId: 'a', action: upload('a', 1) }] });
    log.task('t', 2, { type: 'ActionFailed', v: 1, actionId: 'a', reason: 'bad-name', message: 'rename it', transient: false, attempt: 1, nextRetryAt: null });
    log.add('engine', 3, { type: 'TaskCancelled', v: 1, taskId: 't' });
    const p = failedFilesProjection;
    expect(failedFilesOf(foldEvents(p, p.initial(), log.events), 't')).toEqual([]);
  });
});
