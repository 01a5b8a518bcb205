/**
 * The real scanner: walks a folder with synchronous `readdirSync`/`lstatSync` calls in batches
 * and yields to the event loop between batches. On this machine promise-based `fs` is 2-5x slower
 * on many small files (DESIGN.md section 5) and callback `lstat` through the libuv pool measured
 * about 3x slower than sync calls; a batch of sync calls keeps the loop responsive enough while
 * staying close to `find`'s speed. Links are never followed: `lstat` only, and a symlink is
 * reported as skipped.
 */
import type { BigIntStats } from 'node:fs';
import { lstatSync, readdirSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { PathFilter } from '../lib/filters.js';
import { TEMP_PREFIX } from '../lib/filters.js';
import type { RelPath } from '../lib/names.js';
import { errnoOf } from './local-errors.js';
import type { LocalStat, ScanItem } from './local-fs.js';
import { makeLister, OWNER, ownerSlot, type Listing } from './folder-listing.js';
import { makeRawLstat, RAW, type RawLstat } from './raw-lstat.js';

/** Converts a bigint `lstat` to a {@link LocalStat}. */
export function localStatOf(s: BigIntStats): LocalStat {
  const kind = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'special';
  return {
    kind,
    size: kind === 'file' ? Number(s.size) : 0,
    mtimeNs: s.mtimeNs.toString(),
    fileId: `${s.dev}:${s.ino}`,
    mode: Number(s.mode) & 0o7777,
  };
}

/** Whether this process can read an entry, from its mode bits alone (no extra system call). */
export interface Access {
  readonly uid: number;
  readonly groups: ReadonlySet<number>;
}

/** The current process's uid and groups. */
export function currentAccess(): Access {
  const uid = process.getuid?.() ?? -1;
  const groups = new Set<number>(process.getgroups?.() ?? []);
  const gid = process.getgid?.();
  if (gid !== undefined) groups.add(gid);
  return { uid, groups };
}

/** True when mode bits let `access` read (and for folders, list) the entry. Root reads everything. */
export function canRead(access: Access, s: BigIntStats, isDir: boolean): boolean {
  if (access.uid === 0 || access.uid === -1) return true;
  const mode = Number(s.mode);
  const need = isDir ? 0o5 : 0o4;
  if (Number(s.uid) === access.uid) return ((mode >> 6) & need) === need;
  if (access.groups.has(Number(s.gid))) return ((mode >> 3) & need) === need;
  return (mode & need) === need;
}

/** Builds the scan item of one entry that `lstat` returned. */
export function itemOf(path: RelPath, s: BigIntStats, filter: PathFilter | undefined, access: Access): ScanItem {
  const st = localStatOf(s);
  if (st.kind === 'symlink') return { type: 'skipped', path, reason: 'symlink', message: `"${path}" is a symbolic link; foldsync never follows or syncs links.` };
  if (st.kind === 'special') return { type: 'skipped', path, reason: 'special', message: `"${path}" is not a regular file or folder (a pipe, socket or device); it is not synced.` };
  if (!canRead(access, s, st.kind === 'dir')) {
    return { type: 'skipped', path, reason: 'unreadable', message: `"${path}" cannot be read by this user; give it read permission to sync it.` };
  }
  const meta = { kind: st.kind, size: st.size, mtimeNs: st.mtimeNs, fileId: st.fileId };
  const ignored = filter === undefined ? null : filter.verdict(path, st.kind, st.size);
  return { type: 'entry', path, meta, mode: st.mode, ignored };
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Whether a scan lists folders on a worker thread: `auto` does after {@link WORKER_AFTER_ENTRIES} entries. */
export type ScanWorkerMode = 'auto' | 'always' | 'never';

/** Entries a scan handles on the main thread alone before `auto` starts a worker (about 40 ms of work). */
export const WORKER_AFTER_ENTRIES = 20_000;
/** The same for a scan that hashes small files (hashing 500 costs the main thread some 30 ms); its worker must be up before the first batch is consumed. */
export const HASHING_WORKER_AFTER_ENTRIES = 500;
/** Folders of the stack's top the worker is asked for at once. */
const WORKER_AHEAD = 8;
/** Claim slots shared with the worker (more than {@link WORKER_AHEAD}, so a request always finds one). */
const CLAIM_SLOTS = 64;

/** Slots of a prefetch's shared counters: entries the scan took, the scan waits for a folder, stop, hold (tests). */
const SHARED = { taken: 0, starving: 1, stop: 2, hold: 3 } as const;
/** Slots of a prefetch's ownership table ({@link ownerSlot}; 1 MB, touched only where used). */
const OWNER_SLOTS = 1 << 18;
/** Folders at the far end of its stack the scan thread looks at for one to list ahead. */
const STEAL_LOOK = 64;
/** Entries a prefetching worker lists before it posts them. */
const PREFETCH_BATCH = 2_000;
/** Entries a prefetching worker lists ahead of what the scan took (some 15 MB of listings). */
const PREFETCH_AHEAD = 200_000;

/**
 * The worker's code (plain CommonJS, evaluated, so it runs the same from sources, tests and `dist`).
 * It lists one folder per request with the same calls as the in-thread loop and sends back the
 * names, exact mtimes and identities as strings plus mode, size, uid and gid as numbers; the main
 * thread builds the items, applies the filter and decides where to descend.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync } = require('node:fs');
const { createHash } = require('node:crypto');
const claims = new Int32Array(workerData.claims);
const hashUpTo = workerData.hashUpTo;
const rawLstat = (${makeRawLstat.toString()})(lstatSync, workerData.root).lstat;
const ownerSlot = ${ownerSlot.toString()};
// The SHA-256 of the regular file at path, whose lstat said s (dev, ino, size, mtimeNs), when it is what s says before and
// after it is read (the same checks as LocalFs.hash); '' when it cannot be told.
function hashOf(path, s) {
  let fd;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return '';
  }
  try {
    const a = fstatSync(fd, { bigint: true });
    if (a.dev !== s.dev || a.ino !== s.ino || a.size !== s.size || a.mtimeNs !== s.mtimeNs) return '';
    const size = Number(a.size);
    const buf = Buffer.allocUnsafe(size + 1);
    let n = 0;
    for (let r = readSync(fd, buf, 0, buf.length, 0); r > 0; r = readSync(fd, buf, n, buf.length - n, n)) {
      n += r;
      if (n === buf.length) break;
    }
    const b = fstatSync(fd, { bigint: true });
    if (n !== size || b.size !== a.size || b.mtimeNs !== a.mtimeNs) return '';
    return createHash('sha256').update(buf.subarray(0, n)).digest('hex');
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}
const listing = (${makeLister.toString()})({ rawLstat, readdirSync, temp: ${JSON.stringify(TEMP_PREFIX)}, hashUpTo, hashOf });
// Newest request first: the main thread takes folders from the top of its stack, the worker from
// the far end of what it was asked for, so they rarely want the same folder.
const queue = [];
let scheduled = false;
parentPort.on('message', (m) => {
  // A prefetching worker gets this one message and walks the tree on its own.
  if (m.walk === true) {
    walk(m);
    return;
  }
  queue.push(m);
  if (!scheduled) {
    scheduled = true;
    setImmediate(work);
  }
});
function work() {
  scheduled = false;
  const m = queue.pop();
  if (queue.length > 0) {
    scheduled = true;
    setImmediate(work);
  }
  // The main thread may have listed this folder itself already (it then reset the claim).
  if (m === undefined || Atomics.compareExchange(claims, m.slot, m.id, -m.id) !== m.id) return;
  const l = listing(m.dir, m.abs, null);
  parentPort.postMessage(l, 'nums' in l ? [l.nums.buffer] : []);
}
// The prefetch (ScanPrefetch): the whole tree, depth first in the order scanNodeTree takes its
// folders (the last subfolder listed first), folders the built-in ignores prune left out, posted
// in batches. It keeps at most m.ahead entries more than the scan has taken, unless the scan
// waits. A folder whose slot the scan thread owns is skipped with everything below it: the scan
// lists those itself.
function walk(m) {
  const shared = new Int32Array(m.shared);
  const owners = new Int32Array(m.owners);
  const mask = owners.length - 1;
  const prune = new RegExp(m.prune.source, m.prune.flags);
  let rootId = null;
  try {
    const r = rawLstat(m.root);
    if (r !== undefined) rootId = r[${RAW.dev}] + ':' + r[${RAW.ino}];
  } catch {}
  parentPort.postMessage({ rootId });
  const stack = [''];
  let batch = [];
  let batchEntries = 0;
  let listed = 0;
  while (stack.length > 0) {
    if (Atomics.load(shared, ${SHARED.stop}) !== 0) return;
    const dir = stack.pop();
    if (Atomics.compareExchange(owners, ownerSlot(dir, mask), ${OWNER.none}, ${OWNER.worker}) === ${OWNER.scan}) continue;
    const subdirs = [];
    const l = listing(dir, dir === '' ? m.root : m.root + '/' + dir, subdirs);
    for (const name of subdirs) {
      const path = dir === '' ? name : dir + '/' + name;
      if (!prune.test(path)) stack.push(path);
    }
    batch.push(l);
    if ('count' in l) {
      batchEntries += l.count;
      listed += l.count;
    }
    // Tests: after the root, wait until released (or stopped), so that the scan thread lists the rest.
    if (dir === '' && m.hold) {
      parentPort.postMessage({ listings: batch }, batch.filter((x) => 'nums' in x).map((x) => x.nums.buffer));
      batch = [];
      batchEntries = 0;
      Atomics.store(shared, ${SHARED.hold}, 1);
      while (Atomics.load(shared, ${SHARED.hold}) === 1 && Atomics.load(shared, ${SHARED.stop}) === 0) Atomics.wait(shared, ${SHARED.hold}, 1, 200);
    }
    if (batchEntries >= m.batch || stack.length === 0 || Atomics.load(shared, ${SHARED.starving}) !== 0) {
      parentPort.postMessage({ listings: batch }, batch.filter((x) => 'nums' in x).map((x) => x.nums.buffer));
      batch = [];
      batchEntries = 0;
    }
    for (;;) {
      const taken = Atomics.load(shared, ${SHARED.taken});
      if (listed - taken <= m.ahead || Atomics.load(shared, ${SHARED.starving}) !== 0 || Atomics.load(shared, ${SHARED.stop}) !== 0) break;
      Atomics.wait(shared, ${SHARED.taken}, taken, 200);
    }
  }
  if (batch.length > 0) parentPort.postMessage({ listings: batch }, batch.filter((x) => 'nums' in x).map((x) => x.nums.buffer));
  parentPort.postMessage({ done: true });
}
`;


/**
 * A worker that lists folders on request. Each request has a claim slot in shared memory holding
 * its id: the worker swaps it for `-id` before it starts, and the main thread can swap it for 0 to
 * list the folder itself (steal it) when it gets there first, so neither thread waits for a folder
 * the other has not started.
 */
class ListingWorker {
  private readonly worker: Worker;
  private readonly claims = new Int32Array(new SharedArrayBuffer(4 * CLAIM_SLOTS));
  private readonly freeSlots: number[] = Array.from({ length: CLAIM_SLOTS }, (_, i) => CLAIM_SLOTS - 1 - i);
  private readonly pending = new Map<string, { id: number; slot: number; promise: Promise<Listing>; resolve: (l: Listing) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private failure: unknown = null;

  constructor(root: string, hashUpTo: number) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { claims: this.claims.buffer, hashUpTo, root } });
    // Unreferenced unless the scan waits on it, so an abandoned scan never keeps the process alive.
    this.worker.unref();
    this.worker.on('message', (l: Listing) => {
      this.pending.get(l.dir)?.resolve(l);
    });
    this.worker.on('error', (e) => {
      this.failure = e;
      for (const p of this.pending.values()) p.reject(e);
    });
  }

  /** Requests not yet taken or stolen. */
  get inFlight(): number {
    return this.pending.size;
  }

  has(dir: string): boolean {
    return this.pending.has(dir);
  }

  /** Asks for the listing of `dir` (absolute `abs`); false when no claim slot is free. */
  request(dir: string, abs: string): boolean {
    const slot = this.freeSlots.pop();
    if (slot === undefined) return false;
    const id = this.nextId++;
    let resolve!: (l: Listing) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<Listing>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    this.pending.set(dir, { id, slot, promise, resolve, reject });
    Atomics.store(this.claims, slot, id);
    if (this.failure !== null) reject(this.failure);
    else this.worker.postMessage({ dir, abs, id, slot });
    return true;
  }

  /** Takes `dir` back from the worker when it has not started on it; then the caller lists it. */
  steal(dir: string): boolean {
    const p = this.pending.get(dir);
    if (p === undefined || Atomics.compareExchange(this.claims, p.slot, p.id, 0) !== p.id) return false;
    this.pending.delete(dir);
    this.freeSlots.push(p.slot);
    return true;
  }

  /** The listing of a folder the worker claimed. */
  async take(dir: string): Promise<Listing> {
    const p = this.pending.get(dir);
    if (p === undefined) throw new Error(`no listing requested for "${dir}"`);
    this.worker.ref();
    try {
      return await p.promise;
    } finally {
      this.worker.unref();
      this.pending.delete(dir);
      this.freeSlots.push(p.slot);
    }
  }

  close(): void {
    void this.worker.terminate();
  }
}

