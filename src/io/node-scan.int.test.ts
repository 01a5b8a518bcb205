import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILT_IN_IGNORED, createPathFilter, TEMP_PREFIX } from '../lib/filters.js';
import type { ScanItem } from './local-fs.js';
import type { ScanWorkerMode } from './node-scan.js';
import { ScanPrefetch, scanNodeTree } from './node-scan.js';

async function scan(
  root: string,
  worker: ScanWorkerMode,
  options: { filter?: ReturnType<typeof createPathFilter>; batchSize?: number; prefetch?: ScanPrefetch; hashUpTo?: number } = {},
): Promise<ScanItem[]> {
  const items: ScanItem[] = [];
  for await (const batch of scanNodeTree(root, '', { ...options, worker })) items.push(...batch);
  return items;
}

describe('scanNodeTree on a worker thread', () => {
  let base: string;
  let root: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'foldsync-scan-'));
    root = join(base, 'root');
    mkdirSync(root);
  });
  afterEach(() => {
    chmodSync(base, 0o755);
    rmSync(base, { recursive: true, force: true });
  });

  it('with hashUpTo, the worker hashes the small regular files it lists (the SHA-256 of their content); the items are otherwise the same', async () => {
    for (let d = 0; d < 6; d++) {
      mkdirSync(join(root, `d${d}`, 'sub'), { recursive: true });
      for (let f = 0; f < 20; f++) writeFileSync(join(root, `d${d}`, `f${f}.txt`), `file ${d}/${f} `.repeat(f));
      writeFileSync(join(root, `d${d}`, 'big.bin'), 'b'.repeat(5000));
    }
    symlinkSync('d0/f1.txt', join(root, 'd1', 'link'));
    const plain = await scan(root, 'never');
    const items: ScanItem[] = [];
    // No stealing: every folder the main thread asked for is listed (and hashed) by the worker.
    for await (const batch of scanNodeTree(root, '', { hashUpTo: 4096, steal: false, worker: 'always' })) items.push(...batch);
    const withoutHash = items.map((i) => (i.type === 'entry' && i.meta.hash !== undefined ? { ...i, meta: { kind: i.meta.kind, size: i.meta.size, mtimeNs: i.meta.mtimeNs, fileId: i.meta.fileId } } : i));
    expect(withoutHash).toEqual(plain);
    let hashed = 0;
    for (const item of items) {
      if (item.type !== 'entry' || item.meta.hash === undefined) continue;
      hashed++;
      expect(item.meta.kind).toBe('file');
      expect(item.meta.size).toBeLessThanOrEqual(4096);
      const [d, f] = /^d(\d)\/f(\d+)\.txt$/.exec(item.path)?.slice(1).map(Number) ?? [];
      expect(item.meta.hash).toBe(createHash('sha256').update(`file ${String(d)}/${String(f)} `.repeat(f ?? 0)).digest('hex'));
    }
    // The main thread lists the root and the first folder it takes itself (neither was asked of the
    // worker); the worker lists every other folder.
    expect(hashed).toBe(5 * 20);
  });

  it('reports the same items in the same order as the in-thread loop', async () => {
    for (let d = 0; d < 12; d++) {
      mkdirSync(join(root, `d${d}`, 'sub', 'deeper'), { recursive: true });
      for (let f = 0; f < 30; f++) writeFileSync(join(root, `d${d}`, `f${f}.txt`), 'x'.repeat(f));
      writeFileSync(join(root, `d${d}`, 'sub', 'deeper', 'leaf.bin'), 'leaf');
    }
    writeFileSync(join(root, `${TEMP_PREFIX}abc`), 'partial');
    symlinkSync('/etc', join(root, 'link'));
    symlinkSync('d0', join(root, 'd1', 'dirlink'));
    execFileSync('mkfifo', [join(root, 'd2', 'pipe')]);
    mkdirSync(join(root, 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'x', 'i.js'), '');
    mkdirSync(join(root, 'empty'));
    writeFileSync(join(root, 'naïve name\twith tab.txt'), 'n');

    const inThread = await scan(root, 'never');
    const onWorker = await scan(root, 'always');
    expect(onWorker).toEqual(inThread);
    expect(inThread.length).toBeGreaterThan(12 * 33);
    expect(inThread.find((i) => i.path === 'link')).toMatchObject({ type: 'skipped', reason: 'symlink' });
    expect(inThread.find((i) => i.path === 'd2/pipe')).toMatchObject({ type: 'skipped', reason: 'special' });
    expect(inThread.some((i) => i.path.includes(TEMP_PREFIX))).toBe(false);

    const filter = createPathFilter({ include: [], exclude: ['d3/', '*.bin', 'node_modules/'], maxFileSize: 20 });
    const filteredInThread = await scan(root, 'never', { filter, batchSize: 7 });
    expect(await scan(root, 'always', { filter, batchSize: 7 })).toEqual(filteredInThread);
    expect(filteredInThread.some((i) => i.path.startsWith('d3/'))).toBe(false);
    expect(filteredInThread.some((i) => i.path.startsWith('node_modules/'))).toBe(false);
    expect(filteredInThread.find((i) => i.path === 'node_modules')).toMatchObject({ type: 'entry', ignored: 'excluded' });
    expect(filteredInThread.some((i) => i.type === 'entry' && i.ignored === 'too-large')).toBe(true);
  });

  it('reports an unlistable start folder and leaves a missing one to the caller, as the in-thread loop does', async () => {
    const missing = join(base, 'missing');
    const items: ScanItem[] = [];
    for await (const batch of scanNodeTree(missing, '', { worker: 'always' })) items.push(...batch);
    const inThread: ScanItem[] = [];
    for await (const batch of scanNodeTree(missing, '', { worker: 'never' })) inThread.push(...batch);
    expect(items).toEqual(inThread);
    expect(items[0]).toMatchObject({ type: 'skipped', reason: 'unreadable', path: '' });
  });

  it('stops its worker when the consumer stops early', async () => {
    for (let d = 0; d < 5; d++) {
      mkdirSync(join(root, `d${d}`));
      for (let f = 0; f < 10; f++) writeFileSync(join(root, `d${d}`, `f${f}`), '');
    }
    let seen = 0;
    for await (const batch of scanNodeTree(root, '', { worker: 'always', batchSize: 3 })) {
      seen += batch.length;
      if (seen > 6) break;
    }
    expect(seen).toBeGreaterThan(6);
    expect(await scan(root, 'always')).toHaveLength(55);
  });
});

