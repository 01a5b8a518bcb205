/**
 * Stopping the continuous loop leaves nothing behind: the cloud feed's retry pause is cancelled
 * with its watch, and a watch drive whose close fails does not become an unhandled rejection.
 */
import { expect, it } from 'vitest';
import { RemoteError, type RemoteDrive } from '../io/remote-drive.js';
import { simEngineWorld } from './sim-engine.fixture.js';

it('run() stopped while the feed waits to be asked again: no timer is left, and a failing close is not an unhandled rejection', async () => {
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
  const { clock, engine } = await simEngineWorld({ drive: failingFeed });
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
