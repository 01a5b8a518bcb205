import { describe, expect, it } from 'vitest';
import type { FoldsyncEvent, LocalChange } from '../events/types.js';
import type { ScanItem } from '../io/local-fs.js';
import type { FilterVerdict } from '../lib/filters.js';
import type { LocalMeta } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { createTrees, type Trees } from '../reconcile/trees.js';
import { diffLocalScan, type LocalScanHooks } from './local-scan.js';

const HASH = 'c'.repeat(64);
const fileMeta = (ino: number, mtimeNs = '1764645000123456789', size = 10): LocalMeta => ({ kind: 'file', size, mtimeNs, fileId: `2049:${ino}` });
const dirMeta = (ino: number): LocalMeta => ({ kind: 'dir', size: 0, mtimeNs: '1764645000000000001', fileId: `2049:${ino}` });
const entry = (path: RelPath, meta: LocalMeta, ignored: FilterVerdict = null): ScanItem => ({ type: 'entry', path, meta, mode: 0o644, ignored });

async function* batchesOf(...batches: ScanItem[][]): AsyncGenerator<readonly ScanItem[]> {
  for (const b of batches) yield b;
}

/** A tree as a first scan leaves it: a folder `d` holding files `d/a`, `d/b`, `d/c`, all hashed. */
function knownTree(): { trees: Trees; items: ScanItem[] } {
  const trees = createTrees();
  const metas: [RelPath, LocalMeta][] = [
    ['d', dirMeta(1)],
    ['d/a', fileMeta(2)],
    ['d/b', fileMeta(3)],
    ['d/c', fileMeta(4)],
  ];
  trees.applyLocal(metas.map(([path, meta]) => ({ path, meta: meta.kind === 'file' ? { ...meta, hash: HASH } : meta })));
  trees.takeDirty();
  return { trees, items: metas.map(([path, meta]) => entry(path, meta)) };
}

/** Hooks that record what was hashed and flushed (flushed changes are folded into the trees, as the engine's writer does). */
function recording(trees: Trees, hashOf: (path: RelPath, meta: LocalMeta) => LocalMeta | null | 'gone' = (_, m) => ({ ...m, hash: 'd'.repeat(64) })) {
  const hashed: RelPath[] = [];
  const flushed: LocalChange[] = [];
  const hooks: LocalScanHooks = {
    withHash: (path, meta) => {
      if (meta.kind === 'dir') return Promise.resolve(meta);
      hashed.push(path);
      return Promise.resolve(hashOf(path, meta));
    },
    flush: (changes) => {
      trees.applyLocal(changes);
      flushed.push(...changes);
      changes.length = 0;
      return Promise.resolve();
    },
    flushAt: 2,
  };
  return { hooks, hashed, flushed };
}

describe('diffLocalScan (a rescan against the local tree)', () => {
  it('a rescan that finds everything as the tree holds it records nothing and hashes nothing, and counts what it saw', async () => {
    const { trees, items } = knownTree();
    const { hooks, hashed, flushed } = recording(trees);
    const result = await diffLocalScan(trees, '', batchesOf(items.slice(0, 2), items.slice(2)), hooks);
    expect(flushed).toEqual([]);
    expect(hashed).toEqual([]);
    expect(result).toMatchObject({ files: 3, dirs: 1, bytes: 30, skipped: [] });
    expect(trees.dirty()).toEqual([]);
  });

  it('a change of size, of mtime by one nanosecond, or of inode alone is hashed and recorded', async () => {
    for (const changed of [fileMeta(3, '1764645000123456789', 11), fileMeta(3, '1764645000123456790'), fileMeta(3, '1764645000123456788'), fileMeta(99)]) {
      const { trees, items } = knownTree();
      const { hooks, hashed, flushed } = recording(trees);
      await diffLocalScan(trees, '', batchesOf([items[0] as ScanItem, items[1] as ScanItem, entry('d/b', changed), items[3] as ScanItem]), hooks);
      expect(hashed, JSON.stringify(changed)).toEqual(['d/b']);
      expect(flushed).toEqual([{ path: 'd/b', meta: { ...changed, hash: 'd'.repeat(64) } }]);
      expect(trees.local('d/b')).toEqual({ ...changed, hash: 'd'.repeat(64) });
    }
  });

  it('a folder whose mtime or identity changed is recorded; a file the tree holds without a hash is hashed', async () => {
    const { trees, items } = knownTree();
    trees.applyLocal([{ path: 'd/c', meta: fileMeta(4) }]);
    const { hooks, hashed, flushed } = recording(trees);
    const folder: LocalMeta = { ...dirMeta(1), mtimeNs: '1764645000000000002' };
    await diffLocalScan(trees, '', batchesOf([entry('d', folder), items[1] as ScanItem, items[2] as ScanItem, items[3] as ScanItem]), hooks);
    expect(hashed).toEqual(['d/c']);
    expect(flushed).toEqual([
      { path: 'd', meta: folder },
      { path: 'd/c', meta: { ...fileMeta(4), hash: 'd'.repeat(64) } },
    ]);
  });

  it('what the scan did not see is deleted; new entries are added and not deleted again, even after a flush gave them a slot', async () => {
    const { trees, items } = knownTree();
    const { hooks, flushed } = recording(trees);
    // flushAt 2: the new entries are flushed (and interned) after the first batch, before the end.
    await diffLocalScan(trees, '', batchesOf([items[0] as ScanItem, entry('d/n1', fileMeta(10)), entry('d/n2', fileMeta(11))], [items[1] as ScanItem]), hooks);
    expect(flushed.map((c) => [c.path, c.meta === null])).toEqual([
      ['d/n1', false],
      ['d/n2', false],
      ['d/b', true],
      ['d/c', true],
    ]);
    expect(trees.paths('local')).toEqual(['d', 'd/a', 'd/n1', 'd/n2']);
  });

  it('a rescan of a folder deletes only below it; an unreadable folder keeps what it held; an ignored entry is kept; a file gone before it was hashed is deleted', async () => {
    const { trees, items } = knownTree();
    trees.applyLocal([{ path: 'e', meta: dirMeta(20) }, { path: 'e/x', meta: { ...fileMeta(21), hash: HASH } }]);
    {
      const { hooks, flushed } = recording(trees);
      await diffLocalScan(trees, 'd', batchesOf([items[1] as ScanItem]), hooks);
      expect(flushed).toEqual([
        { path: 'd/c', meta: null },
        { path: 'd/b', meta: null },
      ]);
    }
    {
      const { hooks, flushed } = recording(trees, (path, meta) => (path === 'd/a' ? 'gone' : { ...meta, hash: HASH }));
      const unreadable: ScanItem = { type: 'skipped', path: 'e', reason: 'unreadable', message: 'no' };
      const result = await diffLocalScan(trees, '', batchesOf([items[0] as ScanItem, entry('d/a', fileMeta(2, '5')), unreadable]), hooks);
      expect(flushed).toEqual([{ path: 'd/a', meta: null }]);
      expect(result.skipped.map((e: FoldsyncEvent) => e.type)).toEqual(['LocalSkipped']);
    }
    {
      const { hooks, flushed } = recording(trees);
      await diffLocalScan(trees, '', batchesOf([items[0] as ScanItem, entry('e', dirMeta(20)), entry('e/x', fileMeta(21, '7'), 'excluded')]), hooks);
      expect(flushed).toEqual([]);
      expect(trees.local('e/x')).toEqual({ ...fileMeta(21), hash: HASH });
    }
  });
});
