import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRawLstat, RAW, type RawLstat } from './raw-lstat.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The six fields a scan reads, from a raw array. */
const fields = (a: BigInt64Array | undefined): unknown =>
  a === undefined
    ? undefined
    : {
        dev: a[RAW.dev],
        mode: a[RAW.mode],
        uid: a[RAW.uid],
        gid: a[RAW.gid],
        ino: a[RAW.ino],
        size: a[RAW.size],
        mtimeNs: (a[RAW.mtimeSec] as bigint) * 1000000000n + (a[RAW.mtimeNsec] as bigint),
      };

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'foldsync-rawlstat-'));
  dirs.push(root);
  writeFileSync(join(root, 'a.txt'), 'hello');
  mkdirSync(join(root, 'sub'));
  symlinkSync('a.txt', join(root, 'link'));
  writeFileSync(join(root, 'old.txt'), 'before 1970');
  // Before 1970 and with a fraction of a second: seconds and nanoseconds of opposite signs.
  utimesSync(join(root, 'old.txt'), new Date(-1250), new Date(-1250));
  return root;
}

function withPendingDeprecation<T>(f: () => T): T {
  const before = process.env['NODE_PENDING_DEPRECATION'];
  process.env['NODE_PENDING_DEPRECATION'] = '1';
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env['NODE_PENDING_DEPRECATION'];
    else process.env['NODE_PENDING_DEPRECATION'] = before;
  }
}

describe('makeRawLstat', () => {
  it('answers as lstatSync does, through the binding and through lstatSync, for files, folders, links, old times and nothing', () => {
    const root = tree();
    const native = makeRawLstat(lstatSync, root);
    const slow = withPendingDeprecation(() => makeRawLstat(lstatSync, root));
    // Node 20 has the binding this build expects; --pending-deprecation never touches it.
    expect(native.native).toBe(true);
    expect(slow.native).toBe(false);
    for (const name of ['a.txt', 'sub', 'link', 'old.txt', 'missing']) {
      const p = join(root, name);
      const s = lstatSync(p, { bigint: true, throwIfNoEntry: false });
      const expected = s === undefined ? undefined : { dev: s.dev, mode: s.mode, uid: s.uid, gid: s.gid, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs };
      for (const { lstat } of [native, slow]) expect(fields(lstat(p)), name).toEqual(expected);
    }
    expect(fields(native.lstat(join(root, 'old.txt')))).toMatchObject({ mtimeNs: -1250000000n });
  });

  it('throws what lstatSync throws for an entry that cannot be looked at', () => {
    const root = tree();
    const below = join(root, 'a.txt', 'x');
    const codeOf = (lstat: RawLstat): unknown => {
      try {
        lstat(below);
        return null;
      } catch (error) {
        return (error as { code?: unknown }).code;
      }
    };
    expect(codeOf(makeRawLstat(lstatSync, root).lstat)).toBe('ENOTDIR');
    expect(codeOf(withPendingDeprecation(() => makeRawLstat(lstatSync, root)).lstat)).toBe('ENOTDIR');
  });

  it('falls back to lstatSync when the probe cannot be looked at', () => {
    expect(makeRawLstat(lstatSync, '/nonexistent-foldsync-probe').native).toBe(false);
  });
});
