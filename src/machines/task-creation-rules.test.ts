import { describe, expect, it } from 'vitest';
import type { CloudLocation } from '../events/types.js';
import { checkNewTask, cloudFoldersOverlap, MAX_TASKS_PER_TERMINAL } from './task-creation-rules.js';

const loc = (path: string, space = 'personal', url: string | null = null): CloudLocation => ({ url, space, spaceType: 'personal', path });

describe('task creation refusals decided without disk or network (SPEC.md section 3)', () => {
  it('too many tasks: refused at the eleventh task on a terminal', () => {
    const nine = Array.from({ length: MAX_TASKS_PER_TERMINAL - 1 }, (_, i) => ({ taskId: `t${i}`, cloud: loc(`/f${i}`) }));
    expect(checkNewTask(nine, loc('/new')).ok).toBe(true);
    const ten = [...nine, { taskId: 't9', cloud: loc('/f9') }];
    const refused = checkNewTask(ten, loc('/new'));
    expect(refused).toMatchObject({ ok: false, reason: 'too-many-tasks' });
    if (!refused.ok) expect(refused.message).toMatch(/Cancel a task/);
  });

  it.each([
    ['/a', '/a', true],
    ['/a', '/a/b', true],
    ['/a/b', '/a', true],
    ['/', '/x', true],
    ['/a/', '/a', true],
    ['/a', '/ab', false],
    ['/a', '/b/a', false],
  ])('nested cloud folders (beyond): %s and %s overlap: %s', (a, b, overlap) => {
    expect(cloudFoldersOverlap(loc(a), loc(b))).toBe(overlap);
    const result = checkNewTask([{ taskId: 't', cloud: loc(a) }], loc(b));
    expect(result.ok).toBe(!overlap);
    if (!result.ok) expect(result.reason).toBe('nested');
  });

  it('folders in different spaces or clouds never overlap', () => {
    expect(cloudFoldersOverlap(loc('/a', 'personal'), loc('/a', 'team'))).toBe(false);
    expect(cloudFoldersOverlap(loc('/a', 'p', 'http://one'), loc('/a', 'p', 'http://two'))).toBe(false);
  });
});
