/**
 * A file that keeps failing backs off (issue 6: "retries transient failures with backoff"): its
 * attempts grow across re-plans, and so does the delay before the next one (found by review).
 */
import { describe, expect, it } from 'vitest';
import { simEngineWorld } from './sim-engine.fixture.js';

describe('retry backoff of a failing file', () => {
  it('attempts grow and so does the delay; once the file goes through, the count starts over', async () => {
    const { clock, cloud, person, local, log, engine } = await simEngineWorld();
    const t = await engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs' });
    await engine.syncOnce(t.taskId);
    cloud.setQuota('personal:ada', 10);
    local.user.write('big.txt', 'x'.repeat(100));
    await engine.syncChanges(t.taskId, { paths: ['big.txt'], rescans: [] });
    for (let i = 0; i < 6; i++) {
      clock.advance(10 * 60 * 1000);
      await engine.syncChanges(t.taskId, { paths: [], rescans: [] });
    }
    const failures = (await log.read(1, 10_000)).flatMap((e) => (e.event.type === 'ActionFailed' ? [{ attempt: e.event.attempt, delay: (e.event.nextRetryAt ?? 0) - e.at }] : []));
    expect(failures.map((f) => f.attempt)).toEqual(failures.map((_, i) => i + 1));
    expect(failures.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < failures.length; i++) expect(failures[i]?.delay).toBeGreaterThan(failures[i - 1]?.delay ?? 0);
    cloud.setQuota('personal:ada', null);
    clock.advance(10 * 60 * 1000);
    await engine.syncChanges(t.taskId, { paths: [], rescans: [] });
    expect((await person.list('personal', 'Docs')).map((e) => e.path)).toEqual(['Docs/big.txt']);
    // A new failure of the same path starts again from the first attempt.
    cloud.setQuota('personal:ada', 10);
    local.user.write('big.txt', 'y'.repeat(200));
    await engine.syncChanges(t.taskId, { paths: ['big.txt'], rescans: [] });
    const last = (await log.read(1, 10_000)).flatMap((e) => (e.event.type === 'ActionFailed' ? [e.event.attempt] : [])).at(-1);
    expect(last).toBe(1);
  });
});
