/**
 * The three trees of a task (DESIGN.md section 3) as one fold of its events: `LocalChanged` and
 * `ActionSucceeded.local` build the local tree, `CloudChanged` and `ActionSucceeded.cloud` the cloud
 * tree, `ActionSucceeded.synced` the synced tree. Each change marks its path dirty, so the planner
 * only looks at what changed since the last plan. Stored in columns (see columns.ts, ADR 0010).
 * Pure: no IO.
 */
import type { CloudMeta, EntryKind, LocalMeta, SyncedEntry } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { unreachable } from '../lib/assert.js';
import type { CloudChange, FoldsyncEvent, LocalChange, SyncedChange } from '../events/types.js';
import { CodeColumn, HashColumn, loadSlotMap, NumberColumn, PackedStrings, PathTable, PrefixPool, saveSlotMap, sortByRelPath, sortRelPaths } from './columns.js';
import { SnapshotFormatError, type SnapshotReader, type SnapshotWriter } from '../lib/snapshot-codec.js';

/** Which of the three trees. */
export type TreeName = 'local' | 'cloud' | 'synced';

/** Read access to the three trees: what the planner needs. */
export interface TreeView {
  /** The local entry at `path`, if any. */
  local(path: RelPath): LocalMeta | undefined;
  /** The cloud entry at `path`, if any. */
  cloud(path: RelPath): CloudMeta | undefined;
  /** The synced entry at `path`, if any. */
  synced(path: RelPath): SyncedEntry | undefined;
  /**
   * The three entries at `path` at once, each equal to what `local`, `cloud` and `synced` return:
   * one lookup, and a synced entry shared with both sides is built from the two metas already
   * decoded. Optional: the planner falls back to the three reads.
   */
  entries?(path: RelPath): { readonly l: LocalMeta | undefined; readonly c: CloudMeta | undefined; readonly s: SyncedEntry | undefined };
  /** The paths directly below `path` that `tree` holds, in canonical order. */
  children(tree: TreeName, path: RelPath): RelPath[];
  /**
   * True when the local and cloud entries at `path` are exactly what the synced tree recorded
   * (same kind; same local identity, size and mtime; same cloud id and version). Compares the
   * stored columns without building metas: the planner's fast path for unchanged paths.
   */
  inSync(path: RelPath): boolean;
  /** How many files the synced tree holds (the mass-delete guard's denominator). */
  syncedFileCount(): number;
  /** Where the cloud item `id` is now, if anywhere (upload mode follows moved items by id). */
  cloudPathOfId(id: string): RelPath | undefined;
}

/** The trees as a mutable fold, with the dirty-path set. */
export interface Trees extends TreeView {
  /** Folds one event; events that do not change a tree are ignored. */
  apply(event: FoldsyncEvent): void;
  /** Folds local observations. */
  applyLocal(changes: readonly LocalChange[]): void;
  /** Folds cloud observations. */
  applyCloud(changes: readonly CloudChange[]): void;
  /** Folds synced-tree changes. */
  applySynced(changes: readonly SyncedChange[]): void;
  /** Marks paths to be planned again (a failed action's retry, a resumed guard). */
  markDirty(paths: Iterable<RelPath>): void;
  /** Marks every path any tree holds dirty (a full re-plan). */
  markAllDirty(): void;
  /** The dirty paths (in no particular order: the planner orders what it needs), without clearing them. */
  dirty(): RelPath[];
  /**
   * Returns the dirty paths and clears the set (the planner consumes them). In no particular
   * order: sorting 1,000,000 paths here would cost time and a transient copy for nothing.
   */
  takeDirty(): RelPath[];
  /** Every path `tree` holds, canonical order (tests and the simulation; O(n)). */
  paths(tree: TreeName): RelPath[];
  /**
   * Calls `fn` with every path any tree holds and its three entries (as {@link TreeView.entries}
   * gives them), in canonical order: one sort and no lookup by path, for a whole-state encoding
   * (the file-status view, ADR 0074). O(n log n). `shared` is true when the synced entry is kept
   * as "what the local and cloud entries amount to" (then `s` is derived from `l` and `c`, and
   * equals what they amount to), false when it is kept written out (it may still equal that).
   */
  forEachEntry(fn: (path: RelPath, l: LocalMeta | undefined, c: CloudMeta | undefined, s: SyncedEntry | undefined, shared: boolean) => void): void;
  /** Number of entries `tree` holds. */
  count(tree: TreeName): number;
  /** `inSync` computed afresh from the columns, not read from the recorded sync state (tests). */
  inSyncFromColumns(path: RelPath): boolean;
  /**
   * Writes the whole fold (every column, the dirty set) to `w`: {@link restoreTrees} reads it back
   * into trees that answer and fold exactly like these (ADR 0012).
   */
  save(w: SnapshotWriter): void;
  /**
   * True when a scan that finds `meta` at `path` changes nothing in the local tree: it holds the
   * same kind, size, mtime (every nanosecond) and identity there, and a file's hash, which the scan
   * then keeps (a folder has none). Compares the stored columns in place, building no meta and no
   * string: a rescan's fast path for the entries that did not change (ADR 0030).
   */
  localUnchanged(path: RelPath, meta: LocalMeta): boolean;
  /** A fresh, empty set of marks over paths: what one scan saw (ADR 0030). */
  scanMarks(): ScanMarks;
}

