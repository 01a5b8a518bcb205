/**
 * The cloud server's rules, independent of HTTP: users, spaces and roles, the item tree with
 * stable ids, versions, the recycle bin, quotas and the change feed. Every mutation is one
 * database transaction; a file's bytes are already a blob when its version is committed.
 *
 * Concurrency: kysely's SQLite driver serialises connection use, so transactions never
 * interleave; a PostgreSQL dialect would need SERIALIZABLE transactions for the same guarantees.
 */
// BIGINT columns come back as numbers from SQLite but as strings from PostgreSQL: every read of
// one goes through Number(), which the type checker (seeing `number`) calls unnecessary.
/* eslint-disable @typescript-eslint/no-unnecessary-type-conversion */
import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type {
  BinEntry,
  ChangeBatch,
  ChangeEntry,
  ChangeOp,
  FeedSpan,
  PermissionVerdict,
  RemoteEntry,
  RemoteSpace,
  RemoteVersion,
  SpaceRole,
  UploadSession,
} from '../lib/cloud-api.js';
import { SPACE_ROLES, SPACE_TYPES, taskPermission } from '../lib/cloud-api.js';
import type { EntryKind, SpaceType, SyncMode } from '../lib/model.js';
import { baseName, joinRel, nameProblem, parentOf, type RelPath } from '../lib/names.js';
import type { BlobStore } from './blob-store.js';
import { CloudError } from './cloud-error.js';
import { fixedQuery } from './fixed-queries.js';
import type { CloudDatabase, ItemsTable, SpacesTable } from './schema.js';

type Item = Selectable<ItemsTable>;
type Space = Selectable<SpacesTable>;

/** An authenticated user. */
export interface CloudUser {
  readonly id: string;
  readonly name: string;
}

/** A space resolved for a user, with the user's role in it. */
export interface SpaceAccess {
  readonly space: Space;
  readonly role: SpaceRole;
}

/** Where an upload goes: a path (new file, or new version of the file there), or an item id. */
export type UploadTarget = { readonly path: RelPath } | { readonly id: string };

/** Options of {@link createCloudCore}. */
export interface CloudCoreOptions {
  readonly db: Kysely<CloudDatabase>;
  readonly blobs: BlobStore;
  /** Versions kept per file, the current one included (default 100). */
  readonly retainVersions?: number;
  /** Milliseconds since the epoch; injected so tests can fix it. */
  readonly now?: () => number;
}

/** The operations of the cloud server. See the module comment. */
export type CloudCore = ReturnType<typeof createCloudCore>;

const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ID = /^[A-Za-z0-9-]{1,64}$/;
const HASH = /^[0-9a-f]{64}$/;
const PERSONAL = 'personal';
// Mutations committed together at most (each in its own savepoint).
const GROUP_MAX = 1024;

/** Checks and normalises a path parameter ('/a/b/' -> 'a/b'); throws `bad-name` with the reason. */
export function checkPath(raw: unknown, what = 'path'): RelPath {
  if (typeof raw !== 'string') throw new CloudError('bad-request', `${what} is missing`);
  const trimmed = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  for (const segment of trimmed.split('/')) {
    const problem = nameProblem(segment);
    if (problem !== null) {
      throw new CloudError('bad-name', `${what} ${JSON.stringify(raw)}: the name ${JSON.stringify(segment.slice(0, 80))} is not allowed (${problem}); rename it`, {
        problem,
      });
    }
  }
  return trimmed;
}

/** Checks an id parameter (item, version, bin entry, upload): ids never carry path characters. */
export function checkId(raw: unknown, what = 'id'): string {
  if (typeof raw !== 'string' || !ID.test(raw)) throw new CloudError('bad-request', `${what} is not a valid id`);
  return raw;
}

/** Checks a SHA-256 parameter (64 lowercase hex digits). */
export function checkHash(raw: unknown): string {
  if (typeof raw !== 'string' || !HASH.test(raw)) throw new CloudError('bad-request', 'expected a SHA-256 as 64 lowercase hex digits');
  return raw;
}

