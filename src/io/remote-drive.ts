/**
 * The engine's view of a cloud drive: one interface, a real implementation over HTTP
 * (`http-remote-drive.ts`) and a deterministic in-memory one (`sim-remote-drive.ts`), both held
 * to `remote-drive.contract.ts`. Shapes are those of the wire contract in `src/lib/cloud-api.ts`.
 */
import type { Readable } from 'node:stream';
import type {
  BinEntry,
  ChangeBatch,
  CloudErrorCode,
  FeedSpan,
  PermissionVerdict,
  RemoteEntry,
  RemoteSpace,
  RemoteVersion,
} from '../lib/cloud-api.js';
import { FoldsyncError } from '../lib/errors.js';
import type { SyncMode } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';

export type { BinEntry, ChangeBatch, ChangeEntry, FeedSpan, PermissionVerdict, RemoteEntry, RemoteSpace, RemoteVersion } from '../lib/cloud-api.js';

/** A failure talking to the cloud, with the server's stable code (or `network`). */
export class RemoteError extends FoldsyncError<CloudErrorCode> {
  constructor(code: CloudErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}, options?: ErrorOptions) {
    super(code, message, details, options);
    this.name = 'RemoteError';
  }
}

/**
 * Told where a write's changes are in the change feed (ADR 0100), once the write is committed;
 * not called when the write changed nothing, nor when its answer was lost and recovered otherwise.
 */
export type OnFeed = (span: FeedSpan) => void;

/** Options of the writes that can report their feed span. */
export interface WriteOptions {
  readonly onFeed?: OnFeed;
}

/** Where an upload goes: a path (a new file, or a new version of the file there) or an item id. */
export type RemoteTarget = { readonly path: RelPath } | { readonly id: string };

/**
 * Upload contents: bytes in memory, or a function that opens bytes `start..end` (end exclusive),
 * called again to resume or retry, so a large file is never held in memory.
 */
export type UploadBody = Uint8Array | ((start: number, end: number) => AsyncIterable<Uint8Array>);

/** Options of {@link RemoteDrive.upload}. */
export interface UploadOptions {
  /** Bytes. */
  readonly size: number;
  /** Expected SHA-256, lowercase hex; the server refuses a body that does not match. */
  readonly hash: string;
  /** The version this upload replaces, or null for a new file (refused if the path is taken). */
  readonly baseVersion: string | null;
  readonly signal?: AbortSignal;
  readonly onFeed?: OnFeed;
}

/** One file of {@link RemoteDrive.uploadMany}: small contents, in memory. */
export interface UploadItem {
  readonly target: RemoteTarget;
  readonly body: Uint8Array;
  /** Expected SHA-256 of `body`, lowercase hex. */
  readonly hash: string;
  /** The version this upload replaces, or null for a new file. */
  readonly baseVersion: string | null;
}

/** The outcome of one file of {@link RemoteDrive.uploadMany}. */
export type UploadItemResult = { readonly ok: true; readonly entry: RemoteEntry; readonly feed?: FeedSpan } | { readonly ok: false; readonly error: RemoteError };

/** Options of {@link RemoteDrive.download}. */
export interface DownloadOptions {
  /** A version id (default: the current one). */
  readonly version?: string;
  /** First byte (default 0). */
  readonly start?: number;
  /** Last byte, inclusive (default: the end). */
  readonly end?: number;
  readonly signal?: AbortSignal;
}