/** How long a prefetch may wait for its scan: a listing older than this is not used (10 s). */
export const PREFETCH_FRESH_MS = 10_000;

/**
 * The listing of a whole tree, started on a worker thread before its scan wants it (ADR 0030):
 * `foldsync run --once` starts it while the task's snapshot is restored, which the scan needs
 * first. The worker walks the tree depth first in the scan's own order and sends its listings
 * ahead; the scan takes them folder by folder and lists itself whatever the prefetch cannot give
 * (a folder it did not list, a worker that failed). Started only where nothing writes into the
 * folder before the scan (a listing then is as good as one taken during the scan), and used only
 * when the root is still the folder it listed. Folders the built-in ignores prune are not listed;
 * other exclusions would be listed for nothing, so a task with exclude patterns gets no prefetch.
 */
export class ScanPrefetch {
  readonly startedAt = performance.now();
  private readonly worker: Worker;
  private readonly shared = new Int32Array(new SharedArrayBuffer(4 * 4));
  /** Who lists each folder (by {@link ownerSlot}): the worker claims a folder before it lists it, the scan thread steals one the worker has not reached. */
  private readonly owners = new Int32Array(new SharedArrayBuffer(4 * OWNER_SLOTS));
  private readonly listings = new Map<string, Listing>();
  /** Folders the scan thread listed ahead, while it waited for the worker. */
  private readonly stolen = new Map<string, Listing>();
  /** Folders the scan thread listed itself so far (ahead of their turn or not). */
  listedHere = 0;
  /** Folders below stolen ones, not listed yet: the scan thread's too. */
  private readonly ownQueue: string[] = [];
  private readonly listHere: (dir: string, subdirs: string[] | null) => Listing;
  private readonly steals: boolean;
  private rootId: string | null | undefined = undefined;
  private finished = false;
  private wake: (() => void) | null = null;
  private taken = 0;

