/**
 * File status per task (SPEC.md section 6, ADR 0071): every file and folder of a task, on the
 * local side and on the cloud side, each with one of the statuses `in-sync`, `pending-upload`,
 * `pending-download`, `transferring`, `failed`, `ignored`, `conflict`. Folded from the task's
 * observations (the same three trees the planner reads), its plans and their outcomes. Pure.
 *
 * A side's status, first rule that applies:
 * 1. `failed`: the last outcome of an action on the path is a failure (or a `reject`ed name);
 * 2. an open (planned, not finished) action on the path: `transferring` once an upload or download
 *    started; `conflict` for a conflict rename (or any action under a conflict rule);
 *    `pending-upload` for an action that changes the cloud, `pending-download` for one that changes
 *    the local side;
 * 3. `ignored`: the local entry was skipped (symlink, special file, unreadable, changing);
 * 4. `in-sync`: the entry is what the synced tree recorded for it;
 * 5. otherwise a change not planned yet: `pending-upload` on the local side; on the cloud side
 *    `pending-download` in two-way mode, and `ignored` in upload mode (SPEC.md 2.2: the engine
 *    leaves cloud changes alone).
 */
import { actionPath, actionSide } from '../lib/actions.js';
import type { Action, CloudMeta, EntryKind, FileStatus, LocalMeta, Side, SyncedEntry, SyncMode } from '../lib/model.js';
import type { CloudChange, EventType, LocalChange, StoredEvent, SyncedChange } from '../events/types.js';
import { createTrees, type Trees } from '../reconcile/trees.js';
import type { PersistedProjection } from './projection.js';
import { taskIdOfStream } from './projection.js';

/** One file or folder on one side of a task. */
export interface FileStatusRow {
  readonly path: string;
  readonly side: Side;
  /** Null when the side does not hold it (a failed or pending download, say). */
  readonly kind: EntryKind | null;
  readonly size: number;
  readonly status: FileStatus;
  /** Why, for `failed` (the reason code) and `ignored` (the skip reason, or `upload-mode`). */
  readonly reason: string | null;
}

interface OpenAction {
  readonly path: string;
  readonly action: Action;
  started: boolean;
  failure: string | null;
}

interface TaskFiles {
  readonly mode: SyncMode;
  readonly trees: Trees;
  readonly open: Map<string, OpenAction>;
  /** Paths whose last outcome is a failure that will not be retried by itself: the reason, and the side shown when neither holds it. */
  readonly failed: Map<string, { readonly reason: string; readonly origin: Side }>;
  readonly skipped: Map<string, string>;
}

/** The projection's state: tasks by id. */
export interface FileStatusState {
  readonly tasks: Map<string, TaskFiles>;
}

const HANDLES: readonly EventType[] = [
  'TaskCreated',
  'TaskCancelled',
  'LocalChanged',
  'CloudChanged',
  'LocalSkipped',
  'LocalScanStarted',
  'PlanMade',
  'ActionStarted',
  'ActionSucceeded',
  'ActionFailed',
  'ActionAbandoned',
];

/**
 * A task's trees as saved (version 3, ADR 0074): every path any tree holds, once, in canonical
 * order and front-coded (`cut[i]` characters shared with the path before, then `rest[i]`); per tree
 * one character a path (`f` file, `d` folder, `-` not held) and one array a field over the entries
 * it holds, hashes sparse as [entry index, hash]. No key is written or parsed per entry, and no path
 * three times.
 */
interface EncodedPaths {
  readonly cut: number[];
  readonly rest: string[];
}
interface EncodedLocal {
  readonly kind: string;
  readonly size: number[];
  readonly mtimeNs: string[];
  readonly fileId: string[];
  readonly hash: [number, string][];
}
interface EncodedCloud {
  readonly kind: string;
  readonly size: number[];
  readonly id: string[];
  readonly version: string[];
  readonly hash: [number, string][];
}
/** Synced entries: 0 where the entry is what the local and cloud entries at its path amount to (the usual case), else the entry. */
interface EncodedSynced {
  readonly kind: string;
  readonly entry: (0 | SyncedEntry)[];
}

interface EncodedTask {
  readonly mode: SyncMode;
  readonly paths: EncodedPaths;
  readonly local: EncodedLocal;
  readonly cloud: EncodedCloud;
  readonly synced: EncodedSynced;
  readonly open: [string, OpenAction][];
  readonly failed: [string, { reason: string; origin: Side }][];
  readonly skipped: [string, string][];
}

const kindChar = (k: EntryKind): string => (k === 'file' ? 'f' : 'd');
const charKind = (c: string): EntryKind => (c === 'f' ? 'file' : 'dir');

