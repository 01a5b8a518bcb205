import { describe, expect, it } from 'vitest';
import { readAll } from '../io/remote-drive.js';
import { createEngineSimulation } from './world.js';
import { seededChooser } from './scheduler.js';

describe('engine simulation', () => {
  it('runs the real engine: a local file reaches the cloud, a cloud file reaches the folder', async () => {
    const sim = await createEngineSimulation({ choose: seededChooser(7) });
    sim.local.user.write('a/x.txt', 'hello');
    await sim.person.upload('personal', { path: 'Docs/b.txt' }, new TextEncoder().encode('from cloud'), { size: 10, hash: (await import('./world.js')).contentHash('from cloud'), baseVersion: null });
    const r = await sim.call((e) => e.syncOnce());
    expect(r.status).toBe('done');
    const entry = await sim.person.stat('personal', 'Docs/a/x.txt');
    expect(entry).not.toBeNull();
    expect((await readAll(await sim.person.download('personal', entry!.id))).toString()).toBe('hello');
    expect(Buffer.from(sim.local.contentOf('b.txt') ?? []).toString()).toBe('from cloud');
  });
});
