/**
 * Moving files to the trash, after the freedesktop.org Trash specification 1.0: the home trash
 * (`$XDG_DATA_HOME/Trash`, default `~/.local/share/Trash`) for files on the same device, otherwise
 * the top-directory trash of the file's mount (`$topdir/.Trash/$uid` when an admin made a sticky,
 * non-link `.Trash`, else `$topdir/.Trash-$uid`), so that trashing never copies across devices.
 * The `.trashinfo` file is created first with O_EXCL (which also reserves the name), then the
 * entry is renamed into `files/`; if the rename fails the info file is removed again.
 * Why not the `trash` npm package: see docs/adr/0030-local-side.md.
 */
import { closeSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Clock } from './clock.js';
import type { MountTable } from './mounts.js';
import { mountOf, readMountTable } from './mounts.js';

/** Moves absolute paths to the trash. */
export interface Trash {
  /** Trashes the entry at absolute `path`; returns where it went (the entry inside `files/`). */
  put(path: string): string;
}

/** Options of {@link createTrash}; everything has a sensible default. */
export interface TrashOptions {
  readonly clock: Clock;
  /** `$XDG_DATA_HOME`; default from the environment, else `~/.local/share`. */
  readonly dataHome?: string;
  readonly mounts?: MountTable;
  readonly uid?: number;
}

/** Percent-encodes a path for the `Path=` key, keeping `/` (the spec asks for URL escaping). */
export function encodeTrashPath(path: string): string {
  return path.split('/').map((s) => encodeURIComponent(s)).join('/');
}

/** `YYYY-MM-DDThh:mm:ss` in local time, as the spec's `DeletionDate` wants. */
export function trashDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The content of a `.trashinfo` file. */
export function trashInfo(pathKey: string, ms: number): string {
  return `[Trash Info]\nPath=${encodeTrashPath(pathKey)}\nDeletionDate=${trashDate(ms)}\n`;
}

/** Creates a {@link Trash}. */
export function createTrash(options: TrashOptions): Trash {
  const dataHome = options.dataHome ?? (process.env['XDG_DATA_HOME'] !== undefined && process.env['XDG_DATA_HOME'] !== '' ? process.env['XDG_DATA_HOME'] : join(homedir(), '.local', 'share'));
  const mounts = options.mounts ?? readMountTable;
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const homeTrash = join(dataHome, 'Trash');

  const ensure = (dir: string): void => {
    mkdirSync(join(dir, 'files'), { recursive: true, mode: 0o700 });
    mkdirSync(join(dir, 'info'), { recursive: true, mode: 0o700 });
  };

  // Which trash, and what goes in Path= (absolute for the home trash, relative to topdir otherwise).
  const pick = (path: string): { dir: string; key: string } => {
    const dev = lstatSync(dirname(path)).dev;
    mkdirSync(dataHome, { recursive: true });
    if (lstatSync(dataHome).dev === dev) return { dir: homeTrash, key: path };
    const topdir = mountOf(path, mounts())?.mountPoint ?? '/';
    const key = path.slice(topdir === '/' ? 1 : topdir.length + 1);
    const admin = join(topdir, '.Trash');
    const a = lstatSync(admin, { throwIfNoEntry: false });
    // The spec: use $topdir/.Trash only if it is a real folder with the sticky bit.
    if (a !== undefined && a.isDirectory() && !a.isSymbolicLink() && (a.mode & 0o1000) !== 0) return { dir: join(admin, String(uid)), key };
    return { dir: join(topdir, `.Trash-${uid}`), key };
  };

  return {
    put: (path) => {
      const { dir, key } = pick(path);
      ensure(dir);
      const base = basename(path);
      for (let n = 1; ; n++) {
        const name = n === 1 ? base : `${base}.${n}`;
        const info = join(dir, 'info', `${name}.trashinfo`);
        let fd: number;
        try {
          fd = openSync(info, 'wx', 0o600);
        } catch (error) {
          if (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'EEXIST') continue;
          throw error;
        }
        try {
          writeSync(fd, trashInfo(key, options.clock.now()));
        } finally {
          closeSync(fd);
        }
        const target = join(dir, 'files', name);
        if (lstatSync(target, { throwIfNoEntry: false }) !== undefined) {
          rmSync(info, { force: true });
          continue;
        }
        try {
          renameSync(path, target);
        } catch (error) {
          rmSync(info, { force: true });
          throw error;
        }
        return target;
      }
    },
  };
}