  constructor(
    readonly root: string,
    private readonly prune: RegExp,
    limits: {
      readonly ahead?: number;
      readonly batch?: number;
      /** False: the scan thread only waits for the worker. */
      readonly steal?: boolean;
      /** Tests only: the worker lists the root, then waits until closed. */
      readonly holdAfterRoot?: boolean;
    } = {},
  ) {
    const lister = makeLister({ rawLstat: rawLstatFor(root), readdirSync: (p) => readdirSync(p), temp: TEMP_PREFIX, hashUpTo: 0, hashOf: null });
    this.listHere = (dir, subdirs) => lister(dir, dir === '' ? root : `${root}/${dir}`, subdirs);
    this.steals = limits.steal ?? true;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { claims: new SharedArrayBuffer(4), hashUpTo: 0, root } });
    this.worker.unref();
    this.worker.on('message', (m: { rootId: string | null } | { listings: Listing[] } | { done: true }) => {
      if ('rootId' in m) this.rootId = m.rootId;
      else if ('listings' in m) for (const l of m.listings) this.listings.set(l.dir, l);
      else this.finished = true;
      this.wake?.();
    });
    // A failed worker lists nothing more: the scan lists what is missing itself.
    this.worker.on('error', () => {
      this.finished = true;
      this.rootId ??= null;
      this.wake?.();
    });
    this.worker.on('exit', () => {
      this.finished = true;
      this.rootId ??= null;
      this.wake?.();
    });
    this.worker.postMessage({
      walk: true,
      root,
      shared: this.shared.buffer,
      owners: this.owners.buffer,
      prune: { source: prune.source, flags: prune.flags },
      ahead: limits.ahead ?? PREFETCH_AHEAD,
      batch: limits.batch ?? PREFETCH_BATCH,
      hold: limits.holdAfterRoot === true,
    });
  }

  private async until(ready: () => boolean): Promise<void> {
    if (ready()) return;
    this.worker.ref();
    try {
      while (!ready()) await new Promise<void>((resolve) => (this.wake = resolve));
    } finally {
      this.wake = null;
      this.worker.unref();
    }
  }

  /** `dev:ino` of the root when the worker started, or null when it could not be told. */
  async rootIdentity(): Promise<string | null> {
    await this.until(() => this.rootId !== undefined);
    return this.rootId ?? null;
  }

  /** Resolves once the worker has listed the whole tree (or stopped). */
  async listed(): Promise<void> {
    await this.until(() => this.finished);
  }

  /**
   * True when the scan thread lists `dir`: the slot of `dir` or of a folder above it is the scan's
   * (the worker skips such a folder with everything below it, and never takes a slot back).
   */
  private ours(dir: string): boolean {
    for (let p = dir; ; ) {
      if (Atomics.load(this.owners, ownerSlot(p, OWNER_SLOTS - 1)) === OWNER.scan) return true;
      if (p === '') return false;
      const i = p.lastIndexOf('/');
      p = i < 0 ? '' : p.slice(0, i);
    }
  }

  /** Lists `dir`, which is the scan thread's, ahead of its turn; its subfolders are the scan's too. */
  private listAhead(dir: string): void {
    const subdirs: string[] = [];
    this.stolen.set(dir, this.listHere(dir, subdirs));
    this.listedHere++;
    for (const name of subdirs) {
      const path = dir === '' ? name : `${dir}/${name}`;
      if (!this.prune.test(path)) this.ownQueue.push(path);
    }
  }

  /**
   * Lists one folder the worker will not list before the scan wants it: one below a folder listed
   * ahead, else the folder of `stack` the scan takes last that the worker has not claimed, else
   * `dir`, the one the scan waits for.
   */
  private stealOne(dir: string, stack: readonly string[]): boolean {
    for (let d = this.ownQueue.pop(); d !== undefined; d = this.ownQueue.pop()) {
      if (this.stolen.has(d)) continue;
      this.listAhead(d);
      return true;
    }
    // The folder the scan waits for comes last: it is the one the worker is likeliest to be at.
    // Never the root: the scan thread would own the whole tree, and the worker would list nothing.
    const n = Math.min(stack.length, STEAL_LOOK);
    for (let i = 0; i <= n; i++) {
      const d = i < n ? (stack[i] as string) : dir;
      if (d === '') continue;
      if (this.stolen.has(d)) continue;
      // The scan's slot already (a folder sharing it was stolen) is as good as one taken now.
      if (Atomics.compareExchange(this.owners, ownerSlot(d, OWNER_SLOTS - 1), OWNER.none, OWNER.scan) === OWNER.worker) continue;
      this.listAhead(d);
      return true;
    }
    return false;
  }

  /**
   * The listing of folder `dir` (`stack`: the folders the scan will take after it, last first), or
   * null when the prefetch has none and will have none. While the worker has not listed `dir`, the
   * scan thread lists folders it will need later itself.
   */
  async take(dir: string, stack: readonly string[] = []): Promise<Listing | null> {
    for (;;) {
      if (this.ours(dir)) {
        const own = this.stolen.get(dir);
        if (own !== undefined) {
          this.stolen.delete(dir);
          return own;
        }
        this.listedHere++;
        return this.listHere(dir, null);
      }
      const l = this.listings.get(dir);
      if (l !== undefined) {
        this.listings.delete(dir);
        if ('count' in l) {
          this.taken += l.count;
          Atomics.store(this.shared, SHARED.taken, this.taken);
          Atomics.notify(this.shared, SHARED.taken);
        }
        return l;
      }
      if (this.finished) return null;
      if (this.steals && this.stealOne(dir, stack)) {
        // Let the worker's listings in before looking again.
        await yieldToLoop();
        continue;
      }
      Atomics.store(this.shared, SHARED.starving, 1);
      Atomics.notify(this.shared, SHARED.taken);
      await this.until(() => this.listings.has(dir) || this.finished);
      Atomics.store(this.shared, SHARED.starving, 0);
    }
  }

  close(): void {
    Atomics.store(this.shared, SHARED.stop, 1);
    Atomics.notify(this.shared, SHARED.taken);
    Atomics.notify(this.shared, SHARED.hold);
    this.listings.clear();
    this.stolen.clear();
    void this.worker.terminate();
  }
}