/** The synced entry that local `l` and cloud `c` amount to when both hold the path in sync; undefined when they cannot. */
function derivedEntry(l: LocalMeta | undefined, c: CloudMeta | undefined): SyncedEntry | undefined {
  if (l === undefined || c === undefined || l.kind !== c.kind) return undefined;
  const hash = c.hash ?? l.hash;
  const base = { kind: l.kind, size: c.size, fileId: l.fileId, mtimeNs: l.mtimeNs, cloudId: c.id, cloudVersion: c.version };
  return hash === undefined ? base : { ...base, hash };
}

function sameSynced(x: SyncedEntry, y: SyncedEntry): boolean {
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const k of keys) if ((x as unknown as Record<string, unknown>)[k] !== (y as unknown as Record<string, unknown>)[k]) return false;
  return true;
}

type EncodedTrees = Pick<EncodedTask, 'paths' | 'local' | 'cloud' | 'synced'>;

function encodeTrees(trees: Trees): EncodedTrees {
  const paths: EncodedPaths = { cut: [], rest: [] };
  const local: Omit<EncodedLocal, 'kind'> = { size: [], mtimeNs: [], fileId: [], hash: [] };
  const cloud: Omit<EncodedCloud, 'kind'> = { size: [], id: [], version: [], hash: [] };
  const synced: (0 | SyncedEntry)[] = [];
  const lkinds: string[] = [];
  const ckinds: string[] = [];
  const skinds: string[] = [];
  let prev = '';
  // One walk of every path in canonical order: each tree's entries come out in that order too.
  trees.forEachEntry((path, l, c, s, shared) => {
    const max = Math.min(prev.length, path.length);
    let cut = 0;
    while (cut < max && prev.charCodeAt(cut) === path.charCodeAt(cut)) cut += 1;
    paths.cut.push(cut);
    paths.rest.push(cut === 0 ? path : path.slice(cut));
    prev = path;
    lkinds.push(l === undefined ? '-' : kindChar(l.kind));
    if (l !== undefined) {
      if (l.hash !== undefined) local.hash.push([local.size.length, l.hash]);
      local.size.push(l.size);
      local.mtimeNs.push(l.mtimeNs);
      local.fileId.push(l.fileId);
    }
    ckinds.push(c === undefined ? '-' : kindChar(c.kind));
    if (c !== undefined) {
      if (c.hash !== undefined) cloud.hash.push([cloud.size.length, c.hash]);
      cloud.size.push(c.size);
      cloud.id.push(c.id);
      cloud.version.push(c.version);
    }
    skinds.push(s === undefined ? '-' : kindChar(s.kind));
    if (s !== undefined) {
      // A shared entry is by definition what `l` and `c` amount to: no need to derive and compare.
      if (shared) synced.push(0);
      else {
        const derived = derivedEntry(l, c);
        synced.push(derived !== undefined && sameSynced(derived, s) ? 0 : s);
      }
    }
  });
  return {
    paths,
    local: { kind: lkinds.join(''), size: local.size, mtimeNs: local.mtimeNs, fileId: local.fileId, hash: local.hash },
    cloud: { kind: ckinds.join(''), size: cloud.size, id: cloud.id, version: cloud.version, hash: cloud.hash },
    synced: { kind: skinds.join(''), entry: synced },
  };
}

