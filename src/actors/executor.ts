/**
 * Runs one planned action against the real sides (a LocalFs and a RemoteDrive) and reports what
 * it changed, in exactly the shape the planner's simulation reports (`src/reconcile/simulate.ts`),
 * so that the engine and the simulation fold the same outcomes. Every effect is conditional on the
 * state the action expects: a stale expectation is refused, never clobbered (ADR 0004).
 */
import type { Readable } from 'node:stream';
import type { CloudChange, LocalChange, SyncedChange } from '../events/types.js';
import { unreachable } from '../lib/assert.js';
import { isFoldsyncError } from '../lib/errors.js';
import type { PathFilter } from '../lib/filters.js';
import type { Action, CloudMeta, FileFailureReason, LocalMeta, SyncedEntry, TaskFailureReason } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { isAtOrBelow, joinRel } from '../lib/names.js';
import type { LocalFs } from '../io/local-fs.js';
import { LocalFsError, sameLocal } from '../io/local-fs.js';
import type { BinEntry, ChangeEntry, FeedSpan, OnFeed, RemoteDrive, RemoteEntry } from '../io/remote-drive.js';
import { RemoteError } from '../io/remote-drive.js';
import type { TreeName, TreeView } from '../reconcile/trees.js';
import { dropSynced, rekeySynced, syncedEntryOf } from '../reconcile/simulate.js';
import type { TokenBucket } from './transfer-limits.js';
import type { SmallUpload } from './upload-batcher.js';

/** What the executor needs: both sides, where the task's cloud folder is, the trees, the throttles. */
export interface ExecutorContext {
  readonly local: LocalFs;
  readonly drive: RemoteDrive;
  readonly space: string;
  /** The task's cloud folder as a path in its space ('' for the space's root). */
  readonly cloudRoot: RelPath;
  readonly trees: TreeView & { paths(tree: TreeName): RelPath[] };
  readonly filter: PathFilter;
  readonly upload: TokenBucket;
  readonly download: TokenBucket;
  /** Sends a small upload as part of a batch (when the drive can batch). */
  readonly uploadSmall?: SmallUpload;
}

/** Uploads up to this size go through {@link ExecutorContext.uploadSmall} when there is one. */
export const SMALL_UPLOAD = 256 * 1024;

/**
 * What an action did: the records of an `ActionSucceeded`, or why it failed. `own` holds the change
 * feed's entries of the action's cloud write, rebuilt from the cloud's answer, when the cloud said
 * where they are and the write made exactly one change (ADR 0100); empty otherwise.
 */
export type ExecOutcome =
  | { readonly ok: true; readonly local: LocalChange[]; readonly cloud: CloudChange[]; readonly synced: SyncedChange[]; readonly own?: readonly ChangeEntry[] }
  | {
      readonly ok: false;
      readonly reason: FileFailureReason;
      readonly message: string;
      readonly transient: boolean;
      /** Set when the whole task cannot go on (the token was revoked, the permission removed). */
      readonly taskFailure?: TaskFailureReason;
    };

/** Files up to this size are uploaded from memory in one request; larger ones are streamed. */
const IN_MEMORY_UPLOAD = 8 * 1024 * 1024;

/** Failures worth retrying later by themselves; the others need a new observation or the user. */
const TRANSIENT: ReadonlySet<FileFailureReason> = new Set(['network', 'server', 'quota', 'disk-full', 'changing', 'io']);

/** Runs `action`. Never throws for an expected failure: it becomes `{ ok: false }` with a reason. */
export async function executeAction(ctx: ExecutorContext, action: Action): Promise<ExecOutcome> {
  try {
    return await run(ctx, action);
  } catch (error) {
    return failureOf(error);
  }
}

/** Maps an error to a file failure reason, with a message that says what to do. */
export function failureOf(error: unknown): ExecOutcome & { ok: false } {
  let reason: FileFailureReason = 'io';
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof LocalFsError) reason = error.reason;
  else if (error instanceof RemoteError) reason = remoteReason(error.code);
  else if (isFoldsyncError(error)) reason = 'io';
  const taskFailure = taskFailureOf(error);
  if (taskFailure !== null) return { ok: false, reason, message, transient: false, taskFailure };
  if (reason === 'quota') message = `${message} Free space in the cloud space or raise its quota; foldsync retries by itself.`;
  if (reason === 'network') message = `${message} foldsync retries when the cloud answers again.`;
  return { ok: false, reason, message, transient: TRANSIENT.has(reason) };
}

/**
 * The task-level cause behind an error, or null when only the file is affected: a revoked token
 * or a removed permission stops the task (SPEC.md section 6: "the task as a whole cannot go on").
 */
