/**
 * The one contract every {@link LocalFs} passes: run against the simulated one (unit tier) and
 * the real one on a temporary folder (integration tier). A harness acts as the user would, outside
 * the engine, and lets time pass (a sleep on the real disk, a virtual-clock step in simulation).
 * No assertion is about timing: waits poll for an outcome with a generous limit.
 */
import { createHash } from 'node:crypto';
import { Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PathFilter } from '../../src/lib/filters.js';
import { createPathFilter } from '../../src/lib/filters.js';
import type { LocalMeta } from '../../src/lib/model.js';
import type { LocalFs, ScanItem, WatchBatch, WatchChange } from '../../src/io/local-fs.js';
import { LocalFsError } from '../../src/io/local-fs.js';

/** What a contract run needs from one implementation. */
export interface LocalFsHarness {
  readonly fs: LocalFs;
  readonly user: {
    write(path: string, content: string): Promise<void>;
    mkdir(path: string): Promise<void>;
    remove(path: string): Promise<void>;
    move(from: string, to: string): Promise<void>;
    symlink(path: string, target: string): Promise<void>;
  };
  /** Base names of what is in the trash now. */
  trashed(): Promise<string[]>;
  /** Every name in a folder, the engine's temporary files included. */
  rawList(dir: string): Promise<string[]>;
  /** Lets `ms` of time pass. */
  settle(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function collect(fs: LocalFs, under = '', options: Parameters<LocalFs['scan']>[1] = {}): Promise<{ items: ScanItem[]; batches: number }> {
  const items: ScanItem[] = [];
  let batches = 0;
  for await (const batch of fs.scan(under, options)) {
    batches++;
    items.push(...batch);
  }
  return { items, batches };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    if (error instanceof LocalFsError) return error.code;
    throw error;
  }
  return 'ok';
}

async function readAll(stream: AsyncIterable<unknown>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts).toString('utf8');
}

