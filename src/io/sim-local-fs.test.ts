import { describe, expect, it } from 'vitest';
import { localFsContract } from '../../test/contract/local-fs.contract.js';
import { createVirtualClock } from './clock.js';
import type { WatchBatch } from './local-fs.js';
import { createSimLocalFs } from './sim-local-fs.js';
import { baseName } from '../lib/names.js';
import { createPathFilter } from '../lib/filters.js';

const flushMicrotasks = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

localFsContract('simulated', async () => {
  const clock = createVirtualClock();
  const fs = createSimLocalFs({ clock });
  return {
    fs,
    user: {
      write: async (p, c) => { fs.user.write(p, c); },
      mkdir: async (p) => { fs.user.mkdir(p); },
      remove: async (p) => { fs.user.remove(p); },
      move: async (a, b) => { fs.user.move(a, b); },
      symlink: async (p, t) => { fs.user.symlink(p, t); },
    },
    trashed: async () => fs.trashed().filter((t) => t.inFolder === undefined).map((t) => baseName(t.path)),
    rawList: async (dir) => fs.paths().filter((p) => p.includes('/') ? p.slice(0, p.lastIndexOf('/')) === dir : dir === '').map(baseName),
    settle: async (ms) => {
      clock.advance(ms);
      await flushMicrotasks();
    },
    cleanup: async () => {},
  };
});

describe('simulated LocalFs only', () => {
  it('a folder sent to the trash goes whole: the ignored files left in it are in the trash with their content', async () => {
    const fs = createSimLocalFs({ clock: createVirtualClock(0) });
    fs.user.write('a/b/z', 'kept');
    const filter = createPathFilter({ include: [], exclude: ['b'], maxFileSize: null });
    const meta = await fs.stat('a');
    if (meta === null) throw new Error('no folder a');
    await fs.remove('a', meta, 'trash', filter);
    expect(fs.paths()).toEqual([]);
    const z = fs.trashed().find((t) => t.path === 'a/b/z');
    expect(z?.inFolder).toBe('a');
    expect(new TextDecoder().decode(z?.content ?? new Uint8Array())).toBe('kept');
    expect(fs.trashed().filter((t) => t.inFolder === undefined).map((t) => t.path)).toEqual(['a']);
  });

  it('is deterministic: the same operations on the same virtual clock give the same metadata and batches', async () => {
    const run = async (): Promise<unknown> => {
      const clock = createVirtualClock(0);
      const fs = createSimLocalFs({ clock });
      const batches: WatchBatch[] = [];
      const sub = fs.watch({ debounceMs: 10 }).subscribe((b) => batches.push(b));
      fs.user.write('a/b.txt', 'x');
      clock.advance(5);
      fs.user.write('a/c.txt', 'y');
      clock.advance(20);
      await flushMicrotasks();
      sub.unsubscribe();
      return { stat: await fs.stat('a/c.txt'), batches };
    };
    expect(await run()).toEqual(await run());
  });

  it('debounces on the injected clock: nothing is emitted until the quiet time passed, and maxWait bounds a busy stream', async () => {
    const clock = createVirtualClock(0);
    const fs = createSimLocalFs({ clock });
    const batches: WatchBatch[] = [];
    const sub = fs.watch({ debounceMs: 100, maxWaitMs: 250 }).subscribe((b) => batches.push(b));
    for (let i = 0; i < 6; i++) {
      fs.user.write(`f${i}`, 'x');
      clock.advance(60);
      await flushMicrotasks();
    }
    // Writes 60 ms apart never leave 100 ms of quiet: only maxWait (250 ms) closed the first batch (f0-f4).
    expect(batches).toHaveLength(1);
    expect(batches[0]?.changes).toHaveLength(5);
    clock.advance(100);
    await flushMicrotasks();
    expect(batches).toHaveLength(2);
    expect(batches.flatMap((b) => b.changes).map((c) => ('path' in c ? c.path : ''))).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
    sub.unsubscribe();
  });

  it('reports a file that changes while it is hashed as changing', async () => {
    const fs = createSimLocalFs({ clock: createVirtualClock() });
    fs.user.write('big.bin', 'before');
    fs.duringNextHash('big.bin', () => { fs.user.write('big.bin', 'during the read'); });
    expect(await fs.hash('big.bin')).toMatchObject({ status: 'changing' });
    expect(await fs.hash('big.bin')).toMatchObject({ status: 'hashed' });
  });

  it('maps injected faults to typed errors with file failure reasons', async () => {
    const fs = createSimLocalFs({ clock: createVirtualClock() });
    fs.failNext('write', 'disk-full');
    await expect(fs.writeFile('x', new Uint8Array([1]), null)).rejects.toMatchObject({ code: 'disk-full', reason: 'disk-full' });
    expect(await fs.stat('x')).toBeNull();
    fs.failNext('mkdir', 'permission');
    await expect(fs.mkdir('d')).rejects.toMatchObject({ code: 'permission' });
  });

  it('reports unreadable files and folders as skipped', async () => {
    const fs = createSimLocalFs({ clock: createVirtualClock() });
    fs.user.write('locked/f', 'x');
    fs.user.write('secret', 'x');
    fs.user.setReadable('locked', false);
    fs.user.setReadable('secret', false);
    const items = [];
    for await (const b of fs.scan('')) items.push(...b);
    expect(items.filter((i) => i.type === 'skipped').map((i) => i.path).sort()).toEqual(['locked', 'secret']);
  });
});
