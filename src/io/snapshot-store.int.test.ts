import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SnapshotReader } from '../lib/snapshot-codec.js';
import { prereadSnapshots } from './snapshot-preread.js';
import { createFileSnapshotStore, createMemorySnapshotStore } from './snapshot-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function store() {
  const dir = mkdtempSync(join(tmpdir(), 'foldsync-snap-'));
  dirs.push(dir);
  return { dir, store: createFileSnapshotStore(join(dir, 'snapshots')) };
}

describe('file snapshot store', () => {
  it('keeps what was written, replaces it whole, and removes it', async () => {
    const { dir, store: s } = store();
    expect(await s.load('task-1')).toBeNull();
    await s.save('task-1', (w) => {
      w.string('hello');
      w.array(new Uint16Array([1, 2, 3]));
    });
    const first = await s.load('task-1');
    expect(first).not.toBeNull();
    await s.save('task-1', (w) => {
      w.string('bye');
    });
    const second = await s.load('task-1');
    expect(second!.byteLength).toBeLessThan(first!.byteLength);
    expect(readdirSync(join(dir, 'snapshots'))).toEqual(['task-1.snap']);
    await s.remove('task-1');
    expect(await s.load('task-1')).toBeNull();
  });

  it('takes a file read ahead once (as it was then), and reads it itself otherwise', async () => {
    const { dir, store: s } = store();
    await s.save('t', (w) => {
      w.string('first');
    });
    await prereadSnapshots(join(dir, 'snapshots'));
    // Read before the file was replaced: the store takes what was read, once.
    await s.save('t', (w) => {
      w.string('second');
    });
    const read = (bytes: Uint8Array<ArrayBuffer> | null): string => new SnapshotReader(bytes!).string();
    expect(read(await s.load('t'))).toBe('first');
    expect(read(await s.load('t'))).toBe('second');
    // A read ahead that failed (a folder where the file should be) is no snapshot.
    await s.remove('t');
    mkdirSync(join(dir, 'snapshots', 'u.snap'));
    await prereadSnapshots(join(dir, 'snapshots'));
    expect(await s.load('u')).toBeNull();
    await prereadSnapshots(join(dir, 'missing'));
    expect(await s.load('t')).toBeNull();
  });

  it('a torn or damaged file is not there (its digest does not match)', async () => {
    const { dir, store: s } = store();
    await s.save('t', (w) => {
      w.string('x'.repeat(1000));
    });
    const file = join(dir, 'snapshots', 't.snap');
    const whole = readFileSync(file);
    truncateSync(file, whole.byteLength - 10);
    expect(await s.load('t')).toBeNull();
    const flipped = Buffer.from(whole);
    flipped[100] = (flipped[100] ?? 0) ^ 1;
    writeFileSync(file, flipped);
    expect(await s.load('t')).toBeNull();
    // A file of the first format (a SHA-256 after the body) is not read as this one.
    writeFileSync(file, Buffer.concat([Buffer.from('FSSNAP1\n'), whole.subarray(8, whole.byteLength - 4), Buffer.alloc(32)]));
    expect(await s.load('t')).toBeNull();
    writeFileSync(file, whole);
    expect(await s.load('t')).not.toBeNull();
  });

  it('a failing writer leaves the old snapshot and no temporary file', async () => {
    const { dir, store: s } = store();
    await s.save('t', (w) => {
      w.string('old');
    });
    await expect(
      s.save('t', (w) => {
        w.string('new');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(readdirSync(join(dir, 'snapshots'))).toEqual(['t.snap']);
    expect(await s.load('t')).not.toBeNull();
  });

  it('never writes outside its folder: an id that is not a plain name keeps no snapshot', async () => {
    const { dir, store: s } = store();
    for (const id of ['../escape', 'a/b', '.hidden', '']) {
      await s.save(id, (w) => {
        w.string('x');
      });
      expect(await s.load(id)).toBeNull();
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('memory snapshot store', () => {
  it('gives a copy of its own at every load (a restore may keep and change the bytes)', async () => {
    const s = createMemorySnapshotStore();
    await s.save('t', (w) => {
      w.string('kept');
    });
    const first = await s.load('t');
    first!.fill(0);
    expect(new SnapshotReader((await s.load('t'))!).string()).toBe('kept');
    expect(s.has('t')).toBe(true);
    expect(s.has('u')).toBe(false);
  });
});
