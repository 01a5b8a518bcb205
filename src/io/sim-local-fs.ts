/**
 * A simulated {@link LocalFs}: an in-memory tree with fake device and inode numbers, times from
 * the injected Clock, and no IO, so that simulations and property tests are deterministic. It
 * passes the same contract suite as the real one. `user` acts on the tree as a person would
 * (outside the engine); the watcher sees both, like the real one does.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import type { PathFilter } from '../lib/filters.js';
import { TEMP_PREFIX, createPathFilter, isTempName } from '../lib/filters.js';
import type { LocalMeta } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import { baseName, isAtOrBelow, joinRel, parentOf } from '../lib/names.js';
import type { Clock } from './clock.js';
import type { HashOutcome, LocalEntryKind, LocalFs, LocalFsErrorCode, LocalStat, ScanItem, WatchBatch, WatchOptions } from './local-fs.js';
import { LocalFsError, checkRelPath, metaOf, sameLocal } from './local-fs.js';
import type { RawEvent } from './watch-core.js';
import { createWatchStream } from './watch-core.js';

interface SimNode {
  kind: LocalEntryKind;
  content: Uint8Array;
  mtimeNs: bigint;
  ino: number;
  mode: number;
  readable: boolean;
}

/** An entry the simulation moved to its trash. */
export interface SimTrashed {
  readonly path: RelPath;
  readonly kind: LocalEntryKind;
  readonly content: Uint8Array | null;
  /** For an entry that went with a folder sent to the trash whole: that folder. */
  readonly inFolder?: RelPath;
}

/** Operations that can be made to fail, and how. */
export type SimFaultOp = 'write' | 'mkdir' | 'move' | 'remove';

/** What a person does to the simulated folder, outside the engine. Parents are created as needed. */
export interface SimUser {
  write(path: RelPath, content: string | Uint8Array): void;
  mkdir(path: RelPath): void;
  remove(path: RelPath): void;
  move(from: RelPath, to: RelPath): void;
  symlink(path: RelPath, target: string): void;
  special(path: RelPath): void;
  setReadable(path: RelPath, readable: boolean): void;
}

/** The simulated {@link LocalFs} with its test controls. */
export interface SimLocalFs extends LocalFs {
  readonly user: SimUser;
  /** What went to the trash, oldest first. */
  trashed(): readonly SimTrashed[];
  /** The content of a file, or null. */
  contentOf(path: RelPath): Uint8Array | null;
  /** Every path in the tree (the root excluded), sorted. */
  paths(): RelPath[];
  /** Runs `fn` in the middle of the next hash of `path` (to simulate an edit while it is read). */
  duringNextHash(path: RelPath, fn: () => void): void;
  /** The next `op` fails with `code` (for example `disk-full`), once. */
  failNext(op: SimFaultOp, code: LocalFsErrorCode): void;
}