/** Builds the server's core over an open database and blob store. */
export function createCloudCore(options: CloudCoreOptions) {
  const { db, blobs } = options;
  const retain = Math.max(1, options.retainVersions ?? 100);
  const now = options.now ?? (() => Date.now());
  const listeners = new Map<string, Set<() => void>>();
  // Blobs being committed: garbage collection must not remove them (see removeIfUnreferenced).
  const pins = new Map<string, number>();

  // Ids are time-ordered (ADR 0096 update): 13 hex digits of a counter that starts at the clock's
  // milliseconds x 1024 and only grows, then 44 random bits. Rows keyed or indexed by id are then
  // appended at the end of their B-trees instead of dirtying a random page per insert; the random
  // part keeps ids unguessable enough and unique across a clock that goes back between runs.
  // Random bytes are drawn 8 KiB at a time (one call each was ~5% of an upload).
  let pool = Buffer.alloc(0);
  let used = 0;
  let counter = 0;
  const newId = (prefix: string): string => {
    if (used + 6 > pool.length) {
      pool = randomBytes(8190);
      used = 0;
    }
    used += 6;
    counter = Math.max(counter + 1, Math.floor(now()) * 1024);
    return `${prefix}-${counter.toString(16).padStart(13, '0')}${pool.toString('hex', used - 6, used).slice(1)}`;
  };

  // The statements of the per-file path of an upload, compiled once (fixed-queries.ts).
  const insertItem = fixedQuery(db, (d, p) =>
    d.insertInto('items').values({
      id: p('id'),
      space_id: p('space_id'),
      parent_id: p('parent_id'),
      path: p('path'),
      name: p('name'),
      kind: p('kind'),
      version: p('version'),
      size: p('size'),
      hash: p('hash'),
      bin_id: p('bin_id'),
      modified_at: p('modified_at'),
    }),
  );
  const insertVersion = fixedQuery(db, (d, p) =>
    d.insertInto('versions').values({ id: p('id'), item_id: p('item_id'), space_id: p('space_id'), seq: p('seq'), size: p('size'), hash: p('hash'), created_at: p('created_at') }),
  );
  const insertInline = fixedQuery(db, (d, p) =>
    d
      .insertInto('inline_blobs')
      .values({ hash: p('hash'), data: p('data') })
      .onConflict((oc) => oc.column('hash').doNothing()),
  );
  const insertChange = fixedQuery(db, (d, p) =>
    d.insertInto('changes').values({
      space_id: p('space_id'),
      seq: p('seq'),
      op: p('op'),
      item_id: p('item_id'),
      kind: p('kind'),
      path: p('path'),
      from_path: p('from_path'),
      version: p('version'),
      size: p('size'),
      hash: p('hash'),
      deleted: p('deleted'),
      at: p('at'),
    }),
  );
  const liveAt = fixedQuery(db, (d, p) => d.selectFrom('items').selectAll().where('space_id', '=', p('space_id')).where('bin_id', 'is', null).where('path', '=', p('path')));
  const liveById = fixedQuery(db, (d, p) => d.selectFrom('items').selectAll().where('space_id', '=', p('space_id')).where('bin_id', 'is', null).where('id', '=', p('id')));
  const lastSeq = fixedQuery(db, (d, p) => d.selectFrom('versions').select('seq').where('item_id', '=', p('item_id')).orderBy('seq', 'desc').limit(1));
  const setVersion = fixedQuery(db, (d, p) =>
    d.updateTable('items').set({ version: p('version'), size: p('size'), hash: p('hash'), modified_at: p('modified_at') }).where('id', '=', p('id')),
  );
  const beyondRetained = fixedQuery(db, (d, p) =>
    d
      .selectFrom('versions')
      .select(['id', 'size', 'hash'])
      .where('item_id', '=', p('item_id'))
      .where('id', '!=', p('id'))
      .orderBy('seq', 'desc')
      .offset(p('keep'))
      .limit(p('max')),
  );

  const toEntry = (item: Item): RemoteEntry => {
    const base = {
      kind: item.kind as EntryKind,
      id: item.id,
      version: item.version,
      size: Number(item.size),
      path: item.path,
      name: item.name,
      parentId: item.parent_id,
      modifiedAt: Number(item.modified_at),
    };
    return item.hash === null ? base : { ...base, hash: item.hash };
  };

  const notify = (spaceId: string): void => {
    for (const listener of listeners.get(spaceId) ?? []) listener();
  };

  /** One mutation: a transaction plus the feed, quota and garbage it accumulates. */
  interface Tx {
    readonly trx: Transaction<CloudDatabase>;
    readonly space: Space;
    cursor: number;
    used: number;
    readonly changes: { op: ChangeOp; item: Item; fromPath: string | null }[];
    readonly garbage: Set<string>;
  }

  /** A mutation waiting for the next group commit. */
  interface Pending {
    readonly spaceId: string;
    readonly fn: (tx: Tx) => Promise<unknown>;
    readonly resolve: (value: unknown) => void;
    readonly reject: (error: unknown) => void;
    readonly onFeed: ((span: FeedSpan) => void) | undefined;
  }
  const queue: Pending[] = [];
  let draining = false;

  /**
   * One mutation, atomic: it runs in a SAVEPOINT of a transaction shared with the mutations queued
   * beside it (group commit, ADR 0096). Its own failure rolls back only its savepoint; the promise
   * settles only after the shared COMMIT, so an answered write is on disk. `onFeed` is told, just
   * before, the feed numbers of the mutation's changes, when it made any (ADR 0100).
   */
  function mutate<T>(spaceId: string, fn: (tx: Tx) => Promise<T>, onFeed?: (span: FeedSpan) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ spaceId, fn, resolve: resolve as (value: unknown) => void, reject, onFeed });
      if (!draining) void drain();
    });
  }

  async function drain(): Promise<void> {
    draining = true;
    try {
      while (queue.length > 0) {
        // Let requests that are ready join this commit (they queue while the last one fsynced).
        await new Promise<void>((resolve) => setImmediate(resolve));
        const group = queue.splice(0, GROUP_MAX);
        const outcomes: ({ ok: true; value: unknown; changed: string | null; garbage: Set<string>; span: FeedSpan | null } | { ok: false; error: unknown })[] = [];
        try {
          await db.transaction().execute(async (trx) => {
            // Each space's row is read once per group and written once at its end: a mutation
            // that succeeds moves the space's cursor and usage here; one rolled back does not.
            const spaces = new Map<string, SpaceState>();
            for (const p of group) {
              await sql`SAVEPOINT m`.execute(trx);
              try {
                const { state, ...outcome } = await runMutation(trx, spaces, p.spaceId, p.fn);
                await sql`RELEASE m`.execute(trx);
                spaces.set(p.spaceId, state);
                outcomes.push({ ok: true, ...outcome });
              } catch (error) {
                await sql`ROLLBACK TO m`.execute(trx);
                await sql`RELEASE m`.execute(trx);
                outcomes.push({ ok: false, error });
              }
            }
            for (const [spaceId, { row, cursor, used }] of spaces) {
              if (cursor !== Number(row.cursor) || used !== Number(row.used)) await trx.updateTable('spaces').set({ cursor, used }).where('id', '=', spaceId).execute();
            }
          });
        } catch (error) {
          // The commit itself failed: nothing of the group is written.
          for (const p of group) p.reject(error);
          continue;
        }
        const changed = new Set<string>();
        const garbage = new Set<string>();
        for (const o of outcomes) {
          if (!o.ok) continue;
          if (o.changed !== null) changed.add(o.changed);
          for (const h of o.garbage) garbage.add(h);
        }
        for (const id of changed) notify(id);
        for (const hash of garbage) {
          try {
            await removeIfUnreferenced(hash);
          } catch {
            // Garbage is swept again at the next start; the writes themselves succeeded.
          }
        }
        group.forEach((p, i) => {
          const o = outcomes[i];
          if (o === undefined) p.reject(new Error('assertion failed: a grouped mutation has no outcome'));
          else if (o.ok) {
            if (o.span !== null) p.onFeed?.(o.span);
            p.resolve(o.value);
          }
          else p.reject(o.error);
        });
      }
    } finally {
      draining = false;
    }
  }

  /** A space during a group commit: its row as read at the group's start, its cursor and usage now. */
  interface SpaceState {
    readonly row: Space;
    readonly cursor: number;
    readonly used: number;
  }

  async function runMutation(
    trx: Transaction<CloudDatabase>,
    spaces: ReadonlyMap<string, SpaceState>,
    spaceId: string,
    fn: (tx: Tx) => Promise<unknown>,
  ): Promise<{ value: unknown; changed: string | null; garbage: Set<string>; span: FeedSpan | null; state: SpaceState }> {
    let before = spaces.get(spaceId);
    if (before === undefined) {
      const row = await trx.selectFrom('spaces').selectAll().where('id', '=', spaceId).executeTakeFirstOrThrow();
      before = { row, cursor: Number(row.cursor), used: Number(row.used) };
    }
    const tx: Tx = { trx, space: before.row, cursor: before.cursor, used: before.used, changes: [], garbage: new Set() };
    const value = await fn(tx);
    let changed: string | null = null;
    // The space's changes are numbered in order, one mutation's after the other's: its own are consecutive.
    const span: FeedSpan | null = tx.changes.length === 0 ? null : { first: tx.cursor + 1, last: tx.cursor + tx.changes.length };
    if (tx.changes.length > 0) {
      const at = now();
      const rows = tx.changes.map((c) => {
        tx.cursor += 1;
        return {
          space_id: spaceId,
          seq: tx.cursor,
          op: c.op,
          item_id: c.item.id,
          kind: c.item.kind,
          path: c.item.path,
          from_path: c.fromPath,
          version: c.item.version,
          size: c.item.size,
          hash: c.item.hash,
          deleted: c.item.bin_id === null && c.op !== 'delete' ? 0 : 1,
          at,
        };
      });
      // SQLite limits bound parameters per statement; 12 columns x 500 rows stays under it.
      // One compiled single-row statement a change: cheaper here than building one query of many rows.
      for (const row of rows) await insertChange(trx, row);
      changed = spaceId;
    }
    return { value, changed, garbage: tx.garbage, span, state: { row: before.row, cursor: tx.cursor, used: tx.used } };
  }

  async function removeIfUnreferenced(hash: string): Promise<void> {
    const ref = await db.selectFrom('versions').select('id').where('hash', '=', hash).limit(1).executeTakeFirst();
    // The pin check and the removal run in one synchronous step: an upload pins its hash before
    // it looks for an existing blob, so either it sees the pin-free removal done, or we see its pin.
    if (ref === undefined && !pins.has(hash)) blobs.remove(hash);
    // Inline contents go in the same transaction as their version, so they need no pin: one
    // statement drops the row only while nothing refers to it.
    await sql`DELETE FROM inline_blobs WHERE hash = ${hash} AND NOT EXISTS (SELECT 1 FROM versions WHERE hash = ${hash})`.execute(db);
  }

  function pin(hash: string): () => void {
    pins.set(hash, (pins.get(hash) ?? 0) + 1);
    return () => {
      const n = (pins.get(hash) ?? 1) - 1;
      if (n <= 0) pins.delete(hash);
      else pins.set(hash, n);
    };
  }

  const live = (trx: Kysely<CloudDatabase>, spaceId: string) =>
    trx.selectFrom('items').selectAll().where('space_id', '=', spaceId).where('bin_id', 'is', null);

  async function itemAt(trx: Kysely<CloudDatabase>, spaceId: string, path: RelPath): Promise<Item | undefined> {
    return (await liveAt(trx, { space_id: spaceId, path })).rows[0];
  }

  async function itemById(trx: Kysely<CloudDatabase>, spaceId: string, id: string): Promise<Item> {
    const item = (await liveById(trx, { space_id: spaceId, id })).rows[0];
    if (item === undefined) throw new CloudError('not-found', `no item ${id} in this space (it may have been deleted)`, { id });
    return item;
  }

  /** Live items strictly below `path`. The range works because '0' is the byte after '/'. */
  async function below(trx: Kysely<CloudDatabase>, spaceId: string, path: RelPath): Promise<Item[]> {
    if (path === '') return live(trx, spaceId).where('path', '!=', '').execute();
    return live(trx, spaceId).where('path', '>', `${path}/`).where('path', '<', `${path}0`).execute();
  }

  function stale(item: Item, expected: string | null, what: string): CloudError {
    return new CloudError('conflict', `${what}: ${item.path === '' ? 'the root' : item.path} is at version ${item.version}, not ${expected ?? '(none)'}; fetch it and try again`, {
      reason: 'stale-version',
      current: toEntry(item),
    });
  }

  function taken(existing: Item): CloudError {
    return new CloudError('conflict', `${existing.path} already exists (a ${existing.kind === 'dir' ? 'folder' : 'file'})`, {
      reason: 'path-taken',
      current: toEntry(existing),
    });
  }

  /** The folder at `path`, creating missing folders on the way (like mkdir -p). */
  async function ensureFolder(tx: Tx, path: RelPath): Promise<Item> {
    const found = await itemAt(tx.trx, tx.space.id, path);
    if (found !== undefined) {
      if (found.kind !== 'dir') throw new CloudError('conflict', `${path} is a file, not a folder`, { reason: 'not-a-folder', current: toEntry(found) });
      return found;
    }
    const parent = await ensureFolder(tx, parentOf(path));
    const item: Item = {
      id: newId('i'),
      space_id: tx.space.id,
      parent_id: parent.id,
      path,
      name: baseName(path),
      kind: 'dir',
      version: '0',
      size: 0,
      hash: null,
      bin_id: null,
      modified_at: now(),
    };
    await insertItem(tx.trx, item);
    tx.changes.push({ op: 'create', item, fromPath: null });
    return item;
  }

  function checkQuota(tx: Tx, bytes: number): void {
    const quota = tx.space.quota === null ? null : Number(tx.space.quota);
    if (quota !== null && tx.used + bytes > quota) {
      throw new CloudError('quota', `the space ${displayName(tx.space)} is full: ${tx.used} of ${quota} bytes used, ${bytes} more needed; free space by purging the recycle bin or old versions, or raise the quota`, {
        quota,
        used: tx.used,
        needed: bytes,
      });
    }
  }

  async function addVersion(tx: Tx, item: Item, size: number, hash: string): Promise<Item> {
    checkQuota(tx, size);
    const last = (await lastSeq(tx.trx, { item_id: item.id })).rows[0];
    const version = { id: newId('v'), item_id: item.id, space_id: tx.space.id, seq: (last?.seq ?? 0) + 1, size, hash, created_at: now() };
    await insertVersion(tx.trx, version);
    tx.used += size;
    const updated: Item = { ...item, version: version.id, size, hash, modified_at: version.created_at };
    await setVersion(tx.trx, { version: updated.version, size, hash, modified_at: updated.modified_at, id: item.id });
    // Retention: the newest `retain` versions stay; the current one is always among them.
    const old = (await beyondRetained(tx.trx, { item_id: item.id, id: version.id, keep: retain - 1, max: 1_000_000 })).rows;
    if (old.length > 0) {
      await tx.trx.deleteFrom('versions').where('id', 'in', old.map((v) => v.id)).execute();
      for (const v of old) {
        tx.used -= Number(v.size);
        tx.garbage.add(v.hash);
      }
    }
    return updated;
  }

  async function newFile(tx: Tx, path: RelPath, size: number, hash: string): Promise<Item> {
    const parent = await ensureFolder(tx, parentOf(path));
    checkQuota(tx, size);
    // A new item's first version: no earlier version to number after or to retire.
    const at = now();
    const version = { id: newId('v'), item_id: newId('i'), space_id: tx.space.id, seq: 1, size, hash, created_at: at };
    const item: Item = {
      id: version.item_id,
      space_id: tx.space.id,
      parent_id: parent.id,
      path,
      name: baseName(path),
      kind: 'file',
      version: version.id,
      size,
      hash,
      bin_id: null,
      modified_at: at,
    };
    await insertItem(tx.trx, item);
    await insertVersion(tx.trx, version);
    tx.used += size;
    return item;
  }

  /** Decides what an upload would replace; throws the conflict a stale or clashing write gets. */
  async function uploadTarget(trx: Kysely<CloudDatabase>, spaceId: string, target: UploadTarget, baseVersion: string | null, hash: string): Promise<Item | null> {
    const existing = 'id' in target ? await itemById(trx, spaceId, target.id) : ((await itemAt(trx, spaceId, target.path)) ?? null);
    if (existing === null) {
      if (baseVersion !== null) {
        throw new CloudError('conflict', `${'path' in target ? target.path : ''} no longer exists (it was moved or deleted since version ${baseVersion}); fetch the folder again`, { reason: 'gone' });
      }
      return null;
    }
    if (existing.kind === 'dir') throw taken(existing);
    // Same content as now: the write has already happened (a retry) or is a no-op either way.
    if (existing.hash === hash) return existing;
    if (baseVersion === null) throw taken(existing);
    if (existing.version !== baseVersion) throw stale(existing, baseVersion, 'upload refused');
    return existing;
  }

  function displayName(space: Space): string {
    return space.type === 'personal' ? PERSONAL : space.name;
  }

  function uniqueSuffix(path: RelPath, n: number): RelPath {
    const name = baseName(path);
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    return joinRel(parentOf(path), `${stem} (restored${n > 1 ? ` ${n}` : ''})${ext}`);
  }

  async function moveSubtree(tx: Tx, item: Item, to: RelPath, op: ChangeOp, fromBin: string | null): Promise<Item> {
    const parent = await ensureFolder(tx, parentOf(to));
    const from = item.path;
    const subtree =
      fromBin === null
        ? await below(tx.trx, tx.space.id, from)
        : await tx.trx.selectFrom('items').selectAll().where('bin_id', '=', fromBin).where('id', '!=', item.id).execute();
    const moved: Item = { ...item, parent_id: parent.id, path: to, name: baseName(to), bin_id: null };
    await tx.trx.updateTable('items').set({ parent_id: moved.parent_id, path: to, name: moved.name, bin_id: null }).where('id', '=', item.id).execute();
    tx.changes.push({ op, item: moved, fromPath: op === 'move' ? from : null });
    for (const child of subtree) {
      const path = to + child.path.slice(from.length);
      await tx.trx.updateTable('items').set({ path, bin_id: null }).where('id', '=', child.id).execute();
      tx.changes.push({ op, item: { ...child, path, bin_id: null }, fromPath: op === 'move' ? child.path : null });
    }
    return moved;
  }

  return {
    /** Subscribes to "something changed in space `spaceId`"; returns the unsubscribe function. */
    onChange(spaceId: string, listener: () => void): () => void {
      let set = listeners.get(spaceId);
      if (set === undefined) {
        set = new Set();
        listeners.set(spaceId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },

    /** The user a bearer token belongs to, or null. */
    async authenticate(token: string): Promise<CloudUser | null> {
      const user = await db.selectFrom('users').select(['id', 'name']).where('token_hash', '=', sha256(token)).executeTakeFirst();
      return user ?? null;
    },

    /** Resolves a space name for a user (`personal` is the user's own); spaces they are not in are not found. */
    async access(user: CloudUser, name: string): Promise<SpaceAccess> {
      const row = await db
        .selectFrom('spaces')
        .innerJoin('members', 'members.space_id', 'spaces.id')
        .selectAll('spaces')
        .select('members.role')
        .where('members.user_id', '=', user.id)
        .where('spaces.name', '=', name === PERSONAL ? personalName(user.name) : name)
        .executeTakeFirst();
      if (row === undefined) throw new CloudError('not-found', `no space ${JSON.stringify(name)} for user ${user.name}; \`foldsync remote spaces\` lists yours`, { scope: 'space' });
      const { role, ...space } = row;
      return { space, role: role as SpaceRole };
    },

    /** The spaces a user may use. */
    async spaces(user: CloudUser): Promise<RemoteSpace[]> {
      const rows = await db
        .selectFrom('spaces')
        .innerJoin('members', 'members.space_id', 'spaces.id')
        .selectAll('spaces')
        .select('members.role')
        .where('members.user_id', '=', user.id)
        .orderBy('spaces.name')
        .execute();
      return rows.map((r) => ({
        name: displayName(r),
        type: r.type as SpaceType,
        role: r.role as SpaceRole,
        quota: r.quota === null ? null : Number(r.quota),
        used: Number(r.used),
      }));
    },

    /** SPEC.md section 3 for this user and space. */
    permission(access: SpaceAccess, mode: SyncMode): PermissionVerdict {
      return taskPermission(access.space.type as SpaceType, access.role, mode);
    },

    /** Throws `not-permitted` unless a task in `mode` may write to the space. */
    requireWrite(access: SpaceAccess, mode: SyncMode): void {
      const verdict = taskPermission(access.space.type as SpaceType, access.role, mode);
      if (!verdict.allowed) throw new CloudError('not-permitted', `you may not write to ${displayName(access.space)} in ${mode} mode: ${verdict.message}`, { role: access.role, mode });
    },

    /** The live item at `path`. */
    async stat(space: Space, path: RelPath): Promise<RemoteEntry> {
      const item = await itemAt(db, space.id, path);
      if (item === undefined) throw new CloudError('not-found', `nothing at ${path} in ${displayName(space)}`, { path });
      return toEntry(item);
    },

    /** The live item `id`. */
    async statById(space: Space, id: string): Promise<RemoteEntry> {
      return toEntry(await itemById(db, space.id, id));
    },

    /** The folder at `path` and its children (or its whole subtree), sorted by path. */
    async list(space: Space, path: RelPath, recursive: boolean): Promise<{ folder: RemoteEntry; entries: RemoteEntry[] }> {
      const folder = await itemAt(db, space.id, path);
      if (folder === undefined) throw new CloudError('not-found', `no folder ${path} in ${displayName(space)}`, { path });
      if (folder.kind !== 'dir') throw new CloudError('bad-request', `${path} is a file, not a folder`);
      const rows = recursive ? await below(db, space.id, path) : await live(db, space.id).where('parent_id', '=', folder.id).execute();
      rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      return { folder: toEntry(folder), entries: rows.map(toEntry) };
    },

    /** Creates the folder at `path` and any missing parents; an existing folder is returned as is. */
    async mkdir(space: Space, path: RelPath, onFeed?: (span: FeedSpan) => void): Promise<RemoteEntry> {
      if (path === '') return toEntry(await itemById(db, space.id, space.root_id));
      return toEntry(await mutate(space.id, (tx) => ensureFolder(tx, path), onFeed));
    },

    /**
     * Fails early, before any bytes are sent, when an upload is sure to be refused (stale base,
     * path taken, quota). The commit checks again: this is only a courtesy.
     */
    async precheckUpload(space: Space, target: UploadTarget, baseVersion: string | null, hash: string, size: number): Promise<void> {
      const existing = await uploadTarget(db, space.id, target, baseVersion, hash);
      if (existing?.hash === hash) return;
      const quota = space.quota === null ? null : Number(space.quota);
      if (quota !== null && Number(space.used) + size > quota) {
        throw new CloudError('quota', `the space ${displayName(space)} is full: ${Number(space.used)} of ${quota} bytes used, ${size} more needed`, { quota, used: Number(space.used), needed: size });
      }
    },

    /** Pins `hash` against garbage collection while an upload commits it; returns the unpin. */
    pin,

    /**
     * Commits uploaded content (already a blob, pinned by the caller) as a new file or a new
     * version, conditional on `baseVersion`.
     */
    async commitUpload(space: Space, target: UploadTarget, baseVersion: string | null, hash: string, size: number, inline?: Uint8Array, onFeed?: (span: FeedSpan) => void): Promise<RemoteEntry> {
      const item = await mutate(space.id, async (tx) => {
        const existing = await uploadTarget(tx.trx, space.id, target, baseVersion, hash);
        if (existing?.hash === hash) return existing;
        // The content goes in with the version that refers to it: one commit makes both durable.
        if (inline !== undefined) await insertInline(tx.trx, { hash, data: inline });
        if (existing === null) {
          if (!('path' in target)) throw new Error('assertion failed: an id target always exists');
          const created = await newFile(tx, target.path, size, hash);
          tx.changes.push({ op: 'create', item: created, fromPath: null });
          return created;
        }
        const updated = await addVersion(tx, existing, size, hash);
        tx.changes.push({ op: 'update', item: updated, fromPath: null });
        return updated;
      }, onFeed);
      return toEntry(item);
    },

    /** The bytes of a content kept inline in the database, or null when it is a blob file. */
    async inlineBlob(hash: string): Promise<Buffer | null> {
      const row = await db.selectFrom('inline_blobs').select('data').where('hash', '=', hash).executeTakeFirst();
      return row === undefined ? null : Buffer.from(row.data);
    },

    /** Drops inline contents no version refers to (left by a crash between a commit and its garbage collection). */
    async sweepInline(): Promise<void> {
      await sql`DELETE FROM inline_blobs WHERE hash NOT IN (SELECT hash FROM versions)`.execute(db);
    },

    /** After a failed commit: drops the blob if nothing refers to it. */
    removeIfUnreferenced,

    /** Moves or renames item `id` to `to` (a folder with everything in it). */
    async move(space: Space, id: string, to: RelPath, ifVersion: string | null, onFeed?: (span: FeedSpan) => void): Promise<RemoteEntry> {
      return toEntry(
        await mutate(space.id, async (tx) => {
          const item = await itemById(tx.trx, space.id, id);
          if (item.id === space.root_id) throw new CloudError('bad-request', 'the root of a space cannot be moved');
          if (ifVersion !== null && item.version !== ifVersion) throw stale(item, ifVersion, 'move refused');
          if (to === item.path) return item;
          if (to === '' || to.startsWith(`${item.path}/`)) throw new CloudError('bad-request', `cannot move ${item.path} into itself (${to})`);
          const existing = await itemAt(tx.trx, space.id, to);
          if (existing !== undefined) throw taken(existing);
          return moveSubtree(tx, item, to, 'move', null);
        }, onFeed),
      );
    },

    /** Copies item `id` (a folder with everything in it) to `to`, as new items with their current contents. */
    async copy(space: Space, id: string, to: RelPath): Promise<RemoteEntry> {
      return toEntry(
        await mutate(space.id, async (tx) => {
          const item = await itemById(tx.trx, space.id, id);
          if (to === '' || to === item.path || to.startsWith(`${item.path}/`)) throw new CloudError('bad-request', `cannot copy ${item.path || 'the root'} into itself (${to})`);
          const existing = await itemAt(tx.trx, space.id, to);
          if (existing !== undefined) throw taken(existing);
          const subtree = [item, ...(await below(tx.trx, space.id, item.path))].sort((a, b) => a.path.length - b.path.length);
          let top: Item | undefined;
          for (const source of subtree) {
            const path = source === item ? to : to + source.path.slice(item.path.length);
            if (source.kind === 'dir') {
              const folder = await ensureFolder(tx, path);
              top ??= folder;
            } else {
              const created = await newFile(tx, path, Number(source.size), source.hash ?? '');
              tx.changes.push({ op: 'create', item: created, fromPath: null });
              top ??= created;
            }
          }
          if (top === undefined) throw new Error('assertion failed: a copy copies at least its item');
          return top;
        }),
      );
    },

    /** Sends item `id` (with everything in it) to the recycle bin, if it is still at `ifVersion`. */
    async remove(space: Space, id: string, ifVersion: string | null, onFeed?: (span: FeedSpan) => void): Promise<BinEntry> {
      return mutate(space.id, async (tx) => {
        const item = await itemById(tx.trx, space.id, id);
        if (item.id === space.root_id) throw new CloudError('bad-request', 'the root of a space cannot be deleted');
        if (ifVersion !== null && item.version !== ifVersion) throw stale(item, ifVersion, 'delete refused');
        const subtree = [item, ...(await below(tx.trx, space.id, item.path))];
        const binId = newId('b');
        const entry: BinEntry = {
          id: binId,
          itemId: item.id,
          kind: item.kind as EntryKind,
          path: item.path,
          size: subtree.reduce((n, i) => n + Number(i.size), 0),
          deletedAt: now(),
        };
        await tx.trx.insertInto('bin').values({ id: binId, space_id: space.id, item_id: item.id, kind: item.kind, path: item.path, size: entry.size, deleted_at: entry.deletedAt }).execute();
        const ids = subtree.map((i) => i.id);
        for (let i = 0; i < ids.length; i += 500) await tx.trx.updateTable('items').set({ bin_id: binId }).where('id', 'in', ids.slice(i, i + 500)).execute();
        for (const i of subtree) tx.changes.push({ op: 'delete', item: { ...i, bin_id: binId }, fromPath: null });
        return entry;
      }, onFeed);
    },

    /** A file's retained versions, newest first. */
    async versions(space: Space, id: string): Promise<RemoteVersion[]> {
      const item = await itemById(db, space.id, id);
      const rows = await db.selectFrom('versions').selectAll().where('item_id', '=', item.id).orderBy('seq', 'desc').execute();
      return rows.map((v) => ({ id: v.id, size: Number(v.size), hash: v.hash, createdAt: Number(v.created_at), current: v.id === item.version }));
    },

    /** The blob and size of a version of live file `id` (default: the current one). */
    async content(space: Space, id: string, version: string | null): Promise<{ hash: string; size: number; version: string }> {
      const item = await itemById(db, space.id, id);
      if (item.kind !== 'file') throw new CloudError('bad-request', `${item.path} is a folder; download its files one by one`);
      const v = await db
        .selectFrom('versions')
        .selectAll()
        .where('item_id', '=', id)
        .where('id', '=', version ?? item.version)
        .executeTakeFirst();
      if (v === undefined) throw new CloudError('not-found', `file ${item.path} has no version ${version ?? item.version}`);
      return { hash: v.hash, size: Number(v.size), version: v.id };
    },

    /** Makes an old version current again, as a new version (the history keeps every step). */
    async restoreVersion(space: Space, id: string, versionId: string, ifVersion: string | null): Promise<RemoteEntry> {
      return toEntry(
        await mutate(space.id, async (tx) => {
          const item = await itemById(tx.trx, space.id, id);
          if (ifVersion !== null && item.version !== ifVersion) throw stale(item, ifVersion, 'restore refused');
          if (item.version === versionId) return item;
          const v = await tx.trx.selectFrom('versions').selectAll().where('item_id', '=', id).where('id', '=', versionId).executeTakeFirst();
          if (v === undefined) throw new CloudError('not-found', `file ${item.path} has no version ${versionId}`);
          const updated = await addVersion(tx, item, Number(v.size), v.hash);
          tx.changes.push({ op: 'update', item: updated, fromPath: null });
          return updated;
        }),
      );
    },

    /** The recycle bin, newest first. */
    async bin(space: Space): Promise<BinEntry[]> {
      const rows = await db.selectFrom('bin').selectAll().where('space_id', '=', space.id).orderBy('deleted_at', 'desc').orderBy('id').execute();
      return rows.map((b) => ({ id: b.id, itemId: b.item_id, kind: b.kind as EntryKind, path: b.path, size: Number(b.size), deletedAt: Number(b.deleted_at) }));
    },

    /** Puts a bin entry back where it was (missing folders recreated; a taken path gets a suffix). */
    async restoreFromBin(space: Space, binId: string): Promise<RemoteEntry> {
      return toEntry(
        await mutate(space.id, async (tx) => {
          const entry = await tx.trx.selectFrom('bin').selectAll().where('space_id', '=', space.id).where('id', '=', binId).executeTakeFirst();
          if (entry === undefined) throw new CloudError('not-found', `no entry ${binId} in the recycle bin`);
          const item = await tx.trx.selectFrom('items').selectAll().where('id', '=', entry.item_id).executeTakeFirstOrThrow();
          let to = entry.path;
          for (let n = 1; (await itemAt(tx.trx, space.id, to)) !== undefined; n++) to = uniqueSuffix(entry.path, n);
          const restored = await moveSubtree(tx, item, to, 'restore', binId);
          await tx.trx.deleteFrom('bin').where('id', '=', binId).execute();
          return restored;
        }),
      );
    },

    /** Deletes a bin entry for good, with every version of everything in it. */
    async purge(space: Space, binId: string): Promise<void> {
      await mutate(space.id, async (tx) => {
        const entry = await tx.trx.selectFrom('bin').select('id').where('space_id', '=', space.id).where('id', '=', binId).executeTakeFirst();
        if (entry === undefined) throw new CloudError('not-found', `no entry ${binId} in the recycle bin`);
        const items = await tx.trx.selectFrom('items').select('id').where('bin_id', '=', binId).execute();
        const ids = items.map((i) => i.id);
        for (let i = 0; i < ids.length; i += 500) {
          const chunk = ids.slice(i, i + 500);
          const versions = await tx.trx.selectFrom('versions').select(['size', 'hash']).where('item_id', 'in', chunk).execute();
          for (const v of versions) {
            tx.used -= Number(v.size);
            tx.garbage.add(v.hash);
          }
          await tx.trx.deleteFrom('versions').where('item_id', 'in', chunk).execute();
          await tx.trx.deleteFrom('items').where('id', 'in', chunk).execute();
        }
        await tx.trx.deleteFrom('bin').where('id', '=', binId).execute();
      });
    },

    /** The feed position after the latest change. */
    async cursor(space: Space): Promise<string> {
      const row = await db.selectFrom('spaces').select('cursor').where('id', '=', space.id).executeTakeFirstOrThrow();
      return String(row.cursor);
    },

    /** Up to `limit` changes after `cursor`. */
    async changes(space: Space, cursor: string, limit: number): Promise<ChangeBatch> {
      if (!/^\d{1,15}$/.test(cursor)) throw new CloudError('bad-request', `cursor ${JSON.stringify(cursor.slice(0, 40))} is not one this server gave out`);
      const after = Number(cursor);
      const rows = await db.selectFrom('changes').selectAll().where('space_id', '=', space.id).where('seq', '>', after).orderBy('seq').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const changes = page.map((r): ChangeEntry => {
        const base = {
          cursor: String(r.seq),
          op: r.op as ChangeOp,
          id: r.item_id,
          kind: r.kind as EntryKind,
          path: r.path,
          version: r.version,
          size: Number(r.size),
          deleted: r.deleted === 1,
          at: Number(r.at),
        };
        return { ...base, ...(r.from_path === null ? {} : { fromPath: r.from_path }), ...(r.hash === null ? {} : { hash: r.hash }) };
      });
      const last = page.at(-1);
      return { changes, cursor: last === undefined ? String(after) : String(last.seq), more: rows.length > limit };
    },

    /** Opens a resumable upload session (checked like a simple upload first). */
    async createUpload(user: CloudUser, space: Space, mode: SyncMode, target: UploadTarget, baseVersion: string | null, hash: string, size: number): Promise<UploadSession> {
      await this.precheckUpload(space, target, baseVersion, hash, size);
      const id = newId('u');
      await db
        .insertInto('uploads')
        .values({
          id,
          space_id: space.id,
          user_id: user.id,
          path: 'path' in target ? target.path : null,
          item_id: 'id' in target ? target.id : null,
          base_version: baseVersion,
          mode,
          size,
          hash,
          created_at: now(),
        })
        .execute();
      return { id, size, hash, received: 0 };
    },

    /** A session of this user in this space. */
    async upload(user: CloudUser, space: Space, id: string) {
      const row = await db.selectFrom('uploads').selectAll().where('id', '=', id).where('space_id', '=', space.id).where('user_id', '=', user.id).executeTakeFirst();
      if (row === undefined) throw new CloudError('not-found', `no upload session ${id} (it was committed, cancelled or never existed)`);
      const target: UploadTarget = row.item_id !== null ? { id: row.item_id } : { path: row.path ?? '' };
      return { id: row.id, target, baseVersion: row.base_version, size: Number(row.size), hash: row.hash, mode: row.mode as SyncMode };
    },

    /** Forgets sessions opened more than `ageMs` ago; returns the ids of all sessions left. */
    async expireUploads(ageMs: number): Promise<{ expired: string[]; kept: string[] }> {
      const cutoff = now() - ageMs;
      const rows = await db.selectFrom('uploads').select(['id', 'created_at']).execute();
      const expired = rows.filter((r) => Number(r.created_at) <= cutoff).map((r) => r.id);
      for (let i = 0; i < expired.length; i += 500) await db.deleteFrom('uploads').where('id', 'in', expired.slice(i, i + 500)).execute();
      return { expired, kept: rows.filter((r) => Number(r.created_at) > cutoff).map((r) => r.id) };
    },

    /** Forgets a session (after commit or cancel). */
    async dropUpload(id: string): Promise<void> {
      await db.deleteFrom('uploads').where('id', '=', id).execute();
    },

    // ---- administration (the `foldsync cloud` commands) ----

    /** Adds a user with a personal space; returns the bearer token, shown once. */
    async addUser(name: string): Promise<{ user: CloudUser; token: string }> {
      if (!USER_NAME.test(name)) throw new CloudError('bad-name', `user name ${JSON.stringify(name)}: use 1-64 letters, digits, '.', '_' or '-'`);
      const exists = await db.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
      if (exists !== undefined) throw new CloudError('conflict', `user ${name} already exists`);
      const user = { id: newId('usr'), name };
      const token = `fst_${randomBytes(24).toString('base64url')}`;
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values({ ...user, token_hash: sha256(token), created_at: now() }).execute();
        const space = await insertSpace(trx, personalName(name), 'personal', null);
        await trx.insertInto('members').values({ space_id: space, user_id: user.id, role: 'owner' }).execute();
      });
      return { user, token };
    },

    /** Issues a new token for a user (the old one stops working). */
    async resetToken(name: string): Promise<string> {
      const token = `fst_${randomBytes(24).toString('base64url')}`;
      const r = await db.updateTable('users').set({ token_hash: sha256(token) }).where('name', '=', name).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw new CloudError('not-found', `no user ${name}`);
      return token;
    },

    /** Adds a space of `type` (not `personal`: every user has one). Received ones name their recipient. */
    async addSpace(name: string, type: SpaceType, quota: number | null, recipient?: { user: string; role: SpaceRole }): Promise<void> {
      if (!SPACE_TYPES.includes(type) || type === 'personal') throw new CloudError('bad-request', `space type must be team, received-share or received-transfer`);
      const problem = nameProblem(name);
      if (problem !== null || name.includes(':') || name === PERSONAL) throw new CloudError('bad-name', `space name ${JSON.stringify(name)} is not allowed (${problem ?? 'reserved'})`);
      if ((await db.selectFrom('spaces').select('id').where('name', '=', name).executeTakeFirst()) !== undefined) throw new CloudError('conflict', `space ${name} already exists`);
      await db.transaction().execute(async (trx) => {
        const spaceId = await insertSpace(trx, name, type, quota);
        if (recipient !== undefined) {
          const user = await userByName(trx, recipient.user);
          await trx.insertInto('members').values({ space_id: spaceId, user_id: user.id, role: recipient.role }).execute();
        }
      });
    },

    /** Gives `user` the role `role` in space `space` (replacing any previous role). */
    async setMember(spaceName: string, userName: string, role: SpaceRole): Promise<void> {
      if (!SPACE_ROLES.includes(role)) throw new CloudError('bad-request', `role must be one of ${SPACE_ROLES.join(', ')}`);
      const space = await spaceByName(db, spaceName);
      if (space.type === 'personal') throw new CloudError('bad-request', 'a personal space has exactly one user');
      const user = await userByName(db, userName);
      await db.deleteFrom('members').where('space_id', '=', space.id).where('user_id', '=', user.id).execute();
      await db.insertInto('members').values({ space_id: space.id, user_id: user.id, role }).execute();
    },

    /** Sets a space's quota in bytes (null: none). `personal:NAME` names a user's personal space. */
    async setQuota(spaceName: string, quota: number | null): Promise<void> {
      const space = await spaceByName(db, spaceName);
      await db.updateTable('spaces').set({ quota }).where('id', '=', space.id).execute();
    },
  };

  async function insertSpace(trx: Kysely<CloudDatabase>, name: string, type: SpaceType, quota: number | null): Promise<string> {
    const id = newId('sp');
    const rootId = newId('i');
    const at = now();
    await trx.insertInto('spaces').values({ id, name, type, root_id: rootId, quota, used: 0, cursor: 0, created_at: at }).execute();
    await trx
      .insertInto('items')
      .values({ id: rootId, space_id: id, parent_id: null, path: '', name: '', kind: 'dir', version: '0', size: 0, hash: null, bin_id: null, modified_at: at })
      .execute();
    return id;
  }

  async function userByName(trx: Kysely<CloudDatabase>, name: string): Promise<CloudUser> {
    const user = await trx.selectFrom('users').select(['id', 'name']).where('name', '=', name).executeTakeFirst();
    if (user === undefined) throw new CloudError('not-found', `no user ${name}; add one with \`foldsync cloud user add ${name}\``);
    return user;
  }

  async function spaceByName(trx: Kysely<CloudDatabase>, name: string): Promise<Space> {
    const space = await trx.selectFrom('spaces').selectAll().where('name', '=', name).executeTakeFirst();
    if (space === undefined) throw new CloudError('not-found', `no space ${name}`);
    return space;
  }
}

/** The internal name of a user's personal space (users call it `personal`). */
export function personalName(user: string): string {
  return `personal:${user}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