/** The item of an entry the worker listed (the same items and messages as the in-thread loop). */
function itemOfListed(
  path: RelPath,
  mode: number,
  size: number,
  uid: number,
  gid: number,
  mtimeNs: string,
  fileId: string,
  hash: string,
  filter: PathFilter | undefined,
  access: Access,
  privileged: boolean,
): ScanItem {
  if (mode === -1) return { type: 'skipped', path, reason: 'unreadable', message: `"${path}" cannot be read (${mtimeNs}).` };
  const fmt = mode & S_IFMT;
  if (fmt === S_IFLNK) return { type: 'skipped', path, reason: 'symlink', message: `"${path}" is a symbolic link; foldsync never follows or syncs links.` };
  if (fmt !== S_IFREG && fmt !== S_IFDIR) return { type: 'skipped', path, reason: 'special', message: `"${path}" is not a regular file or folder (a pipe, socket or device); it is not synced.` };
  const kind = fmt === S_IFREG ? 'file' : 'dir';
  if (!privileged && !canReadBits(access, mode, uid, gid, kind === 'dir')) {
    return { type: 'skipped', path, reason: 'unreadable', message: `"${path}" cannot be read by this user; give it read permission to sync it.` };
  }
  const fileSize = kind === 'file' ? size : 0;
  return {
    type: 'entry',
    path,
    meta: kind === 'file' && hash !== '' ? { kind, size: fileSize, mtimeNs, fileId, hash } : { kind, size: fileSize, mtimeNs, fileId },
    mode: mode & 0o7777,
    ignored: filter === undefined ? null : filter.verdict(path, kind, fileSize),
  };
}

