/**
 * The cloud server's metadata schema: kysely table types and the migrations, defined in code so
 * that the server needs no migration files on disk and any kysely dialect can run them.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/** Users and the SHA-256 of their bearer token (the token itself is never stored). */
export interface UsersTable {
  id: string;
  name: string;
  token_hash: string;
  created_at: number;
}

/** Spaces; `cursor` is the last change-feed position, `used` the bytes held by all versions. */
export interface SpacesTable {
  id: string;
  name: string;
  type: string;
  root_id: string;
  quota: number | null;
  used: number;
  cursor: number;
  created_at: number;
}

/** Who may use a space, and as what. */
export interface MembersTable {
  space_id: string;
  user_id: string;
  role: string;
}

/**
 * Files and folders. `path` is stored (and rewritten for a moved subtree) so that path lookups are
 * one indexed query; it is unique among live items (`bin_id` null). A binned item keeps the path
 * it had when deleted.
 */
export interface ItemsTable {
  id: string;
  space_id: string;
  parent_id: string | null;
  path: string;
  name: string;
  kind: string;
  version: string;
  size: number;
  hash: string | null;
  bin_id: string | null;
  modified_at: number;
}

/** Every retained version of every file; `seq` orders them per item. */
export interface VersionsTable {
  id: string;
  item_id: string;
  space_id: string;
  seq: number;
  size: number;
  hash: string;
  created_at: number;
}

/** Recycle bin entries: one per delete, naming the top item deleted. */
export interface BinTable {
  id: string;
  space_id: string;
  item_id: string;
  kind: string;
  path: string;
  size: number;
  deleted_at: number;
}

/** The change feed: one row per changed item, numbered per space. */
export interface ChangesTable {
  space_id: string;
  seq: number;
  op: string;
  item_id: string;
  kind: string;
  path: string;
  from_path: string | null;
  version: string;
  size: number;
  hash: string | null;
  deleted: number;
  at: number;
}

/** Resumable upload sessions; the bytes live in the blob store's upload area. */
export interface UploadsTable {
  id: string;
  space_id: string;
  user_id: string;
  path: string | null;
  item_id: string | null;
  base_version: string | null;
  mode: string;
  size: number;
  hash: string;
  created_at: number;
}

/** Small contents kept in the database instead of a blob file (ADR 0096); keyed like blobs. */
export interface InlineBlobsTable {
  hash: string;
  data: Uint8Array;
}

/** The whole database, for `Kysely<CloudDatabase>`. */
export interface CloudDatabase {
  inline_blobs: InlineBlobsTable;
  users: UsersTable;
  spaces: SpacesTable;
  members: MembersTable;
  items: ItemsTable;
  versions: VersionsTable;
  bin: BinTable;
  changes: ChangesTable;
  uploads: UploadsTable;
}

const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('spaces')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('root_id', 'text', (c) => c.notNull())
      .addColumn('quota', 'bigint')
      .addColumn('used', 'bigint', (c) => c.notNull())
      .addColumn('cursor', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('members')
      .addColumn('space_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('members_pk', ['space_id', 'user_id'])
      .execute();
    await db.schema
      .createTable('items')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('space_id', 'text', (c) => c.notNull())
      .addColumn('parent_id', 'text')
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('hash', 'text')
      .addColumn('bin_id', 'text')
      .addColumn('modified_at', 'bigint', (c) => c.notNull())
      .execute();
    // Two live items can never hold one path: the database refuses it even if the code slips.
    await db.schema.createIndex('items_live_path').on('items').columns(['space_id', 'path']).unique().where(sql.ref('bin_id'), 'is', null).execute();
    await db.schema.createIndex('items_parent').on('items').columns(['parent_id']).execute();
    await db.schema.createIndex('items_bin').on('items').columns(['bin_id']).execute();
    await db.schema.createIndex('items_hash').on('items').columns(['hash']).execute();
    await db.schema
      .createTable('versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('item_id', 'text', (c) => c.notNull())
      .addColumn('space_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('versions_item').on('versions').columns(['item_id', 'seq']).execute();
    await db.schema.createIndex('versions_hash').on('versions').columns(['hash']).execute();
    await db.schema
      .createTable('bin')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('space_id', 'text', (c) => c.notNull())
      .addColumn('item_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bin_space').on('bin').columns(['space_id', 'deleted_at']).execute();
    await db.schema
      .createTable('changes')
      .addColumn('space_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('op', 'text', (c) => c.notNull())
      .addColumn('item_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('from_path', 'text')
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('hash', 'text')
      .addColumn('deleted', 'integer', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('changes_pk', ['space_id', 'seq'])
      .execute();
    await db.schema
      .createTable('uploads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('space_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('path', 'text')
      .addColumn('item_id', 'text')
      .addColumn('base_version', 'text')
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};

const inlineBlobs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('inline_blobs')
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('data', 'blob', (c) => c.notNull())
      .execute();
  },
};

/**
 * No query looks items up by hash (garbage collection asks `versions`, which holds every content a
 * file has or had), and every upload paid a random insert into this index (ADR 0096 update).
 */
const dropItemsHash: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('items_hash').ifExists().execute();
  },
};

/** The migrations, in order. Never edit a released one: add the next. */
export const CLOUD_MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': initial,
  '0002-inline-blobs': inlineBlobs,
  '0003-drop-items-hash': dropItemsHash,
};

/** Serves {@link CLOUD_MIGRATIONS} to kysely's Migrator. */
export const cloudMigrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...CLOUD_MIGRATIONS }),
};
