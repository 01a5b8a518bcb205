/**
 * The local side of a task, as one small interface: everything foldsync does to a local disk goes
 * through a {@link LocalFs}. Two implementations pass one contract suite: the real one on
 * `node:fs` (`createNodeLocalFs`) and a deterministic in-memory one (`createSimLocalFs`).
 *
 * Paths at this interface are {@link RelPath}s under the task root. Nothing may escape the root:
 * `..`, absolute paths, empty segments and NUL are refused, and symbolic links are never followed,
 * neither at the end of a path nor in a folder on the way to it.
 */
import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import { FoldsyncError } from '../lib/errors.js';
import type { FilterVerdict, PathFilter } from '../lib/filters.js';
import type { FileFailureReason, LocalMeta } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { isRelPath } from '../lib/names.js';

/** What an entry on disk is. Symlinks and special files (FIFOs, sockets, devices) are never synced. */
export type LocalEntryKind = 'file' | 'dir' | 'symlink' | 'special';

/** An entry as `lstat` sees it (links are not followed). */
export interface LocalStat {
  readonly kind: LocalEntryKind;
  /** Bytes; 0 for folders. */
  readonly size: number;
  /** Modification time in nanoseconds since the epoch, decimal. */
  readonly mtimeNs: string;
  /** `${dev}:${ino}`. */
  readonly fileId: string;
  /** Permission bits (`mode & 0o7777`). */
  readonly mode: number;
}

/** Why the scanner or watcher did not report an entry as syncable. */
export type SkipReason = 'symlink' | 'unreadable' | 'special';

/** One thing a scan or the watcher found. */
export type ScanItem =
  /** A file or folder. `ignored` says why the filter ignores it (null: it syncs). */
  | {
      readonly type: 'entry';
      readonly path: RelPath;
      readonly meta: LocalMeta;
      readonly mode: number;
      readonly ignored: FilterVerdict;
    }
  /** An entry that is never synced: a symlink, a special file, or one that could not be read. */
  | { readonly type: 'skipped'; readonly path: RelPath; readonly reason: SkipReason; readonly message: string };

/** Options of a scan. */
export interface ScanOptions {
  /** Marks ignored entries and prunes excluded folders; without it nothing is ignored. */
  readonly filter?: PathFilter;
  /** Entries a batch (default 2,000); the scanner yields to the event loop between batches. */
  readonly batchSize?: number;
  /**
   * About how many entries the scan will meet (the local tree's size on a rescan): a scan that
   * expects many starts its helper thread at once instead of after its first 20,000 entries.
   */
  readonly expectedEntries?: number;
  /**
   * Regular files up to this many bytes may come with their SHA-256 in `meta.hash`, read by the
   * scan when it can read them beside its listing (the real scanner's worker thread); others come
   * without. For a first scan, where every file is new and will be hashed anyway.
   */
  readonly hashUpTo?: number;
  /**
   * The listing {@link LocalFs.prefetchScan} started: a scan of the whole root that hashes nothing
   * takes its listings from it where it can. The scan closes it, used or not.
   */
  readonly prefetch?: ScanPrefetchHandle;
}

/** A listing of the whole local folder started ahead of its scan; opaque outside the local side. */
export interface ScanPrefetchHandle {
  /** Stops it and frees what it listed; the scan it was for lists the folder itself. */
  close(): void;
}

/** The result of hashing a file. */
export type HashOutcome =
  /** Hashed now (`fresh: true`), or the previous hash reused because size, mtime and identity are unchanged. */
  | { readonly status: 'hashed'; readonly meta: LocalMeta & { readonly hash: string }; readonly fresh: boolean }
  /** The file changed while it was read (size or mtime before and after differ): retry later. */
  | { readonly status: 'changing'; readonly message: string };