/** Options of {@link RemoteDrive.changes}. */
export interface ChangesOptions {
  /** Wait up to this many seconds for a change when there is none yet (default 0). */
  readonly waitSeconds?: number;
  /** At most this many entries (default: the server's page size). */
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

/**
 * A user's connection to a cloud drive, acting for a sync task of mode {@link mode}: the server
 * checks every write against SPEC.md section 3 for that mode. Every method rejects with a
 * {@link RemoteError}. `space` is a space name; `personal` is the user's own.
 */
export interface RemoteDrive {
  /** The task mode writes are made in. */
  readonly mode: SyncMode;
  /** The spaces this user may use. */
  spaces(): Promise<RemoteSpace[]>;
  /** May this user run a task of `mode` (default: {@link mode}) on `space`? */
  checkPermission(space: string, mode?: SyncMode): Promise<PermissionVerdict>;
  /** The item at `path`, or null. */
  stat(space: string, path: RelPath): Promise<RemoteEntry | null>;
  /** The live item `id`, or null when it is gone (deleted or purged). */
  statById(space: string, id: string): Promise<RemoteEntry | null>;
  /** The items in the folder at `path` (or its whole subtree), sorted by path. */
  list(space: string, path: RelPath, options?: { readonly recursive?: boolean }): Promise<RemoteEntry[]>;
  /** The change-feed position after the latest change (start here to see only new changes). */
  cursor(space: string): Promise<string>;
  /** Changes after `cursor`, waiting up to `waitSeconds` for one. */
  changes(space: string, cursor: string, options?: ChangesOptions): Promise<ChangeBatch>;
  /** Uploads a new file or a new version, conditional on `baseVersion`; committed only when whole. */
  upload(space: string, target: RemoteTarget, body: UploadBody, options: UploadOptions): Promise<RemoteEntry>;
  /**
   * Optional: uploads many small files in few requests. Each file is conditional on its own
   * `baseVersion`, checked against its own hash and committed or refused on its own: results come
   * back in `items` order, and one refused file never fails or rolls back the others. Rejects only
   * when nothing can be attempted (unreachable cloud, bad token, a role that may not write).
   * Files too large for a batch are uploaded one by one, with the same per-file results. A file
   * that changed something says where in the feed (`feed`, ADR 0100).
   */
  uploadMany?(space: string, items: readonly UploadItem[], options?: { readonly signal?: AbortSignal }): Promise<UploadItemResult[]>;
  /** Streams a file's contents (a version, a byte range). */
  download(space: string, id: string, options?: DownloadOptions): Promise<Readable>;
  /** Creates a folder and missing parents; an existing folder is returned as is. */
  mkdir(space: string, path: RelPath, options?: WriteOptions): Promise<RemoteEntry>;
  /** Moves or renames an item (a folder with its contents), optionally only if it is at `ifVersion`. */
  move(space: string, id: string, to: RelPath, options?: { readonly ifVersion?: string } & WriteOptions): Promise<RemoteEntry>;
  /** Copies an item (a folder with its contents) to a new path. */
  copy(space: string, id: string, to: RelPath): Promise<RemoteEntry>;
  /** Sends an item to the recycle bin, only if it is still at `version` (null: whatever it is). */
  delete(space: string, id: string, version: string | null, options?: WriteOptions): Promise<BinEntry>;
  /** A file's versions, newest first. */
  versions(space: string, id: string): Promise<RemoteVersion[]>;
  /** Makes an old version current (as a new version). */
  restoreVersion(space: string, id: string, versionId: string, options?: { readonly ifVersion?: string }): Promise<RemoteEntry>;
  /** The recycle bin, newest first. */
  bin(space: string): Promise<BinEntry[]>;
  /** Restores a bin entry to its original path (with a suffix if that is taken). */
  restoreFromBin(space: string, binId: string): Promise<RemoteEntry>;
  /** Deletes a bin entry for good. */
  purge(space: string, binId: string): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Reads a whole stream into memory (tests and small files). */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Opens bytes `start..end` of an {@link UploadBody}. */
export function openBody(body: UploadBody, start: number, end: number): AsyncIterable<Uint8Array> {
  if (typeof body === 'function') return body(start, end);
  const slice = body.subarray(start, end);
  // An async generator with nothing to await: the bytes are already here.
  // eslint-disable-next-line @typescript-eslint/require-await
  return (async function* () {
    yield slice;
  })();
}
