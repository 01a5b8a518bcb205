/**
 * Folding a page of the cloud change feed into a task's cloud tree (pure). Each feed entry carries
 * the full state of one item after a change (a moved folder has one entry for itself and one for
 * each item below it), so applying the entries in order from any earlier state ends at the state
 * the server had when the page was read. The task's tree may be ahead of the feed's cursor (the
 * engine records its own effects as soon as they succeed); applying in order still ends right,
 * because every later change of a path is in the page too.
 */
import type { CloudChange } from '../events/types.js';
import type { ChangeEntry } from '../lib/cloud-api.js';
import type { CloudMeta } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { compareRelPaths, isRelPath } from '../lib/names.js';

/** What {@link foldFeed} returns. */
export interface FeedFold {
  /** The changes to the task's cloud tree, one per path, sorted by path; no-ops left out. */
  readonly changes: CloudChange[];
  /**
   * True when an entry moved or deleted the task's cloud folder itself (or a folder above it):
   * the feed alone cannot say what the folder holds now, so the caller lists it.
   */
  readonly rootTouched: boolean;
}

/**
 * Applies feed `entries` (in feed order) to the cloud tree `current`, for the task whose cloud
 * folder is `root` in its space (`''` for the space's root; paths in entries are space paths).
 */
export function foldFeed(entries: readonly ChangeEntry[], root: RelPath, current: (path: RelPath) => CloudMeta | undefined): FeedFold {
  const prefix = root === '' ? '' : `${root}/`;
  const inside = (p: string): boolean => p.startsWith(prefix) && p !== root;
  const rel = (p: string): RelPath => p.slice(prefix.length);
  const overlay = new Map<RelPath, CloudMeta | null>();
  const at = (p: RelPath): CloudMeta | null => {
    const o = overlay.get(p);
    return o === undefined ? (current(p) ?? null) : o;
  };
  // Clears `p` only when it still holds item `id`: an older entry must not remove a newer item.
  const clear = (p: RelPath, id: string): void => {
    if (at(p)?.id === id) overlay.set(p, null);
  };
  const above = (p: string): boolean => root !== '' && (p === root || root.startsWith(`${p}/`));
  let rootTouched = false;
  for (const e of entries) {
    if ((e.op === 'move' || e.deleted) && (above(e.path) || (e.fromPath !== undefined && above(e.fromPath)))) rootTouched = true;
    if (e.fromPath !== undefined && inside(e.fromPath)) clear(rel(e.fromPath), e.id);
    // A name no local folder can hold ('..', NUL, empty segments) never enters the tree.
    if (!inside(e.path) || !isRelPath(rel(e.path))) continue;
    const p = rel(e.path);
    if (e.deleted) {
      clear(p, e.id);
      continue;
    }
    const meta: CloudMeta = e.hash === undefined ? { kind: e.kind, id: e.id, version: e.version, size: e.size } : { kind: e.kind, id: e.id, version: e.version, size: e.size, hash: e.hash };
    overlay.set(p, meta);
  }
  const changes: CloudChange[] = [];
  for (const [path, meta] of overlay) {
    const before = current(path) ?? null;
    if (meta === null ? before !== null : before === null || !sameCloudMeta(before, meta)) changes.push({ path, meta });
  }
  changes.sort((a, b) => compareRelPaths(a.path, b.path));
  return { changes, rootTouched };
}

/** Same item in the same state (id, version, kind, size, hash). */
export function sameCloudMeta(a: CloudMeta, b: CloudMeta): boolean {
  return a.kind === b.kind && a.id === b.id && a.version === b.version && a.size === b.size && a.hash === b.hash;
}
