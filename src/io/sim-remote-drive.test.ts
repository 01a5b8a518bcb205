import { describe, expect, it } from 'vitest';
import { describeRemoteDriveContract, put, sha } from '../../test/remote-drive-contract.js';
import { createVirtualClock } from './clock.js';
import { createSequentialIds } from './ids.js';
import { RemoteError, type RemoteDrive } from './remote-drive.js';
import { createSimCloud, type SimFault } from './sim-remote-drive.js';

describeRemoteDriveContract('simulated', async () => {
  const cloud = createSimCloud({ clock: createVirtualClock(), ids: createSequentialIds(), retainVersions: 3 });
  return {
    addUser: async (name) => {
      cloud.addUser(name);
    },
    drive: (user, mode) => cloud.drive(user, mode),
    addSpace: async (name, type, recipient) => {
      cloud.addSpace(name, type, recipient === undefined ? {} : { recipient });
    },
    setMember: async (space, user, role) => {
      cloud.setMember(space, user, role);
    },
    setQuota: async (space, quota) => {
      cloud.setQuota(space, quota);
    },
    close: async () => undefined,
  };
});

describe('simulated cloud', () => {
  const run = async (): Promise<unknown[]> => {
    const cloud = createSimCloud({ clock: createVirtualClock(), ids: createSequentialIds() });
    cloud.addUser('ada');
    const d: RemoteDrive = cloud.drive('ada');
    const f = await put(d, 'personal', 'a/b.txt', 'x');
    await put(d, 'personal', 'a/b.txt', 'y', f.version);
    return [await d.list('personal', '', { recursive: true }), await d.changes('personal', '0')];
  };

  it('is deterministic: the same operations give the same ids, versions and feed', async () => {
    expect(await run()).toEqual(await run());
  });

  it('ends a feed wait on the injected clock when nothing changes', async () => {
    const clock = createVirtualClock();
    const cloud = createSimCloud({ clock, ids: createSequentialIds() });
    cloud.addUser('ada');
    const d = cloud.drive('ada');
    const waiting = d.changes('personal', '0', { waitSeconds: 5 });
    await Promise.resolve();
    clock.advance(5000);
    expect(await waiting).toEqual({ changes: [], cursor: '0', more: false });
    expect(sha('')).toHaveLength(64);
  });
});

describe('simulated cloud faults', () => {
  it('refuses an operation before it happens, or loses the answer after it happened', async () => {
    let next: SimFault | null = null;
    const cloud = createSimCloud({
      clock: createVirtualClock(),
      ids: createSequentialIds(),
      fault: (operation) => {
        if (operation !== 'upload') return null;
        const f = next;
        next = null;
        return f;
      },
    });
    cloud.addUser('ada');
    const d = cloud.drive('ada');
    next = { when: 'before', error: new RemoteError('network', 'cut before') };
    await expect(put(d, 'personal', 'a.txt', 'x')).rejects.toThrow('cut before');
    expect(await d.stat('personal', 'a.txt')).toBeNull();
    next = { when: 'after', error: new RemoteError('network', 'answer lost') };
    await expect(put(d, 'personal', 'a.txt', 'x')).rejects.toThrow('answer lost');
    const landed = await d.stat('personal', 'a.txt');
    expect(landed?.hash).toBe(sha('x'));
    // Repeating the lost upload is harmless: the file already holds that content.
    expect(await put(d, 'personal', 'a.txt', 'x')).toEqual(landed);
  });
});
