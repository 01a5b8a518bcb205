/**
 * How a task compares a scan of its local folder with the local tree it holds (ADR 0030): the
 * loop of `scanLocal`, on its own so that the scan benchmark runs the very code the engine runs.
 *
 * A rescan of a folder where nothing changed is the common case (every full round scans), so an
 * unchanged entry costs a lookup of its slot and a comparison of the tree's columns in place
 * (`Trees.localUnchanged`), and the paths seen are kept as one byte per slot (`Trees.scanMarks`),
 * not as a set of strings; only changed entries are decoded, hashed and recorded.
 */
import type { FoldsyncEvent, LocalChange } from '../events/types.js';
import type { ScanItem } from '../io/local-fs.js';
import type { LocalMeta } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import type { Trees } from '../reconcile/trees.js';

/** What {@link diffLocalScan} needs from the task besides its trees. */
export interface LocalScanHooks {
  /**
   * A file's meta with its hash: reused from `prev` when size, mtime and identity match, else read
   * now; null when it cannot be read now (recorded in `skipped`), `gone` when it vanished.
   */
  readonly withHash: (path: RelPath, meta: LocalMeta, prev: LocalMeta | undefined, skipped: FoldsyncEvent[]) => Promise<LocalMeta | null | 'gone'>;
  /** Records the changes found so far (and empties the array); the trees must hold them afterwards. */
  readonly flush: (changes: LocalChange[]) => Promise<void>;
  /** Pending changes that trigger a flush during the scan. */
  readonly flushAt: number;
  /**
   * True once the task was stopped: the scan ends after the batch at hand, what it saw is flushed,
   * nothing it did not reach is taken as deleted, and {@link ScanStopped} is thrown.
   */
  readonly stopped?: () => boolean;
}

/** Thrown out of {@link diffLocalScan} when the task was stopped during the scan: the round ends there. */
export class ScanStopped extends Error {
  constructor() {
    super('the task was stopped during its scan');
    this.name = 'ScanStopped';
  }
}

/** What a scan found, besides the changes it flushed. */
export interface LocalScanResult {
  readonly files: number;
  readonly dirs: number;
  readonly bytes: number;
  /** `LocalSkipped` events: skipped entries and files that could not be hashed. */
  readonly skipped: FoldsyncEvent[];
}

/**
 * Every path of the local tree strictly below folder `under` ('' for all of them): canonical order
 * for '', a depth-first walk of the sorted children otherwise.
 */
export function localPathsBelow(trees: Trees, under: RelPath): RelPath[] {
  if (under === '') return trees.paths('local');
  const out: RelPath[] = [];
  const stack = trees.children('local', under);
  for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
    out.push(p);
    stack.push(...trees.children('local', p));
  }
  return out;
}

/**
 * Consumes the batches of a scan of folder `under` ('' for the whole root) and flushes every
 * difference from the local tree: new and changed entries (files hashed when their size, mtime or
 * identity changed), and deletions of what the tree holds below `under` that the scan did not see.
 * A folder that cannot be read is not an empty folder: what it held is kept as it was known.
 * Ignored entries are neither recorded nor deleted.
 */
export async function diffLocalScan(trees: Trees, under: RelPath, batches: AsyncIterable<readonly ScanItem[]>, hooks: LocalScanHooks): Promise<LocalScanResult> {
  const diff = new ScanDiff(trees);
  const { seen, skipped } = diff;
  const changes: LocalChange[] = [];
  for await (const batch of batches) {
    // The entries that need no decoding, hashing or recording are handled by a plain loop, so the
    // hot path is not part of this async function's compiled code (ADR 0030).
    for (let i = diff.unchanged(batch, 0); i < batch.length; i = diff.unchanged(batch, i + 1)) {
      const item = batch[i] as ScanItem & { type: 'entry' };
      const prev = trees.local(item.path);
      const meta = await hooks.withHash(item.path, item.meta, prev, skipped);
      if (meta === 'gone') seen.unmark(item.path);
      if (meta === null || meta === 'gone') continue;
      diff.count(meta);
      if (!sameLocalMeta(prev, meta)) changes.push({ path: item.path, meta });
    }
    if (changes.length >= hooks.flushAt) await hooks.flush(changes);
    if (hooks.stopped?.() === true) {
      await hooks.flush(changes);
      throw new ScanStopped();
    }
  }
  const unseen = under === '' ? seen.unmarkedLocal() : localPathsBelow(trees, under).filter((p) => !seen.has(p));
  for (const p of unseen) changes.push({ path: p, meta: null });
  await hooks.flush(changes);
  return { files: diff.files, dirs: diff.dirs, bytes: diff.bytes, skipped };
}

/** The synchronous part of {@link diffLocalScan}: marks, skips, ignored entries, unchanged entries and the counts. */
class ScanDiff {
  readonly seen: ReturnType<Trees['scanMarks']>;
  readonly skipped: FoldsyncEvent[] = [];
  files = 0;
  dirs = 0;
  bytes = 0;

  constructor(private readonly trees: Trees) {
    this.seen = trees.scanMarks();
  }

  /**
   * Handles `batch` from index `from` up to the first entry that may have changed, whose index it
   * returns (marked as seen, nothing else done); `batch.length` when there is none.
   */
  unchanged(batch: readonly ScanItem[], from: number): number {
    const { seen, trees } = this;
    for (let i = from; i < batch.length; i++) {
      const item = batch[i] as ScanItem;
      seen.mark(item.path);
      if (item.type === 'skipped') {
        this.skipped.push({ type: 'LocalSkipped', v: 1, path: item.path, reason: item.reason, message: item.message });
        // A folder that cannot be read is not an empty folder: what it held is kept as it was
        // known, never turned into deletes on the other side.
        if (item.reason === 'unreadable') for (const p of localPathsBelow(trees, item.path)) seen.mark(p);
        continue;
      }
      if (item.ignored !== null) continue;
      // The fast path: what the slow one would conclude, without decoding the tree's entry.
      if (!trees.localUnchanged(item.path, item.meta)) return i;
      this.count(item.meta);
    }
    return batch.length;
  }

  count(meta: LocalMeta): void {
    if (meta.kind === 'file') {
      this.files += 1;
      this.bytes += meta.size;
    } else {
      this.dirs += 1;
    }
  }
}

/** True when `a` is `b`, field by field (the hash included). */
export function sameLocalMeta(a: LocalMeta | undefined, b: LocalMeta): boolean {
  return a !== undefined && a.kind === b.kind && a.size === b.size && a.mtimeNs === b.mtimeNs && a.fileId === b.fileId && a.hash === b.hash;
}