/** {@link canRead} from numbers. */
function canReadBits(access: Access, mode: number, uid: number, gid: number, isDir: boolean): boolean {
  if (access.uid === 0 || access.uid === -1) return true;
  const need = isDir ? 0o5 : 0o4;
  if (uid === access.uid) return ((mode >> 6) & need) === need;
  if (access.groups.has(gid)) return ((mode >> 3) & need) === need;
  return (mode & need) === need;
}

/** This thread's {@link RawLstat}, once the binding was found to answer as `lstatSync` does. */
let nativeLstat: RawLstat | null = null;

/** A {@link RawLstat} for a scan of `root` (the probe of the binding, the first time). */
function rawLstatFor(root: string): RawLstat {
  if (nativeLstat !== null) return nativeLstat;
  const made = makeRawLstat(lstatSync, root);
  if (made.native) nativeLstat = made.lstat;
  return made.lstat;
}

/**
 * The state of one scan and its per-entry loops: each loop builds items into `batch` and returns
 * the index of the next entry as soon as the batch is full (or at the end of the folder).
 */
class TreeWalk {
  batch: ScanItem[] = [];
  /** Entries `lstat`ed on this thread. */
  seen = 0;
  private devBig = -1n;
  private devStr = '';
  private readonly privileged: boolean;

