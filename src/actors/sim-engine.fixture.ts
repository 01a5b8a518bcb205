/**
 * One engine on simulated sides and a virtual clock, for tests of the engine's own rules: user
 * `ada` with a `Docs` folder in her personal space, and a task between it and the simulated local folder.
 */
import { createMemoryEventLog } from '../events/memory-event-log.js';
import { createVirtualClock } from '../io/clock.js';
import { createSequentialIds } from '../io/ids.js';
import { createSimCloud } from '../io/sim-remote-drive.js';
import { createSimLocalFs } from '../io/sim-local-fs.js';
import { createEngineCore } from './engine.js';

/** Builds the world (no task yet: each test creates its own). */
export async function simEngineWorld() {
  const clock = createVirtualClock();
  const cloud = createSimCloud({ clock, ids: createSequentialIds(100) });
  cloud.addUser('ada');
  const person = cloud.drive('ada', 'two-way');
  await person.mkdir('personal', 'Docs');
  const local = createSimLocalFs({ clock });
  const log = createMemoryEventLog({ clock });
  const engine = await createEngineCore({
    log,
    clock,
    ids: createSequentialIds(),
    terminalName: 'sim',
    defaultCloudUrl: null,
    driveFor: (_c, m) => cloud.drive('ada', m),
    localFor: () => local,
    checkLocalFolder: (path) => ({ root: path, rootId: null }),
  });
  return { clock, cloud, person, local, log, engine };
}
