/**
 * One folder's listing as the scan's threads exchange it (ADR 0030), and the ownership of folders
 * between a prefetching worker and the scan thread. Every function here is self-contained (it uses
 * only its parameters and built-ins): the scan's worker evaluates their sources, so both threads
 * run the very same code.
 */
import type { RawLstat } from './raw-lstat.js';

/**
 * One folder as listed: `text` holds name, mtime in ns, `dev:ino` and the SHA-256 (or nothing) per
 * entry, NUL separated; `nums` holds mode (-1: lstat failed, the errno in place of the mtime),
 * size, uid, gid.
 */
export type Listing =
  | { readonly dir: string; readonly errno: string | null; readonly error: string }
  | { readonly dir: string; readonly count: number; readonly text: string; readonly nums: Float64Array };

/** What {@link makeLister} needs. */
export interface ListerDeps {
  readonly rawLstat: RawLstat;
  readonly readdirSync: (path: string) => string[];
  /** Names starting with this are left out (the engine's temporary files). */
  readonly temp: string;
  /** Regular files up to this many bytes are hashed by `hashOf` (0: none). */
  readonly hashUpTo: number;
  /** The SHA-256 of a file whose lstat said `s`, or '' when it cannot be told. */
  readonly hashOf: ((path: string, s: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint }) => string) | null;
}

/**
 * Makes the function that lists folder `dir` (absolute `abs`) as a {@link Listing}; the names of
 * its subfolders go to `subdirs` when given.
 */
export function makeLister(deps: ListerDeps): (dir: string, abs: string, subdirs: string[] | null) => Listing {
  const { rawLstat, readdirSync, temp, hashUpTo, hashOf } = deps;
  const codeOf = (e: unknown): string | undefined => (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined);
  let devBig = -1n;
  let devStr = '';
  return (dir, abs, subdirs) => {
    let all: string[];
    try {
      all = readdirSync(abs);
    } catch (e) {
      return { dir, errno: codeOf(e) ?? null, error: String(e) };
    }
    const parts: string[] = [];
    const nums = new Float64Array(all.length * 4);
    let k = 0;
    for (const name of all) {
      if (name.startsWith(temp)) continue;
      let s: BigInt64Array | undefined;
      try {
        s = rawLstat(`${abs}/${name}`);
      } catch (e) {
        parts.push(name, codeOf(e) ?? String(e), '', '');
        nums[k * 4] = -1;
        k++;
        continue;
      }
      if (s === undefined) continue;
      // The array is reused by the next call: every field is read now (indexes: RAW in raw-lstat.ts).
      const dev = s[0] as bigint;
      if (dev !== devBig) {
        devBig = dev;
        devStr = `${dev}:`;
      }
      const mode = Number(s[1]);
      const size = s[8] as bigint;
      const mtimeNs = (s[12] as bigint) * 1000000000n + (s[13] as bigint);
      const ino = s[7] as bigint;
      nums[k * 4] = mode;
      nums[k * 4 + 1] = Number(size);
      nums[k * 4 + 2] = Number(s[3]);
      nums[k * 4 + 3] = Number(s[4]);
      const small = hashOf !== null && hashUpTo > 0 && (mode & 0o170000) === 0o100000 && size <= BigInt(hashUpTo);
      parts.push(name, mtimeNs.toString(), devStr + ino.toString(), small ? hashOf(`${abs}/${name}`, { dev, ino, size, mtimeNs }) : '');
      if (subdirs !== null && (mode & 0o170000) === 0o040000) subdirs.push(name);
      k++;
    }
    // One string (names cannot hold NUL) clones far faster than three arrays of strings.
    return { dir, count: k, text: parts.join('\0'), nums };
  };
}

/** Owner values of a folder's slot: nobody yet, the prefetching worker, the scan thread. */
export const OWNER = { none: 0, worker: 1, scan: 2 } as const;

/**
 * The slot of folder `path` in an ownership table of `mask + 1` slots (FNV-1a of its UTF-16 code
 * units). Folders that share a slot share its owner, which both threads read the same way.
 */
export function ownerSlot(path: string, mask: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & mask;
}