/** Registers the contract suite for one implementation. */
export function localFsContract(name: string, make: () => Promise<LocalFsHarness>): void {
  describe(`LocalFs contract: ${name}`, () => {
    let h: LocalFsHarness;
    let fs: LocalFs;
    beforeEach(async () => {
      h = await make();
      fs = h.fs;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    const until = async (pred: () => boolean, what: string): Promise<void> => {
      for (let i = 0; i < 400; i++) {
        if (pred()) return;
        await h.settle(25);
      }
      throw new Error(`timed out waiting for ${what}`);
    };

    it('stats files and folders as LocalMeta, never following links', async () => {
      await h.user.write('a/f.txt', 'hello');
      const f = await fs.stat('a/f.txt');
      expect(f).toMatchObject({ kind: 'file', size: 5 });
      expect(f?.fileId).toMatch(/^\d+:\d+$/);
      expect(f?.mtimeNs).toMatch(/^\d+$/);
      expect(await fs.stat('a')).toMatchObject({ kind: 'dir', size: 0 });
      expect(await fs.stat('missing')).toBeNull();
      expect(await fs.stat('a/f.txt/below')).toBeNull();
      await h.user.symlink('link', 'a');
      expect(await fs.stat('link')).toBeNull();
      expect(await fs.lstat('link')).toMatchObject({ kind: 'symlink' });
    });

    it.each(['..', '../x', 'a/../b', '/etc/passwd', 'a//b', 'a/', 'a\u0000b', '.'])('refuses path %j at every operation', async (bad) => {
      const meta: LocalMeta = { kind: 'file', size: 0, mtimeNs: '0', fileId: '1:1' };
      expect(await code(fs.lstat(bad))).toBe('bad-path');
      expect(await code(fs.hash(bad))).toBe('bad-path');
      expect(await code(fs.read(bad))).toBe('bad-path');
      expect(await code(fs.writeFile(bad, bytes('x'), null))).toBe('bad-path');
      expect(await code(fs.mkdir(bad))).toBe('bad-path');
      expect(await code(fs.move(bad, 'b', '1:1'))).toBe('bad-path');
      expect(await code(fs.move('b', bad, '1:1'))).toBe('bad-path');
      expect(await code(fs.remove(bad, meta, 'delete'))).toBe('bad-path');
      expect(await code(collect(fs, bad))).toBe('bad-path');
    });

    it('never goes through a symlinked folder', async () => {
      await h.user.mkdir('real');
      await h.user.write('real/secret', 's');
      await h.user.symlink('via', 'real');
      expect(await code(fs.lstat('via/secret'))).toBe('symlink');
      expect(await code(fs.read('via/secret'))).toBe('symlink');
      expect(await code(fs.hash('via/secret'))).toBe('symlink');
      expect(await code(fs.writeFile('via/new', bytes('x'), null))).toBe('symlink');
      expect(await code(fs.mkdir('via/d'))).toBe('symlink');
      expect(await code(fs.read('via'))).toBe('symlink');
      expect(await code(fs.readAll('via/secret', 1024))).toBe('symlink');
      expect(await code(fs.readAll('via', 1024))).toBe('symlink');
      expect(await h.rawList('real')).toEqual(['secret']);
    });

    it('scans every entry once, in batches; reports links as skipped; hides temp files; marks ignored entries and prunes excluded folders', async () => {
      for (let i = 0; i < 25; i++) await h.user.write(`d${i % 3}/sub/f${i}.txt`, `content ${i}`);
      await h.user.write('top.log', 'log');
      await h.user.write('build/out.js', 'x');
      await h.user.write('.foldsync-partial-abc', 'partial');
      await h.user.write('.DS_Store', 'x');
      await h.user.symlink('lnk', 'd0');
      const filter = createPathFilter({ include: [], exclude: ['*.log', 'build/'], maxFileSize: null });
      const { items, batches } = await collect(fs, '', { filter, batchSize: 10 });
      const paths = items.map((i) => i.path);
      expect(new Set(paths).size).toBe(paths.length);
      expect(batches).toBeGreaterThan(1);
      expect(paths).not.toContain('');
      expect(paths).not.toContain('.foldsync-partial-abc');
      expect(paths).not.toContain('build/out.js');
      for (let i = 0; i < 25; i++) expect(paths).toContain(`d${i % 3}/sub/f${i}.txt`);
      const by = new Map(items.map((i) => [i.path, i]));
      expect(by.get('lnk')).toMatchObject({ type: 'skipped', reason: 'symlink' });
      expect(by.get('top.log')).toMatchObject({ type: 'entry', ignored: 'excluded' });
      expect(by.get('build')).toMatchObject({ type: 'entry', ignored: 'excluded' });
      expect(by.get('.DS_Store')).toMatchObject({ type: 'entry', ignored: 'built-in' });
      expect(by.get('d0/sub/f0.txt')).toMatchObject({ type: 'entry', ignored: null, meta: { kind: 'file', size: 9 } });
      const sub = await collect(fs, 'd1');
      expect(sub.items.map((i) => i.path).sort()).toEqual(['d1/sub', ...[1, 4, 7, 10, 13, 16, 19, 22].map((i) => `d1/sub/f${i}.txt`)].sort());
    });

    it('hashes with SHA-256, reusing the previous hash only while size, mtime and identity match', async () => {
      await h.user.write('f', 'one');
      const first = await fs.hash('f');
      expect(first).toMatchObject({ status: 'hashed', fresh: true, meta: { hash: sha('one'), size: 3 } });
      if (first.status !== 'hashed') throw new Error('not hashed');
      expect(await fs.hash('f', first.meta)).toMatchObject({ status: 'hashed', fresh: false, meta: { hash: sha('one') } });
      await h.user.write('f', 'three');
      expect(await fs.hash('f', first.meta)).toMatchObject({ status: 'hashed', fresh: true, meta: { hash: sha('three') } });
      expect(await code(fs.hash('missing'))).toBe('not-found');
      await h.user.mkdir('dir');
      expect(await code(fs.hash('dir'))).toBe('wrong-kind');
    });

    it('reads a file as a stream', async () => {
      await h.user.write('r.txt', 'streamed content');
      const { meta, stream } = await fs.read('r.txt');
      expect(meta.size).toBe(16);
      expect(await readAll(stream)).toBe('streamed content');
      expect(await code(fs.read('nope'))).toBe('not-found');
    });

    it('reads a small file whole, with its meta; a larger one only says its meta', async () => {
      await h.user.write('r.txt', 'whole content');
      const got = await fs.readAll('r.txt', 13);
      expect(got.meta).toEqual(await fs.stat('r.txt'));
      expect(Buffer.from(got.bytes ?? new Uint8Array()).toString()).toBe('whole content');
      expect(await fs.readAll('r.txt', 12)).toEqual({ meta: got.meta, bytes: null });
      await h.user.write('empty', '');
      expect((await fs.readAll('empty', 10)).bytes).toHaveLength(0);
      expect(await code(fs.readAll('nope', 10))).toBe('not-found');
      await h.user.mkdir('dir');
      expect(await code(fs.readAll('dir', 10))).toBe('wrong-kind');
      expect(await code(fs.readAll('../outside', 10))).toBe('bad-path');
    });

    it('writes downloads atomically, leaving no temporary file', async () => {
      await h.user.mkdir('dl');
      const created = await fs.writeFile('dl/new.txt', bytes('fresh'), null, { expectHash: sha('fresh') });
      expect(created).toMatchObject({ kind: 'file', size: 5, hash: sha('fresh') });
      expect(await fs.stat('dl/new.txt')).toMatchObject({ size: 5, fileId: created.fileId, mtimeNs: created.mtimeNs });
      async function* chunks(): AsyncGenerator<Uint8Array> {
        yield bytes('new ');
        yield bytes('version');
      }
      const replaced = await fs.writeFile('dl/new.txt', chunks(), created, { mtimeMs: 1_700_000_000_000 });
      expect(replaced.hash).toBe(sha('new version'));
      expect(replaced.mtimeNs).toBe('1700000000000000000');
      expect(await readAll((await fs.read('dl/new.txt')).stream)).toBe('new version');
      expect(await code(fs.writeFile('dl/bad.txt', bytes('x'), null, { expectHash: sha('y') }))).toBe('io');
      expect(await h.rawList('dl')).toEqual(['new.txt']);
      expect(await code(fs.writeFile('nofolder/x', bytes('x'), null))).toBe('not-found');
    });

    it('removes the temporary files a crash left in a folder, and nothing else', async () => {
      await h.user.write('d/.foldsync-partial-abc', 'partial');
      await h.user.write('d/.foldsync-partial-def', 'partial');
      await h.user.write('d/kept.txt', 'kept');
      await h.user.write('d/sub/.foldsync-partial-ghi', 'deeper, not this folder');
      expect(await fs.removePartials('d')).toBe(2);
      expect((await h.rawList('d')).sort()).toEqual(['kept.txt', 'sub']);
      expect(await h.rawList('d/sub')).toEqual(['.foldsync-partial-ghi']);
      expect(await fs.removePartials('missing')).toBe(0);
      expect(await code(fs.removePartials('../outside'))).toBe('bad-path');
    });

    it('refuses a download onto a file the user just edited or created, keeping the user content', async () => {
      await h.user.write('doc.txt', 'v1');
      const planned = await fs.stat('doc.txt');
      await h.user.write('doc.txt', 'user edit, longer');
      expect(await code(fs.writeFile('doc.txt', bytes('cloud'), planned))).toBe('changed-locally');
      expect(await readAll((await fs.read('doc.txt')).stream)).toBe('user edit, longer');
      await h.user.write('appeared.txt', 'mine');
      expect(await code(fs.writeFile('appeared.txt', bytes('cloud'), null))).toBe('changed-locally');
      expect(await readAll((await fs.read('appeared.txt')).stream)).toBe('mine');
      await h.user.remove('doc.txt');
      expect(await code(fs.writeFile('doc.txt', bytes('cloud'), planned))).toBe('changed-locally');
      expect((await h.rawList('')).sort()).toEqual(['appeared.txt']);
    });

    it('creates folders one at a time', async () => {
      const d = await fs.mkdir('x');
      expect(d.kind).toBe('dir');
      expect(await fs.mkdir('x')).toMatchObject({ fileId: d.fileId });
      await h.user.write('file', 'f');
      expect(await code(fs.mkdir('file'))).toBe('target-exists');
      expect(await code(fs.mkdir('a/b/c'))).toBe('not-found');
    });

    it('moves and renames only the expected entry, never over another', async () => {
      await h.user.write('m/a.txt', 'a');
      await h.user.mkdir('n');
      const a = await fs.stat('m/a.txt');
      if (a === null) throw new Error('missing');
      const moved = await fs.move('m/a.txt', 'n/b.txt', a.fileId);
      expect(moved.fileId).toBe(a.fileId);
      expect(await fs.stat('m/a.txt')).toBeNull();
      expect(await fs.stat('n/b.txt')).toMatchObject({ fileId: a.fileId });
      await h.user.write('n/c.txt', 'c');
      expect(await code(fs.move('n/b.txt', 'n/c.txt', a.fileId))).toBe('target-exists');
      expect(await code(fs.move('n/b.txt', 'n/d.txt', '999:999'))).toBe('changed-locally');
      expect(await code(fs.move('n/gone', 'n/e', a.fileId))).toBe('not-found');
      const m = await fs.stat('m');
      if (m === null) throw new Error('missing');
      await fs.move('m', 'n/m2', m.fileId);
      expect(await fs.stat('n/m2')).toMatchObject({ kind: 'dir', fileId: m.fileId });
    });

    it('deletes to the trash or for real, only what is expected, keeping folders with unsynced files', async () => {
      await h.user.write('t.txt', 'trash me');
      const t = await fs.stat('t.txt');
      if (t === null) throw new Error('missing');
      await fs.remove('t.txt', t, 'trash');
      expect(await fs.stat('t.txt')).toBeNull();
      expect(await h.trashed()).toContain('t.txt');
      await fs.remove('t.txt', t, 'trash');

      await h.user.write('d.txt', 'delete me');
      const d = await fs.stat('d.txt');
      if (d === null) throw new Error('missing');
      await h.user.write('d.txt', 'edited, so keep me');
      expect(await code(fs.remove('d.txt', d, 'delete'))).toBe('changed-locally');
      expect(await fs.stat('d.txt')).not.toBeNull();
      const d2 = await fs.stat('d.txt');
      if (d2 === null) throw new Error('missing');
      await fs.remove('d.txt', d2, 'delete');
      expect(await fs.stat('d.txt')).toBeNull();
      expect(await h.trashed()).not.toContain('d.txt');

      await h.user.write('folder/.DS_Store', 'x');
      const folder = await fs.stat('folder');
      if (folder === null) throw new Error('missing');
      await h.user.write('folder/new-user-file.txt', 'just added');
      expect(await code(fs.remove('folder', folder, 'trash'))).toBe('not-empty');
      expect(await fs.stat('folder/new-user-file.txt')).not.toBeNull();
      await h.user.remove('folder/new-user-file.txt');
      const folderNow = await fs.stat('folder');
      if (folderNow === null) throw new Error('missing');
      await fs.remove('folder', folderNow, 'trash');
      expect(await fs.stat('folder')).toBeNull();
      expect(await h.trashed()).toContain('folder');
    });

    describe('watching', () => {
      let sub: Subscription;
      let changes: WatchChange[];
      const known = new Map<string, string>();
      beforeEach(() => {
        changes = [];
        known.clear();
        sub = new Subscription();
      });
      afterEach(() => {
        sub.unsubscribe();
      });
      const start = async (filter?: PathFilter): Promise<void> => {
        sub.add(
          fs.watch({ debounceMs: 50, knownId: (p) => known.get(p), ...(filter === undefined ? {} : { filter }) }).subscribe((b: WatchBatch) => {
            changes.push(...b.changes);
          }),
        );
        // The native watcher starts asynchronously; let it settle before acting.
        await h.settle(300);
      };
      const has = (pred: (c: WatchChange) => boolean): boolean => changes.some(pred);

      it('reports creates, modifies, deletes and moves; never the engine temporary files', async () => {
        await h.user.write('keep.txt', 'k');
        await h.user.write('old.txt', 'o');
        const old = await fs.stat('old.txt');
        if (old === null) throw new Error('missing');
        known.set('old.txt', old.fileId);
        await start();
        await h.user.write('new.txt', 'n');
        await until(() => has((c) => c.type === 'entry' && c.path === 'new.txt'), 'create');
        await h.user.write('keep.txt', 'modified');
        await until(() => has((c) => c.type === 'entry' && c.path === 'keep.txt' && c.meta.size === 8), 'modify');
        await h.user.remove('new.txt');
        await until(() => has((c) => c.type === 'gone' && c.path === 'new.txt'), 'delete');
        await h.user.move('old.txt', 'renamed.txt');
        await until(() => has((c) => c.type === 'moved' && c.from === 'old.txt' && c.to === 'renamed.txt' && c.meta.fileId === old.fileId), 'rename as a move');
        await fs.writeFile('engine.txt', bytes('from the cloud'), null);
        await until(() => has((c) => c.type === 'entry' && c.path === 'engine.txt'), 'engine write');
        expect(changes.some((c) => 'path' in c && c.path.includes('.foldsync-partial-'))).toBe(false);
      });

      it('marks entries the filter ignores, as the scanner does', async () => {
        await start(createPathFilter({ include: [], exclude: ['*.log'], maxFileSize: 4 }));
        await h.user.write('debug.log', 'x');
        await h.user.write('big.bin', 'too large');
        await h.user.write('ok.txt', 'ok');
        await until(() => has((c) => c.type === 'entry' && c.path === 'ok.txt' && c.ignored === null), 'synced entry');
        await until(() => has((c) => c.type === 'entry' && c.path === 'debug.log' && c.ignored === 'excluded'), 'excluded entry');
        await until(() => has((c) => c.type === 'entry' && c.path === 'big.bin' && c.ignored === 'too-large'), 'too-large entry');
      });

      it('reports every file of a folder created with its files at once', async () => {
        await start();
        await h.user.mkdir('burst/deep/er');
        for (let i = 0; i < 50; i++) await h.user.write(`burst/deep/er/f${i}`, `${i}`);
        await until(() => changes.filter((c) => c.type === 'entry' && c.path.startsWith('burst/deep/er/f')).length >= 50, 'all files of the new folder');
      });
    });
  });
}