  constructor(
    private readonly filter: PathFilter | undefined,
    private readonly access: Access,
    private readonly batchSize: number,
    readonly stack: RelPath[],
    private readonly lstat: RawLstat,
  ) {
    this.privileged = access.uid === 0 || access.uid === -1;
  }

  takeBatch(): ScanItem[] {
    const b = this.batch;
    this.batch = [];
    return b;
  }

  /** Items of folder `absDir`'s `names` from index `from`, listed with `lstat` on this thread. */
  fromNames(absDir: string, prefix: string, names: readonly string[], from: number): number {
    const { batch, filter, batchSize, lstat } = this;
    for (let i = from; i < names.length; i++) {
      const name = names[i] as string;
      if (name.startsWith(TEMP_PREFIX)) continue;
      const path = prefix + name;
      let s: BigInt64Array | undefined;
      try {
        s = lstat(`${absDir}/${name}`);
      } catch (error) {
        batch.push({ type: 'skipped', path, reason: 'unreadable', message: `"${path}" cannot be read (${errnoOf(error) ?? String(error)}).` });
        if (batch.length >= batchSize) return i + 1;
        continue;
      }
      if (s === undefined) continue;
      this.seen++;
      // The array is reused by the next call: every field is read now.
      const dev = s[RAW.dev] as bigint;
      if (dev !== this.devBig) {
        this.devBig = dev;
        this.devStr = `${dev}:`;
      }
      const mtimeNs = (s[RAW.mtimeSec] as bigint) * 1000000000n + (s[RAW.mtimeNsec] as bigint);
      const item = itemOfListed(
        path,
        Number(s[RAW.mode]),
        Number(s[RAW.size]),
        Number(s[RAW.uid]),
        Number(s[RAW.gid]),
        mtimeNs.toString(),
        this.devStr + (s[RAW.ino] as bigint).toString(),
        '',
        filter,
        this.access,
        this.privileged,
      );
      if (item.type === 'entry' && item.meta.kind === 'dir' && !(filter?.prunes(path) ?? false)) this.stack.push(path);
      batch.push(item);
      if (batch.length >= batchSize) return i + 1;
    }
    return names.length;
  }

