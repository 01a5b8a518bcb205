/**
 * A simulated pair of sides (a local folder with a trash, a cloud folder with version history and
 * a recycle bin) that user operations and planned actions change, producing the same change
 * records the real adapters and executor report. It fixes what each action does to the trees when
 * it succeeds, so the planner's property tests, and later the engine's simulation, share one
 * model. Pure: state is a plain value the functions mutate; no IO, no clock (mtimes are a counter).
 */
import type { Action, CloudMeta, EntryKind, LocalMeta, SyncedEntry } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { compareRelPaths, isAtOrBelow, parentOf } from '../lib/names.js';
import { unreachable } from '../lib/assert.js';
import type { CloudChange, LocalChange, SyncedChange } from '../events/types.js';

/** A simulated local entry. */
export interface SimLocalEntry {
  readonly kind: EntryKind;
  readonly content: string;
  readonly ino: number;
  readonly mtime: number;
}

/** A simulated cloud item. */
export interface SimCloudEntry {
  readonly kind: EntryKind;
  readonly content: string;
  readonly id: string;
  readonly version: number;
}

/** Both sides and everything that keeps old content reachable. */
export interface SimWorld {
  readonly local: Map<RelPath, SimLocalEntry>;
  readonly cloud: Map<RelPath, SimCloudEntry>;
  /** Contents moved to the local trash. */
  readonly trash: Set<string>;
  /** Every content any cloud version ever held (history and recycle bin keep them all). */
  readonly cloudHistory: Set<string>;
  /** Contents sent to the recycle bin. */
  readonly recycleBin: Set<string>;
  counter: number;
}

/** What one action did: the change records of an `ActionSucceeded`, or why it failed. */
export type SimOutcome =
  | { readonly ok: true; readonly local: LocalChange[]; readonly cloud: CloudChange[]; readonly synced: SyncedChange[] }
  | { readonly ok: false; readonly reason: string };

/** An empty world. */
export function createSimWorld(): SimWorld {
  return { local: new Map(), cloud: new Map(), trash: new Set(), cloudHistory: new Set(), recycleBin: new Set(), counter: 0 };
}

/** Hash the simulation uses: the content itself, tagged (the trees accept any hash string). */
export function simHash(content: string): string {
  return `h:${content}`;
}

/** The local meta of a simulated entry. */
export function simLocalMeta(e: SimLocalEntry): LocalMeta {
  const base = { kind: e.kind, size: e.kind === 'file' ? e.content.length : 0, mtimeNs: String(e.mtime), fileId: `1:${e.ino}` };
  return e.kind === 'file' ? { ...base, hash: simHash(e.content) } : base;
}

/** The cloud meta of a simulated item. */
export function simCloudMeta(e: SimCloudEntry): CloudMeta {
  const base = { kind: e.kind, id: e.id, version: String(e.version), size: e.kind === 'file' ? e.content.length : 0 };
  return e.kind === 'file' ? { ...base, hash: simHash(e.content) } : base;
}

function tick(w: SimWorld): number {
  w.counter += 1;
  return w.counter;
}

function subtree<T>(map: Map<RelPath, T>, root: RelPath): RelPath[] {
  return [...map.keys()].filter((p) => isAtOrBelow(p, root)).sort(compareRelPaths);
}

function parentIsDir<T extends { kind: EntryKind }>(map: Map<RelPath, T>, path: RelPath): boolean {
  const parent = parentOf(path);
  return parent === '' || map.get(parent)?.kind === 'dir';
}

/** A synced entry for a path both sides now hold (either may be absent in upload mode). */
export function syncedEntryOf(local: LocalMeta | undefined, cloud: CloudMeta | undefined): SyncedEntry {
  const kind = (cloud ?? local)?.kind ?? 'file';
  const out: { -readonly [K in keyof SyncedEntry]: SyncedEntry[K] } = { kind, size: cloud?.size ?? local?.size ?? 0 };
  const hash = cloud?.hash ?? local?.hash;
  if (hash !== undefined) out.hash = hash;
  if (local !== undefined) {
    out.fileId = local.fileId;
    out.mtimeNs = local.mtimeNs;
  }
  if (cloud !== undefined) {
    out.cloudId = cloud.id;
    out.cloudVersion = cloud.version;
  }
  return out;
}