export function taskFailureOf(error: unknown): TaskFailureReason | null {
  if (!(error instanceof RemoteError)) return null;
  if (error.code === 'unauthorized') return 'token-revoked';
  if (error.code === 'not-permitted') return 'not-permitted';
  return null;
}

function remoteReason(code: RemoteError['code']): FileFailureReason {
  switch (code) {
    case 'conflict':
      return 'conflict';
    case 'quota':
    case 'too-large':
      return 'quota';
    case 'not-found':
      return 'not-found';
    case 'unauthorized':
    case 'not-permitted':
      return 'permission';
    case 'bad-name':
      return 'bad-name';
    case 'hash-mismatch':
      return 'changing';
    case 'server':
    case 'unavailable':
    case 'incomplete':
      return 'server';
    case 'network':
      return 'network';
    case 'bad-request':
      return 'io';
    default:
      return unreachable(code, 'cloud error code');
  }
}

const ok = (local: LocalChange[], cloud: CloudChange[], synced: SyncedChange[], own: readonly ChangeEntry[] = []): ExecOutcome =>
  own.length === 0 ? { ok: true, local, cloud, synced } : { ok: true, local, cloud, synced, own };

/** Catches the feed span a write reports: all of it (`span`), or its number when it is one change (`single`). */
export function feedCatcher(): { readonly onFeed: OnFeed; readonly span: () => FeedSpan | null; readonly single: () => number | null } {
  let got: FeedSpan | null = null;
  return {
    onFeed: (span) => {
      got = span;
    },
    span: () => got,
    // A write of more than one change (missing parents made, a folder's contents moved or deleted)
    // is left to the feed: its other entries cannot be rebuilt from the answer.
    single: () => {
      const span = got;
      return span !== null && span.first === span.last ? span.first : null;
    },
  };
}

/** The feed entry of a write's one change to item `entry` (its state after), as the cloud's feed holds it. */
function feedEntryOf(seq: number | null, op: ChangeEntry['op'], entry: RemoteEntry, fromPath?: RelPath): ChangeEntry[] {
  if (seq === null) return [];
  const base = { cursor: String(seq), op, id: entry.id, kind: entry.kind, path: entry.path, version: entry.version, size: entry.size, deleted: false, at: 0 };
  return [{ ...base, ...(fromPath === undefined ? {} : { fromPath }), ...(entry.hash === undefined ? {} : { hash: entry.hash }) }];
}

/** The feed entry of a delete's one change (a file or an empty folder sent to the bin). */
function feedDeleteOf(seq: number | null, bin: BinEntry): ChangeEntry[] {
  if (seq === null) return [];
  return [{ cursor: String(seq), op: 'delete', id: bin.itemId, kind: bin.kind, path: bin.path, version: '', size: 0, deleted: true, at: 0 }];
}

