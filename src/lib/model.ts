/**
 * The data shapes every layer shares: what a side knows about an entry, task options, the
 * reasons a file or task fails, and the actions the planner emits. Pure types and constants.
 */
import type { PathLimit, RelPath } from './names.js';

/** A file or a folder. Symlinks are never synced (they are reported and skipped). */
export type EntryKind = 'file' | 'dir';

/** What the local side knows about an entry. */
export interface LocalMeta {
  readonly kind: EntryKind;
  /** Bytes; 0 for folders. */
  readonly size: number;
  /** Modification time in nanoseconds since the epoch, as a decimal string (exact, JSON-safe). */
  readonly mtimeNs: string;
  /** Identity on this machine: `${dev}:${ino}`. Survives renames and moves within a device. */
  readonly fileId: string;
  /** SHA-256 of the content, lowercase hex; files only, absent until hashed. */
  readonly hash?: string;
}

/** What the cloud side knows about an item. */
export interface CloudMeta {
  readonly kind: EntryKind;
  /** Stable id that survives moves and renames. */
  readonly id: string;
  /** The id of the item's current version; writes are conditional on it. Folders: '0'. */
  readonly version: string;
  /** Bytes; 0 for folders. */
  readonly size: number;
  /** SHA-256 of the content, lowercase hex; files only. */
  readonly hash?: string;
}

/** The last state both sides agreed on for a path. */
export interface SyncedEntry {
  readonly kind: EntryKind;
  readonly size: number;
  readonly hash?: string;
  /** Local identity and mtime when it was last in sync (absent in upload mode's cloud-only records). */
  readonly fileId?: string;
  readonly mtimeNs?: string;
  /** Cloud item id and version when it was last in sync. */
  readonly cloudId?: string;
  readonly cloudVersion?: string;
}

/** The two modes of SPEC.md section 2. */
export type SyncMode = 'two-way' | 'upload';

/** The spaces of SPEC.md section 1. */
export type SpaceType = 'personal' | 'team' | 'received-share' | 'received-transfer';

/** A throttle time window: "09:00-18:00 at 1 MB/s" (local time of the engine's clock, UTC offset applied by the caller). */
export interface ThrottleWindow {
  /** `HH:MM`, inclusive. */
  readonly from: string;
  /** `HH:MM`, exclusive; a window may wrap midnight. */
  readonly to: string;
  readonly uploadBps: number | null;
  readonly downloadBps: number | null;
}

/** The options of SPEC.md section 4 (plus the limits of section 5), all changeable while a task runs. */
export interface TaskOptions {
  readonly filters: {
    /** `.gitignore`-syntax patterns; when non-empty, only matching paths sync. */
    readonly include: readonly string[];
    /** `.gitignore`-syntax patterns that never sync. */
    readonly exclude: readonly string[];
    /** Files larger than this (bytes) are ignored; null for no limit. */
    readonly maxFileSize: number | null;
  };
  readonly throttle: {
    readonly uploadBps: number | null;
    readonly downloadBps: number | null;
    readonly maxTransfers: number;
    readonly windows: readonly ThrottleWindow[];
  };
  /** Upload mode only: a local delete sends the cloud item to the recycle bin. */
  readonly deleteInCloud: boolean;
  /** Two-way only: a cloud delete moves the local file to the trash, or deletes it. */
  readonly cloudDeletes: 'trash' | 'delete';
  /** Two-way only: what a conflicting change does. */
  readonly conflicts: 'keep-both' | 'local-wins' | 'cloud-wins';
  /** Watch both sides and sync continuously, or only when asked. */
  readonly autoSync: boolean;
  /** Path rules of the other side. */
  readonly pathLimit: PathLimit;
  /** Fraction (0..1] of synced files gone at once that pauses the task instead of deleting. */
  readonly massDeleteThreshold: number;
  /** The guard only applies when at least this many synced files are gone. */
  readonly massDeleteMinFiles: number;
}

/** The defaults of SPEC.md sections 4 and 5. */
export const DEFAULT_OPTIONS: TaskOptions = {
  filters: { include: [], exclude: [], maxFileSize: null },
  throttle: { uploadBps: null, downloadBps: null, maxTransfers: 4, windows: [] },
  deleteInCloud: false,
  cloudDeletes: 'trash',
  conflicts: 'keep-both',
  autoSync: true,
  pathLimit: 'none',
  massDeleteThreshold: 0.5,
  massDeleteMinFiles: 100,
};

