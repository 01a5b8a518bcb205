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

/**
 * The built-in ignores as one regular expression over a whole path: each is a base-name pattern
 * (no slash) whose only wildcard is `*`, so, as gitignore and the `ignore` library read them, a
 * path is ignored when any of its segments matches one, case-insensitively (`ignore`'s default);
 * a matched folder takes everything below it. One test per path instead of the library's: the
 * library also caches every path it is asked about, which for a scan of 1,000,000 files is
 * 1,000,000 cache entries per rule set, kept for the task's life (ADR 0030).
 */
export const BUILT_IN_IGNORED = ((): RegExp => {
  const alternatives = BUILT_IN_IGNORES.map((pattern) => {
    if (/[/?[\]\\!]/.test(pattern) || pattern.startsWith('#') || pattern.trim() !== pattern) {
      throw new Error(`built-in ignore "${pattern}" is not a plain base-name pattern: match it with the ignore library`);
    }
    return pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*');
  });
  return new RegExp(`(?:^|/)(?:${alternatives.join('|')})(?:/|$)`, 'i');
})();

/** Calls of one {@link Ignore} after which it is replaced by a fresh one, dropping the library's per-path cache. */
const IGNORE_CACHE_CALLS = 65_536;

/**
 * `ignores` of a rule set, through an `ignore` instance that is replaced every
 * {@link IGNORE_CACHE_CALLS} calls: the library caches the answer for every path (and its
 * folders) it was asked about, unbounded, which over a task's life is every path of the task.
 */
function boundedIgnores(patterns: readonly string[]): (key: string) => boolean {
  let rules: Ignore = ignore().add([...patterns]);
  let calls = 0;
  return (key) => {
    if (++calls > IGNORE_CACHE_CALLS) {
      rules = ignore().add([...patterns]);
      calls = 1;
    }
    return rules.ignores(key);
  };
}

/** Builds a {@link PathFilter} from a task's filter options. */
export function createPathFilter(filters: TaskOptions['filters']): PathFilter {
  // No exclude patterns (the common case) excludes nothing: not even the library is asked.
  const excludes = filters.exclude.length > 0 ? boundedIgnores(filters.exclude) : null;
  const includes = filters.include.length > 0 ? boundedIgnores(filters.include) : null;
  // `ignore` tells folders from files by a trailing slash.
  const key = (path: RelPath, kind: EntryKind): string => (kind === 'dir' ? `${path}/` : path);

  const verdict = (path: RelPath, kind: EntryKind, size: number): FilterVerdict => {
    if (path === '') return null;
    if (BUILT_IN_IGNORED.test(path)) return 'built-in';
    if (excludes !== null && excludes(key(path, kind))) return 'excluded';
    // Folders are kept when include patterns exist: a file below may match.
    if (includes !== null && kind === 'file' && !includes(path)) return 'not-included';
    if (kind === 'file' && filters.maxFileSize !== null && size > filters.maxFileSize) return 'too-large';
    return null;
  };

  return {
    verdict,
    ignores: (path, kind, size) => verdict(path, kind, size) !== null,
    prunes: (path) => {
      if (path === '') return false;
      return BUILT_IN_IGNORED.test(path) || (excludes !== null && excludes(`${path}/`));
    },
  };
}

/** True when a base name is one of the engine's own temporary files. */
export function isTempName(path: RelPath): boolean {
  return baseName(path).startsWith(TEMP_PREFIX);
}