async function run(ctx: ExecutorContext, action: Action): Promise<ExecOutcome> {
  const { trees } = ctx;
  const remote = (path: RelPath): RelPath => joinRel(ctx.cloudRoot, path);
  const synced = (p: RelPath) => trees.synced(p);
  const syncedPaths = () => trees.paths('synced');
  switch (action.op) {
    case 'upload': {
      const src = action.source ?? action.path;
      const expected = action.local;
      if (expected.hash === undefined) return { ok: false, reason: 'changing', message: `${src} was not hashed yet; it is retried.`, transient: true };
      const body = await uploadBody(ctx, src, expected);
      const target = action.cloudId === null ? { path: remote(action.path) } : { id: action.cloudId };
      const feed = feedCatcher();
      const entry =
        ctx.uploadSmall !== undefined && body instanceof Uint8Array && body.length <= SMALL_UPLOAD
          ? await ctx.uploadSmall({ target, body, hash: expected.hash, baseVersion: action.baseVersion }, feed.onFeed)
          : await ctx.drive.upload(ctx.space, target, body, { size: expected.size, hash: expected.hash, baseVersion: action.baseVersion, onFeed: feed.onFeed });
      const cm = cloudMetaOf(entry);
      const own = feedEntryOf(feed.single(), action.baseVersion === null ? 'create' : 'update', entry);
      return ok([], [{ path: action.path, meta: cm }], [{ path: src, entry: syncedEntryOf(expected, cm) }], own);
    }
    case 'download': {
      const stream = await ctx.drive.download(ctx.space, action.cloud.id, { version: action.cloud.version });
      const options = action.cloud.hash === undefined ? {} : { expectHash: action.cloud.hash };
      let lm: LocalMeta;
      try {
        lm = await ctx.local.writeFile(action.path, throttled(stream, ctx.download), action.expectLocal, options);
      } finally {
        // A write refused before it read the body (the file changed, the folder is gone) must still
        // release the body: an unread one holds its HTTP connection for good.
        stream.destroy();
      }
      return ok([{ path: action.path, meta: lm }], [], [{ path: action.path, entry: syncedEntryOf(lm, action.cloud) }]);
    }
    case 'cloud-mkdir': {
      const feed = feedCatcher();
      const entry = await ctx.drive.mkdir(ctx.space, remote(action.path), { onFeed: feed.onFeed });
      const cm = cloudMetaOf(entry);
      if (cm.kind !== 'dir') return { ok: false, reason: 'conflict', message: `A file is in the cloud at ${action.path}.`, transient: false };
      const l = trees.local(action.path);
      return ok([], [{ path: action.path, meta: cm }], [{ path: action.path, entry: syncedEntryOf(l?.kind === 'dir' ? l : undefined, cm) }], feedEntryOf(feed.single(), 'create', entry));
    }
    case 'local-mkdir': {
      const lm = await ctx.local.mkdir(action.path);
      const c = trees.cloud(action.path);
      return ok([{ path: action.path, meta: lm }], [], [{ path: action.path, entry: syncedEntryOf(lm, c?.kind === 'dir' ? c : undefined) }]);
    }
    case 'cloud-move': {
      const feed = feedCatcher();
      const entry = await ctx.drive.move(ctx.space, action.id, remote(action.to), { onFeed: feed.onFeed });
      const own = feedEntryOf(feed.single(), 'move', entry, remote(action.from));
      return ok([], movedCloud(trees, action.from, action.to), rekeySynced(action.from, action.to, synced, syncedPaths), own);
    }
    case 'local-move': {
      await ctx.local.move(action.from, action.to, action.fileId);
      return ok(movedLocal(trees, action.from, action.to), [], rekeySynced(action.from, action.to, synced, syncedPaths));
    }
    case 'cloud-delete': {
      const item = trees.cloud(action.path);
      const ids = new Set(subtreeOf(trees, 'cloud', action.path).map((p) => trees.cloud(p)?.id));
      const feed = feedCatcher();
      const bin = await ctx.drive.delete(ctx.space, action.id, item?.kind === 'dir' ? null : action.version, { onFeed: feed.onFeed });
      // The same ownership rule as the simulation's: records of what was deleted, or of items gone everywhere.
      const goneEverywhere = (id: string): boolean => {
        const at = trees.cloudPathOfId(id);
        return at === undefined || isAtOrBelow(at, action.path);
      };
      const owned = (e: SyncedEntry): boolean => e.cloudId === undefined || ids.has(e.cloudId) || goneEverywhere(e.cloudId);
      return ok([], [{ path: action.path, meta: null }], dropSynced(action.path, owned, synced, syncedPaths), feedDeleteOf(feed.single(), bin));
    }
    case 'local-delete': {
      const fileIds = new Set(subtreeOf(trees, 'local', action.path).map((p) => trees.local(p)?.fileId));
      await ctx.local.remove(action.path, action.expect, action.how, ctx.filter);
      let live: Set<string> | null = null;
      const goneEverywhere = (fileId: string): boolean => {
        live ??= liveLocalIds(trees, action.path);
        return !live.has(fileId);
      };
      const owned = (e: SyncedEntry): boolean => e.fileId === undefined || fileIds.has(e.fileId) || goneEverywhere(e.fileId);
      return ok([{ path: action.path, meta: null }], [], dropSynced(action.path, owned, synced, syncedPaths));
    }
    case 'conflict-rename': {
      if (action.side === 'local') {
        const l = trees.local(action.from);
        if (l === undefined) return { ok: false, reason: 'not-found', message: `${action.from} is gone locally.`, transient: false };
        await ctx.local.move(action.from, action.to, l.fileId);
        return ok(movedLocal(trees, action.from, action.to), [], []);
      }
      const c = trees.cloud(action.from);
      if (c === undefined) return { ok: false, reason: 'not-found', message: `${action.from} is gone from the cloud.`, transient: false };
      const feed = feedCatcher();
      const entry = await ctx.drive.move(ctx.space, c.id, remote(action.to), { onFeed: feed.onFeed });
      return ok([], movedCloud(trees, action.from, action.to), [], feedEntryOf(feed.single(), 'move', entry, remote(action.from)));
    }
    case 'link': {
      const now = await ctx.local.stat(action.path);
      if (now === null || !sameLocal(now, action.local)) {
        return { ok: false, reason: 'changed-locally', message: `${action.path} changed while it was being linked; it is looked at again.`, transient: false };
      }
      return ok([], [], [{ path: action.path, entry: syncedEntryOf(action.local, action.cloud) }]);
    }
    case 'forget':
      return ok([], [], [{ path: action.path, entry: null }]);
    case 'reject':
      return { ok: false, reason: action.reason, message: action.message, transient: false };
    default:
      return unreachable(action, 'action');
  }
}