  /** Items of a folder the worker listed ({@link Listing}), from entry `from`. */
  fromListing(prefix: string, count: number, fields: readonly string[], nums: Float64Array, from: number): number {
    const { batch, filter, batchSize } = this;
    for (let i = from; i < count; i++) {
      const path = prefix + (fields[i * 4] as string);
      const item = itemOfListed(
        path,
        nums[i * 4] as number,
        nums[i * 4 + 1] as number,
        nums[i * 4 + 2] as number,
        nums[i * 4 + 3] as number,
        fields[i * 4 + 1] as string,
        fields[i * 4 + 2] as string,
        fields[i * 4 + 3] as string,
        filter,
        this.access,
        this.privileged,
      );
      if (item.type === 'entry' && item.meta.kind === 'dir' && !(filter?.prunes(path) ?? false)) this.stack.push(path);
      batch.push(item);
      if (batch.length >= batchSize) return i + 1;
    }
    return count;
  }
}

/**
 * Scans folder `under` of `root` (absolute) depth first, in batches. Unreadable folders and entries
 * are reported as skipped, never thrown; entries that vanish during the scan are left out.
 * Folders the filter prunes are reported (as ignored) but not entered.
 *
 * The loop is the hot path of a million-file scan, so it avoids what profiling showed to cost:
 * Dirent objects (names only), `isFile()`-style calls (mode bits), and re-stringifying the device
 * number of every entry (cached per folder). Past {@link WORKER_AFTER_ENTRIES} entries (option
 * `worker`, default `auto`) the `readdir`/`lstat` calls move to a worker thread that lists the next
 * folders of the stack while the main thread builds the items of the current one: the same items
 * in the same order, in about half the wall time when a second core is free (ADR 0030).
 */
