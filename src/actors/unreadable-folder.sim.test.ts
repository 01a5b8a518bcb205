/**
 * A folder the scan cannot read is not an empty folder (SPEC.md section 5: "unreadable entries are
 * reported with a reason"): what it held must never turn into deletes in the cloud.
 */
import { describe, expect, it } from 'vitest';
import { createEngineCore } from './engine.js';
import { createMemoryEventLog } from '../events/memory-event-log.js';
import { createVirtualClock } from '../io/clock.js';
import { createSequentialIds } from '../io/ids.js';
import { createSimCloud } from '../io/sim-remote-drive.js';
import { createSimLocalFs } from '../io/sim-local-fs.js';

async function world() {
  const clock = createVirtualClock();
  const cloud = createSimCloud({ clock, ids: createSequentialIds(100) });
  cloud.addUser('ada');
  const person = cloud.drive('ada', 'two-way');
  await person.mkdir('personal', 'Docs');
  const local = createSimLocalFs({ clock });
  const engine = await createEngineCore({
    log: createMemoryEventLog({ clock }),
    clock,
    ids: createSequentialIds(),
    terminalName: 'sim',
    defaultCloudUrl: null,
    driveFor: (_c, m) => cloud.drive('ada', m),
    localFor: () => local,
    checkLocalFolder: (path) => ({ root: path, rootId: null }),
  });
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
