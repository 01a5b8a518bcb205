/**
 * Stopping the continuous loop leaves nothing behind: the cloud feed's retry pause is cancelled
 * with its watch, and a watch drive whose close fails does not become an unhandled rejection.
 */
import { expect, it } from 'vitest';
import { createEngineCore } from './engine.js';
import { createMemoryEventLog } from '../events/memory-event-log.js';
import { createVirtualClock } from '../io/clock.js';
import { createSequentialIds } from '../io/ids.js';
import { RemoteError, type RemoteDrive } from '../io/remote-drive.js';
import { createSimCloud } from '../io/sim-remote-drive.js';
import { createSimLocalFs } from '../io/sim-local-fs.js';

it('run() stopped while the feed waits to be asked again: no timer is left, and a failing close is not an unhandled rejection', async () => {
  const clock = createVirtualClock();
  const cloud = createSimCloud({ clock, ids: createSequentialIds(100) });
  cloud.addUser('ada');
  await cloud.drive('ada', 'two-way').mkdir('personal', 'Docs');
  let feedFailures = 0;
  let closeFails = false;
  const failingFeed = (d: RemoteDrive): RemoteDrive => ({
    ...d,
    // The long poll fails (the server is gone); the round's own reads of the feed work.
    changes: async (...args: Parameters<RemoteDrive['changes']>) => {
      if (args[2]?.waitSeconds !== undefined) {
        feedFailures += 1;
        throw new RemoteError('unavailable', 'the server is gone');
      }
      return d.changes(...args);
    },
    close: () => (closeFails ? Promise.reject(new Error('already closed')) : d.close()),
  });
  const engine = await createEngineCore({
    log: createMemoryEventLog({ clock }),
    clock,
    ids: createSequentialIds(),
    terminalName: 'sim',
    defaultCloudUrl: null,
    driveFor: (_c, m) => failingFeed(cloud.drive('ada', m)),
    localFor: () => createSimLocalFs({ clock }),
    checkLocalFolder: (path) => ({ root: path, rootId: null }),
  });
  const t = await engine.createTask({ localRoot: '/sim', cloud: 'personal:/Docs' });
  closeFails = true;
  const stop = new AbortController();
  const rounds: string[] = [];
  const running = engine.run(stop.signal, (r) => rounds.push(r.get(t.taskId)?.status ?? 'none'));
  for (let i = 0; i < 20 && (feedFailures === 0 || rounds.length === 0); i++) await new Promise((r) => setTimeout(r, 10));
  expect(rounds).toEqual(['completed']);
  expect(feedFailures).toBe(1);
  stop.abort();
  await running;
  await engine.close().catch(() => undefined);
  await new Promise((r) => setTimeout(r, 20));
  expect(clock.pending()).toBe(0);
});
