/**
 * Which paths a task syncs (SPEC.md section 4): include/exclude patterns in `.gitignore` syntax,
 * a maximum file size, and the built-in ignores that always apply. Applied the same way to both
 * sides, by the scanner (to skip early) and by the planner (to decide). Pure.
 */
import ignore, { type Ignore } from 'ignore';
import type { EntryKind, TaskOptions } from './model.js';
import type { RelPath } from './names.js';
import { baseName } from './names.js';

/** Prefix of the engine's own temporary files (downloads in progress), next to their target. */
export const TEMP_PREFIX = '.foldsync-partial-';

/** Patterns that never sync, whatever the options say. */
export const BUILT_IN_IGNORES: readonly string[] = [
  `${TEMP_PREFIX}*`,
  '~$*',
  '.~lock.*#',
  '*.tmp',
  '.DS_Store',
  'Thumbs.db',
  'desktop.ini',
];

/** Why a path is not synced, or null when it is. */
export type FilterVerdict = 'built-in' | 'excluded' | 'not-included' | 'too-large' | null;

/** Decides which paths a task syncs. */
export interface PathFilter {
  /** Why `path` is ignored, or null when it syncs. `size` matters for files only. */
  verdict(path: RelPath, kind: EntryKind, size: number): FilterVerdict;
  /** True when `path` is ignored. */
  ignores(path: RelPath, kind: EntryKind, size: number): boolean;
  /** True when nothing under folder `path` can sync, so a scanner need not descend into it. */
  prunes(path: RelPath): boolean;
}

/** Builds a {@link PathFilter} from a task's filter options. */
export function createPathFilter(filters: TaskOptions['filters']): PathFilter {
  const builtIn: Ignore = ignore().add([...BUILT_IN_IGNORES]);
  const exclude: Ignore = ignore().add([...filters.exclude]);
  const include: Ignore | null = filters.include.length > 0 ? ignore().add([...filters.include]) : null;
  // `ignore` tells folders from files by a trailing slash.
  const key = (path: RelPath, kind: EntryKind): string => (kind === 'dir' ? `${path}/` : path);

  const verdict = (path: RelPath, kind: EntryKind, size: number): FilterVerdict => {
    if (path === '') return null;
    if (builtIn.ignores(key(path, kind))) return 'built-in';
    if (exclude.ignores(key(path, kind))) return 'excluded';
    // Folders are kept when include patterns exist: a file below may match.
    if (include !== null && kind === 'file' && !include.ignores(path)) return 'not-included';
    if (kind === 'file' && filters.maxFileSize !== null && size > filters.maxFileSize) return 'too-large';
    return null;
  };

  return {
    verdict,
    ignores: (path, kind, size) => verdict(path, kind, size) !== null,
    prunes: (path) => {
      if (path === '') return false;
      return builtIn.ignores(`${path}/`) || exclude.ignores(`${path}/`);
    },
  };
}

/** True when a base name is one of the engine's own temporary files. */
export function isTempName(path: RelPath): boolean {
  return baseName(path).startsWith(TEMP_PREFIX);
}