// ------------------------------------------------------------------ user operations on a side

/** Writes a local file (new inode when created; in place when it exists). Returns false when impossible. */
export function userWriteLocal(w: SimWorld, path: RelPath, content: string): boolean {
  const old = w.local.get(path);
  if (old?.kind === 'dir' || !parentIsDir(w.local, path)) return false;
  w.local.set(path, { kind: 'file', content, ino: old?.ino ?? tick(w), mtime: tick(w) });
  return true;
}

/** Creates a local folder. */
export function userMkdirLocal(w: SimWorld, path: RelPath): boolean {
  if (w.local.has(path) || !parentIsDir(w.local, path)) return false;
  w.local.set(path, { kind: 'dir', content: '', ino: tick(w), mtime: tick(w) });
  return true;
}

/** Deletes a local entry and everything below it (permanently: the user's own delete). */
export function userDeleteLocal(w: SimWorld, path: RelPath): boolean {
  if (!w.local.has(path)) return false;
  for (const p of subtree(w.local, path)) {
    const e = w.local.get(p);
    // A user's delete goes to the trash too, so that "no data loss" measures the engine only.
    if (e?.kind === 'file') w.trash.add(e.content);
    w.local.delete(p);
  }
  return true;
}

/** Moves a local entry (and its subtree), keeping inodes and mtimes. */
export function userMoveLocal(w: SimWorld, from: RelPath, to: RelPath): boolean {
  return moveIn(w.local, from, to);
}

function moveIn<T extends { kind: EntryKind }>(map: Map<RelPath, T>, from: RelPath, to: RelPath): boolean {
  if (!map.has(from) || map.has(to) || isAtOrBelow(to, from) || !parentIsDir(map, to)) return false;
  const moved = subtree(map, from).map((p) => [p, map.get(p) as T] as const);
  for (const [p] of moved) map.delete(p);
  for (const [p, e] of moved) map.set(to + p.slice(from.length), e);
  return true;
}

/** Writes a cloud file (a new version when it exists). */
export function userWriteCloud(w: SimWorld, path: RelPath, content: string): boolean {
  const old = w.cloud.get(path);
  if (old?.kind === 'dir' || !parentIsDir(w.cloud, path)) return false;
  w.cloud.set(path, { kind: 'file', content, id: old?.id ?? `c${tick(w)}`, version: tick(w) });
  w.cloudHistory.add(content);
  return true;
}

/** Creates a cloud folder. */
export function userMkdirCloud(w: SimWorld, path: RelPath): boolean {
  if (w.cloud.has(path) || !parentIsDir(w.cloud, path)) return false;
  w.cloud.set(path, { kind: 'dir', content: '', id: `c${tick(w)}`, version: 0 });
  return true;
}

/** Sends a cloud item and its subtree to the recycle bin. */
export function userDeleteCloud(w: SimWorld, path: RelPath): boolean {
  if (!w.cloud.has(path)) return false;
  recycle(w, path);
  return true;
}

/** Moves a cloud item (ids survive). */
export function userMoveCloud(w: SimWorld, from: RelPath, to: RelPath): boolean {
  return moveIn(w.cloud, from, to);
}

function recycle(w: SimWorld, path: RelPath): void {
  for (const p of subtree(w.cloud, path)) {
    const e = w.cloud.get(p);
    if (e?.kind === 'file') w.recycleBin.add(e.content);
    w.cloud.delete(p);
  }
}