/** One change the watcher saw, already checked against the disk (lstat after the event). */
export type WatchChange =
  /** An entry exists now at `path` (created or modified). */
  | ScanItem
  /** Nothing exists at `path` any more. */
  | { readonly type: 'gone'; readonly path: RelPath }
  /** The entry known as `meta.fileId` at `from` is now at `to` (a delete plus a create of the same identity). */
  | { readonly type: 'moved'; readonly from: RelPath; readonly to: RelPath; readonly meta: LocalMeta; readonly mode: number; readonly ignored: FilterVerdict }
  /**
   * The watcher may have missed changes under `under`: the consumer must scan it and diff.
   * `error`: the watcher failed (it goes on where it can); `overflow`: a burst of events that may
   * have overflowed the native queue.
   */
  | { readonly type: 'rescan'; readonly under: RelPath; readonly reason: 'error' | 'overflow'; readonly message: string };

/** A debounced batch of changes. */
export interface WatchBatch {
  readonly changes: readonly WatchChange[];
}

/** Options of {@link LocalFs.watch}. */
export interface WatchOptions {
  /** Marks ignored entries (the engine's own temporary files are always dropped). */
  readonly filter?: PathFilter;
  /** Quiet time that closes a batch, ms (default 100). */
  readonly debounceMs?: number;
  /** A batch is closed after this long even while events keep coming, ms (default 1,000). */
  readonly maxWaitMs?: number;
  /**
   * The identity last known at a path (from the consumer's local tree). Pairs a delete with a
   * create of the same identity into a move; without it only identities the watcher itself
   * reported are known.
   */
  readonly knownId?: (path: RelPath) => string | undefined;
  /**
   * A batch of at least this many raw events (default 4,096, a quarter of Linux's default inotify
   * queue) also asks for a rescan (`overflow`) of the folder holding them all: `@parcel/watcher`
   * drops events when the kernel queue overflows and does not say so.
   */
  readonly burstRescanEvents?: number;
}

/** Options of an atomic write. */
export interface WriteOptions {
  /** Sets the file's modification time (ms since the epoch) before it is renamed into place. */
  readonly mtimeMs?: number;
  /** Checked against the SHA-256 of what was written; a mismatch aborts the write (`io`). */
  readonly expectHash?: string;
}

/** Everything foldsync does to one local root. */
export interface LocalFs {
  /** The absolute root (for the simulation, a label). */
  readonly root: string;
  /** The entry at `path` without following links, or null when nothing is there. */
  lstat(path: RelPath): Promise<LocalStat | null>;
  /** The file or folder at `path` as {@link LocalMeta}, or null when absent, a symlink or special. */
  stat(path: RelPath): Promise<LocalMeta | null>;
  /** Streams every entry under folder `under` ('' for the root, which itself is not reported), in batches. */
  scan(under: RelPath, options?: ScanOptions): AsyncIterable<readonly ScanItem[]>;
  /**
   * Starts listing the whole folder now, for a scan that comes soon ({@link ScanOptions.prefetch}),
   * where the listing can run beside other work (a thread of its own). Only for a caller that writes
   * nothing into the folder before that scan. Absent where it would gain nothing.
   */
  prefetchScan?(): ScanPrefetchHandle;
  /**
   * SHA-256 of a file, streamed. When `previous` has a hash and the file's size, mtime and
   * identity still match it, the hash is reused without reading.
   */
  hash(path: RelPath, previous?: LocalMeta | null): Promise<HashOutcome>;
  /** Opens a file for reading (never through a link). */
  read(path: RelPath): Promise<{ readonly meta: LocalMeta; readonly stream: Readable }>;
  /**
   * Reads a whole file into memory (never through a link), for small uploads: a stream costs more
   * than the file. `bytes` is null when the file is larger than `maxBytes` (its meta then says so).
   */
  readAll(path: RelPath, maxBytes: number): Promise<{ readonly meta: LocalMeta; readonly bytes: Uint8Array | null }>;
  /**
   * Writes a download atomically: to a temporary file beside the target (named with TEMP_PREFIX),
   * fsynced, then renamed into place. Refused with `changed-locally` if the target no longer
   * matches `expect` (size, mtime, identity; or `expect` null but something is there).
   * Returns the new file's meta, with the hash of what was written.
   */
  writeFile(path: RelPath, content: Uint8Array | AsyncIterable<Uint8Array>, expect: LocalMeta | null, options?: WriteOptions): Promise<LocalMeta>;
  /** Creates one folder (its parent must exist). An existing folder is fine; anything else there is refused. */
  mkdir(path: RelPath): Promise<LocalMeta>;
  /**
   * Moves or renames an entry. Refused with `changed-locally` if `from` no longer has identity
   * `expectFileId`, and with `target-exists` if anything is at `to`.
   */
  move(from: RelPath, to: RelPath, expectFileId: string): Promise<LocalMeta>;
  /**
   * Sends an entry to the trash, or deletes it (`how`), if it still matches `expect` (files:
   * size, mtime and identity; folders: identity). A folder goes only when everything left in it
   * is ignored by `filter` (default: the built-in ignores), so a file the user just added is
   * never lost with it.
   */
  remove(path: RelPath, expect: LocalMeta, how: 'trash' | 'delete', filter?: PathFilter): Promise<void>;
  /** Watches the root: debounced batches of changes, until unsubscribed. */
  watch(options?: WatchOptions): Observable<WatchBatch>;
  /**
   * Deletes the download temporary files (named with TEMP_PREFIX) that a crash left in folder
   * `folder` (not below it); a missing folder has none. Returns how many went.
   */
  removePartials(folder: RelPath): Promise<number>;
}

