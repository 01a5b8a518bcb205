/**
 * The real {@link LocalFs} on `node:fs`. Synchronous calls where they are short (metadata, rename,
 * small reads): they are the fast path on this machine (DESIGN.md section 5) and leave no window
 * between a check and the effect for another callback to run in. Long work (scans, large reads)
 * yields to the event loop.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  fsyncSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Readable } from 'node:stream';
import parcelWatcher from '@parcel/watcher';
import type { Observable } from 'rxjs';
import type { PathFilter } from '../lib/filters.js';
import { BUILT_IN_IGNORED, TEMP_PREFIX, createPathFilter } from '../lib/filters.js';
import type { LocalMeta } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { joinRel, parentOf } from '../lib/names.js';
import type { Clock } from './clock.js';
import { createSystemClock } from './clock.js';
import { toLocalFsError } from './local-errors.js';
import type { HashOutcome, LocalFs, LocalStat, ScanItem, WatchBatch, WatchOptions, WriteOptions } from './local-fs.js';
import { LocalFsError, checkRelPath, metaOf, sameLocal } from './local-fs.js';
import { currentAccess, itemOf, localStatOf, ScanPrefetch, scanNodeTree } from './node-scan.js';
import type { Trash } from './trash.js';
import { createTrash } from './trash.js';
import type { RawEvent } from './watch-core.js';
import { createWatchStream } from './watch-core.js';

/** Options of {@link createNodeLocalFs}. */
export interface NodeLocalFsOptions {
  /** Absolute path of the task's local folder. */
  readonly root: string;
  /** Debounces the watcher and stamps trash entries; default the system clock. */
  readonly clock?: Clock;
  /** Where trashed entries go; default the freedesktop.org trash of the current user. */
  readonly trash?: Trash;
}

// Unsubscribing fails when the watched folder is already gone ("Invalid argument"): nothing is left to stop.
const ignoreUnsubscribeError = (): void => undefined;
const NO_FILTERS = createPathFilter({ include: [], exclude: [], maxFileSize: null });
const SMALL_FILE = 256 * 1024;
const CHUNK = 1024 * 1024;