/** The local observations that turn `before` into the world's local side now (what a scan would report). */
export function diffLocal(before: ReadonlyMap<RelPath, SimLocalEntry>, w: SimWorld): LocalChange[] {
  const out: LocalChange[] = [];
  for (const p of new Set([...before.keys(), ...w.local.keys()])) {
    const a = before.get(p);
    const b = w.local.get(p);
    if (a === b) continue;
    out.push({ path: p, meta: b === undefined ? null : simLocalMeta(b) });
  }
  return out.sort((x, y) => compareRelPaths(x.path, y.path));
}

/** The cloud observations that turn `before` into the world's cloud side now (what the feed would report). */
export function diffCloud(before: ReadonlyMap<RelPath, SimCloudEntry>, w: SimWorld): CloudChange[] {
  const out: CloudChange[] = [];
  for (const p of new Set([...before.keys(), ...w.cloud.keys()])) {
    const a = before.get(p);
    const b = w.cloud.get(p);
    if (a === b) continue;
    out.push({ path: p, meta: b === undefined ? null : simCloudMeta(b) });
  }
  return out.sort((x, y) => compareRelPaths(x.path, y.path));
}

// ------------------------------------------------------------------ planned actions

function localMatches(e: SimLocalEntry | undefined, m: LocalMeta): boolean {
  if (e === undefined || e.kind !== m.kind) return false;
  const now = simLocalMeta(e);
  return now.fileId === m.fileId && (m.kind === 'dir' || (now.size === m.size && now.mtimeNs === m.mtimeNs));
}

const fail = (reason: string): SimOutcome => ({ ok: false, reason });

/**
 * Applies one action the way the executor does: each effect checks the state it expects and is
 * refused (changing nothing) when that state is stale. `synced` is read to re-key the synced
 * entries of a moved subtree. Returns the change records for `ActionSucceeded`.
 */