/** Codes of {@link LocalFsError}: the file failure reasons, plus a few more precise ones. */
export type LocalFsErrorCode = FileFailureReason | 'target-exists' | 'not-empty' | 'bad-path' | 'symlink' | 'wrong-kind';

/**
 * A typed failure of a local operation. `code` is precise; `reason` is the
 * {@link FileFailureReason} a failed action records (for example `target-exists` -> `conflict`).
 */
export class LocalFsError extends FoldsyncError<LocalFsErrorCode> {
  readonly reason: FileFailureReason;
  readonly path: RelPath;
  constructor(code: LocalFsErrorCode, path: RelPath, message: string, options?: ErrorOptions) {
    super(code, message, { path }, options);
    this.name = 'LocalFsError';
    this.reason = reasonOf(code);
    this.path = path;
  }
}

const REASONS: Partial<Record<LocalFsErrorCode, FileFailureReason>> = {
  'target-exists': 'conflict',
  'not-empty': 'changed-locally',
  'bad-path': 'bad-name',
  symlink: 'unreadable',
  'wrong-kind': 'unreadable',
};

function reasonOf(code: LocalFsErrorCode): FileFailureReason {
  return REASONS[code] ?? (code as FileFailureReason);
}

/** Throws `bad-path` unless `path` is a RelPath (no `..`, no leading `/`, no NUL, no empty segment). */
export function checkRelPath(path: string): RelPath {
  if (isRelPath(path)) return path;
  const shown = JSON.stringify(path);
  throw new LocalFsError('bad-path', path, `${shown} is not a path inside the task folder; foldsync refuses it.`);
}

/** True when a file still matches what was expected of it: same kind, identity, and for files size and mtime. */
export function sameLocal(current: LocalMeta | LocalStat, expect: LocalMeta): boolean {
  if (current.kind !== expect.kind || current.fileId !== expect.fileId) return false;
  if (expect.kind === 'dir') return true;
  return current.size === expect.size && current.mtimeNs === expect.mtimeNs;
}

/** The LocalMeta of a stat, or null for symlinks and special files. */
export function metaOf(s: LocalStat): LocalMeta | null {
  if (s.kind !== 'file' && s.kind !== 'dir') return null;
  return { kind: s.kind, size: s.kind === 'dir' ? 0 : s.size, mtimeNs: s.mtimeNs, fileId: s.fileId };
}