describe('ScanPrefetch: a tree listed before its scan', () => {
  let base: string;
  let root: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'foldsync-prefetch-'));
    root = join(base, 'root');
    mkdirSync(root);
    for (let d = 0; d < 8; d++) {
      mkdirSync(join(root, `d${d}`, 'sub', 'deeper'), { recursive: true });
      for (let f = 0; f < 15; f++) writeFileSync(join(root, `d${d}`, `f${f}.txt`), 'x'.repeat(f));
      writeFileSync(join(root, `d${d}`, 'sub', 'deeper', 'leaf.bin'), 'leaf');
    }
    writeFileSync(join(root, `${TEMP_PREFIX}abc`), 'partial');
    symlinkSync('d0', join(root, 'd1', 'dirlink'));
    execFileSync('mkfifo', [join(root, 'd2', 'pipe')]);
    // Pruned by the built-in ignores: neither the scan nor the prefetch enters it.
    mkdirSync(join(root, 'd3', 'x.tmp', 'inner'), { recursive: true });
    writeFileSync(join(root, 'd3', 'x.tmp', 'inner', 'i.txt'), '');
    mkdirSync(join(root, 'empty'));
  });
  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  it('gives the same items in the same order as a scan that lists the tree itself, whatever its limits', async () => {
    const filter = createPathFilter({ include: [], exclude: [], maxFileSize: 10 });
    const plain = await scan(root, 'never', { filter, batchSize: 7 });
    expect(plain.some((i) => i.path === 'd3/x.tmp' && i.type === 'entry' && i.ignored === 'built-in')).toBe(true);
    expect(plain.some((i) => i.path.startsWith('d3/x.tmp/'))).toBe(false);
    for (const steal of [true, false]) {
      for (const limits of [{}, { ahead: 5, batch: 1 }, { ahead: 1, batch: 3 }]) {
        expect(await scan(root, 'auto', { filter, batchSize: 7, prefetch: new ScanPrefetch(root, BUILT_IN_IGNORED, { ...limits, steal }) })).toEqual(plain);
      }
    }
  });

  it('while the worker has not got there, the scan thread lists the folders it takes last, and what is below them, itself', async () => {
    const filter = createPathFilter({ include: [], exclude: [], maxFileSize: null });
    const plain = await scan(root, 'never', { filter, batchSize: 7 });
    // The worker lists the root only: the scan thread steals every other folder.
    const prefetch = new ScanPrefetch(root, BUILT_IN_IGNORED, { holdAfterRoot: true });
    expect(await scan(root, 'never', { filter, batchSize: 7, prefetch })).toEqual(plain);
    const folders = plain.filter((i) => i.type === 'entry' && i.meta.kind === 'dir' && i.ignored === null).length;
    expect(prefetch.listedHere).toBe(folders);
  });

  it('is used: what changed after the prefetch listed it is not seen by that scan', async () => {
    const prefetch = new ScanPrefetch(root, BUILT_IN_IGNORED);
    await prefetch.listed();
    writeFileSync(join(root, 'd5', 'new.txt'), 'after the prefetch');
    const items = await scan(root, 'never', { prefetch });
    expect(items.some((i) => i.path === 'd5/new.txt')).toBe(false);
    expect((await scan(root, 'never')).some((i) => i.path === 'd5/new.txt')).toBe(true);
  });

  it('is not used for another folder now at the root path, nor by a scan that hashes', async () => {
    const prefetch = new ScanPrefetch(root, BUILT_IN_IGNORED);
    await prefetch.rootIdentity();
    renameSync(root, join(base, 'old'));
    mkdirSync(join(root, 'other'), { recursive: true });
    writeFileSync(join(root, 'other', 'file.txt'), 'new folder');
    const items = await scan(root, 'never', { prefetch });
    expect(items.map((i) => i.path)).toEqual(['other', 'other/file.txt']);

    const again = new ScanPrefetch(root, BUILT_IN_IGNORED);
    await again.listed();
    writeFileSync(join(root, 'other', 'later.txt'), 'after the prefetch');
    const hashing = await scan(root, 'never', { prefetch: again, hashUpTo: 4096 });
    expect(hashing.some((i) => i.path === 'other/later.txt')).toBe(true);
  });

  it('lists what it could not give on the scan thread: a prefetch closed early', async () => {
    const plain = await scan(root, 'never');
    const prefetch = new ScanPrefetch(root, BUILT_IN_IGNORED, { ahead: 1, batch: 1 });
    await prefetch.rootIdentity();
    const items: ScanItem[] = [];
    let first = true;
    for await (const batch of scanNodeTree(root, '', { prefetch, batchSize: 5, worker: 'never' })) {
      items.push(...batch);
      if (first) prefetch.close();
      first = false;
    }
    expect(items).toEqual(plain);
  });
});
