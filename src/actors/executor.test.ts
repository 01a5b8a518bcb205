import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../io/clock.js';
import type { RemoteDrive } from '../io/remote-drive.js';
import { createSimLocalFs } from '../io/sim-local-fs.js';
import { createPathFilter } from '../lib/filters.js';
import { DEFAULT_OPTIONS } from '../lib/model.js';
import { createTrees } from '../reconcile/trees.js';
import { executeAction } from './executor.js';
import { createTokenBucket } from './transfer-limits.js';

describe('executor: downloads', () => {
  it('a download the local side refuses before reading it still releases the body (an unread one holds its connection)', async () => {
    const clock = createVirtualClock();
    const local = createSimLocalFs({ clock });
    // The user made the file since the plan, which expected no file there: the write is refused.
    local.user.write('a.txt', 'mine');
    const bodies: Readable[] = [];
    const drive = {
      download: () => {
        const body = Readable.from([Buffer.from('theirs')]);
        bodies.push(body);
        return Promise.resolve(body);
      },
    } as unknown as RemoteDrive;
    const ctx = {
      local,
      drive,
      space: 'personal',
      cloudRoot: 'Docs',
      trees: createTrees(),
      filter: createPathFilter(DEFAULT_OPTIONS.filters),
      upload: createTokenBucket(clock, () => null),
      download: createTokenBucket(clock, () => null),
    };
    const outcome = await executeAction(ctx, { op: 'download', path: 'a.txt', cloud: { kind: 'file', id: 'f1', version: 'v1', size: 6, hash: 'x'.repeat(64) }, expectLocal: null, rule: 'test' });
    expect(outcome.ok).toBe(false);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]?.destroyed).toBe(true);
    expect(Buffer.from(local.contentOf('a.txt') ?? []).toString()).toBe('mine');
  });
});
