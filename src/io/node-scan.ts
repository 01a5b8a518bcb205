/**
 * The real scanner: walks a folder with synchronous `readdirSync`/`lstatSync` calls in batches
 * and yields to the event loop between batches. On this machine promise-based `fs` is 2-5x slower
 * on many small files (DESIGN.md section 5) and callback `lstat` through the libuv pool measured
 * about 3x slower than sync calls; a batch of sync calls keeps the loop responsive enough while
 * staying close to `find`'s speed. Links are never followed: `lstat` only, and a symlink is
 * reported as skipped.
 */
import type { BigIntStats } from 'node:fs';
import { lstatSync, readdirSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { PathFilter } from '../lib/filters.js';
import { TEMP_PREFIX } from '../lib/filters.js';
import type { RelPath } from '../lib/names.js';
import { errnoOf } from './local-errors.js';
import type { LocalStat, ScanItem } from './local-fs.js';

/** Converts a bigint `lstat` to a {@link LocalStat}. */
export function localStatOf(s: BigIntStats): LocalStat {
  const kind = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'special';
  return {
    kind,
    size: kind === 'file' ? Number(s.size) : 0,
    mtimeNs: s.mtimeNs.toString(),
    fileId: `${s.dev}:${s.ino}`,
    mode: Number(s.mode) & 0o7777,
  };
}

/** Whether this process can read an entry, from its mode bits alone (no extra system call). */
export interface Access {
  readonly uid: number;
  readonly groups: ReadonlySet<number>;
}

/** The current process's uid and groups. */
export function currentAccess(): Access {
  const uid = process.getuid?.() ?? -1;
  const groups = new Set<number>(process.getgroups?.() ?? []);
  const gid = process.getgid?.();
  if (gid !== undefined) groups.add(gid);
  return { uid, groups };
}

/** True when mode bits let `access` read (and for folders, list) the entry. Root reads everything. */
export function canRead(access: Access, s: BigIntStats, isDir: boolean): boolean {
  if (access.uid === 0 || access.uid === -1) return true;
  const mode = Number(s.mode);
  const need = isDir ? 0o5 : 0o4;
  if (Number(s.uid) === access.uid) return ((mode >> 6) & need) === need;
  if (access.groups.has(Number(s.gid))) return ((mode >> 3) & need) === need;
  return (mode & need) === need;
}

/** Builds the scan item of one entry that `lstat` returned. */
export function itemOf(path: RelPath, s: BigIntStats, filter: PathFilter | undefined, access: Access): ScanItem {
  const st = localStatOf(s);
  if (st.kind === 'symlink') return { type: 'skipped', path, reason: 'symlink', message: `"${path}" is a symbolic link; foldsync never follows or syncs links.` };
  if (st.kind === 'special') return { type: 'skipped', path, reason: 'special', message: `"${path}" is not a regular file or folder (a pipe, socket or device); it is not synced.` };
  if (!canRead(access, s, st.kind === 'dir')) {
    return { type: 'skipped', path, reason: 'unreadable', message: `"${path}" cannot be read by this user; give it read permission to sync it.` };
  }
  const meta = { kind: st.kind, size: st.size, mtimeNs: st.mtimeNs, fileId: st.fileId };
  const ignored = filter === undefined ? null : filter.verdict(path, st.kind, st.size);
  return { type: 'entry', path, meta, mode: st.mode, ignored };
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/**
 * Scans folder `under` of `root` (absolute) depth first, in batches. Unreadable folders and entries
 * are reported as skipped, never thrown; entries that vanish during the scan are left out.
 * Folders the filter prunes are reported (as ignored) but not entered.
 *
 * The loop is the hot path of a million-file scan, so it avoids what profiling showed to cost:
 * Dirent objects (names only), `isFile()`-style calls (mode bits), and re-stringifying the device
 * number of every entry (cached per folder).
 */
export async function* scanNodeTree(
  root: string,
  under: RelPath,
  options: { readonly filter?: PathFilter | undefined; readonly batchSize?: number | undefined } = {},
): AsyncGenerator<readonly ScanItem[]> {
  const batchSize = options.batchSize ?? 2_000;
  const filter = options.filter;
  const access = currentAccess();
  const privileged = access.uid === 0 || access.uid === -1;
  const stack: RelPath[] = [under];
  let batch: ScanItem[] = [];
  let devBig = -1n;
  let devStr = '';
  while (stack.length > 0) {
    const dir = stack.pop() as RelPath;
    const absDir = dir === '' ? root : `${root}/${dir}`;
    let names: string[];
    try {
      names = readdirSync(absDir);
    } catch (error) {
      const errno = errnoOf(error);
      // A folder that vanished since it was listed is simply gone; the root's absence is the caller's business.
      if (errno !== 'ENOENT' || dir === under) {
        batch.push({ type: 'skipped', path: dir, reason: 'unreadable', message: `Folder "${dir}" cannot be listed (${errno ?? String(error)}); fix its permissions to sync what it holds.` });
      }
      continue;
    }
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const name of names) {
      if (name.startsWith(TEMP_PREFIX)) continue;
      const path = prefix + name;
      let s: BigIntStats | undefined;
      try {
        s = lstatSync(`${absDir}/${name}`, { bigint: true, throwIfNoEntry: false });
      } catch (error) {
        batch.push({ type: 'skipped', path, reason: 'unreadable', message: `"${path}" cannot be read (${errnoOf(error) ?? String(error)}).` });
        continue;
      }
      if (s === undefined) continue;
      const fmt = Number(s.mode) & S_IFMT;
      let item: ScanItem;
      if ((fmt === S_IFREG || fmt === S_IFDIR) && (privileged || canRead(access, s, fmt === S_IFDIR))) {
        if (s.dev !== devBig) {
          devBig = s.dev;
          devStr = `${s.dev}:`;
        }
        const kind = fmt === S_IFREG ? 'file' : 'dir';
        const size = kind === 'file' ? Number(s.size) : 0;
        item = {
          type: 'entry',
          path,
          meta: { kind, size, mtimeNs: s.mtimeNs.toString(), fileId: devStr + s.ino.toString() },
          mode: Number(s.mode) & 0o7777,
          ignored: filter === undefined ? null : filter.verdict(path, kind, size),
        };
        if (kind === 'dir' && !(filter?.prunes(path) ?? false)) stack.push(path);
      } else {
        item = itemOf(path, s, filter, access);
      }
      batch.push(item);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
        await yieldToLoop();
      }
    }
  }
  if (batch.length > 0) yield batch;
}