export function applyAction(w: SimWorld, action: Action, synced: (path: RelPath) => SyncedEntry | undefined, syncedPaths: () => readonly RelPath[]): SimOutcome {
  switch (action.op) {
    case 'upload': {
      const src = action.source ?? action.path;
      const l = w.local.get(src);
      if (l === undefined || l.kind !== 'file' || !localMatches(l, action.local)) return fail('changed-locally');
      const c = w.cloud.get(action.path);
      let item: SimCloudEntry;
      if (action.cloudId === null) {
        if (c !== undefined || !parentIsDir(w.cloud, action.path)) return fail('conflict');
        item = { kind: 'file', content: l.content, id: `c${tick(w)}`, version: tick(w) };
      } else {
        if (c === undefined || c.id !== action.cloudId || String(c.version) !== action.baseVersion) return fail('conflict');
        item = { kind: 'file', content: l.content, id: c.id, version: tick(w) };
      }
      w.cloud.set(action.path, item);
      w.cloudHistory.add(l.content);
      const cm = simCloudMeta(item);
      return { ok: true, local: [], cloud: [{ path: action.path, meta: cm }], synced: [{ path: src, entry: syncedEntryOf(simLocalMeta(l), cm) }] };
    }
    case 'download': {
      const c = w.cloud.get(action.path);
      if (c === undefined || c.id !== action.cloud.id || String(c.version) !== action.cloud.version) return fail('conflict');
      const l = w.local.get(action.path);
      if (action.expectLocal === null ? l !== undefined : !localMatches(l, action.expectLocal)) return fail('changed-locally');
      if (!parentIsDir(w.local, action.path)) return fail('not-found');
      // Written to a temporary file and renamed into place: a new inode.
      const e: SimLocalEntry = { kind: 'file', content: c.content, ino: tick(w), mtime: tick(w) };
      w.local.set(action.path, e);
      const lm = simLocalMeta(e);
      return { ok: true, local: [{ path: action.path, meta: lm }], cloud: [], synced: [{ path: action.path, entry: syncedEntryOf(lm, simCloudMeta(c)) }] };
    }
    case 'cloud-mkdir': {
      const c = w.cloud.get(action.path);
      if (c !== undefined && c.kind !== 'dir') return fail('conflict');
      if (!parentIsDir(w.cloud, action.path)) return fail('not-found');
      const item = c ?? { kind: 'dir' as const, content: '', id: `c${tick(w)}`, version: 0 };
      w.cloud.set(action.path, item);
      const l = w.local.get(action.path);
      const cm = simCloudMeta(item);
      return { ok: true, local: [], cloud: [{ path: action.path, meta: cm }], synced: [{ path: action.path, entry: syncedEntryOf(l?.kind === 'dir' ? simLocalMeta(l) : undefined, cm) }] };
    }
    case 'local-mkdir': {
      const l = w.local.get(action.path);
      if (l !== undefined && l.kind !== 'dir') return fail('changed-locally');
      if (!parentIsDir(w.local, action.path)) return fail('not-found');
      const e = l ?? { kind: 'dir' as const, content: '', ino: tick(w), mtime: tick(w) };
      w.local.set(action.path, e);
      const c = w.cloud.get(action.path);
      const lm = simLocalMeta(e);
      return { ok: true, local: [{ path: action.path, meta: lm }], cloud: [], synced: [{ path: action.path, entry: syncedEntryOf(lm, c?.kind === 'dir' ? simCloudMeta(c) : undefined) }] };
    }
    case 'cloud-move':
    case 'local-move': {
      const isCloud = action.op === 'cloud-move';
      const src = isCloud ? w.cloud.get(action.from) : w.local.get(action.from);
      if (src === undefined) return fail('not-found');
      if (isCloud && (src as SimCloudEntry).id !== action.id) return fail('conflict');
      if (!isCloud && `1:${(src as SimLocalEntry).ino}` !== action.fileId) return fail('changed-locally');
      const moved = isCloud ? moveIn(w.cloud, action.from, action.to) : moveIn(w.local, action.from, action.to);
      if (!moved) return fail('conflict');
      const rekey = rekeySynced(action.from, action.to, synced, syncedPaths);
      if (isCloud) {
        const cloud: CloudChange[] = [{ path: action.from, meta: null }];
        for (const p of subtree(w.cloud, action.to)) cloud.push({ path: p, meta: simCloudMeta(w.cloud.get(p) as SimCloudEntry) });
        return { ok: true, local: [], cloud, synced: rekey };
      }
      const local: LocalChange[] = [{ path: action.from, meta: null }];
      for (const p of subtree(w.local, action.to)) local.push({ path: p, meta: simLocalMeta(w.local.get(p) as SimLocalEntry) });
      return { ok: true, local, cloud: [], synced: rekey };
    }
    case 'cloud-delete': {
      const c = w.cloud.get(action.path);
      if (c === undefined || c.id !== action.id || (c.kind === 'file' && String(c.version) !== action.version)) return fail('conflict');
      const ids = new Set(subtree(w.cloud, action.path).map((p) => (w.cloud.get(p) as SimCloudEntry).id));
      recycle(w, action.path);
      return { ok: true, local: [], cloud: [{ path: action.path, meta: null }], synced: dropSynced(action.path, (e) => e.cloudId === undefined || ids.has(e.cloudId) || !liveCloudIds(w).has(e.cloudId), synced, syncedPaths) };
    }
    case 'local-delete': {
      const l = w.local.get(action.path);
      if (!localMatches(l, action.expect)) return fail('changed-locally');
      const gone = subtree(w.local, action.path);
      const fileIds = new Set<string>();
      for (const p of gone) {
        const e = w.local.get(p);
        if (e === undefined) continue;
        fileIds.add(`1:${e.ino}`);
        if (e.kind === 'file' && action.how === 'trash') w.trash.add(e.content);
        w.local.delete(p);
      }
      return { ok: true, local: [{ path: action.path, meta: null }], cloud: [], synced: dropSynced(action.path, (e) => e.fileId === undefined || fileIds.has(e.fileId) || !liveFileIds(w).has(e.fileId), synced, syncedPaths) };
    }
    case 'conflict-rename': {
      const ok = action.side === 'local' ? moveIn(w.local, action.from, action.to) : moveIn(w.cloud, action.from, action.to);
      if (!ok) return fail('conflict');
      // The entry (and a folder's subtree) is now unsynced under its new name: the planner syncs it as new.
      if (action.side === 'local') {
        const local: LocalChange[] = [{ path: action.from, meta: null }];
        for (const p of subtree(w.local, action.to)) local.push({ path: p, meta: simLocalMeta(w.local.get(p) as SimLocalEntry) });
        return { ok: true, local, cloud: [], synced: [] };
      }
      const cloud: CloudChange[] = [{ path: action.from, meta: null }];
      for (const p of subtree(w.cloud, action.to)) cloud.push({ path: p, meta: simCloudMeta(w.cloud.get(p) as SimCloudEntry) });
      return { ok: true, local: [], cloud, synced: [] };
    }
    case 'link': {
      const l = w.local.get(action.path);
      const c = w.cloud.get(action.path);
      if (!localMatches(l, action.local)) return fail('changed-locally');
      if (c === undefined || c.id !== action.cloud.id || String(c.version) !== action.cloud.version) return fail('conflict');
      return { ok: true, local: [], cloud: [], synced: [{ path: action.path, entry: syncedEntryOf(action.local, action.cloud) }] };
    }
    case 'forget':
      return { ok: true, local: [], cloud: [], synced: [{ path: action.path, entry: null }] };
    case 'reject':
      return { ok: false, reason: action.reason };
    default:
      return unreachable(action, 'action');
  }
}