/**
 * The paths one scan saw, kept as one byte per slot of the path table instead of a set of path
 * strings; paths no tree knows yet (the scan's new entries) are kept by name until they have a slot.
 * Each scan takes its own marks, so scans never disturb each other's.
 */
export interface ScanMarks {
  /** Marks `path` as seen. */
  mark(path: RelPath): void;
  /** Takes the mark off `path` (an entry seen, then gone before it was read). */
  unmark(path: RelPath): void;
  /** True when `path` is marked. */
  has(path: RelPath): boolean;
  /** Every path the local tree holds that is not marked, in canonical order (a full scan's deletions). */
  unmarkedLocal(): RelPath[];
}

const isOptString = (v: unknown): boolean => v === undefined || typeof v === 'string';
/** A synced entry as JSON gives it back (absent optional fields stay absent). */
function isSyncedEntry(v: unknown): v is SyncedEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    (e['kind'] === 'file' || e['kind'] === 'dir') &&
    typeof e['size'] === 'number' &&
    isOptString(e['hash']) &&
    isOptString(e['fileId']) &&
    isOptString(e['mtimeNs']) &&
    isOptString(e['cloudId']) &&
    isOptString(e['cloudVersion'])
  );
}

const KIND_CODE = { file: 1, dir: 2 } as const;

// Values of the sync state column (see `syncState` in makeTrees). IN_SYNC excludes the two flags,
// which only a written-out synced entry that is not in sync carries.
const IN_SYNC = 1;
const LOCAL_AS_SYNCED = 2;
const CLOUD_AS_SYNCED = 4;
function kindOf(code: number): EntryKind {
  return code === 1 ? 'file' : 'dir';
}

/** Options of {@link createTrees}. */
export interface TreesOptions {
  /**
   * False for trees only read through their entries (a view, ADR 0074): no dirty set and no
   * recorded sync state are kept, so `inSync`, `dirty`, `takeDirty`, `markDirty`, `markAllDirty`
   * and `save` are not available (they throw). Default true: the planner's trees.
   */
  readonly planning?: boolean;
}

/** Creates an empty set of trees. */
export function createTrees(options: TreesOptions = {}): Trees {
  return makeTrees(null, options.planning ?? true);
}

/**
 * Trees read back from what {@link Trees.save} wrote.
 * @throws SnapshotFormatError when the bytes were not written by this layout, or are damaged.
 */
export function restoreTrees(r: SnapshotReader): Trees {
  return makeTrees(r, true);
}