/** Options of {@link createSimLocalFs}. */
export interface SimLocalFsOptions {
  readonly clock: Clock;
  /** A label used as `root`. */
  readonly root?: string;
  /** Fake device number in file ids. */
  readonly dev?: number;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
const NO_FILTERS = createPathFilter({ include: [], exclude: [], maxFileSize: null });
const encoder = new TextEncoder();

/** Creates a {@link SimLocalFs} with an empty root folder. */
export function createSimLocalFs(options: SimLocalFsOptions): SimLocalFs {
  const { clock } = options;
  const dev = options.dev ?? 1;
  const nodes = new Map<RelPath, SimNode>();
  const kids = new Map<RelPath, Set<string>>();
  const trash: SimTrashed[] = [];
  const listeners = new Set<(events: readonly RawEvent[]) => void>();
  const hooks = new Map<RelPath, () => void>();
  const faults = new Map<SimFaultOp, LocalFsErrorCode>();
  let inoSeq = 1;
  let tick = 0;

  // Every write gets a distinct time: the clock's ms plus a sub-ms counter, so changes show.
  const stamp = (): bigint => BigInt(clock.now()) * 1_000_000n + BigInt(tick++ % 1_000_000);
  const newNode = (kind: LocalEntryKind, content: Uint8Array = new Uint8Array(0)): SimNode => ({
    kind,
    content,
    mtimeNs: stamp(),
    ino: inoSeq++,
    mode: kind === 'dir' ? 0o755 : 0o644,
    readable: true,
  });
  nodes.set('', newNode('dir'));
  kids.set('', new Set());

  const notify = (events: RawEvent[]): void => {
    for (const l of listeners) l(events);
  };
  const statOf = (n: SimNode): LocalStat => ({
    kind: n.kind,
    size: n.kind === 'file' ? n.content.length : 0,
    mtimeNs: n.mtimeNs.toString(),
    fileId: `${dev}:${n.ino}`,
    mode: n.mode,
  });
  const touchParent = (path: RelPath): void => {
    const p = nodes.get(parentOf(path));
    if (p !== undefined) p.mtimeNs = stamp();
  };
  const attach = (path: RelPath, node: SimNode): void => {
    nodes.set(path, node);
    kids.get(parentOf(path))?.add(baseName(path));
    if (node.kind === 'dir') kids.set(path, new Set());
    touchParent(path);
  };
  const subtree = (path: RelPath): RelPath[] => {
    const out: RelPath[] = [path];
    for (const name of kids.get(path) ?? []) out.push(...subtree(joinRel(path, name)));
    return out;
  };
  const detach = (path: RelPath): Map<RelPath, SimNode> => {
    const taken = new Map<RelPath, SimNode>();
    for (const p of subtree(path)) {
      const n = nodes.get(p);
      if (n !== undefined) taken.set(p, n);
      nodes.delete(p);
      kids.delete(p);
    }
    kids.get(parentOf(path))?.delete(baseName(path));
    touchParent(path);
    return taken;
  };
  const relocate = (from: RelPath, to: RelPath): void => {
    const taken = detach(from);
    for (const [p, n] of taken) {
      const q = to + p.slice(from.length);
      nodes.set(q, n);
      kids.get(parentOf(q))?.add(baseName(q));
      if (n.kind === 'dir') kids.set(q, new Set());
    }
    touchParent(to);
  };

  const guard = (path: string): RelPath => {
    const rel = checkRelPath(path);
    let at = '';
    const parent = parentOf(rel);
    for (const seg of parent === '' ? [] : parent.split('/')) {
      at = joinRel(at, seg);
      const n = nodes.get(at);
      if (n === undefined) break;
      if (n.kind === 'symlink') throw new LocalFsError('symlink', rel, `"${at}" on the way to "${rel}" is a symbolic link; foldsync never follows links.`);
    }
    return rel;
  };
  const fault = (op: SimFaultOp, path: RelPath): void => {
    const code = faults.get(op);
    if (code === undefined) return;
    faults.delete(op);
    throw new LocalFsError(code, path, `Simulated failure of ${op} on "${path}" (${code}).`);
  };
  const expectMatches = (path: RelPath, expect: LocalMeta | null, doing: string): SimNode | undefined => {
    const n = nodes.get(path);
    const fine = expect === null ? n === undefined : n !== undefined && sameLocal(statOf(n), expect);
    if (!fine) throw new LocalFsError('changed-locally', path, `"${path}" changed on this computer since foldsync planned to ${doing} it; it was left as it is.`);
    return n;
  };
  const itemAt = (path: RelPath, filter: PathFilter | undefined): ScanItem | null => {
    const n = nodes.get(path);
    if (n === undefined) return null;
    if (n.kind === 'symlink') return { type: 'skipped', path, reason: 'symlink', message: `"${path}" is a symbolic link; foldsync never follows or syncs links.` };
    if (n.kind === 'special') return { type: 'skipped', path, reason: 'special', message: `"${path}" is not a regular file or folder; it is not synced.` };
    if (!n.readable) return { type: 'skipped', path, reason: 'unreadable', message: `"${path}" cannot be read by this user.` };
    const meta = metaOf(statOf(n)) as LocalMeta;
    return { type: 'entry', path, meta, mode: n.mode, ignored: filter === undefined ? null : filter.verdict(path, meta.kind, meta.size) };
  };
  async function* scanTree(under: RelPath, filter: PathFilter | undefined, batchSize: number): AsyncGenerator<readonly ScanItem[]> {
    const root = nodes.get(under);
    if (root === undefined || root.kind !== 'dir') {
      yield [{ type: 'skipped', path: under, reason: 'unreadable', message: `Folder "${under}" cannot be listed (it is missing or not a folder).` }];
      return;
    }
    const stack: RelPath[] = [under];
    let batch: ScanItem[] = [];
    while (stack.length > 0) {
      const dir = stack.pop() as RelPath;
      const d = nodes.get(dir);
      if (d !== undefined && !d.readable) {
        batch.push({ type: 'skipped', path: dir, reason: 'unreadable', message: `Folder "${dir}" cannot be listed.` });
        continue;
      }
      for (const name of [...(kids.get(dir) ?? [])].sort()) {
        const path = joinRel(dir, name);
        if (isTempName(path)) continue;
        const it = itemAt(path, filter);
        if (it === null) continue;
        batch.push(it);
        if (it.type === 'entry' && it.meta.kind === 'dir' && !(filter?.prunes(path) ?? false)) stack.push(path);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
          // Interleave with other work between batches, as the real scanner does.
          await Promise.resolve();
        }
      }
    }
    if (batch.length > 0) yield batch;
  }
  const requireParentDir = (path: RelPath): void => {
    if (nodes.get(parentOf(path))?.kind !== 'dir') throw new LocalFsError('not-found', path, `The folder of "${path}" does not exist.`);
  };

