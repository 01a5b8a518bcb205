/**
 * Names and relative paths, validated the same way by the planner, the local side and the cloud
 * server. A relative path ("RelPath") is '/'-separated, Unicode NFC, has no leading or trailing
 * '/', no empty, '.' or '..' segments; '' is the task root.
 */

/** A path relative to a task root (see the module comment for its rules). */
export type RelPath = string;

/** Why a name cannot be held on the other side (SPEC.md section 5). */
export type NameProblem = 'empty' | 'slash' | 'nul' | 'dot' | 'too-long' | 'not-nfc' | 'windows-reserved' | 'windows-char';

/** How strict path rules are: `none` (Linux) or `windows` (260 characters, reserved names). */
export type PathLimit = 'none' | 'windows';

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
// eslint-disable-next-line no-control-regex
const WINDOWS_CHARS = /[<>:"\\|?*\u0000-\u001f]/;
/**
 * Byte length of a string in UTF-8, counted without encoding it (names are checked on every
 * request and every scanned entry: an allocation each was a tenth of a first sync's time).
 * A lone surrogate counts as U+FFFD's 3 bytes, as the encoder would write it.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 2 UTF-16 units, 4 bytes.
      bytes += 2;
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/** Checks one name (a single path segment). Returns the first problem, or null when it is valid. */
export function nameProblem(name: string, limit: PathLimit = 'none'): NameProblem | null {
  if (name.length === 0) return 'empty';
  if (name.includes('/')) return 'slash';
  if (name.includes('\u0000')) return 'nul';
  if (name === '.' || name === '..') return 'dot';
  if (utf8Length(name) > 255) return 'too-long';
  if (name.normalize('NFC') !== name) return 'not-nfc';
  if (limit === 'windows') {
    if (WINDOWS_RESERVED.test(name)) return 'windows-reserved';
    if (WINDOWS_CHARS.test(name) || name.endsWith(' ') || name.endsWith('.')) return 'windows-char';
  }
  return null;
}

/** True when `path` is a well-formed RelPath (every segment a valid name, '' for the root). */
export function isRelPath(path: string): path is RelPath {
  if (path === '') return true;
  return path.split('/').every((segment) => nameProblem(segment) === null);
}

/** The parent of a RelPath ('' for a top-level entry). The root has no parent. */
export function parentOf(path: RelPath): RelPath {
  const at = path.lastIndexOf('/');
  return at < 0 ? '' : path.slice(0, at);
}

/** The last segment of a RelPath. */
export function baseName(path: RelPath): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Joins a RelPath and a name. */
export function joinRel(parent: RelPath, name: string): RelPath {
  return parent === '' ? name : `${parent}/${name}`;
}

/** True when `path` is `ancestor` or lies below it. */
export function isAtOrBelow(path: RelPath, ancestor: RelPath): boolean {
  return ancestor === '' || path === ancestor || path.startsWith(`${ancestor}/`);
}

/**
 * Orders RelPaths so that a parent comes right before its children: compares segment by segment,
 * which plain string order does not do ('a b' < 'a/b' in code units, yet 'a/b' is a's child).
 */
export function compareRelPaths(a: RelPath, b: RelPath): number {
  if (a === b) return 0;
  const sa = a.split('/');
  const sb = b.split('/');
  const n = Math.min(sa.length, sb.length);
  for (let i = 0; i < n; i++) {
    const x = sa[i] as string;
    const y = sb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return sa.length - sb.length;
}
