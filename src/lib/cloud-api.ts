/**
 * The wire contract between the reference cloud server (`src/cloud`) and its clients
 * (`src/io`): JSON shapes, error codes, headers and the permission rule of SPEC.md section 3.
 * Kept here, pure, so that both sides compile against one definition.
 */
import type { CloudMeta, SpaceType, SyncMode } from './model.js';
import type { RelPath } from './names.js';

/** Roles a user holds in a space. `owner` is the user of a personal space or a received transfer. */
export type SpaceRole = 'owner' | 'synchronizer' | 'backer' | 'member';

/** Every role, for validation. */
export const SPACE_ROLES: readonly SpaceRole[] = ['owner', 'synchronizer', 'backer', 'member'];

/** Every space type, for validation. */
export const SPACE_TYPES: readonly SpaceType[] = ['personal', 'team', 'received-share', 'received-transfer'];

/** Stable error codes of the cloud API; the client raises them as `RemoteError`s. */
export type CloudErrorCode =
  | 'unauthorized'
  | 'not-permitted'
  | 'not-found'
  | 'conflict'
  | 'quota'
  | 'bad-name'
  | 'bad-request'
  | 'hash-mismatch'
  | 'too-large'
  | 'incomplete'
  | 'server'
  | 'unavailable'
  | 'network';

/** The JSON body of every error response. */
export interface CloudErrorBody {
  readonly error: { readonly code: CloudErrorCode; readonly message: string; readonly details?: Readonly<Record<string, unknown>> };
}

/** HTTP status for each error code. */
export const ERROR_STATUS: Readonly<Record<CloudErrorCode, number>> = {
  unauthorized: 401,
  'not-permitted': 403,
  'not-found': 404,
  conflict: 409,
  quota: 507,
  'bad-name': 400,
  'bad-request': 400,
  'hash-mismatch': 422,
  'too-large': 413,
  incomplete: 409,
  server: 500,
  unavailable: 503,
  network: 502,
};

/** Request headers of the API. */
export const HEADERS = {
  /** The mode of the sync task making the request; writes are checked against it. */
  mode: 'x-foldsync-mode',
  /** Expected SHA-256 (lowercase hex) of an upload body. */
  sha256: 'x-foldsync-sha256',
  /** The version an upload replaces; absent for a new file. */
  baseVersion: 'x-foldsync-base-version',
  /** Length in bytes of the JSON manifest that opens a batched upload's body. */
  manifestBytes: 'x-foldsync-manifest-bytes',
  /**
   * Response header of a write that changed something: the change-feed sequence numbers of its
   * changes, `FIRST-LAST` (see {@link FeedSpan}); absent when the write changed nothing.
   */
  feed: 'x-foldsync-feed',
} as const;

/**
 * Where one write's changes are in its space's change feed: the feed's positions are decimal
 * sequence numbers, one per change and consecutive within a space (a feed entry's `cursor` is its
 * number), and one write's changes are numbers `first..last`, inclusive, with nobody else's between
 * them. A client that knows which changes are its own may skip them in the feed (ADR 0100).
 */
export interface FeedSpan {
  readonly first: number;
  readonly last: number;
}

/** The {@link HEADERS.feed} value of a span. */
export function feedHeader(span: FeedSpan): string {
  return `${span.first}-${span.last}`;
}

/** The span in a {@link HEADERS.feed} value, or null when there is none or it is malformed. */
export function parseFeedHeader(value: string | string[] | undefined): FeedSpan | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{1,15})-(\d{1,15})$/.exec(value);
  if (m === null) return null;
  const first = Number(m[1]);
  const last = Number(m[2]);
  return first >= 1 && last >= first ? { first, last } : null;
}

/**
 * Limits of a batched upload (`POST /v1/spaces/{space}/batch`, many small files in one request).
 * Files over `maxItemBytes` go through the other uploads.
 */
export const BATCH_LIMITS = {
  /** Files in one request. */
  maxItems: 1000,
  /** Largest file in a batch (and largest content the server keeps inline in its database). */
  maxItemBytes: 256 * 1024,
  /** Largest request body: manifest plus contents. */
  maxBodyBytes: 8 * 1024 * 1024,
  /** Largest manifest. */
  maxManifestBytes: 1024 * 1024,
} as const;

/** One file of a batched upload's manifest; its bytes follow the manifest in manifest order. */
export interface BatchManifestItem {
  /** The target: a path (new file, or new version of the file there) or an item id. */
  readonly path?: string;
  readonly id?: string;
  readonly size: number;
  /** SHA-256 of the bytes, lowercase hex. */
  readonly hash: string;
  /** The version replaced; absent or null for a new file. */
  readonly baseVersion?: string | null;
}