  const user: SimUser = {
    write: (path, content) => {
      const rel = checkRelPath(path);
      user.mkdir(parentOf(rel));
      const bytes = typeof content === 'string' ? encoder.encode(content) : content;
      const n = nodes.get(rel);
      if (n?.kind === 'file') {
        n.content = bytes;
        n.mtimeNs = stamp();
        notify([{ type: 'update', path: rel }]);
      } else {
        if (n !== undefined) detach(rel);
        attach(rel, newNode('file', bytes));
        notify([{ type: 'create', path: rel }]);
      }
    },
    mkdir: (path) => {
      const rel = checkRelPath(path);
      if (rel === '' || nodes.get(rel)?.kind === 'dir') return;
      user.mkdir(parentOf(rel));
      attach(rel, newNode('dir'));
      notify([{ type: 'create', path: rel }]);
    },
    remove: (path) => {
      const rel = checkRelPath(path);
      if (!nodes.has(rel) || rel === '') return;
      const gone = subtree(rel);
      detach(rel);
      notify(gone.map((p) => ({ type: 'delete', path: p })));
    },
    move: (from, to) => {
      const a = checkRelPath(from);
      const b = checkRelPath(to);
      if (!nodes.has(a)) throw new Error(`sim: nothing at ${a}`);
      user.mkdir(parentOf(b));
      if (nodes.has(b)) detach(b);
      relocate(a, b);
      notify([{ type: 'delete', path: a }, { type: 'create', path: b }]);
    },
    symlink: (path, _target) => {
      const rel = checkRelPath(path);
      user.mkdir(parentOf(rel));
      attach(rel, newNode('symlink'));
      notify([{ type: 'create', path: rel }]);
    },
    special: (path) => {
      const rel = checkRelPath(path);
      user.mkdir(parentOf(rel));
      attach(rel, newNode('special'));
      notify([{ type: 'create', path: rel }]);
    },
    setReadable: (path, readable) => {
      const n = nodes.get(checkRelPath(path));
      if (n !== undefined) n.readable = readable;
    },
  };

  /** The file at `path`, for reading: what the node side refuses to open is refused the same way. */
  const readableFile = (path: RelPath) => {
    guard(path);
    const n = nodes.get(path);
    if (n === undefined) throw new LocalFsError('not-found', path, `"${path}" is gone.`);
    if (n.kind === 'symlink') throw new LocalFsError('symlink', path, `"${path}" is a symbolic link; foldsync never follows links.`);
    if (n.kind !== 'file') throw new LocalFsError('wrong-kind', path, `"${path}" is not a file.`);
    if (!n.readable) throw new LocalFsError('permission', path, `"${path}" cannot be read.`);
    return n;
  };