export async function* scanNodeTree(
  root: string,
  under: RelPath,
  options: {
    readonly filter?: PathFilter | undefined;
    readonly batchSize?: number | undefined;
    readonly worker?: ScanWorkerMode | undefined;
    readonly expectedEntries?: number | undefined;
    readonly hashUpTo?: number | undefined;
    /** Tests only: false makes the main thread wait for every folder it asked the worker for. */
    readonly steal?: boolean | undefined;
    /**
     * Listings started earlier ({@link ScanPrefetch}), for a scan of the whole root that hashes
     * nothing; closed by the scan, used or not.
     */
    readonly prefetch?: ScanPrefetch | undefined;
  } = {},
): AsyncGenerator<readonly ScanItem[]> {
  const batchSize = options.batchSize ?? 2_000;
  const filter = options.filter;
  // A rescan of a large tree starts the worker at once: its first 20,000 entries would otherwise
  // be listed on the main thread alone.
  // With `hashUpTo` (a first scan) the worker, once started, also hashes the small files it lists
  // while the main thread builds items and records them (the main thread hashes the rest).
  const hashUpTo = options.hashUpTo ?? 0;
  const workerMode = options.worker ?? ((options.expectedEntries ?? 0) >= WORKER_AFTER_ENTRIES ? 'always' : 'auto');
  const steal = options.steal ?? true;
  const workerAfter = hashUpTo > 0 ? HASHING_WORKER_AFTER_ENTRIES : WORKER_AFTER_ENTRIES;
  const walk = new TreeWalk(filter, currentAccess(), batchSize, [under], rawLstatFor(root));
  const stack = walk.stack;
  let worker: ListingWorker | null = null;
  const absOf = (dir: RelPath): string => (dir === '' ? root : `${root}/${dir}`);
  const unlisted = (dir: RelPath, errno: string | undefined, error: unknown): ScanItem | null =>
    // A folder that vanished since it was listed is simply gone; the root's absence is the caller's business.
    errno !== 'ENOENT' || dir === under
      ? { type: 'skipped', path: dir, reason: 'unreadable', message: `Folder "${dir}" cannot be listed (${errno ?? String(error)}); fix its permissions to sync what it holds.` }
      : null;
  /** Asks the worker for the next folders the main thread will take (it starts from the far end). */
  const listAhead = (w: ListingWorker): void => {
    for (let i = stack.length - 1; i >= 0 && i >= stack.length - 2 * WORKER_AHEAD && w.inFlight < WORKER_AHEAD; i--) {
      const d = stack[i] as RelPath;
      if (!w.has(d) && !w.request(d, absOf(d))) break;
    }
  };
  let prefetch = options.prefetch ?? null;
  // Listings taken earlier are only as good as one taken now when they are of this very folder.
  if (prefetch !== null && !(prefetch.root === root && under === '' && hashUpTo === 0 && performance.now() - prefetch.startedAt <= PREFETCH_FRESH_MS && (await prefetch.rootIdentity()) === (identityOf(root) ?? false))) {
    prefetch.close();
    prefetch = null;
  }
  // The per-entry loops live in TreeWalk's methods, which return when a batch is full: this
  // generator only hands batches out. (One generator holding both loops cost TurboFan 150-250 ms
  // of background compiling per version, three versions per no-change run of 100,000 files.)
  try {
    while (stack.length > 0) {
      const dir = stack.pop() as RelPath;
      const absDir = absOf(dir);
      const prefix = dir === '' ? '' : `${dir}/`;
      let listing: Listing | null = null;
      if (prefetch !== null) {
        listing = await prefetch.take(dir, stack);
        // A prefetch that has no listing has no more: the rest is listed here (and by a worker).
        if (listing === null) {
          prefetch.close();
          prefetch = null;
        }
      }
      if (listing === null && worker === null && workerMode !== 'never' && (workerMode === 'always' || walk.seen >= workerAfter)) worker = new ListingWorker(root, hashUpTo);
      if (listing === null && worker !== null) {
        listAhead(worker);
        // The worker has listed this folder, or is listing it.
        if (worker.has(dir) && !(steal && worker.steal(dir))) listing = await worker.take(dir);
      }
      if (listing !== null) {
        if (!('text' in listing)) {
          const item = unlisted(dir, listing.errno ?? undefined, listing.error);
          if (item !== null) walk.batch.push(item);
          continue;
        }
        const fields = listing.count === 0 ? [] : listing.text.split('\0');
        for (let i = 0; i < listing.count; ) {
          i = walk.fromListing(prefix, listing.count, fields, listing.nums, i);
          if (walk.batch.length >= batchSize) {
            yield walk.takeBatch();
            await yieldToLoop();
          }
        }
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(absDir);
      } catch (error) {
        const item = unlisted(dir, errnoOf(error), error);
        if (item !== null) walk.batch.push(item);
        continue;
      }
      for (let i = 0; i < names.length; ) {
        i = walk.fromNames(absDir, prefix, names, i);
        if (walk.batch.length >= batchSize) {
          yield walk.takeBatch();
          await yieldToLoop();
        }
      }
    }
    if (walk.batch.length > 0) yield walk.takeBatch();
  } finally {
    worker?.close();
    prefetch?.close();
  }
}

/** `dev:ino` of folder `root`, or null when it cannot be looked at. */
function identityOf(root: string): string | null {
  try {
    const s = lstatSync(root, { bigint: true, throwIfNoEntry: false });
    return s === undefined ? null : `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}