function decodeTrees(trees: Trees, e: EncodedTrees): void {
  const n = e.paths.cut.length;
  if (e.paths.rest.length !== n || e.local.kind.length !== n || e.cloud.kind.length !== n || e.synced.kind.length !== n) {
    throw new Error('assertion failed: a saved file-status state whose columns differ in length');
  }
  const lh = new Map(e.local.hash);
  const ch = new Map(e.cloud.hash);
  // Each path's entries go into the trees as it is read, in canonical order (a folder before what
  // it holds), one change at a time: no list of every entry is kept alive while the trees fill up
  // (it was, and young-generation collections copied and promoted it, ADR 0074 fourth pass). A
  // synced entry saved as 0 is derived from the two metas just read, not read back from the trees.
  const one: [LocalChange] = [{ path: '', meta: null }];
  const oneCloud: [CloudChange] = [{ path: '', meta: null }];
  const oneSynced: [SyncedChange] = [{ path: '', entry: null }];
  let prev = '';
  let li = 0;
  let ci = 0;
  let si = 0;
  for (let i = 0; i < n; i++) {
    const cut = e.paths.cut[i] as number;
    const path = cut === 0 ? (e.paths.rest[i] as string) : prev.slice(0, cut) + (e.paths.rest[i] as string);
    prev = path;
    let local: LocalMeta | undefined;
    let cloud: CloudMeta | undefined;
    const lk = e.local.kind[i] as string;
    if (lk !== '-') {
      const j = li++;
      const meta = { kind: charKind(lk), size: e.local.size[j] as number, mtimeNs: e.local.mtimeNs[j] as string, fileId: e.local.fileId[j] as string };
      const hash = lh.get(j);
      local = hash === undefined ? meta : { ...meta, hash };
      one[0] = { path, meta: local };
      trees.applyLocal(one);
    }
    const ck = e.cloud.kind[i] as string;
    if (ck !== '-') {
      const j = ci++;
      const meta = { kind: charKind(ck), id: e.cloud.id[j] as string, version: e.cloud.version[j] as string, size: e.cloud.size[j] as number };
      const hash = ch.get(j);
      cloud = hash === undefined ? meta : { ...meta, hash };
      oneCloud[0] = { path, meta: cloud };
      trees.applyCloud(oneCloud);
    }
    if (e.synced.kind[i] !== '-') {
      const saved = e.synced.entry[si++] as 0 | SyncedEntry;
      const entry = saved === 0 ? derivedEntry(local, cloud) : saved;
      if (entry === undefined) throw new Error(`assertion failed: the saved synced entry of ${path} derives from entries that are not there`);
      oneSynced[0] = { path, entry };
      trees.applySynced(oneSynced);
    }
  }
}

function newTask(mode: SyncMode): TaskFiles {
  // Read only through their entries: without the planner's dirty set and sync state (ADR 0074).
  return { mode, trees: createTrees({ planning: false }), open: new Map(), failed: new Map(), skipped: new Map() };
}

/** The file status projection. */
export const fileStatusProjection: PersistedProjection<FileStatusState> = {
  name: 'file-status',
  // 2: the trees are saved column by column (ADR 0074). 3: every path once, front-coded (ADR 0074).
  version: 3,
  handles: new Set(HANDLES),
  initial: () => ({ tasks: new Map() }),
  apply: (state, stored) => {
    applyFileEvent(state, stored);
    return state;
  },
  encode: (state) =>
    [...state.tasks].map(([id, t]): [string, EncodedTask] => [id, { mode: t.mode, ...encodeTrees(t.trees), open: [...t.open], failed: [...t.failed], skipped: [...t.skipped] }]),
  decode: (json) => {
    const tasks = new Map<string, TaskFiles>();
    for (const [id, e] of json as [string, EncodedTask][]) {
      const t = newTask(e.mode);
      decodeTrees(t.trees, e);
      for (const [k, v] of e.open) t.open.set(k, { ...v });
      for (const [k, v] of e.failed) t.failed.set(k, v);
      for (const [k, v] of e.skipped) t.skipped.set(k, v);
      tasks.set(id, t);
    }
    return { tasks };
  },
};

function applyFileEvent(state: FileStatusState, stored: StoredEvent): void {
  const e = stored.event;
  if (e.type === 'TaskCreated') {
    state.tasks.set(e.taskId, newTask(e.mode));
    return;
  }
  if (e.type === 'TaskCancelled') {
    state.tasks.delete(e.taskId);
    return;
  }
  const taskId = taskIdOfStream(stored.stream);
  const t = taskId === null ? undefined : state.tasks.get(taskId);
  if (t === undefined) return;
  switch (e.type) {
    case 'LocalChanged':
      t.trees.applyLocal(e.changes);
      // A path seen again as a plain entry is no longer skipped.
      for (const c of e.changes) t.skipped.delete(c.path);
      break;
    case 'CloudChanged':
      t.trees.applyCloud(e.changes);
      break;
    case 'LocalScanStarted':
      // A full scan reports every skipped entry again.
      if (e.under === '') t.skipped.clear();
      break;
    case 'LocalSkipped':
      t.skipped.set(e.path, e.reason);
      break;
    case 'PlanMade':
      for (const { actionId, action } of e.actions) {
        const path = actionPath(action);
        t.open.set(actionId, { path, action, started: false, failure: null });
        if (action.op === 'reject') t.failed.set(path, { reason: action.reason, origin: action.side });
      }
      break;
    case 'ActionStarted': {
      const o = t.open.get(e.actionId);
      if (o !== undefined) o.started = true;
      break;
    }
    case 'ActionSucceeded': {
      t.trees.applyLocal(e.local);
      t.trees.applyCloud(e.cloud);
      t.trees.applySynced(e.synced);
      const o = t.open.get(e.actionId);
      t.open.delete(e.actionId);
      if (o !== undefined) t.failed.delete(o.path);
      for (const c of e.synced) t.failed.delete(c.path);
      break;
    }
    case 'ActionFailed': {
      const o = t.open.get(e.actionId);
      if (o === undefined) break;
      if (e.transient) {
        o.failure = e.reason;
        o.started = false;
      } else {
        t.open.delete(e.actionId);
        t.failed.set(o.path, { reason: e.reason, origin: originOf(o.action) ?? 'local' });
      }
      break;
    }
    case 'ActionAbandoned':
      t.open.delete(e.actionId);
      break;
    default:
      break;
  }
}