  const sim: SimLocalFs = {
    root: options.root ?? 'sim:/',
    user,
    trashed: () => trash,
    contentOf: (path) => {
      const n = nodes.get(path);
      return n?.kind === 'file' ? n.content : null;
    },
    paths: () => [...nodes.keys()].filter((p) => p !== '').sort(),
    duringNextHash: (path, fn) => hooks.set(path, fn),
    failNext: (op, code) => faults.set(op, code),
    lstat: (path) => {
      try {
        const n = nodes.get(guard(path));
        return Promise.resolve(n === undefined ? null : statOf(n));
      } catch (error) {
        return Promise.reject(asError(error));
      }
    },
    stat: async (path) => {
      const s = await sim.lstat(path);
      return s === null ? null : metaOf(s);
    },
    scan: (under, scanOptions = {}) => scanTree(guard(under), scanOptions.filter, scanOptions.batchSize ?? 2_000),
    hash: async (path, previous = null): Promise<HashOutcome> => {
      guard(path);
      const n = nodes.get(path);
      if (n === undefined) throw new LocalFsError('not-found', path, `"${path}" is gone.`);
      if (n.kind !== 'file') throw new LocalFsError(n.kind === 'symlink' ? 'symlink' : 'wrong-kind', path, `"${path}" is not a file; only files are hashed.`);
      if (!n.readable) throw new LocalFsError('permission', path, `"${path}" cannot be read; give it read permission.`);
      const meta = metaOf(statOf(n)) as LocalMeta;
      if (previous?.hash !== undefined && sameLocal(meta, previous)) return { status: 'hashed', meta: { ...meta, hash: previous.hash }, fresh: false };
      const content = n.content;
      // Yield like a real read would, so that concurrent work can interleave.
      await Promise.resolve();
      const hook = hooks.get(path);
      hooks.delete(path);
      hook?.();
      const now = nodes.get(path);
      if (now === undefined || !sameLocal(statOf(now), meta)) {
        return { status: 'changing', message: `"${path}" changed while it was read; foldsync reads it again once it settles.` };
      }
      return { status: 'hashed', meta: { ...meta, hash: createHash('sha256').update(content).digest('hex') }, fresh: true };
    },
    read: (path) => {
      try {
        const n = readableFile(path);
        return Promise.resolve({ meta: metaOf(statOf(n)) as LocalMeta, stream: Readable.from([Buffer.from(n.content)]) });
      } catch (error) {
        return Promise.reject(asError(error));
      }
    },
    readAll: (path, maxBytes) => {
      try {
        const n = readableFile(path);
        const meta = metaOf(statOf(n)) as LocalMeta;
        return Promise.resolve({ meta, bytes: meta.size > maxBytes ? null : Buffer.from(n.content) });
      } catch (error) {
        return Promise.reject(asError(error));
      }
    },
    writeFile: async (path, content, expect, writeOptions = {}) => {
      guard(path);
      if (path === '') throw new LocalFsError('wrong-kind', path, 'The task folder itself cannot be written as a file.');
      requireParentDir(path);
      const cur = expectMatches(path, expect, 'replace');
      if (cur !== undefined && cur.kind !== 'file') throw new LocalFsError('wrong-kind', path, `"${path}" is not a file.`);
      const chunks: Uint8Array[] = [];
      if (content instanceof Uint8Array) chunks.push(content);
      else for await (const c of content) chunks.push(c);
      fault('write', path);
      const bytes = Buffer.concat(chunks);
      const hash = createHash('sha256').update(bytes).digest('hex');
      if (writeOptions.expectHash !== undefined && writeOptions.expectHash !== hash) {
        throw new LocalFsError('io', path, `The content received for "${path}" does not match its SHA-256; it was not written.`);
      }
      // Checked again after the (possibly long) download, just before the rename, as the real one does.
      expectMatches(path, expect, 'replace');
      const node = newNode('file', new Uint8Array(bytes));
      if (cur !== undefined) node.mode = cur.mode;
      if (writeOptions.mtimeMs !== undefined) node.mtimeNs = BigInt(Math.round(writeOptions.mtimeMs)) * 1_000_000n;
      const temp = joinRel(parentOf(path), `${TEMP_PREFIX}sim`);
      if (cur !== undefined) detach(path);
      attach(path, node);
      notify([{ type: 'create', path: temp }, { type: 'delete', path: temp }, { type: cur === undefined ? 'create' : 'update', path }]);
      return { ...(metaOf(statOf(node)) as LocalMeta), hash };
    },
    mkdir: (path) => {
      try {
        guard(path);
        if (path === '') throw new LocalFsError('target-exists', path, 'The task folder exists already.');
        const n = nodes.get(path);
        if (n !== undefined) {
          if (n.kind !== 'dir') throw new LocalFsError('target-exists', path, `"${path}" exists and is not a folder; it was left as it is.`);
          return Promise.resolve(metaOf(statOf(n)) as LocalMeta);
        }
        requireParentDir(path);
        fault('mkdir', path);
        const node = newNode('dir');
        attach(path, node);
        notify([{ type: 'create', path }]);
        return Promise.resolve(metaOf(statOf(node)) as LocalMeta);
      } catch (error) {
        return Promise.reject(asError(error));
      }
    },
    move: (from, to, expectFileId) => {
      try {
        guard(from);
        guard(to);
        if (from === '' || to === '') throw new LocalFsError('bad-path', from, 'The task folder itself cannot be moved.');
        const n = nodes.get(from);
        if (n === undefined) throw new LocalFsError('not-found', from, `"${from}" is gone; nothing was moved.`);
        if (statOf(n).fileId !== expectFileId) throw new LocalFsError('changed-locally', from, `"${from}" was replaced since the move was planned; nothing was moved.`);
        if (nodes.has(to)) throw new LocalFsError('target-exists', to, `"${to}" exists already; "${from}" was not moved over it.`);
        requireParentDir(to);
        if (isAtOrBelow(to, from)) throw new LocalFsError('io', from, `"${from}" cannot be moved into itself.`);
        fault('move', from);
        relocate(from, to);
        notify([{ type: 'delete', path: from }, { type: 'create', path: to }]);
        return Promise.resolve(metaOf(statOf(n)) as LocalMeta);
      } catch (error) {
        return Promise.reject(asError(error));
      }
    },
    remove: (path, expect, how, filter = NO_FILTERS) => {
      try {
        guard(path);
        if (path === '') throw new LocalFsError('bad-path', path, 'The task folder itself is never deleted by foldsync.');
        const n = nodes.get(path);
        if (n === undefined) return Promise.resolve();
        if (!sameLocal(statOf(n), expect)) throw new LocalFsError('changed-locally', path, `"${path}" changed on this computer since its delete was planned; it was kept.`);
        if (n.kind === 'dir') {
          for (const p of subtree(path).slice(1)) {
            const it = itemAt(p, undefined);
            if (isTempName(p)) continue;
            if (it === null || it.type === 'skipped' || filter.verdict(p, it.meta.kind, it.meta.size) === null) {
              throw new LocalFsError('not-empty', path, `Folder "${path}" holds files that are not synced yet; it was kept.`);
            }
          }
        }
        fault('remove', path);
        const gone = subtree(path);
        // A folder goes to the trash whole, with what is left in it (ignored files), as the real
        // trash moves it: each of its files is recorded with its content.
        const trashed = how === 'trash' ? gone.map((p) => ({ p, node: nodes.get(p) })) : [];
        detach(path);
        for (const { p, node } of trashed) {
          if (node === undefined) continue;
          const content = node.kind === 'file' ? node.content : null;
          trash.push(p === path ? { path: p, kind: node.kind, content } : { path: p, kind: node.kind, content, inFolder: path });
        }
        notify(gone.map((p) => ({ type: 'delete', path: p })));
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(asError(error));
      }
    },
    removePartials: (folder) => {
      try {
        const rel = guard(folder);
        if (rel !== '' && nodes.get(rel)?.kind !== 'dir') return Promise.resolve(0);
        const partials = [...nodes.entries()].filter(([p, n]) => n.kind === 'file' && parentOf(p) === rel && isTempName(p)).map(([p]) => p);
        for (const p of partials) detach(p);
        return Promise.resolve(partials.length);
      } catch (error) {
        return Promise.reject(asError(error));
      }
    },
    watch: (watchOptions: WatchOptions = {}): Observable<WatchBatch> =>
      createWatchStream(
        (emit) => {
          listeners.add(emit);
          return () => listeners.delete(emit);
        },
        { item: itemAt, scan: (under, filter) => scanTree(under, filter, 2_000) },
        clock,
        watchOptions,
      ),
  };
  return sim;
}
