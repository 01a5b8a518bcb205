/**
 * A bug inside a task's round while run() runs (issue 6): the task fails and is tried again, run()
 * carries on, and the error reaches the engine's onTaskError (the CLI prints it) instead of vanishing.
 */
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../io/clock.js';
import type { LocalFs } from '../io/local-fs.js';
import { createSimLocalFs } from '../io/sim-local-fs.js';
import { simEngineWorld } from './sim-engine.fixture.js';

describe('a bug in a round during run()', () => {
  it('is told to onTaskError with its stack, and run() goes on', async () => {
    const clock = createVirtualClock();
    const local = createSimLocalFs({ clock });
    let buggy = false;
    const side: LocalFs = { ...local, lstat: (p) => (buggy && p === '' ? Promise.reject(new TypeError('cannot read properties of undefined')) : local.lstat(p)) };
    const told: [string, unknown][] = [];
    const { engine } = await simEngineWorld({ clock, localFor: () => side, onTaskError: (id, e) => told.push([id, e]) });
    const task = await engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs' });
    buggy = true;
    const stop = new AbortController();
    const statuses: string[] = [];
    const running = engine.run(stop.signal, (r) => {
      const s = r.get(task.taskId);
      if (s !== undefined) statuses.push(s.status);
    });
    for (let i = 0; i < 50 && told.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await running;
    expect(told.length).toBeGreaterThan(0);
    expect(told[0]?.[0]).toBe(task.taskId);
    expect(told[0]?.[1]).toBeInstanceOf(TypeError);
    expect(statuses).toContain('failed');
  });
});