/** The body of an upload: the file in memory when small, else a reader that can reopen a byte range. */
async function uploadBody(ctx: ExecutorContext, src: RelPath, expected: LocalMeta): Promise<Uint8Array | ((start: number, end: number) => AsyncIterable<Uint8Array>)> {
  const open = async (): Promise<Readable> => {
    const { meta, stream } = await ctx.local.read(src);
    if (!sameLocal(meta, expected)) {
      stream.destroy();
      throw new LocalFsError('changed-locally', src, `${src} changed after it was planned; it is looked at again.`);
    }
    return stream;
  };
  if (expected.size <= SMALL_UPLOAD) {
    // One read into a buffer of the file's size (ADR 0008 update): the stream cost more than the file.
    const { meta, bytes } = await ctx.local.readAll(src, SMALL_UPLOAD);
    if (bytes === null || !sameLocal(meta, expected)) throw new LocalFsError('changed-locally', src, `${src} changed after it was planned; it is looked at again.`);
    await ctx.upload.take(bytes.length);
    return bytes;
  }
  if (expected.size <= IN_MEMORY_UPLOAD) {
    const chunks: Buffer[] = [];
    for await (const chunk of throttled(await open(), ctx.upload)) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  return (start, end) => sliceOf(open, start, end, ctx.upload);
}

async function* sliceOf(open: () => Promise<Readable>, start: number, end: number, bucket: TokenBucket): AsyncIterable<Uint8Array> {
  let at = 0;
  for await (const raw of throttled(await open(), bucket)) {
    const chunk = raw;
    const from = Math.max(0, start - at);
    const to = Math.min(chunk.length, end - at);
    at += chunk.length;
    if (to > from) yield chunk.subarray(from, to);
    if (at >= end) return;
  }
}

async function* throttled(stream: AsyncIterable<unknown>, bucket: TokenBucket): AsyncIterable<Uint8Array> {
  for await (const raw of stream) {
    const chunk = raw as Uint8Array;
    await bucket.take(chunk.length);
    yield chunk;
  }
}

/** Cloud metadata of an API entry. */
export function cloudMetaOf(entry: RemoteEntry): CloudMeta {
  const base = { kind: entry.kind, id: entry.id, version: entry.version, size: entry.size };
  return entry.hash === undefined ? base : { ...base, hash: entry.hash };
}

/** Identities of the local entries outside `removed` (O(files): only for deletes that need it). */
function liveLocalIds(trees: ExecutorContext['trees'], removed: RelPath): Set<string> {
  const out = new Set<string>();
  for (const p of trees.paths('local')) {
    if (isAtOrBelow(p, removed)) continue;
    const id = trees.local(p)?.fileId;
    if (id !== undefined) out.add(id);
  }
  return out;
}

/** Paths `tree` holds at and below `root`, parents first. */
function subtreeOf(trees: TreeView, tree: 'local' | 'cloud', root: RelPath): RelPath[] {
  const out: RelPath[] = [];
  const has = tree === 'local' ? trees.local(root) !== undefined : trees.cloud(root) !== undefined;
  if (!has) return out;
  const walk = (p: RelPath): void => {
    out.push(p);
    for (const child of trees.children(tree, p)) walk(child);
  };
  walk(root);
  return out;
}

/** The observations a move of `from` (with its subtree) to `to` makes on one side's tree. */
function moved<M>(from: RelPath, to: RelPath, paths: readonly RelPath[], get: (path: RelPath) => M | undefined): { path: RelPath; meta: M | null }[] {
  const out: { path: RelPath; meta: M | null }[] = [{ path: from, meta: null }];
  for (const p of paths) {
    const meta = get(p);
    if (meta !== undefined) out.push({ path: to + p.slice(from.length), meta });
  }
  return out;
}

function movedLocal(trees: TreeView, from: RelPath, to: RelPath): LocalChange[] {
  return moved(from, to, subtreeOf(trees, 'local', from), (p) => trees.local(p));
}

function movedCloud(trees: TreeView, from: RelPath, to: RelPath): CloudChange[] {
  return moved(from, to, subtreeOf(trees, 'cloud', from), (p) => trees.cloud(p));
}
