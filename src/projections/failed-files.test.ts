import { describe, expect, it } from 'vitest';
import { foldEvents } from './projection.js';
import { failedFilesOf, failedFilesProjection } from './failed-files.js';
import { createEventList, succeeded, upload } from './events.fixture.js';

const p = failedFilesProjection;

/** Two tasks whose plans use the same action id (a replayed or imported log may hold that). */
function sameActionIdInTwoTasks() {
  const log = createEventList();
  log.created('a', 1);
  log.created('b', 1);
  log.task('a', 2, { type: 'PlanMade', v: 2, planId: 'p1', guard: null, now: null, allowMassDelete: null, dirty: null, actions: [{ actionId: 'x1', action: upload('a/one.txt', 10) }] });
  log.task('b', 3, { type: 'PlanMade', v: 2, planId: 'p1', guard: null, now: null, allowMassDelete: null, dirty: null, actions: [{ actionId: 'x1', action: upload('b/two.txt', 20) }] });
  log.task('a', 4, { type: 'ActionFailed', v: 1, actionId: 'x1', reason: 'quota', message: 'The space is full.', transient: true, attempt: 1, nextRetryAt: 100 });
  return log;
}

describe('failed files keep each task\'s actions apart', () => {
  it('an action id used by two tasks fails in its own task, on its own path', () => {
    const log = sameActionIdInTwoTasks();
    const state = foldEvents(p, p.initial(), log.events);
    expect(failedFilesOf(state, 'a').map((f) => [f.path, f.operation])).toEqual([['a/one.txt', 'upload']]);
    expect(failedFilesOf(state, 'b')).toEqual([]);
  });

  it('an outcome in one task leaves the other task\'s open action with that id alone', () => {
    const log = sameActionIdInTwoTasks();
    log.task('b', 5, succeeded('x1', 'b/two.txt', 20));
    log.task('a', 6, { type: 'ActionFailed', v: 1, actionId: 'x1', reason: 'quota', message: 'The space is full.', transient: false, attempt: 2, nextRetryAt: null });
    const state = foldEvents(p, p.initial(), log.events);
    expect(failedFilesOf(state, 'a').map((f) => [f.path, f.attempts])).toEqual([['a/one.txt', 2]]);
    expect(failedFilesOf(state, 'b')).toEqual([]);
  });

  it('cancelling one task keeps the other task\'s open action with the same id', () => {
    const log = sameActionIdInTwoTasks();
    log.add('engine', 5, { type: 'TaskCancelled', v: 1, taskId: 'a' });
    log.task('b', 6, { type: 'ActionFailed', v: 1, actionId: 'x1', reason: 'quota', message: 'The space is full.', transient: true, attempt: 1, nextRetryAt: 200 });
    const state = foldEvents(p, p.initial(), log.events);
    expect(failedFilesOf(state, 'a')).toEqual([]);
    expect(failedFilesOf(state, 'b').map((f) => f.path)).toEqual(['b/two.txt']);
  });

  it('a saved and loaded state folds on like the one it was saved from', () => {
    const log = sameActionIdInTwoTasks();
    const cut = log.events.length;
    log.task('b', 5, { type: 'ActionFailed', v: 1, actionId: 'x1', reason: 'quota', message: 'The space is full.', transient: false, attempt: 1, nextRetryAt: null });
    const before = foldEvents(p, p.initial(), log.events.slice(0, cut));
    const loaded = p.decode(JSON.parse(JSON.stringify(p.encode(before))));
    const whole = foldEvents(p, p.initial(), log.events);
    const resumed = foldEvents(p, loaded, log.events.slice(cut));
    expect(p.encode(resumed)).toEqual(p.encode(whole));
    expect(failedFilesOf(resumed, 'b').map((f) => f.path)).toEqual(['b/two.txt']);
  });
});