/** Creates the real {@link LocalFs} over `options.root`. */
export function createNodeLocalFs(options: NodeLocalFsOptions): LocalFs {
  const root = options.root.replace(/\/+$/, '') || '/';
  const clock = options.clock ?? createSystemClock();
  const trash = options.trash ?? createTrash({ clock });
  const abs = (path: RelPath): string => (path === '' ? root : `${root}/${path}`);

  const rawLstat = (path: RelPath): BigIntStats | undefined => {
    try {
      return lstatSync(abs(path), { bigint: true, throwIfNoEntry: false });
    } catch (error) {
      // ENOTDIR: a file where a folder was expected on the way; nothing is at this path.
      if ((error as { code?: unknown }).code === 'ENOTDIR') return undefined;
      throw toLocalFsError(error, path, 'look at');
    }
  };

  // Refuses paths with a symlink in any folder between the root and the entry: following one
  // could read or write outside the root. The entry itself is handled by each operation.
  const guard = (path: string): RelPath => {
    const rel = checkRelPath(path);
    let at = '';
    for (const seg of parentOf(rel) === '' ? [] : parentOf(rel).split('/')) {
      at = joinRel(at, seg);
      const s = rawLstat(at);
      if (s === undefined) break;
      if (s.isSymbolicLink()) throw new LocalFsError('symlink', rel, `"${at}" on the way to "${rel}" is a symbolic link; foldsync never follows links.`);
      if (!s.isDirectory()) break;
    }
    return rel;
  };

  const lstatNow = (path: RelPath): LocalStat | null => {
    const s = rawLstat(path);
    return s === undefined ? null : localStatOf(s);
  };

  const expectMatches = (path: RelPath, expect: LocalMeta | null, doing: string): LocalStat | null => {
    const cur = lstatNow(path);
    const fine = expect === null ? cur === null : cur !== null && sameLocal(cur, expect);
    if (!fine) {
      throw new LocalFsError('changed-locally', path, `"${path}" changed on this computer since foldsync planned to ${doing} it; it was left as it is and will be looked at again.`);
    }
    return cur;
  };

  const hashFd = (fd: number, size: number): Promise<string> => {
    const h = createHash('sha256');
    if (size <= SMALL_FILE) {
      // Small files: one synchronous read is far cheaper than a stream.
      const buf = Buffer.allocUnsafe(Math.max(size, 1) + 1);
      let n = 0;
      for (let r = readSync(fd, buf, 0, buf.length, 0); r > 0; r = readSync(fd, buf, n, buf.length - n, n)) {
        n += r;
        if (n === buf.length) break;
      }
      h.update(buf.subarray(0, n));
      return Promise.resolve(h.digest('hex'));
    }
    return new Promise((resolve, reject) => {
      const stream = createReadStream('', { fd, autoClose: false, highWaterMark: CHUNK, start: 0 });
      stream.on('data', (chunk) => h.update(chunk));
      stream.on('error', reject);
      stream.on('end', () => {
        resolve(h.digest('hex'));
      });
    });
  };

  const openNoFollow = (path: RelPath): number => {
    try {
      return openSync(abs(path), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      throw toLocalFsError(error, path, 'open');
    }
  };

  const fsyncDir = (path: RelPath): void => {
    // Makes the rename itself durable; some file systems refuse fsync on folders, which is fine.
    try {
      const fd = openSync(abs(path), constants.O_RDONLY);
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      /* best effort */
    }
  };

  const emptyOfSynced = async (path: RelPath, filter: PathFilter): Promise<boolean> => {
    for await (const batch of scanNodeTree(root, path, {})) {
      for (const it of batch) {
        if (it.type === 'skipped') return false;
        if (filter.verdict(it.path, it.meta.kind, it.meta.size) === null) return false;
      }
    }
    return true;
  };

  const fs: LocalFs = {
    root,
    lstat: (path) => {
      try {
        return Promise.resolve(lstatNow(guard(path)));
      } catch (error) {
        return Promise.reject(toLocalFsError(error, path, 'look at'));
      }
    },
    stat: async (path) => {
      const s = await fs.lstat(path);
      return s === null ? null : metaOf(s);
    },
    scan: async function* (under, scanOptions = {}) {
      const { prefetch, ...rest } = scanOptions;
      // Listings of another folder's prefetch are never taken (scanNodeTree checks the root too).
      const mine = prefetch instanceof ScanPrefetch && prefetch.root === root ? prefetch : undefined;
      if (prefetch !== undefined && mine === undefined) prefetch.close();
      // A generator, so that a bad path is refused when iterated, like every other failure of a scan.
      yield* scanNodeTree(root, guard(under), { ...rest, prefetch: mine });
    },
    prefetchScan: () => new ScanPrefetch(root, BUILT_IN_IGNORED),
    hash: async (path, previous = null) => {
      guard(path);
      const before = lstatNow(path);
      if (before === null) throw new LocalFsError('not-found', path, `"${path}" is gone.`);
      if (before.kind !== 'file') throw new LocalFsError(before.kind === 'symlink' ? 'symlink' : 'wrong-kind', path, `"${path}" is not a file; only files are hashed.`);
      const meta = metaOf(before) as LocalMeta;
      if (previous?.hash !== undefined && sameLocal(before, previous)) {
        return { status: 'hashed', meta: { ...meta, hash: previous.hash }, fresh: false };
      }
      const fd = openNoFollow(path);
      try {
        const opened = localStatOf(fstatSync(fd, { bigint: true }));
        const hash = await hashFd(fd, opened.size);
        const after = localStatOf(fstatSync(fd, { bigint: true }));
        const now = lstatNow(path);
        // The file changed while it was read, or was replaced by another under the same name.
        if (!sameLocal(opened, meta) || !sameLocal(after, meta) || now === null || !sameLocal(now, meta)) {
          return { status: 'changing', message: `"${path}" changed while it was read; foldsync reads it again once it settles.` } satisfies HashOutcome;
        }
        return { status: 'hashed', meta: { ...meta, hash }, fresh: true };
      } catch (error) {
        throw toLocalFsError(error, path, 'read');
      } finally {
        closeSync(fd);
      }
    },
    read: (path) => {
      try {
        guard(path);
        const fd = openNoFollow(path);
        const s = localStatOf(fstatSync(fd, { bigint: true }));
        const meta = metaOf(s);
        if (meta?.kind !== 'file') {
          closeSync(fd);
          throw new LocalFsError('wrong-kind', path, `"${path}" is not a file.`);
        }
        // A buffer the size of the file (plus a byte to see its end), not a whole chunk, for small files.
        const stream: Readable = createReadStream('', { fd, autoClose: true, highWaterMark: Math.min(CHUNK, Math.max(meta.size + 1, 4096)) });
        return Promise.resolve({ meta, stream });
      } catch (error) {
        return Promise.reject(toLocalFsError(error, path, 'read'));
      }
    },
    readAll: (path, maxBytes) => {
      let fd: number | null = null;
      try {
        guard(path);
        fd = openNoFollow(path);
        const meta = metaOf(localStatOf(fstatSync(fd, { bigint: true })));
        if (meta?.kind !== 'file') throw new LocalFsError('wrong-kind', path, `"${path}" is not a file.`);
        if (meta.size > maxBytes) return Promise.resolve({ meta, bytes: null });
        // What the file holds now; if it changed since the stat, the cloud's hash check refuses it.
        const buf = Buffer.allocUnsafe(meta.size);
        let n = 0;
        for (let r = 1; n < buf.length && r > 0; n += r) r = readSync(fd, buf, n, buf.length - n, n);
        return Promise.resolve({ meta, bytes: n === buf.length ? buf : buf.subarray(0, n) });
      } catch (error) {
        return Promise.reject(toLocalFsError(error, path, 'read'));
      } finally {
        if (fd !== null) closeSync(fd);
      }
    },
    writeFile: async (path, content, expect, writeOptions: WriteOptions = {}) => {
      guard(path);
      if (path === '') throw new LocalFsError('wrong-kind', path, 'The task folder itself cannot be written as a file.');
      const parent = parentOf(path);
      const ps = lstatNow(parent);
      if (ps?.kind !== 'dir') throw new LocalFsError('not-found', path, `The folder of "${path}" is gone; the download waits for it.`);
      const cur = expectMatches(path, expect, 'replace');
      if (cur !== null && cur.kind !== 'file') throw new LocalFsError('wrong-kind', path, `"${path}" is not a file.`);
      const temp = joinRel(parent, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
      const h = createHash('sha256');
      let fd: number | null = null;
      try {
        fd = openSync(abs(temp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, cur?.mode ?? 0o644);
        const put = (chunk: Uint8Array): void => {
          h.update(chunk);
          for (let off = 0; off < chunk.length; ) off += writeSync(fd as number, chunk, off, chunk.length - off);
        };
        if (content instanceof Uint8Array) put(content);
        else for await (const chunk of content) put(chunk);
        const hash = h.digest('hex');
        if (writeOptions.expectHash !== undefined && writeOptions.expectHash !== hash) {
          throw new LocalFsError('io', path, `The content received for "${path}" does not match its SHA-256; it was not written and will be downloaded again.`);
        }
        if (writeOptions.mtimeMs !== undefined) futimesSync(fd, writeOptions.mtimeMs / 1000, writeOptions.mtimeMs / 1000);
        fsyncSync(fd);
        closeSync(fd);
        fd = null;
        // The user may have edited the target while the download ran: check again, just before the rename.
        expectMatches(path, expect, 'replace');
        renameSync(abs(temp), abs(path));
        fsyncDir(parent);
        const done = lstatNow(path);
        const meta = done === null ? null : metaOf(done);
        if (meta === null) throw new LocalFsError('changed-locally', path, `"${path}" changed right after it was written.`);
        return { ...meta, hash };
      } catch (error) {
        if (fd !== null) closeSync(fd);
        rmSync(abs(temp), { force: true });
        throw toLocalFsError(error, path, 'write');
      }
    },
    mkdir: (path) => {
      try {
        guard(path);
        if (path === '') throw new LocalFsError('target-exists', path, 'The task folder exists already.');
        try {
          mkdirSync(abs(path), { mode: 0o755 });
        } catch (error) {
          if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
        }
        const s = lstatNow(path);
        if (s?.kind !== 'dir') throw new LocalFsError('target-exists', path, `"${path}" exists and is not a folder; it was left as it is.`);
        return Promise.resolve(metaOf(s) as LocalMeta);
      } catch (error) {
        return Promise.reject(toLocalFsError(error, path, 'create folder'));
      }
    },
    move: (from, to, expectFileId) => {
      try {
        guard(from);
        guard(to);
        if (from === '' || to === '') throw new LocalFsError('bad-path', from, 'The task folder itself cannot be moved.');
        const src = lstatNow(from);
        if (src === null) throw new LocalFsError('not-found', from, `"${from}" is gone; nothing was moved.`);
        if (src.fileId !== expectFileId) throw new LocalFsError('changed-locally', from, `"${from}" was replaced on this computer since the move was planned; nothing was moved.`);
        const dst = lstatNow(to);
        if (dst !== null && dst.fileId !== src.fileId) throw new LocalFsError('target-exists', to, `"${to}" exists already; "${from}" was not moved over it.`);
        if (lstatNow(parentOf(to))?.kind !== 'dir') throw new LocalFsError('not-found', to, `The folder of "${to}" does not exist.`);
        renameSync(abs(from), abs(to));
        fsyncDir(parentOf(to));
        const moved = lstatNow(to);
        return Promise.resolve(metaOf(moved ?? src) ?? (metaOf(src) as LocalMeta));
      } catch (error) {
        return Promise.reject(toLocalFsError(error, from, 'move'));
      }
    },
    remove: async (path, expect, how, filter = NO_FILTERS) => {
      try {
        guard(path);
        if (path === '') throw new LocalFsError('bad-path', path, 'The task folder itself is never deleted by foldsync.');
        const cur = lstatNow(path);
        // Already gone: the wanted outcome, so repeating a delete is safe.
        if (cur === null) return;
        if (!sameLocal(cur, expect)) throw new LocalFsError('changed-locally', path, `"${path}" changed on this computer since its delete was planned; it was kept.`);
        if (cur.kind === 'dir' && !(await emptyOfSynced(path, filter))) {
          throw new LocalFsError('not-empty', path, `Folder "${path}" holds files that are not synced yet; it was kept.`);
        }
        if (how === 'trash') trash.put(abs(path));
        else if (cur.kind === 'dir') rmSync(abs(path), { recursive: true });
        else unlinkSync(abs(path));
      } catch (error) {
        throw toLocalFsError(error, path, how === 'trash' ? 'move to the trash' : 'delete');
      }
    },
    removePartials: (folder) => {
      try {
        const rel = guard(folder);
        if (rel !== '' && lstatNow(rel)?.kind !== 'dir') return Promise.resolve(0);
        let n = 0;
        for (const d of readdirSync(abs(rel), { withFileTypes: true })) {
          if (!d.name.startsWith(TEMP_PREFIX) || !d.isFile()) continue;
          unlinkSync(abs(joinRel(rel, d.name)));
          n += 1;
        }
        return Promise.resolve(n);
      } catch (error) {
        return Promise.reject(toLocalFsError(error, folder, 'clean up'));
      }
    },
    watch: (watchOptions: WatchOptions = {}): Observable<WatchBatch> => {
      const access = currentAccess();
      const probe = {
        item: (path: RelPath, filter: PathFilter | undefined): ScanItem | null => {
          const s = rawLstat(path);
          return s === undefined ? null : itemOf(path, s, filter, access);
        },
        scan: (under: RelPath, filter: PathFilter | undefined) => scanNodeTree(root, under, { filter }),
      };
      return createWatchStream(
        (emit, fail) => {
          let closed = false;
          let sub: { unsubscribe(): Promise<void> } | null = null;
          const prefix = `${root}/`;
          parcelWatcher
            .subscribe(
              root,
              (err, events) => {
                const raw: RawEvent[] = [];
                if (err !== null) raw.push({ type: 'error', message: err.message });
                for (const e of events) {
                  if (e.path === root) {
                    if (e.type === 'delete') raw.push({ type: 'error', message: 'The task folder itself was deleted or moved.' });
                  } else if (e.path.startsWith(prefix)) {
                    raw.push({ type: e.type, path: e.path.slice(prefix.length) });
                  }
                }
                if (raw.length > 0) emit(raw);
              },
              { ignore: [`**/${TEMP_PREFIX}*`] },
            )
            .then(
              (s) => {
                if (closed) s.unsubscribe().catch(ignoreUnsubscribeError);
                else sub = s;
              },
              (error: unknown) => {
                fail(toLocalFsError(error, '', 'watch'));
              },
            );
          return () => {
            closed = true;
            if (sub !== null) sub.unsubscribe().catch(ignoreUnsubscribeError);
          };
        },
        probe,
        clock,
        watchOptions,
      );
    },
  };
  return fs;
}