/** Why one file failed (the task goes on). */
export type FileFailureReason =
  | 'bad-name'
  | 'path-too-long'
  | 'quota'
  | 'disk-full'
  | 'conflict'
  | 'changed-locally'
  | 'changing'
  | 'unreadable'
  | 'not-found'
  | 'permission'
  | 'network'
  | 'server'
  | 'io';

/** Why a whole task stopped in `failed` or `paused`. */
export type TaskFailureReason =
  | 'folder-gone'
  | 'folder-replaced'
  | 'mass-delete'
  | 'file-limit'
  | 'token-revoked'
  | 'not-permitted'
  | 'cloud-folder-gone'
  | 'cloud-folder-replaced'
  | 'cloud-unreachable'
  | 'log-corrupt'
  /** The local folder (or a folder above it) could not be looked at. */
  | 'local-unreadable'
  /** The task's record in the event log could not be written (disk full, another writer). */
  | 'log-unwritable'
  /** Any other error of the task's own IO. */
  | 'task-error';

/** Which side an action touches. */
export type Side = 'local' | 'cloud';

/**
 * One step the planner decides. Every action names the SPEC rule it follows (`rule`, for replay's
 * "why"), and the state it expects to find, so that executing it is safe to repeat: a stale
 * expectation is refused, never clobbered.
 */
export type Action =
  /**
   * Upload local content to `path`: a new cloud file, or a new version of `cloudId` conditional on
   * `baseVersion`. `source`, when set, is the local path to read and to record as synced: upload
   * mode's backup follows a cloud item moved elsewhere, so the local and cloud paths differ.
   */
  | {
      readonly op: 'upload';
      readonly path: RelPath;
      readonly local: LocalMeta;
      readonly cloudId: string | null;
      readonly baseVersion: string | null;
      readonly source?: RelPath;
      readonly rule: string;
    }
  /** Download cloud content to `path`; refused if the local entry no longer matches `expectLocal`. */
  | {
      readonly op: 'download';
      readonly path: RelPath;
      readonly cloud: CloudMeta;
      readonly expectLocal: LocalMeta | null;
      readonly rule: string;
    }
  | { readonly op: 'cloud-mkdir'; readonly path: RelPath; readonly rule: string }
  | { readonly op: 'local-mkdir'; readonly path: RelPath; readonly rule: string }
  | { readonly op: 'cloud-move'; readonly id: string; readonly from: RelPath; readonly to: RelPath; readonly rule: string }
  | { readonly op: 'local-move'; readonly fileId: string; readonly from: RelPath; readonly to: RelPath; readonly rule: string }
  /** Send a cloud item (and, for a folder, everything under it) to the recycle bin. */
  | { readonly op: 'cloud-delete'; readonly path: RelPath; readonly id: string; readonly version: string; readonly rule: string }
  /** Move a local entry to the trash, or delete it (`how`), if it still matches `expect`. */
  | {
      readonly op: 'local-delete';
      readonly path: RelPath;
      readonly expect: LocalMeta;
      readonly how: 'trash' | 'delete';
      readonly rule: string;
    }
  /** Rename one side's entry aside to a conflict name, keeping both. */
  | { readonly op: 'conflict-rename'; readonly side: Side; readonly from: RelPath; readonly to: RelPath; readonly rule: string }
  /** Both sides already agree: record the path as in sync, transfer nothing. */
  | { readonly op: 'link'; readonly path: RelPath; readonly local: LocalMeta; readonly cloud: CloudMeta; readonly rule: string }
  /** Stop tracking `path` in the synced tree (exactly that path): both sides lost it, or it now lives elsewhere. Touches no side. */
  | { readonly op: 'forget'; readonly path: RelPath; readonly rule: string }
  /** The path cannot be synced (bad name, path too long): record the failure, touch nothing. */
  | {
      readonly op: 'reject';
      readonly path: RelPath;
      readonly side: Side;
      readonly reason: FileFailureReason;
      readonly message: string;
      readonly rule: string;
    };

/** The action kinds. */
export type ActionOp = Action['op'];

/** Statuses a task shows (SPEC.md section 6). */
export type TaskStatus = 'scanning' | 'synchronizing' | 'completed' | 'paused' | 'failed';

/** Statuses of one file on one side (SPEC.md section 6). */
export type FileStatus = 'in-sync' | 'pending-upload' | 'pending-download' | 'transferring' | 'failed' | 'ignored' | 'conflict';
