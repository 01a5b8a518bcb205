/**
 * `lstat` without a `BigIntStats` (ADR 0030). Node's `lstatSync(p, { bigint: true })` turns the
 * 18 numbers the system call gave into an object with 30-odd bigint fields and four `Date`s; a scan
 * reads six of them. Node's own binding (the one `lstatSync` calls) returns those numbers in a
 * reused `BigInt64Array`: 100,000 entries listed with it took 460 ms here, against 660-735 ms
 * through `lstatSync`.
 *
 * The binding is internal to Node, so it is used only when, at start, it answers exactly as
 * `lstatSync` does for the same path; otherwise (another Node, `--pending-deprecation`, which
 * would warn about `process.binding`) every call goes through `lstatSync` and fills the same
 * array. Self-contained: the scan worker evaluates this function's source.
 */

/** Indexes into the array a {@link RawLstat} returns (Node's stat field order). */
export const RAW = { dev: 0, mode: 1, uid: 3, gid: 4, ino: 7, size: 8, mtimeSec: 12, mtimeNsec: 13 } as const;

/**
 * Lists one entry: its fields in a `BigInt64Array` ({@link RAW} says where), valid until the next
 * call, or undefined when nothing is at `path`; throws what `lstatSync` throws otherwise.
 */
export type RawLstat = (path: string) => BigInt64Array | undefined;

/** Makes a {@link RawLstat}; `lstatSync` is passed in so that the function needs nothing from its module. */
export function makeRawLstat(lstatSync: typeof import('node:fs').lstatSync, probe: string): { readonly lstat: RawLstat; readonly native: boolean } {
  const slow = new BigInt64Array(18);
  const viaStats: RawLstat = (path) => {
    const s = lstatSync(path, { bigint: true, throwIfNoEntry: false });
    if (s === undefined) return undefined;
    slow[0] = s.dev;
    slow[1] = s.mode;
    slow[3] = s.uid;
    slow[4] = s.gid;
    slow[7] = s.ino;
    slow[8] = s.size;
    // Truncating division: seconds * 1e9 + nanoseconds is the exact mtime, before 1970 too.
    slow[12] = s.mtimeNs / 1000000000n;
    slow[13] = s.mtimeNs % 1000000000n;
    return slow;
  };
  const env = process.env;
  if (process.execArgv.includes('--pending-deprecation') || (env['NODE_OPTIONS'] ?? '').includes('--pending-deprecation') || env['NODE_PENDING_DEPRECATION'] === '1') {
    return { lstat: viaStats, native: false };
  }
  try {
    const binding = (process as unknown as { binding(name: string): { lstat?: unknown } }).binding('fs');
    const call = binding.lstat;
    if (typeof call !== 'function') return { lstat: viaStats, native: false };
    const fast: RawLstat = (path) => call.call(binding, path, true, undefined, false) as BigInt64Array | undefined;
    const a = fast(probe);
    const s = lstatSync(probe, { bigint: true });
    const same =
      a instanceof BigInt64Array &&
      a.length >= 14 &&
      a[0] === s.dev &&
      a[1] === s.mode &&
      a[3] === s.uid &&
      a[4] === s.gid &&
      a[7] === s.ino &&
      a[8] === s.size &&
      (a[12] as bigint) * 1000000000n + (a[13] as bigint) === s.mtimeNs &&
      // Nothing there is undefined, as with `throwIfNoEntry: false` (the probe is a folder).
      fast(`${probe}/.foldsync-no-such-entry-${String(process.pid)}`) === undefined;
    return same ? { lstat: fast, native: true } : { lstat: viaStats, native: false };
  } catch {
    return { lstat: viaStats, native: false };
  }
}
