/**
 * The mount table, from `/proc/self/mountinfo`: parsed by a pure function so that tests can feed
 * any table, and read by a small function that is injected where it is used.
 */
import { readFileSync } from 'node:fs';

/** One mounted file system. */
export interface Mount {
  /** Absolute mount point. */
  readonly mountPoint: string;
  /** File system type (`ext4`, `nfs4`, `fuse.sshfs`, ...). */
  readonly fsType: string;
  /** What is mounted (`/dev/sdb1`, `server:/export`, ...). */
  readonly source: string;
  /** Per-mount options (`rw,relatime`, ...). */
  readonly options: readonly string[];
}

/** Returns the current mount table. */
export type MountTable = () => readonly Mount[];

// mountinfo escapes space, tab, newline and backslash in paths as octal.
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses the text of `/proc/self/mountinfo` (see proc(5)). Lines it cannot read are skipped. */
export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    const dash = parts.indexOf('-');
    if (dash < 6 || parts.length < dash + 3) continue;
    const mountPoint = parts[4];
    const opts = parts[5];
    const fsType = parts[dash + 1];
    const source = parts[dash + 2];
    if (mountPoint === undefined || opts === undefined || fsType === undefined || source === undefined) continue;
    mounts.push({ mountPoint: unescapeMount(mountPoint), fsType, source: unescapeMount(source), options: opts.split(',') });
  }
  return mounts;
}

/** Reads this process's mount table (empty where `/proc` is not available). */
export function readMountTable(): readonly Mount[] {
  try {
    return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return [];
  }
}

/** The mount an absolute path lives on: the longest mount point at or above it (the last mounted wins). */
export function mountOf(path: string, mounts: readonly Mount[]): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const mp = m.mountPoint;
    const covers = mp === '/' || path === mp || path.startsWith(`${mp}/`);
    if (covers && (best === undefined || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}