/** The manifest of a batched upload. */
export interface BatchManifest {
  readonly items: readonly BatchManifestItem[];
}

/**
 * The outcome of one file of a batched upload: each file commits or fails on its own. `feed` says
 * where its changes are in the change feed; absent when it changed nothing (the file already held
 * these bytes).
 */
export type BatchItemResult = { readonly ok: true; readonly entry: RemoteEntry; readonly feed?: FeedSpan } | { readonly ok: false; readonly error: CloudErrorBody['error'] };

/** The answer to a batched upload: one result per manifest item, in order. */
export interface BatchResult {
  readonly results: readonly BatchItemResult[];
}

/** A cloud item as the API reports it: {@link CloudMeta} plus where it is. */
export interface RemoteEntry extends CloudMeta {
  readonly path: RelPath;
  readonly name: string;
  /** The containing folder's id; null for a space's root. */
  readonly parentId: string | null;
  /** Milliseconds since the epoch of the last content change (files) or creation (folders). */
  readonly modifiedAt: number;
}

/** One version in a file's history, newest first in listings. */
export interface RemoteVersion {
  readonly id: string;
  readonly size: number;
  readonly hash: string;
  readonly createdAt: number;
  /** True for the file's current version. */
  readonly current: boolean;
}

/** An entry in a space's recycle bin: a deleted file or folder (with everything that was in it). */
export interface BinEntry {
  readonly id: string;
  readonly itemId: string;
  readonly kind: CloudMeta['kind'];
  /** Where it was when deleted. */
  readonly path: RelPath;
  /** Bytes of the current contents (whole subtree for a folder). */
  readonly size: number;
  readonly deletedAt: number;
}

/** What kind of change a feed entry reports. */
export type ChangeOp = 'create' | 'update' | 'move' | 'delete' | 'restore';

/**
 * One change-feed entry: the full state of one item after the change, so that a client can
 * rebuild a folder's tree from the feed alone. A moved folder has one entry for itself and one for
 * each item below it (their paths changed too); likewise for deletes and restores.
 */
export interface ChangeEntry {
  readonly cursor: string;
  readonly op: ChangeOp;
  readonly id: string;
  readonly kind: CloudMeta['kind'];
  readonly path: RelPath;
  /** The path before a move; absent otherwise. */
  readonly fromPath?: RelPath;
  readonly version: string;
  readonly size: number;
  readonly hash?: string;
  /** True when the item went to the recycle bin (or was purged). */
  readonly deleted: boolean;
  readonly at: number;
}

/** A page of the change feed. `cursor` is where to continue; `more` says another page is ready. */
export interface ChangeBatch {
  readonly changes: readonly ChangeEntry[];
  readonly cursor: string;
  readonly more: boolean;
}

/** A space as its user sees it. */
export interface RemoteSpace {
  readonly name: string;
  readonly type: SpaceType;
  readonly role: SpaceRole;
  /** Bytes allowed; null for no limit. */
  readonly quota: number | null;
  readonly used: number;
}

/** Answer to "may this user run a task of this mode on this space". */
export type PermissionVerdict =
  | { readonly allowed: true; readonly role: SpaceRole }
  | { readonly allowed: false; readonly role: SpaceRole | null; readonly message: string };

/** A resumable upload session. */
export interface UploadSession {
  readonly id: string;
  readonly size: number;
  readonly hash: string;
  /** Bytes safely stored so far; the next chunk starts here. */
  readonly received: number;
}

/**
 * SPEC.md section 3: may a user with `role` run a task in `mode` on a space of `type`? Also the
 * rule for every write a task makes. Pure.
 */
export function taskPermission(type: SpaceType, role: SpaceRole | null, mode: SyncMode): PermissionVerdict {
  if (role === null) return { allowed: false, role, message: 'you are not a member of this space; ask its owner to add you' };
  const shared = type === 'team' || type === 'received-share';
  if (!shared) return { allowed: true, role };
  if (role === 'owner' || role === 'synchronizer') return { allowed: true, role };
  if (role === 'backer') {
    return mode === 'upload'
      ? { allowed: true, role }
      : { allowed: false, role, message: 'a Backer may only run upload (backup) tasks on this space; choose mode "upload" or ask for the Synchronizer role' };
  }
  return { allowed: false, role, message: 'you are neither Synchronizer nor Backer of this space, so you may read it but not sync to it; ask its owner for a role' };
}
