/**
 * Conflict copy names (SPEC.md section 2.1): `name (conflict YYYY-MM-DD HHMMSS <terminal>).ext`,
 * from the plan's `now` in UTC, so that the same inputs always give the same name. Pure.
 */
import type { RelPath } from '../lib/names.js';
import { baseName, joinRel, parentOf } from '../lib/names.js';

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `YYYY-MM-DD HHMMSS` of `now` (milliseconds since the epoch) in UTC. */
export function conflictStamp(now: number): string {
  const d = new Date(now);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}

/**
 * The conflict name for `path`, beside it. `taken` says whether a candidate is already used on
 * either side; a counter is added until a free name is found, so two conflicts in one plan never
 * collide.
 *
 * @example conflictPath('a/report.txt', 'laptop', Date.UTC(2026, 0, 2, 3, 4, 5), () => false)
 *   // 'a/report (conflict 2026-01-02 030405 laptop).txt'
 */
export function conflictPath(path: RelPath, terminal: string, now: number, taken: (candidate: RelPath) => boolean): RelPath {
  const name = baseName(path);
  // A leading dot is a hidden file's name, not an extension.
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  const stamp = conflictStamp(now);
  for (let n = 1; ; n++) {
    const tag = n === 1 ? terminal : `${terminal} ${n}`;
    const candidate = joinRel(parentOf(path), `${stem} (conflict ${stamp} ${tag})${ext}`);
    if (!taken(candidate)) return candidate;
  }
}