const CHANGES_CLOUD = new Set<Action['op']>(['upload', 'cloud-mkdir', 'cloud-move', 'cloud-delete']);

function openStatus(o: OpenAction): FileStatus | null {
  if (o.failure !== null) return 'failed';
  const a = o.action;
  if (o.started && (a.op === 'upload' || a.op === 'download')) return 'transferring';
  if (a.op === 'conflict-rename' || a.rule.includes('conflict')) return 'conflict';
  if (a.op === 'link' || a.op === 'forget' || a.op === 'reject') return null;
  return CHANGES_CLOUD.has(a.op) ? 'pending-upload' : 'pending-download';
}

/** The side an action's content comes from: where a not-yet-existing target is shown. */
function originOf(a: Action): Side | null {
  const changes = actionSide(a);
  if (a.op === 'conflict-rename' || a.op === 'reject') return a.side;
  return changes === null ? null : changes === 'cloud' ? 'local' : 'cloud';
}

/** How {@link fileStatusesOf} filters. */
export interface FileStatusQuery {
  readonly side?: Side;
  readonly status?: FileStatus;
}

/**
 * A task's files with their status, local side first, each side in path order; filtered by side
 * and status. Empty for an unknown task.
 */
export function fileStatusesOf(state: FileStatusState, taskId: string, query: FileStatusQuery = {}): FileStatusRow[] {
  const t = state.tasks.get(taskId);
  if (t === undefined) return [];
  const byPath = new Map<string, OpenAction>();
  for (const o of t.open.values()) {
    const prev = byPath.get(o.path);
    // A failed attempt shows over a pending one on the same path.
    if (prev === undefined || (prev.failure === null && o.failure !== null)) byPath.set(o.path, o);
  }
  const rows: FileStatusRow[] = [];
  for (const side of ['local', 'cloud'] as const) {
    if (query.side !== undefined && query.side !== side) continue;
    const paths = new Set(t.trees.paths(side));
    for (const [path, o] of byPath) if (originOf(o.action) === side) paths.add(path);
    for (const path of t.failed.keys()) paths.add(path);
    if (side === 'local') for (const path of t.skipped.keys()) paths.add(path);
    for (const path of [...paths].sort(comparePaths)) {
      const row = rowOf(t, side, path, byPath.get(path));
      if (row !== null && (query.status === undefined || row.status === query.status)) rows.push(row);
    }
  }
  return rows;
}

function comparePaths(a: string, b: string): number {
  const x = a.replaceAll('/', '\u0000');
  const y = b.replaceAll('/', '\u0000');
  return x < y ? -1 : x > y ? 1 : 0;
}

function rowOf(t: TaskFiles, side: Side, path: string, o: OpenAction | undefined): FileStatusRow | null {
  const local = t.trees.local(path);
  const cloud = t.trees.cloud(path);
  const entry = side === 'local' ? local : cloud;
  const kind = entry?.kind ?? null;
  const size = entry?.size ?? 0;
  const row = (status: FileStatus, reason: string | null = null): FileStatusRow => ({ path, side, kind, size, status, reason });
  const failed = t.failed.get(path);
  // A failure is shown where the path is, or on the side it was to come from.
  if (failed !== undefined && (entry !== undefined || side === failed.origin)) return row('failed', failed.reason);
  if (o !== undefined) {
    const s = openStatus(o);
    if (s !== null) return row(s, s === 'failed' ? o.failure : null);
  }
  if (side === 'local' && t.skipped.has(path)) return row('ignored', t.skipped.get(path) ?? null);
  if (entry === undefined) return null;
  const synced = t.trees.synced(path);
  if (synced !== undefined && synced.kind === entry.kind) {
    const same =
      entry.kind === 'dir' ||
      (side === 'local'
        ? synced.fileId === (entry as LocalMeta).fileId && synced.mtimeNs === (entry as LocalMeta).mtimeNs && synced.size === entry.size
        : synced.cloudId === (entry as CloudMeta).id && synced.cloudVersion === (entry as CloudMeta).version);
    if (same) return row('in-sync');
  }
  if (side === 'local') return row('pending-upload');
  return t.mode === 'two-way' ? row('pending-download') : row('ignored', 'upload-mode');
}
