/**
 * A folder the scan cannot read is not an empty folder (SPEC.md section 5: "unreadable entries are
 * reported with a reason"): what it held must never turn into deletes in the cloud.
 */
import { describe, expect, it } from 'vitest';
import { simEngineWorld } from './sim-engine.fixture.js';

async function world() {
  const { local, person, engine } = await simEngineWorld();
  local.user.write('keep.txt', 'k');
  for (const n of ['x', 'y', 'z']) local.user.write(`photos/${n}.jpg`, n);
  const t = await engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs' });
  expect((await engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('completed');
  const listed = async () => (await person.list('personal', 'Docs', { recursive: true })).map((e) => e.path);
  return { engine, local, taskId: t.taskId, listed };
}

describe('an unreadable folder during a scan', () => {
  it('its synced files are neither deleted in the cloud nor anywhere else; readable again, nothing changes', async () => {
    const w = await world();
    const before = await w.listed();
    expect(before).toContain('Docs/photos/x.jpg');
    w.local.user.setReadable('photos', false);
    await w.engine.syncOnce(w.taskId);
    expect(await w.listed()).toEqual(before);
    w.local.user.setReadable('photos', true);
    expect((await w.engine.syncOnce(w.taskId)).get(w.taskId)?.status).toBe('completed');
    expect(await w.listed()).toEqual(before);
    expect(Buffer.from(w.local.contentOf('photos/x.jpg') ?? []).toString()).toBe('x');
    expect(w.local.trashed()).toEqual([]);
  });
});
