/**
 * The refusals of SPEC.md section 3 that concern the local folder. Each is a typed
 * {@link TaskFolderError} with a stable code and a message that says what to do. The decisions are
 * pure functions over paths, names and a mount table (unit-tested row by row); `checkTaskFolder`
 * gathers the facts from the disk and applies them.
 */
import type { Stats } from 'node:fs';
import { lstatSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { posix, win32 } from 'node:path';
import { FoldsyncError } from '../lib/errors.js';
import type { Mount, MountTable } from './mounts.js';
import { mountOf, readMountTable } from './mounts.js';

/** Why a local folder cannot be a task's folder. */
export type TaskFolderRefusal =
  | 'not-a-folder'
  | 'link-folder'
  | 'mounted-disk'
  | 'other-sync-software'
  | 'nested'
  | 'system-folder'
  | 'engine-data-inside';

/** A refused task folder. `details.path` is the folder; other details depend on the code. */
export class TaskFolderError extends FoldsyncError<TaskFolderRefusal> {
  constructor(code: TaskFolderRefusal, message: string, details: Readonly<Record<string, unknown>>) {
    super(code, message, details);
    this.name = 'TaskFolderError';
  }
}

/** The platforms whose system folders are known. */
export type Platform = 'linux' | 'darwin' | 'win32';

const LINUX_SYSTEM = ['/bin', '/boot', '/dev', '/etc', '/proc', '/run', '/sbin', '/sys', '/usr', '/var'];
const MAC_SYSTEM = ['/System', '/Library', '/Applications'];
const WINDOWS_SYSTEM = ['windows', 'program files', 'program files (x86)', 'programdata'];

const below = (path: string, folder: string, sep: string): boolean => path === folder || path.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`);

/**
 * The system folder `path` is, or lies in, or null. `/` itself is refused but not everything
 * under it; the other folders are refused with everything inside them (syncing `/etc/ssh` is as
 * wrong as syncing `/etc`). Pure: `path` must be absolute and normalized for its platform.
 */
export function systemFolderOf(path: string, platform: Platform): string | null {
  if (platform === 'win32') {
    const p = win32.normalize(path).replace(/[\\/]+$/, '');
    const m = /^([a-zA-Z]:)(\\.*)?$/.exec(p);
    if (m === null) return null;
    if (m[2] === undefined || m[2] === '') return `${m[1] ?? ''}\\`;
    const first = (m[2].split('\\')[1] ?? '').toLowerCase();
    return WINDOWS_SYSTEM.includes(first) ? `${m[1] ?? ''}\\${m[2].split('\\')[1] ?? ''}` : null;
  }
  const p = posix.normalize(path).replace(/(.)\/+$/, '$1');
  if (p === '/') return '/';
  const list = platform === 'darwin' ? MAC_SYSTEM : LINUX_SYSTEM;
  for (const f of list) if (below(p, f, '/')) return f;
  if (platform === 'linux') {
    // `/lib*`: lib, lib32, lib64, libx32 ...
    const top = `/${p.split('/')[1] ?? ''}`;
    if (/^\/lib[^/]*$/.test(top)) return top;
  }
  return null;
}

/** Marker names of other sync tools (exact). */
export const SYNC_MARKERS: readonly string[] = [
  '.dropbox',
  '.dropbox.cache',
  '.stfolder',
  '.sync',
  '.nextcloudsync.log',
  '.owncloudsync.log',
  '.unison',
  '.SyncID',
  '.SyncArchive',
  '.tresorit',
  '.megaignore',
  '.pcloud',
];
// Nextcloud and ownCloud journals: `._sync_<id>.db` (older) and `.sync_<id>.db` (newer).
const SYNC_MARKER_PATTERNS: readonly RegExp[] = [/^\._sync_.*\.db$/, /^\.sync_.*\.db$/];

/** The first name in a folder listing that marks another sync tool, or null. Pure. */
export function syncMarkerIn(names: readonly string[]): string | null {
  for (const n of names) {
    if (SYNC_MARKERS.includes(n) || SYNC_MARKER_PATTERNS.some((re) => re.test(n))) return n;
  }
  return null;
}

/** How `path` relates to another task's folder, or null when they are apart. Pure, POSIX paths. */
export function nestingOf(path: string, other: string): 'same' | 'inside' | 'contains' | null {
  const a = posix.normalize(path).replace(/(.)\/+$/, '$1');
  const b = posix.normalize(other).replace(/(.)\/+$/, '$1');
  if (a === b) return 'same';
  if (below(a, b, '/')) return 'inside';
  if (below(b, a, '/')) return 'contains';
  return null;
}

const NETWORK_FS = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ncpfs', 'afs', 'ceph', 'glusterfs', '9p', 'davfs', 'lustre', 'gfs2', 'ocfs2', 'coda', 'sshfs', 'virtiofs']);

/** Why a mount is refused: `network`, `fuse` or `removable`; null when it is a local disk. Pure. */
export function mountKind(mount: Mount, isRemovable: (source: string) => boolean): 'network' | 'fuse' | 'removable' | null {
  const t = mount.fsType;
  if (t.startsWith('fuse.')) return NETWORK_FS.has(t.slice(5)) ? 'network' : 'fuse';
  if (t === 'fuse' || t === 'fuseblk') return 'fuse';
  if (NETWORK_FS.has(t) || mount.source.startsWith('//')) return 'network';
  if (/^\/(run\/)?media\//.test(`${mount.mountPoint}/`)) return 'removable';
  if (mount.source.startsWith('/dev/') && isRemovable(mount.source)) return 'removable';
  return null;
}

/** Reads `/sys/class/block/<dev>/removable` for a device and, for a partition, for its disk. */
export function sysfsRemovable(source: string): boolean {
  try {
    const name = posix.basename(realpathSync(source));
    const sys = realpathSync(`/sys/class/block/${name}`);
    for (const dir of [sys, posix.dirname(sys)]) {
      try {
        return readFileSync(`${dir}/removable`, 'utf8').trim() === '1';
      } catch {
        /* a partition has no `removable`: its disk (the parent) does */
      }
    }
  } catch {
    /* not a block device we can look up: treat as fixed */
  }
  return false;
}

/** What {@link checkTaskFolder} needs besides the path. */
export interface TaskFolderCheckOptions {
  /** Local folders of the terminal's other tasks (absolute). */
  readonly existingRoots: readonly string[];
  /** The engine's data folder (its event log), absolute. */
  readonly engineDataDir: string;
  readonly mounts?: MountTable;
  readonly isRemovable?: (source: string) => boolean;
  readonly platform?: Platform;
}

/** A folder that passed every check. */
export interface CheckedTaskFolder {
  /** Absolute, normalized. */
  readonly root: string;
  /** `${dev}:${ino}` of the folder, for the replaced-folder guard. */
  readonly rootId: string;
}

function fail(code: TaskFolderRefusal, message: string, details: Readonly<Record<string, unknown>>): never {
  throw new TaskFolderError(code, message, details);
}

/**
 * Applies every local-folder refusal of SPEC.md section 3 to `input` (resolved against the current
 * folder, links never resolved). Throws a {@link TaskFolderError}; returns the folder when it passes.
 */
export function checkTaskFolder(input: string, options: TaskFolderCheckOptions): CheckedTaskFolder {
  const platform = options.platform ?? (process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux');
  const root = posix.resolve(input);
  const sys = systemFolderOf(root, platform);
  if (sys !== null) {
    fail('system-folder', `"${root}" is a system folder (${sys}); choose a folder of your own, such as one in your home folder.`, { path: root, systemFolder: sys });
  }
  let st: Stats | undefined;
  try {
    st = lstatSync(root, { throwIfNoEntry: false });
  } catch (error) {
    fail('not-a-folder', `"${root}" cannot be read (${String(error)}); check its permissions or choose another folder.`, { path: root });
  }
  if (st === undefined) fail('not-a-folder', `"${root}" does not exist; create it first or choose an existing folder.`, { path: root });
  if (st.isSymbolicLink()) {
    fail('link-folder', `"${root}" is a symbolic link; choose the real folder it points to instead.`, { path: root, link: root });
  }
  if (!st.isDirectory()) fail('not-a-folder', `"${root}" is a file, not a folder; choose a folder.`, { path: root });
  // Every folder above must be a real folder too: a link on the way can be re-pointed under us.
  for (let up = posix.dirname(root); ; up = posix.dirname(up)) {
    if (lstatSync(up).isSymbolicLink()) {
      fail('link-folder', `"${up}", a folder above "${root}", is a symbolic link; choose the folder by its real path instead.`, { path: root, link: up });
    }
    if (up === '/') break;
  }
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch (error) {
    fail('not-a-folder', `"${root}" cannot be read (${String(error)}); give your user read access to it or choose another folder.`, { path: root });
  }
  const mount = mountOf(root, (options.mounts ?? readMountTable)());
  if (mount !== undefined) {
    const kind = mountKind(mount, options.isRemovable ?? sysfsRemovable);
    if (kind !== null) {
      const what = kind === 'network' ? 'a network drive' : kind === 'fuse' ? 'a FUSE file system' : 'a removable disk';
      fail('mounted-disk', `"${root}" is on ${what} (${mount.fsType} at ${mount.mountPoint}); choose a folder on a local, fixed disk.`, { path: root, mountPoint: mount.mountPoint, fsType: mount.fsType, kind });
    }
  }
  for (let dir = root; ; dir = posix.dirname(dir)) {
    let listing: string[] = [];
    try {
      listing = dir === root ? names : readdirSync(dir);
    } catch {
      /* a folder above we cannot list holds no marker we could honour */
    }
    const marker = syncMarkerIn(listing);
    if (marker !== null) {
      fail('other-sync-software', `"${posix.join(dir, marker)}" shows that another sync tool manages ${dir === root ? 'this folder' : `"${dir}"`}; two sync tools on one folder fight over its files. Choose a folder outside it, or stop the other tool there first.`, { path: root, marker: posix.join(dir, marker) });
    }
    if (dir === '/') break;
  }
  for (const other of options.existingRoots) {
    const rel = nestingOf(root, other);
    if (rel !== null) {
      const how = rel === 'same' ? 'is already the folder of another task' : rel === 'inside' ? `is inside "${other}", the folder of another task` : `contains "${other}", the folder of another task`;
      fail('nested', `"${root}" ${how}; a folder can belong to one task only. Choose a folder apart from it.`, { path: root, other, relation: rel });
    }
  }
  const data = nestingOf(options.engineDataDir, root);
  if (data === 'same' || data === 'inside') {
    fail('engine-data-inside', `foldsync keeps its own data in "${options.engineDataDir}", which is inside "${root}"; syncing it would sync the engine's own log. Choose another folder, or move the engine data folder out.`, { path: root, engineDataDir: options.engineDataDir });
  }
  return { root, rootId: `${st.dev}:${st.ino}` };
}
