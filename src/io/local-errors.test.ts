import { describe, expect, it } from 'vitest';
import { toLocalFsError } from './local-errors.js';
import { LocalFsError } from './local-fs.js';

const errno = (code: string): Error => Object.assign(new Error(code), { code });

describe('errno to typed LocalFsError', () => {
  it.each([
    ['ENOSPC', 'disk-full', 'disk-full'],
    ['EDQUOT', 'disk-full', 'disk-full'],
    ['EACCES', 'permission', 'permission'],
    ['EPERM', 'permission', 'permission'],
    ['EROFS', 'permission', 'permission'],
    ['ENOENT', 'not-found', 'not-found'],
    ['ENAMETOOLONG', 'path-too-long', 'path-too-long'],
    ['EEXIST', 'target-exists', 'conflict'],
    ['ELOOP', 'symlink', 'unreadable'],
    ['EIO', 'io', 'io'],
  ])('%s -> code %s, reason %s, with a message that says what to do', (e, code, reason) => {
    const err = toLocalFsError(errno(e), 'a/b.txt', 'write');
    expect(err).toBeInstanceOf(LocalFsError);
    expect(err.code).toBe(code);
    expect(err.reason).toBe(reason);
    expect(err.message).toContain('"a/b.txt"');
    expect(err.cause).toBeInstanceOf(Error);
  });
  it('passes typed errors through', () => {
    const typed = new LocalFsError('changed-locally', 'x', 'changed');
    expect(toLocalFsError(typed, 'y', 'write')).toBe(typed);
  });
});
