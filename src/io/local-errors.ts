/**
 * Maps `node:fs` errors to typed {@link LocalFsError}s, so callers see a stable reason
 * (`disk-full`, `permission`, ...) instead of an errno.
 */
import type { RelPath } from '../lib/names.js';
import type { LocalFsErrorCode } from './local-fs.js';
import { LocalFsError } from './local-fs.js';

const ERRNO: Readonly<Record<string, { code: LocalFsErrorCode; hint: string }>> = {
  ENOENT: { code: 'not-found', hint: 'it is gone; foldsync will pick up the change on its next scan' },
  ENOTDIR: { code: 'not-found', hint: 'a folder on its path is no longer a folder' },
  EACCES: { code: 'permission', hint: 'give the user running foldsync access to it' },
  EPERM: { code: 'permission', hint: 'give the user running foldsync access to it' },
  EROFS: { code: 'permission', hint: 'the disk is read-only' },
  ENOSPC: { code: 'disk-full', hint: 'free some space on the disk; foldsync retries when space frees' },
  EDQUOT: { code: 'disk-full', hint: 'your disk quota is used up; free some space' },
  EFBIG: { code: 'disk-full', hint: 'the file is too large for this disk' },
  ENAMETOOLONG: { code: 'path-too-long', hint: 'shorten the path' },
  EEXIST: { code: 'target-exists', hint: 'something is already there' },
  ENOTEMPTY: { code: 'not-empty', hint: 'the folder is not empty' },
  ELOOP: { code: 'symlink', hint: 'it is a symbolic link, which foldsync never follows' },
  EISDIR: { code: 'wrong-kind', hint: 'it is a folder' },
  EBUSY: { code: 'io', hint: 'it is in use; foldsync retries later' },
  EILSEQ: { code: 'bad-name', hint: 'rename it' },
};

/** The errno code of a Node error, if any. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Turns any error from a local operation into a {@link LocalFsError} (typed errors pass through). */
export function toLocalFsError(error: unknown, path: RelPath, doing: string): LocalFsError {
  if (error instanceof LocalFsError) return error;
  const errno = errnoOf(error);
  const known = errno === undefined ? undefined : ERRNO[errno];
  const shown = path === '' ? 'the task folder' : `"${path}"`;
  if (known !== undefined) {
    return new LocalFsError(known.code, path, `Could not ${doing} ${shown}: ${known.hint} (${errno ?? ''}).`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new LocalFsError('io', path, `Could not ${doing} ${shown}: ${detail}. foldsync retries later.`, { cause: error });
}
