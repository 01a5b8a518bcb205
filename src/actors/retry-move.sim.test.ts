/**
 * A folder move retried after it failed (found by the convergence property, seed 109724372): the
 * cloud moved folder a (with a/x) to b/a, the local move failed, then the cloud put a new folder a
 * and a new file a/x. The retry must move a/x with its folder and download the new a/x beside it;
 * planned again from the move's two paths alone, a/x looked gone from the cloud and was deleted,
 * and b/a/x never reached the local side.
 */
import { describe, expect, it } from 'vitest';
import { simEngineWorld } from './sim-engine.fixture.js';

describe('a failed folder move, retried', () => {
  it('carries the folder subtree and syncs what the cloud put at the old place', async () => {
    const { clock, person, local, engine } = await simEngineWorld();
    const t = await engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs' });
    local.user.mkdir('a/x');
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('completed');
    const a = await person.stat('personal', 'Docs/a');
    await person.mkdir('personal', 'Docs/b');
    await person.move('personal', a!.id, 'Docs/b/a');
    local.failNext('move', 'io');
    await engine.syncOnce(t.taskId);
    expect(local.paths()).not.toContain('b/a');
    await person.mkdir('personal', 'Docs/a');
    const body = new TextEncoder().encode('new file');
    await person.upload('personal', { path: 'Docs/a/x' }, body, { size: body.length, hash: await sha(body), baseVersion: null });
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) await engine.syncOnce(t.taskId);
    expect(local.paths()).toEqual(['a', 'a/x', 'b', 'b/a', 'b/a/x']);
    expect(local.contentOf('b/a/x')).toBeNull();
    expect(new TextDecoder().decode(local.contentOf('a/x') ?? new Uint8Array())).toBe('new file');
  });
});

async function sha(bytes: Uint8Array): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
}