function makeTrees(from: SnapshotReader | null, planning: boolean): Trees {
  const table = new PathTable();
  const pool = new PrefixPool();

  const lKind = new CodeColumn();
  const lSize = new NumberColumn();
  const lMtime = new PackedStrings(pool);
  const lFileId = new PackedStrings(pool);
  const lHash = new HashColumn();

  const cKind = new CodeColumn();
  const cSize = new NumberColumn();
  const cId = new PackedStrings(pool);
  const cVersion = new PackedStrings(pool);
  const cHash = new HashColumn();

  // The synced tree mostly repeats what both sides hold (everything in sync): such an entry is a
  // flag that says "derive me from the local and cloud columns" (ADR 0010). It is written out
  // (`sExplicit`) before either side's entry changes, and when it never matched them.
  const sKind = new CodeColumn();
  const sShared = new CodeColumn();
  const sExplicit = new Map<number, SyncedEntry>();
  // Per slot, kept up to date by every write (`noteWrite`): IN_SYNC where the local and cloud
  // entries are what the synced entry recorded (`inSync`); otherwise, for a written-out synced
  // entry, LOCAL_AS_SYNCED and CLOUD_AS_SYNCED where that side's entry is exactly the meta the
  // synced entry records for it (ADR 0011, fourth round).
  const syncState = new CodeColumn();

  const counts = { local: 0, cloud: 0, synced: 0 };
  let syncedFiles = 0;
  const dirtySlots = new Set<number>();
  // Set by markAllDirty instead of adding every slot to `dirtySlots` (a set of 1,000,000 numbers
  // is some 40 MB of resident memory): every slot holding an entry is then dirty, and so is every
  // slot in `dirtySlots` (one whose entries were removed since is in it).
  let allDirty = false;
  // Built on first use only: most tasks never need it (ADR 0010).
  let idIndex: Map<string, number> | null = null;

  // Every column in one fixed order, for save and restore.
  const columns = [lKind, lSize, lMtime, lFileId, lHash, cKind, cSize, cId, cVersion, cHash, sKind, sShared, syncState] as const;
  if (from !== null) {
    from.section('trees');
    table.load(from);
    pool.load(from);
    for (const c of columns) c.load(from, table.size);
    loadSlotMap(from, sExplicit, isSyncedEntry);
    from.section('state');
    counts.local = from.number();
    counts.cloud = from.number();
    counts.synced = from.number();
    syncedFiles = from.number();
    allDirty = from.number() === 1;
    const dirty = from.json();
    if (!Array.isArray(dirty) || !dirty.every((x) => Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) < table.size)) {
      throw new SnapshotFormatError('snapshot dirty set is not a list of slots');
    }
    for (const x of dirty as number[]) dirtySlots.add(x);
  }

  const kindColumn = (tree: TreeName): CodeColumn => (tree === 'local' ? lKind : tree === 'cloud' ? cKind : sKind);

  const readLocal = (slot: number): LocalMeta | undefined => {
    const k = lKind.get(slot);
    if (k === 0) return undefined;
    const hash = lHash.get(slot);
    const kind = kindOf(k);
    const size = lSize.get(slot);
    const mtimeNs = lMtime.get(slot) ?? '';
    const fileId = lFileId.get(slot) ?? '';
    return hash === undefined ? { kind, size, mtimeNs, fileId } : { kind, size, mtimeNs, fileId, hash };
  };
  const readCloud = (slot: number): CloudMeta | undefined => {
    const k = cKind.get(slot);
    if (k === 0) return undefined;
    const hash = cHash.get(slot);
    const kind = kindOf(k);
    const id = cId.get(slot) ?? '';
    const version = cVersion.get(slot) ?? '';
    const size = cSize.get(slot);
    return hash === undefined ? { kind, id, version, size } : { kind, id, version, size, hash };
  };
  /** The synced entry both sides' current entries at `slot` amount to. */
  const derive = (slot: number): SyncedEntry | undefined => deriveFrom(readLocal(slot), readCloud(slot));
  /** The synced entry the local and cloud metas `l` and `c` amount to. */
  const deriveFrom = (l: LocalMeta | undefined, c: CloudMeta | undefined): SyncedEntry | undefined => {
    if (l === undefined || c === undefined || l.kind !== c.kind) return undefined;
    const hash = c.hash ?? l.hash;
    const base = { kind: l.kind, size: c.size, fileId: l.fileId, mtimeNs: l.mtimeNs, cloudId: c.id, cloudVersion: c.version };
    return hash === undefined ? base : { ...base, hash };
  };
  const sameEntry = (x: SyncedEntry, y: SyncedEntry): boolean =>
    x.kind === y.kind && x.size === y.size && x.hash === y.hash && x.fileId === y.fileId && x.mtimeNs === y.mtimeNs && x.cloudId === y.cloudId && x.cloudVersion === y.cloudVersion;
  const readSynced = (slot: number): SyncedEntry | undefined => {
    if (sKind.get(slot) === 0) return undefined;
    return sShared.get(slot) === 1 ? derive(slot) : sExplicit.get(slot);
  };
  /** The local meta the synced entry `s` records (what `readLocal` gives when LOCAL_AS_SYNCED). */
  const localOf = (s: SyncedEntry): LocalMeta => {
    const { kind, size, hash } = s;
    const mtimeNs = s.mtimeNs ?? '';
    const fileId = s.fileId ?? '';
    return hash === undefined ? { kind, size, mtimeNs, fileId } : { kind, size, mtimeNs, fileId, hash };
  };
  /** The cloud meta the synced entry `s` records (what `readCloud` gives when CLOUD_AS_SYNCED). */
  const cloudOf = (s: SyncedEntry): CloudMeta => {
    const { kind, size, hash } = s;
    const id = s.cloudId ?? '';
    const version = s.cloudVersion ?? '';
    return hash === undefined ? { kind, id, version, size } : { kind, id, version, size, hash };
  };
  /** Writes a shared synced entry out before a side's entry at `slot` changes. */
  const unshare = (slot: number): void => {
    if (sShared.get(slot) !== 1) return;
    const entry = derive(slot);
    sShared.set(slot, 0);
    if (entry !== undefined) sExplicit.set(slot, entry);
  };
  /**
   * Whether the local and cloud entries at `slot` are exactly what the synced tree recorded (see
   * `TreeView.inSync`), computed from the columns.
   */
  const computeInSync = (slot: number): boolean => {
    if (sKind.get(slot) === 0) return false;
    // Shared entries are unshared before either side changes: still shared means still in sync.
    if (sShared.get(slot) === 1) return true;
    const s = sExplicit.get(slot);
    return s !== undefined && inSyncWith(slot, s);
  };
  /** `inSync` for a slot whose written-out synced entry is `s`. */
  const inSyncWith = (slot: number, s: SyncedEntry): boolean => {
    // Cheapest checks first, and only the fields needed (no hash decoding).
    const k = KIND_CODE[s.kind];
    if (lKind.get(slot) !== k || cKind.get(slot) !== k) return false;
    if (s.kind === 'file' && (lSize.get(slot) !== s.size || cSize.get(slot) !== s.size)) return false;
    if (!lFileId.equals(slot, s.fileId) || !cId.equals(slot, s.cloudId)) return false;
    return s.kind === 'dir' || (lMtime.equals(slot, s.mtimeNs) && cVersion.equals(slot, s.cloudVersion));
  };
  /**
   * Records the sync state of `slot` after any write to it: `TreeView.inSync` is then one byte,
   * read cold by the planner for every dirty path, instead of some ten columns and the written-out
   * synced entry (ADR 0011). Every write to a column goes through `writeLocal`, `writeCloud` or
   * `writeSynced`, and each ends here when it changed something.
   */
  const noteWrite = planning
    ? (slot: number): void => {
        syncState.set(slot, computeState(slot));
        dirtySlots.add(slot);
      }
    : (): void => undefined;
  /** Refuses what trees without the planner's bookkeeping cannot answer. */
  const planningOnly = (what: string): void => {
    if (!planning) throw new Error(`assertion failed: ${what} of trees made with planning: false`);
  };
  /**
   * The sync state of `slot` (see `syncState`), from the columns. A side recorded as its synced
   * entry is then built from that entry by `entries`, not decoded: the planner's read of a path
   * changed on one side reads no column of the other, which is cold (ADR 0011, fourth round).
   */
  const computeState = (slot: number): number => {
    if (sKind.get(slot) === 0) return 0;
    if (sShared.get(slot) === 1) return IN_SYNC;
    const s = sExplicit.get(slot);
    if (s === undefined) return 0;
    if (inSyncWith(slot, s)) return IN_SYNC;
    return (localIs(slot, s) ? LOCAL_AS_SYNCED : 0) | (cloudIs(slot, s) ? CLOUD_AS_SYNCED : 0);
  };
  /** Whether the local entry at `slot` is exactly `localOf(s)` (every field, the hash's absence too). */
  const localIs = (slot: number, s: SyncedEntry): boolean =>
    s.mtimeNs !== undefined &&
    s.fileId !== undefined &&
    lKind.get(slot) === KIND_CODE[s.kind] &&
    lSize.get(slot) === s.size &&
    lMtime.equals(slot, s.mtimeNs) &&
    lFileId.equals(slot, s.fileId) &&
    lHash.equals(slot, s.hash);
  /** Whether the cloud entry at `slot` is exactly `cloudOf(s)`. */
  const cloudIs = (slot: number, s: SyncedEntry): boolean =>
    s.cloudId !== undefined &&
    s.cloudVersion !== undefined &&
    cKind.get(slot) === KIND_CODE[s.kind] &&
    cSize.get(slot) === s.size &&
    cId.equals(slot, s.cloudId) &&
    cVersion.equals(slot, s.cloudVersion) &&
    cHash.equals(slot, s.hash);
  // Whether the entry stored at `slot` equals `meta`, field by field, compared in the columns: no
  // meta and no string is built for the usual answer (ADR 0074).
  const hashHolds = (column: HashColumn, slot: number, hash: string | undefined): boolean =>
    hash === undefined ? !column.has(slot) : column.has(slot) && column.get(slot) === hash;
  const localHolds = (slot: number, meta: LocalMeta): boolean =>
    lKind.get(slot) === KIND_CODE[meta.kind] && lSize.get(slot) === meta.size && lMtime.equals(slot, meta.mtimeNs) && lFileId.equals(slot, meta.fileId) && hashHolds(lHash, slot, meta.hash);
  const cloudHolds = (slot: number, meta: CloudMeta): boolean =>
    cKind.get(slot) === KIND_CODE[meta.kind] && cSize.get(slot) === meta.size && cId.equals(slot, meta.id) && cVersion.equals(slot, meta.version) && hashHolds(cHash, slot, meta.hash);

  const writeLocal = (slot: number, meta: LocalMeta | null): void => {
    const before = lKind.get(slot);
    // A rescan reporting what is already known changes nothing and plans nothing.
    if (meta !== null && before !== 0 && localHolds(slot, meta)) return;
    if (before !== 0) unshare(slot);
    if (meta === null) {
      if (before === 0) return;
      lKind.set(slot, 0);
      lMtime.set(slot, undefined);
      lFileId.set(slot, undefined);
      lHash.set(slot, undefined);
      counts.local--;
    } else {
      if (before === 0) counts.local++;
      lKind.set(slot, KIND_CODE[meta.kind]);
      lSize.set(slot, meta.size);
      lMtime.set(slot, meta.mtimeNs);
      lFileId.set(slot, meta.fileId);
      lHash.set(slot, meta.hash);
    }
    noteWrite(slot);
  };

  const writeCloud = (slot: number, meta: CloudMeta | null): void => {
    const before = cKind.get(slot);
    if (meta !== null && before !== 0 && cloudHolds(slot, meta)) return;
    if (before !== 0) unshare(slot);
    if (idIndex !== null && before !== 0) {
      const old = cId.get(slot);
      if (old !== undefined && idIndex.get(old) === slot) idIndex.delete(old);
    }
    if (meta === null) {
      if (before === 0) return;
      cKind.set(slot, 0);
      cId.set(slot, undefined);
      cVersion.set(slot, undefined);
      cHash.set(slot, undefined);
      counts.cloud--;
    } else {
      if (before === 0) counts.cloud++;
      cKind.set(slot, KIND_CODE[meta.kind]);
      cSize.set(slot, meta.size);
      cId.set(slot, meta.id);
      cVersion.set(slot, meta.version);
      cHash.set(slot, meta.hash);
      if (idIndex !== null) idIndex.set(meta.id, slot);
    }
    noteWrite(slot);
  };

  const writeSynced = (slot: number, entry: SyncedEntry | null): void => {
    const before = sKind.get(slot);
    if (before === 1) syncedFiles--;
    sExplicit.delete(slot);
    if (entry === null) {
      if (before === 0) return;
      sKind.set(slot, 0);
      sShared.set(slot, 0);
      counts.synced--;
    } else {
      if (before === 0) counts.synced++;
      if (entry.kind === 'file') syncedFiles++;
      sKind.set(slot, KIND_CODE[entry.kind]);
      const derived = derive(slot);
      const shared = derived !== undefined && sameEntry(derived, entry);
      sShared.set(slot, shared ? 1 : 0);
      if (!shared) sExplicit.set(slot, entry);
    }
    noteWrite(slot);
  };

  // An observed side cannot hold entries below a missing folder or a file: drop them too.
  const removeBelow = (slot: number, kinds: CodeColumn, write: (s: number) => void): void => {
    table.forEachChild(slot, (child) => {
      if (kinds.get(child) !== 0) {
        removeBelow(child, kinds, write);
        write(child);
      }
    });
  };

  // The removal of a path no tree ever held changes nothing (nothing can be below it either): it
  // takes no slot, so a stream of short-lived files seen only as gone leaves no trace (ADR 0074).
  const slotFor = (path: RelPath, meta: unknown): number | undefined => (meta === null ? table.slotOf(path) : table.intern(path));
  const applyLocal = (changes: readonly LocalChange[]): void => {
    for (const change of changes) {
      const slot = slotFor(change.path, change.meta);
      if (slot === undefined) continue;
      if (change.meta === null || change.meta.kind === 'file') removeBelow(slot, lKind, (s) => { writeLocal(s, null); });
      writeLocal(slot, change.meta);
    }
  };
  const applyCloud = (changes: readonly CloudChange[]): void => {
    for (const change of changes) {
      const slot = slotFor(change.path, change.meta);
      if (slot === undefined) continue;
      if (change.meta === null || change.meta.kind === 'file') removeBelow(slot, cKind, (s) => { writeCloud(s, null); });
      writeCloud(slot, change.meta);
    }
  };
  const applySynced = (changes: readonly SyncedChange[]): void => {
    // Synced removals are exact (not recursive): the executor reports every path it stops tracking.
    for (const change of changes) writeSynced(table.intern(change.path), change.entry);
  };

  const pathsOf = (slots: Iterable<number>): RelPath[] => {
    const out: RelPath[] = [];
    for (const s of slots) if (s !== 0) out.push(table.pathOf(s));
    return out;
  };
  /** Whether slot `s` is dirty while every slot holding an entry is (`allDirty`). */
  const dirtyWhenAll = (s: number): boolean => lKind.get(s) !== 0 || cKind.get(s) !== 0 || sKind.get(s) !== 0 || dirtySlots.has(s);
  const dirtyPaths = (): RelPath[] => {
    if (!allDirty) return pathsOf(dirtySlots);
    const out: RelPath[] = [];
    for (let s = 1; s < table.size; s++) if (dirtyWhenAll(s)) out.push(table.pathOf(s));
    return out;
  };
  const sortPaths = (slots: Iterable<number>): RelPath[] => {
    const out: RelPath[] = [];
    for (const s of slots) if (s !== 0) out.push(table.pathOf(s));
    return sortRelPaths(out);
  };

  const trees: Trees = {
    local: (path) => {
      const slot = table.slotOf(path);
      return slot === undefined ? undefined : readLocal(slot);
    },
    cloud: (path) => {
      const slot = table.slotOf(path);
      return slot === undefined ? undefined : readCloud(slot);
    },
    synced: (path) => {
      const slot = table.slotOf(path);
      return slot === undefined ? undefined : readSynced(slot);
    },
    entries: (path) => {
      const slot = table.slotOf(path);
      if (slot === undefined) return { l: undefined, c: undefined, s: undefined };
      // One shape for every slot (ADR 0011, fifth round): a path changed on one side, on both, or
      // in sync goes through the same calls, so the compiled code a full plan leaves serves an
      // incremental plan's conflicts too instead of meeting a branch it never ran.
      const state = syncState.get(slot);
      // A side recorded as its synced entry implies a written-out synced entry: then the synced
      // tree's kind and shared flag at `slot` are not read (two cold reads); the root's, always
      // at hand, are read instead, so that every call runs the same operations.
      const flagged = state > IN_SYNC;
      const at = flagged ? 0 : slot;
      const sharedHere = sShared.get(at) === 1;
      const heldHere = sKind.get(at) !== 0;
      const shared = !flagged && heldHere && sharedHere;
      const written = flagged || (heldHere && !sharedHere) ? sExplicit.get(slot) : undefined;
      const flags = written === undefined ? 0 : state;
      // A side recorded as its synced entry is built from that entry: its columns are not read.
      const l = (flags & LOCAL_AS_SYNCED) !== 0 ? localOf(written as SyncedEntry) : readLocal(slot);
      const c = (flags & CLOUD_AS_SYNCED) !== 0 ? cloudOf(written as SyncedEntry) : readCloud(slot);
      const s = shared ? deriveFrom(l, c) : written;
      return { l, c, s };
    },
    children: (tree, path) => {
      const slot = table.slotOf(path);
      if (slot === undefined) return [];
      const kinds = kindColumn(tree);
      const out: number[] = [];
      table.forEachChild(slot, (c) => {
        if (kinds.get(c) !== 0) out.push(c);
      });
      return sortPaths(out);
    },
    inSync: (path) => {
      planningOnly('inSync');
      const slot = table.slotOf(path);
      return slot !== undefined && syncState.get(slot) === IN_SYNC;
    },
    syncedFileCount: () => syncedFiles,
    cloudPathOfId: (id) => {
      if (idIndex === null) {
        idIndex = new Map();
        for (let s = 1; s < table.size; s++) {
          const v = cKind.get(s) === 0 ? undefined : cId.get(s);
          if (v !== undefined) idIndex.set(v, s);
        }
      }
      const slot = idIndex.get(id);
      return slot === undefined ? undefined : table.pathOf(slot);
    },
    apply: (event) => {
      switch (event.type) {
        case 'LocalChanged':
          applyLocal(event.changes);
          return;
        case 'CloudChanged':
          applyCloud(event.changes);
          return;
        case 'ActionSucceeded':
          applyLocal(event.local);
          applyCloud(event.cloud);
          applySynced(event.synced);
          return;
        case 'TerminalInitialized':
        case 'TaskCreated':
        case 'TaskCreationRefused':
        case 'TaskConfigured':
        case 'TaskPaused':
        case 'TaskResumed':
        case 'TaskCancelled':
        case 'SyncRequested':
        case 'RetryRequested':
        case 'TaskStatusChanged':
        case 'LocalScanStarted':
        case 'LocalScanCompleted':
        case 'LocalSkipped':
        case 'PlanMade':
        case 'ActionStarted':
        case 'ActionFailed':
        case 'ActionAbandoned':
          return;
        default:
          unreachable(event, 'event');
      }
    },
    applyLocal,
    applyCloud,
    applySynced,
    markDirty: (paths) => {
      planningOnly('markDirty');
      for (const p of paths) dirtySlots.add(table.intern(p));
    },
    markAllDirty: () => {
      planningOnly('markAllDirty');
      allDirty = true;
    },
    dirty: () => {
      planningOnly('dirty');
      return dirtyPaths();
    },
    takeDirty: () => {
      planningOnly('takeDirty');
      let out: RelPath[];
      if (allDirty) {
        out = dirtyPaths();
        // Slots in ascending order: the table tries the slot after the last one found anyway, so
        // the first slot is hint enough (and the hinted lookup then runs in every plan, full or
        // incremental, so its compiled code never meets it for the first time: ADR 0011).
        let first = 1;
        while (first < table.size && !dirtyWhenAll(first)) first++;
        table.expect(first < table.size ? [first] : []);
      } else {
        const slots: number[] = [];
        for (const s of dirtySlots) if (s !== 0) slots.push(s);
        out = slots.map((s) => table.pathOf(s));
        // The planner asks for these paths in this order: the path table goes straight to their slots.
        table.expect(slots);
      }
      dirtySlots.clear();
      allDirty = false;
      return out;
    },
    paths: (tree) => {
      const kinds = kindColumn(tree);
      const out: number[] = [];
      for (let s = 1; s < table.size; s++) if (kinds.get(s) !== 0) out.push(s);
      return sortPaths(out);
    },
    forEachEntry: (fn) => {
      const slots: number[] = [];
      for (let slot = 1; slot < table.size; slot++) if (lKind.get(slot) !== 0 || cKind.get(slot) !== 0 || sKind.get(slot) !== 0) slots.push(slot);
      for (const slot of sortByRelPath(slots, (x) => table.pathOf(x))) {
        const l = readLocal(slot);
        const c = readCloud(slot);
        const shared = sKind.get(slot) !== 0 && sShared.get(slot) === 1;
        const s = sKind.get(slot) === 0 ? undefined : shared ? deriveFrom(l, c) : sExplicit.get(slot);
        fn(table.pathOf(slot), l, c, s, shared);
      }
    },
    count: (tree) => counts[tree],
    inSyncFromColumns: (path) => {
      const slot = table.slotOf(path);
      return slot !== undefined && computeInSync(slot);
    },
    save: (w) => {
      planningOnly('save');
      w.section('trees');
      table.save(w);
      pool.save(w);
      for (const c of columns) c.save(w, table.size);
      saveSlotMap(w, sExplicit);
      w.section('state');
      w.number(counts.local);
      w.number(counts.cloud);
      w.number(counts.synced);
      w.number(syncedFiles);
      w.number(allDirty ? 1 : 0);
      w.json([...dirtySlots]);
    },
    localUnchanged: (path, meta) => {
      const slot = table.slotOf(path);
      if (slot === undefined || lKind.get(slot) !== KIND_CODE[meta.kind]) return false;
      // A file keeps its hash through a rescan that finds it unchanged; a folder has none.
      if (lHash.has(slot) !== (meta.kind === 'file')) return false;
      return lSize.get(slot) === meta.size && lMtime.equals(slot, meta.mtimeNs) && lFileId.equals(slot, meta.fileId);
    },
    scanMarks: () => {
      const marked = new CodeColumn();
      // Paths without a slot when they were marked; a slot may come later (the scan's own changes).
      const byName = new Set<RelPath>();
      return {
        mark: (path) => {
          const slot = table.slotOf(path);
          if (slot === undefined) byName.add(path);
          else marked.set(slot, 1);
        },
        unmark: (path) => {
          const slot = table.slotOf(path);
          if (slot !== undefined) marked.set(slot, 0);
          byName.delete(path);
        },
        has: (path) => {
          const slot = table.slotOf(path);
          return (slot !== undefined && marked.get(slot) === 1) || byName.has(path);
        },
        unmarkedLocal: () => {
          const out: number[] = [];
          for (let s = 1; s < table.size; s++) {
            if (lKind.get(s) !== 0 && marked.get(s) !== 1 && (byName.size === 0 || !byName.has(table.pathOf(s)))) out.push(s);
          }
          return sortPaths(out);
        },
      };
    },
  };
  return trees;
}
