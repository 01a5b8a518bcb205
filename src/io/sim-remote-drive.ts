/**
 * A simulated cloud, in memory and deterministic (ids from an injected {@link Ids}, time from an
 * injected {@link Clock}), with the same rules as the reference server: stable ids, conditional
 * writes, versions, recycle bin, quotas, roles and a change feed that clients can wait on. Held
 * to the same contract suite as the HTTP drive. Every operation checks everything before it
 * changes anything, so a refused operation leaves no trace.
 */
// The interface is asynchronous; the simulation answers synchronously inside each method so that
// every operation is atomic, hence async methods without an await.
/* eslint-disable @typescript-eslint/require-await */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BinEntry, ChangeBatch, ChangeEntry, ChangeOp, FeedSpan, PermissionVerdict, RemoteEntry, RemoteSpace, RemoteVersion, SpaceRole } from '../lib/cloud-api.js';
import { taskPermission } from '../lib/cloud-api.js';
import type { EntryKind, SpaceType, SyncMode } from '../lib/model.js';
import { baseName, joinRel, nameProblem, parentOf, type RelPath } from '../lib/names.js';
import type { Clock } from './clock.js';
import type { Ids } from './ids.js';
import { RemoteError, readAll, openBody, type OnFeed, type RemoteDrive, type RemoteTarget, type UploadItemResult } from './remote-drive.js';

/** The drive operations a fault can hit. */
export type SimOperation = Exclude<keyof RemoteDrive, 'mode' | 'close'>;

/**
 * An injected failure: `before` refuses the operation (nothing happens), `after` lets it happen and
 * then loses the answer, as a dropped connection would (the caller must find out what happened).
 */
export interface SimFault {
  readonly when: 'before' | 'after';
  readonly error: RemoteError;
}

/** Options of {@link createSimCloud}. */
export interface SimCloudOptions {
  readonly clock: Clock;
  readonly ids: Ids;
  /** Versions kept per file (default 100). */
  readonly retainVersions?: number;
  /** Consulted at every drive operation; return a fault to inject one (a simulation's chaos). */
  readonly fault?: (operation: SimOperation, user: string, space: string) => SimFault | null;
}

/** The simulated cloud: administration, and a {@link RemoteDrive} per user and mode. */
export interface SimCloud {
  /** Adds a user with a personal space. */
  addUser(name: string): void;
  /** Adds a team space, received share or received transfer; received ones name their recipient. */
  addSpace(name: string, type: Exclude<SpaceType, 'personal'>, options?: { readonly quota?: number | null; readonly recipient?: { readonly user: string; readonly role: SpaceRole } }): void;
  /** Gives a user a role in a space. */
  setMember(space: string, user: string, role: SpaceRole): void;
  /** Sets a space's quota in bytes (`personal:NAME` for a personal space). */
  setQuota(space: string, quota: number | null): void;
  /** A drive acting as `user` for a task of `mode` (default two-way). */
  drive(user: string, mode?: SyncMode): RemoteDrive;
  /**
   * Every content hash the space still holds, by where: current versions of live files, older
   * versions of live files, and every version of files in the recycle bin (for no-data-loss checks).
   */
  heldHashes(space: string): { readonly live: ReadonlySet<string>; readonly history: ReadonlySet<string>; readonly bin: ReadonlySet<string> };
}

interface Item {
  id: string;
  parentId: string | null;
  path: RelPath;
  name: string;
  kind: EntryKind;
  version: string;
  size: number;
  hash: string | null;
  binId: string | null;
  modifiedAt: number;
}

interface Version {
  readonly id: string;
  readonly seq: number;
  readonly size: number;
  readonly hash: string;
  readonly createdAt: number;
}

interface Space {
  readonly id: string;
  readonly name: string;
  readonly type: SpaceType;
  readonly rootId: string;
  quota: number | null;
  used: number;
  readonly items: Map<string, Item>;
  readonly live: Map<RelPath, string>;
  readonly versions: Map<string, Version[]>;
  readonly bin: Map<string, BinEntry>;
  readonly changes: ChangeEntry[];
  readonly members: Map<string, SpaceRole>;
  readonly waiters: Set<() => void>;
}

const fail = (code: ConstructorParameters<typeof RemoteError>[0], message: string, details: Record<string, unknown> = {}): never => {
  throw new RemoteError(code, message, details);
};

