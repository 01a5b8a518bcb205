/**
 * The task runner on the simulated sides (deterministic: virtual clock, counter ids): cases that
 * need control a real disk does not give, such as a file edited while it is being hashed.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryEventLog } from '../events/memory-event-log.js';
import { createVirtualClock } from '../io/clock.js';
import { createSequentialIds } from '../io/ids.js';
import { readAll } from '../io/remote-drive.js';
import { createSimCloud } from '../io/sim-remote-drive.js';
import { createSimLocalFs } from '../io/sim-local-fs.js';
import { docsTask } from './sim-engine.fixture.js';
import { createTaskRunner, type TaskProgress } from './task-runner.js';

describe('task runner on simulated sides', () => {
  it('a file edited while it is hashed is skipped as changing, and looked at again by a later incremental round', async () => {
    const clock = createVirtualClock();
    const ids = createSequentialIds();
    const cloud = createSimCloud({ clock, ids });
    cloud.addUser('ada');
    const drive = cloud.drive('ada');
    const local = createSimLocalFs({ clock, root: '/home/ada/Docs' });
    const log = createMemoryEventLog({ clock });
    const r = await createTaskRunner({
      task: docsTask('two-way'),
      log,
      local,
      drive,
      clock,
      ids,
      terminal: 'laptop',
    });
    local.user.write('a.txt', 'one');
    await r.syncOnce();
    local.user.write('a.txt', 'two');
    local.duringNextHash('a.txt', () => {
      local.user.write('a.txt', 'three, written while read');
    });
    await r.syncChanges({ paths: ['a.txt'], rescans: [] });
    const text = async (): Promise<string> => (await readAll(await drive.download('personal', (await drive.stat('personal', 'Docs/a.txt'))!.id))).toString();
    expect(await text()).toBe('one');
    const retryAt = r.nextRetryAt();
    expect(retryAt).not.toBeNull();
    clock.advance((retryAt ?? 0) - clock.now());
    // No new report from the watcher: the runner remembers the file it could not read.
    await r.syncChanges({ paths: [], rescans: [] });
    expect(await text()).toBe('three, written while read');
    expect(r.nextRetryAt()).toBeNull();
    r.stop();
  });

  it('reports the speed of the bytes moved in the last three seconds only', async () => {
    const clock = createVirtualClock();
    const ids = createSequentialIds();
    const cloud = createSimCloud({ clock, ids });
    cloud.addUser('ada');
    const local = createSimLocalFs({ clock, root: '/home/ada/Docs' });
    let last: TaskProgress | null = null;
    const r = await createTaskRunner({
      task: docsTask('two-way'),
      log: createMemoryEventLog({ clock }),
      local,
      drive: cloud.drive('ada'),
      clock,
      ids,
      terminal: 'laptop',
      onProgress: (p) => (last = p),
    });
    for (const [name, size] of [['a', 1000], ['b', 1500], ['c', 500]] as const) local.user.write(`${name}.txt`, 'x'.repeat(size));
    await r.syncOnce();
    expect(last).toMatchObject({ bytesDone: 3000, speedBps: 1000 });
    clock.advance(3001);
    local.user.write('d.txt', 'y'.repeat(600));
    await r.syncChanges({ paths: ['d.txt'], rescans: [] });
    expect(last).toMatchObject({ speedBps: 200 });
    clock.advance(3001);
    local.user.write('e.txt', 'z'.repeat(300));
    await r.syncChanges({ paths: ['e.txt'], rescans: [] });
    expect(last).toMatchObject({ speedBps: 100 });
    r.stop();
  });
});