/** The synced changes of a move: every synced path under `from` re-keyed under `to`. */
export function rekeySynced(from: RelPath, to: RelPath, synced: (path: RelPath) => SyncedEntry | undefined, syncedPaths: () => readonly RelPath[]): SyncedChange[] {
  const out: SyncedChange[] = [];
  for (const p of syncedPaths()) {
    if (!isAtOrBelow(p, from)) continue;
    const e = synced(p);
    if (e === undefined) continue;
    out.push({ path: p, entry: null });
    out.push({ path: to + p.slice(from.length), entry: e });
  }
  return out;
}

function liveCloudIds(w: SimWorld): Set<string> {
  return new Set([...w.cloud.values()].map((e) => e.id));
}

function liveFileIds(w: SimWorld): Set<string> {
  return new Set([...w.local.values()].map((e) => `1:${e.ino}`));
}

/**
 * The synced changes of a delete under `root`: only the records `owned` says belong to what was
 * deleted (or to items gone everywhere); another item may be recorded at such a path.
 */
export function dropSynced(root: RelPath, owned: (e: SyncedEntry) => boolean, synced: (path: RelPath) => SyncedEntry | undefined, syncedPaths: () => readonly RelPath[]): SyncedChange[] {
  // Only the records of what was deleted (or of items gone everywhere): another item may be
  // recorded at this path (it moved here on the other side and a later action moves it away).
  const out: SyncedChange[] = [];
  for (const p of syncedPaths()) {
    if (!isAtOrBelow(p, root)) continue;
    const e = synced(p);
    if (e !== undefined && owned(e)) out.push({ path: p, entry: null });
  }
  return out;
}

/** The minimal tree access {@link executeActions} needs (a `Trees`). */
export interface SimTrees {
  synced(path: RelPath): SyncedEntry | undefined;
  paths(tree: 'synced'): RelPath[];
  applyLocal(changes: readonly LocalChange[]): void;
  applyCloud(changes: readonly CloudChange[]): void;
  applySynced(changes: readonly SyncedChange[]): void;
}

/** Applies actions in order to the world, folding each success into `trees` as `ActionSucceeded` would. */
export function executeActions(w: SimWorld, trees: SimTrees, actions: readonly Action[]): SimOutcome[] {
  return actions.map((action) => {
    const outcome = applyAction(w, action, (p) => trees.synced(p), () => trees.paths('synced'));
    if (outcome.ok) {
      trees.applyLocal(outcome.local);
      trees.applyCloud(outcome.cloud);
      trees.applySynced(outcome.synced);
    }
    return outcome;
  });
}