function checkPath(raw: string, what = 'path'): RelPath {
  const trimmed = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  for (const segment of trimmed.split('/')) {
    const problem = nameProblem(segment);
    if (problem !== null) fail('bad-name', `${what} ${JSON.stringify(raw)}: the name is not allowed (${problem})`, { problem });
  }
  return trimmed;
}

/** Creates a simulated cloud. */
export function createSimCloud(options: SimCloudOptions): SimCloud {
  const { clock, ids } = options;
  const retain = Math.max(1, options.retainVersions ?? 100);
  const spaces = new Map<string, Space>();
  const users = new Set<string>();
  const blobs = new Map<string, Buffer>();

  const makeSpace = (name: string, type: SpaceType, quota: number | null): Space => {
    if (spaces.has(name)) fail('conflict', `space ${name} already exists`);
    const rootId = ids.next('i');
    const space: Space = {
      id: ids.next('sp'),
      name,
      type,
      rootId,
      quota,
      used: 0,
      items: new Map(),
      live: new Map([['', rootId]]),
      versions: new Map(),
      bin: new Map(),
      changes: [],
      members: new Map(),
      waiters: new Set(),
    };
    space.items.set(rootId, { id: rootId, parentId: null, path: '', name: '', kind: 'dir', version: '0', size: 0, hash: null, binId: null, modifiedAt: clock.now() });
    spaces.set(name, space);
    return space;
  };

  const toEntry = (i: Item): RemoteEntry => {
    const base = { kind: i.kind, id: i.id, version: i.version, size: i.size, path: i.path, name: i.name, parentId: i.parentId, modifiedAt: i.modifiedAt };
    return i.hash === null ? base : { ...base, hash: i.hash };
  };

  const emit = (space: Space, op: ChangeOp, item: Item, fromPath?: RelPath): void => {
    const cursor = String(space.changes.length + 1);
    const base = { cursor, op, id: item.id, kind: item.kind, path: item.path, version: item.version, size: item.size, deleted: op === 'delete', at: clock.now() };
    space.changes.push({ ...base, ...(fromPath === undefined ? {} : { fromPath }), ...(item.hash === null ? {} : { hash: item.hash }) });
  };

  /**
   * Tells `onFeed` the feed numbers of the changes made since the feed held `before` entries, like
   * the server's answer to a write (ADR 0100); nothing when there were none.
   */
  const tell = (space: Space, before: number, onFeed: OnFeed | undefined): void => {
    if (onFeed !== undefined && space.changes.length > before) onFeed({ first: before + 1, last: space.changes.length });
  };

  const wake = (space: Space): void => {
    for (const w of [...space.waiters]) w();
  };

  const at = (space: Space, path: RelPath): Item | undefined => {
    const id = space.live.get(path);
    return id === undefined ? undefined : space.items.get(id);
  };

  const byId = (space: Space, id: string): Item => {
    const item = space.items.get(id);
    if (item === undefined || item.binId !== null) return fail('not-found', `no item ${id} in this space`, { id });
    return item;
  };

  const below = (space: Space, path: RelPath): Item[] =>
    [...space.items.values()].filter((i) => i.binId === null && i.path !== '' && (path === '' || i.path.startsWith(`${path}/`)));

  const staleError = (item: Item, expected: string | null): never =>
    fail('conflict', `${item.path} is at version ${item.version}, not ${expected ?? '(none)'}`, { reason: 'stale-version', current: toEntry(item) });
  const takenError = (item: Item): never => fail('conflict', `${item.path} already exists`, { reason: 'path-taken', current: toEntry(item) });

  /** Folders `ensureFolder` would create for `path`, checked (a file in the way is a conflict). */
  const missingFolders = (space: Space, path: RelPath): RelPath[] => {
    const missing: RelPath[] = [];
    for (let p = path; ; p = parentOf(p)) {
      const found = at(space, p);
      if (found !== undefined) {
        if (found.kind !== 'dir') fail('conflict', `${p} is a file, not a folder`, { reason: 'not-a-folder', current: toEntry(found) });
        break;
      }
      missing.unshift(p);
    }
    return missing;
  };

  const ensureFolder = (space: Space, path: RelPath): Item => {
    for (const p of missingFolders(space, path)) {
      const parent = at(space, parentOf(p));
      const item: Item = { id: ids.next('i'), parentId: parent?.id ?? null, path: p, name: baseName(p), kind: 'dir', version: '0', size: 0, hash: null, binId: null, modifiedAt: clock.now() };
      space.items.set(item.id, item);
      space.live.set(p, item.id);
      emit(space, 'create', item);
    }
    const folder = at(space, path);
    if (folder === undefined) throw new Error('assertion failed: ensureFolder made the folder');
    return folder;
  };

  const checkQuota = (space: Space, bytes: number): void => {
    if (space.quota !== null && space.used + bytes > space.quota) fail('quota', `the space ${space.name} is full`, { quota: space.quota, used: space.used, needed: bytes });
  };

  const addVersion = (space: Space, item: Item, size: number, hash: string): void => {
    const list = space.versions.get(item.id) ?? [];
    const v: Version = { id: ids.next('v'), seq: (list[0]?.seq ?? 0) + 1, size, hash, createdAt: clock.now() };
    list.unshift(v);
    space.used += size;
    for (const old of list.splice(retain)) space.used -= old.size;
    space.versions.set(item.id, list);
    item.version = v.id;
    item.size = size;
    item.hash = hash;
    item.modifiedAt = v.createdAt;
  };

  const access = (user: string, name: string): { space: Space; role: SpaceRole } => {
    const space = spaces.get(name === 'personal' ? `personal:${user}` : name);
    const role = space?.members.get(user);
    if (space === undefined || role === undefined) return fail('not-found', `no space ${JSON.stringify(name)} for user ${user}`, { scope: 'space' });
    return { space, role };
  };

  const writable = (user: string, name: string, mode: SyncMode): Space => {
    const a = access(user, name);
    const verdict = taskPermission(a.space.type, a.role, mode);
    if (!verdict.allowed) fail('not-permitted', `you may not write to ${name} in ${mode} mode: ${verdict.message}`, { role: a.role, mode });
    return a.space;
  };

  const moveSubtree = (space: Space, item: Item, to: RelPath, op: 'move' | 'restore', subtree: Item[]): Item => {
    const from = item.path;
    const parent = ensureFolder(space, parentOf(to));
    if (item.binId === null) for (const i of [item, ...subtree]) space.live.delete(i.path);
    item.parentId = parent.id;
    item.path = to;
    item.name = baseName(to);
    item.binId = null;
    space.live.set(to, item.id);
    emit(space, op, item, op === 'move' ? from : undefined);
    for (const child of subtree) {
      const old = child.path;
      child.path = to + child.path.slice(from.length);
      child.binId = null;
      space.live.set(child.path, child.id);
      emit(space, op, child, op === 'move' ? old : undefined);
    }
    return item;
  };

  const restoredName = (path: RelPath, n: number): RelPath => {
    const name = baseName(path);
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    return joinRel(parentOf(path), `${stem} (restored${n > 1 ? ` ${n}` : ''})${ext}`);
  };

  const waitForChange = (space: Space, seconds: number, signal: AbortSignal | undefined): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        cancel();
        space.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const cancel = clock.setTimeout(done, seconds * 1000);
      space.waiters.add(done);
      signal?.addEventListener('abort', done);
    });

  const drive = (user: string, mode: SyncMode = 'two-way'): RemoteDrive => {
    if (!users.has(user)) fail('unauthorized', `no user ${user}`);
    const d: RemoteDrive = {
      mode,
      spaces: async () =>
        [...spaces.values()]
          .filter((s) => s.members.has(user))
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((s): RemoteSpace => ({ name: s.type === 'personal' ? 'personal' : s.name, type: s.type, role: s.members.get(user) ?? 'member', quota: s.quota, used: s.used })),
      checkPermission: async (name, m = mode): Promise<PermissionVerdict> => {
        const a = access(user, name);
        return taskPermission(a.space.type, a.role, m);
      },
      stat: async (name, path) => {
        const found = at(access(user, name).space, checkPath(path));
        return found === undefined ? null : toEntry(found);
      },
      statById: async (name, id) => {
        const found = access(user, name).space.items.get(id);
        return found === undefined || found.binId !== null ? null : toEntry(found);
      },
      list: async (name, path, opts = {}) => {
        const { space } = access(user, name);
        const p = checkPath(path);
        const folder = at(space, p);
        if (folder === undefined) return fail('not-found', `no folder ${p}`);
        if (folder.kind !== 'dir') return fail('bad-request', `${p} is a file, not a folder`);
        const rows = opts.recursive === true ? below(space, p) : [...space.items.values()].filter((i) => i.binId === null && i.parentId === folder.id);
        return rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map(toEntry);
      },
      cursor: async (name) => String(access(user, name).space.changes.length),
      changes: async (name, cursor, opts = {}): Promise<ChangeBatch> => {
        const { space } = access(user, name);
        if (!/^\d{1,15}$/.test(cursor)) fail('bad-request', 'not a cursor this server gave out');
        const after = Number(cursor);
        const limit = Math.min(Math.max(1, opts.limit ?? 1000), 5000);
        if (space.changes.length <= after && (opts.waitSeconds ?? 0) > 0) await waitForChange(space, Math.min(opts.waitSeconds ?? 0, 60), opts.signal);
        const page = space.changes.slice(after, after + limit);
        return { changes: page, cursor: page.at(-1)?.cursor ?? String(after), more: space.changes.length > after + limit };
      },
      upload: async (name, target: RemoteTarget, body, opts) => {
        const space = writable(user, name, mode);
        const t = 'id' in target ? target : { path: checkPath(target.path) };
        if ('path' in t && t.path === '') fail('bad-name', 'an upload needs a file path');
        if (!/^[0-9a-f]{64}$/.test(opts.hash)) fail('bad-request', 'expected a SHA-256 as 64 lowercase hex digits');
        const bytes = await readAll(openBody(body, 0, opts.size));
        if (bytes.length !== opts.size) fail('incomplete', `received ${bytes.length} of ${opts.size} bytes`);
        const actual = createHash('sha256').update(bytes).digest('hex');
        if (actual !== opts.hash) fail('hash-mismatch', `the body's SHA-256 is ${actual}, not ${opts.hash}`, { actual, expected: opts.hash });
        // Everything above awaited; from here on the operation is synchronous, hence atomic.
        const before = space.changes.length;
        const existing = 'id' in t ? byId(space, t.id) : at(space, t.path);
        if (existing === undefined) {
          if (opts.baseVersion !== null) fail('conflict', `${'path' in t ? t.path : ''} no longer exists`, { reason: 'gone' });
          const path = 'path' in t ? t.path : '';
          missingFolders(space, parentOf(path));
          checkQuota(space, opts.size);
          blobs.set(actual, bytes);
          const parent = ensureFolder(space, parentOf(path));
          const item: Item = { id: ids.next('i'), parentId: parent.id, path, name: baseName(path), kind: 'file', version: '', size: 0, hash: null, binId: null, modifiedAt: clock.now() };
          space.items.set(item.id, item);
          space.live.set(path, item.id);
          addVersion(space, item, opts.size, actual);
          emit(space, 'create', item);
          tell(space, before, opts.onFeed);
          wake(space);
          return toEntry(item);
        }
        if (existing.kind === 'dir') return takenError(existing);
        if (existing.hash === actual) return toEntry(existing);
        if (opts.baseVersion === null) return takenError(existing);
        if (existing.version !== opts.baseVersion) return staleError(existing, opts.baseVersion);
        checkQuota(space, opts.size);
        blobs.set(actual, bytes);
        addVersion(space, existing, opts.size, actual);
        emit(space, 'update', existing);
        tell(space, before, opts.onFeed);
        wake(space);
        return toEntry(existing);
      },
      uploadMany: async (name, items): Promise<UploadItemResult[]> => {
        writable(user, name, mode);
        const results: UploadItemResult[] = [];
        for (const item of items) {
          try {
            const got: { feed?: FeedSpan } = {};
            const entry = await d.upload(name, item.target, item.body, { size: item.body.length, hash: item.hash, baseVersion: item.baseVersion, onFeed: (span) => (got.feed = span) });
            results.push(got.feed === undefined ? { ok: true, entry } : { ok: true, entry, feed: got.feed });
          } catch (error) {
            if (!(error instanceof RemoteError)) throw error;
            results.push({ ok: false, error });
          }
        }
        return results;
      },
      download: async (name, id, opts = {}) => {
        const { space } = access(user, name);
        const item = byId(space, id);
        if (item.kind !== 'file') fail('bad-request', `${item.path} is a folder`);
        const v = (space.versions.get(id) ?? []).find((x) => x.id === (opts.version ?? item.version));
        if (v === undefined) return fail('not-found', `file ${item.path} has no version ${opts.version ?? item.version}`);
        const bytes = blobs.get(v.hash) ?? Buffer.alloc(0);
        const start = opts.start ?? 0;
        const end = Math.min(opts.end ?? bytes.length - 1, bytes.length - 1);
        if ((opts.start !== undefined || opts.end !== undefined) && (start > end || start >= bytes.length)) fail('bad-request', 'range outside the file');
        return Readable.from([bytes.subarray(start, end + 1)]);
      },
      mkdir: async (name, path, opts = {}) => {
        const space = writable(user, name, mode);
        const before = space.changes.length;
        const folder = ensureFolder(space, checkPath(path));
        tell(space, before, opts.onFeed);
        wake(space);
        return toEntry(folder);
      },
      move: async (name, id, toRaw, opts = {}) => {
        const space = writable(user, name, mode);
        const to = checkPath(toRaw, 'to');
        const item = byId(space, id);
        if (item.id === space.rootId) fail('bad-request', 'the root of a space cannot be moved');
        if (opts.ifVersion !== undefined && item.version !== opts.ifVersion) staleError(item, opts.ifVersion);
        if (to === item.path) return toEntry(item);
        if (to === '' || to.startsWith(`${item.path}/`)) fail('bad-request', `cannot move ${item.path} into itself`);
        const existing = at(space, to);
        if (existing !== undefined) takenError(existing);
        missingFolders(space, parentOf(to));
        const before = space.changes.length;
        moveSubtree(space, item, to, 'move', below(space, item.path));
        tell(space, before, opts.onFeed);
        wake(space);
        return toEntry(item);
      },
      copy: async (name, id, toRaw) => {
        const space = writable(user, name, mode);
        const to = checkPath(toRaw, 'to');
        const item = byId(space, id);
        if (to === '' || to === item.path || to.startsWith(`${item.path}/`)) fail('bad-request', `cannot copy ${item.path} into itself`);
        const existing = at(space, to);
        if (existing !== undefined) takenError(existing);
        missingFolders(space, parentOf(to));
        const subtree = [item, ...below(space, item.path)].sort((a, b) => a.path.length - b.path.length);
        checkQuota(space, subtree.reduce((n, i) => n + i.size, 0));
        let top: Item | undefined;
        for (const source of subtree) {
          const path = source === item ? to : to + source.path.slice(item.path.length);
          let made: Item;
          if (source.kind === 'dir') made = ensureFolder(space, path);
          else {
            const parent = ensureFolder(space, parentOf(path));
            made = { id: ids.next('i'), parentId: parent.id, path, name: baseName(path), kind: 'file', version: '', size: 0, hash: null, binId: null, modifiedAt: clock.now() };
            space.items.set(made.id, made);
            space.live.set(path, made.id);
            addVersion(space, made, source.size, source.hash ?? '');
            emit(space, 'create', made);
          }
          top ??= made;
        }
        wake(space);
        if (top === undefined) throw new Error('assertion failed: a copy copies its item');
        return toEntry(top);
      },
      delete: async (name, id, version, opts = {}) => {
        const space = writable(user, name, mode);
        const item = byId(space, id);
        if (item.id === space.rootId) fail('bad-request', 'the root of a space cannot be deleted');
        if (version !== null && item.version !== version) staleError(item, version);
        const subtree = [item, ...below(space, item.path)];
        const entry: BinEntry = { id: ids.next('b'), itemId: item.id, kind: item.kind, path: item.path, size: subtree.reduce((n, i) => n + i.size, 0), deletedAt: clock.now() };
        space.bin.set(entry.id, entry);
        const before = space.changes.length;
        for (const i of subtree) {
          space.live.delete(i.path);
          i.binId = entry.id;
          emit(space, 'delete', i);
        }
        tell(space, before, opts.onFeed);
        wake(space);
        return entry;
      },
      versions: async (name, id): Promise<RemoteVersion[]> => {
        const { space } = access(user, name);
        const item = byId(space, id);
        return (space.versions.get(id) ?? []).map((v) => ({ id: v.id, size: v.size, hash: v.hash, createdAt: v.createdAt, current: v.id === item.version }));
      },
      restoreVersion: async (name, id, versionId, opts = {}) => {
        const space = writable(user, name, mode);
        const item = byId(space, id);
        if (opts.ifVersion !== undefined && item.version !== opts.ifVersion) staleError(item, opts.ifVersion);
        if (item.version === versionId) return toEntry(item);
        const v = (space.versions.get(id) ?? []).find((x) => x.id === versionId);
        if (v === undefined) return fail('not-found', `file ${item.path} has no version ${versionId}`);
        checkQuota(space, v.size);
        addVersion(space, item, v.size, v.hash);
        emit(space, 'update', item);
        wake(space);
        return toEntry(item);
      },
      bin: async (name) => [...access(user, name).space.bin.values()].sort((a, b) => b.deletedAt - a.deletedAt || (a.id < b.id ? -1 : 1)),
      restoreFromBin: async (name, binId) => {
        const space = writable(user, name, mode);
        const entry = space.bin.get(binId);
        if (entry === undefined) return fail('not-found', `no entry ${binId} in the recycle bin`);
        const item = space.items.get(entry.itemId);
        if (item === undefined) throw new Error('assertion failed: a bin entry names a stored item');
        let to = entry.path;
        for (let n = 1; at(space, to) !== undefined; n++) to = restoredName(entry.path, n);
        const subtree = [...space.items.values()].filter((i) => i.binId === binId && i.id !== item.id);
        missingFolders(space, parentOf(to));
        space.bin.delete(binId);
        moveSubtree(space, item, to, 'restore', subtree);
        wake(space);
        return toEntry(item);
      },
      purge: async (name, binId) => {
        const space = writable(user, name, mode);
        if (!space.bin.has(binId)) fail('not-found', `no entry ${binId} in the recycle bin`);
        for (const i of [...space.items.values()].filter((x) => x.binId === binId)) {
          for (const v of space.versions.get(i.id) ?? []) space.used -= v.size;
          space.versions.delete(i.id);
          space.items.delete(i.id);
        }
        space.bin.delete(binId);
      },
      close: async () => undefined,
    };
    const fault = options.fault;
    if (fault === undefined) return d;
    const faulty: Record<string, unknown> = { ...d };
    for (const operation of Object.keys(d) as (keyof RemoteDrive)[]) {
      if (operation === 'mode' || operation === 'close') continue;
      // The drive's methods are closures over this cloud and never use `this`.
      // eslint-disable-next-line @typescript-eslint/unbound-method
      const original = d[operation] as (...args: unknown[]) => Promise<unknown>;
      faulty[operation] = async (...args: unknown[]): Promise<unknown> => {
        const f = fault(operation, user, typeof args[0] === 'string' ? args[0] : '');
        if (f?.when === 'before') throw f.error;
        const value = await original(...args);
        if (f?.when === 'after') throw f.error;
        return value;
      };
    }
    return faulty as unknown as RemoteDrive;
  };

  return {
    addUser: (name) => {
      if (users.has(name)) fail('conflict', `user ${name} already exists`);
      users.add(name);
      makeSpace(`personal:${name}`, 'personal', null).members.set(name, 'owner');
    },
    addSpace: (name, type, opts = {}) => {
      const problem = nameProblem(name);
      if (problem !== null || name.includes(':') || name === 'personal') fail('bad-name', `space name ${JSON.stringify(name)} is not allowed`);
      const space = makeSpace(name, type, opts.quota ?? null);
      if (opts.recipient !== undefined) space.members.set(opts.recipient.user, opts.recipient.role);
    },
    setMember: (name, user, role) => {
      const space = spaces.get(name);
      if (space === undefined) return fail('not-found', `no space ${name}`);
      if (!users.has(user)) return fail('not-found', `no user ${user}`);
      space.members.set(user, role);
      return undefined;
    },
    setQuota: (name, quota) => {
      const space = spaces.get(name);
      if (space === undefined) return fail('not-found', `no space ${name}`);
      space.quota = quota;
      return undefined;
    },
    drive,
    heldHashes: (name) => {
      const space = spaces.get(name);
      if (space === undefined) return fail('not-found', `no space ${name}`);
      const live = new Set<string>();
      const history = new Set<string>();
      const bin = new Set<string>();
      for (const item of space.items.values()) {
        if (item.kind !== 'file') continue;
        for (const v of space.versions.get(item.id) ?? []) {
          if (item.binId !== null) bin.add(v.hash);
          else if (v.id === item.version) live.add(v.hash);
          else history.add(v.hash);
        }
      }
      return { live, history, bin };
    },
  };
}
