/**
 * Opening a cloud data folder: the metadata database (SQLite by default, any kysely `Dialect` if
 * given), its migrations and the blob store. A locked or damaged database is a clear
 * `CloudStartError`; nothing is ever reset or recreated over an existing file.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Dialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { createDiskBlobStore, type BlobStore } from './blob-store.js';
import { createCloudCore, type CloudCore } from './cloud-core.js';
import { CloudStartError } from './cloud-error.js';
import { cloudMigrationProvider, type CloudDatabase } from './schema.js';

/** Options of {@link openCloudData}. */
export interface OpenCloudDataOptions {
  /** The data folder: metadata database, blobs, upload parts. Created if missing. */
  readonly dataDir: string;
  /** A kysely dialect for the metadata; default SQLite in `dataDir/meta.db`. */
  readonly dialect?: Dialect;
  /** A blob store; default on disk in `dataDir`. */
  readonly blobs?: BlobStore;
  /** How long to wait for a locked database before giving up (default 2000 ms). */
  readonly busyTimeoutMs?: number;
  /** Versions kept per file (default 100). */
  readonly retainVersions?: number;
  /** Hold the data folder for this process alone (the server does; admin commands do not). */
  readonly exclusive?: boolean;
}

/** An open data folder. */
export interface CloudData {
  readonly core: CloudCore;
  readonly db: Kysely<CloudDatabase>;
  readonly blobs: BlobStore;
  /**
   * True when the data folder's last user stopped cleanly (SQLite only): what a crash can leave
   * behind (damage, contents no version uses) need not be looked for.
   */
  readonly cleanStart: boolean;
  close(): Promise<void>;
}

/** Opens a data folder, migrating its schema to the latest version. */
export async function openCloudData(options: OpenCloudDataOptions): Promise<CloudData> {
  const { dataDir } = options;
  const timeout = options.busyTimeoutMs ?? 2000;
  await mkdir(dataDir, { recursive: true });
  let lock: Database.Database | null = null;
  let sqlite: Database.Database | null = null;
  let cleanStart = false;
  try {
    if (options.exclusive === true) lock = holdFolder(dataDir);
    let dialect = options.dialect;
    if (dialect === undefined) {
      const file = join(dataDir, 'meta.db');
      sqlite = new Database(file, { timeout });
      cleanStart = checkSqlite(sqlite, file, join(dataDir, CLEAN_MARK));
      dialect = new SqliteDialect({ database: cachedStatements(sqlite) });
    }
    const db = new Kysely<CloudDatabase>({ dialect });
    const { error } = await new Migrator({ db, provider: cloudMigrationProvider }).migrateToLatest();
    if (error !== undefined) {
      await db.destroy();
      throw error instanceof Error ? error : new Error('the metadata migration failed', { cause: error });
    }
    const blobs = options.blobs ?? (await createDiskBlobStore(dataDir));
    await blobs.sweepTemp();
    const core = createCloudCore({ db, blobs, ...(options.retainVersions === undefined ? {} : { retainVersions: options.retainVersions }) });
    const held = lock;
    return {
      core,
      db,
      blobs,
      cleanStart,
      close: async () => {
        await db.destroy();
        if (sqlite !== null) writeFileSync(join(dataDir, CLEAN_MARK), '');
        held?.close();
      },
    };
  } catch (error) {
    sqlite?.close();
    lock?.close();
    throw startError(error, dataDir);
  }
}

/**
 * kysely prepares every query anew; preparing cost more than running the small queries of an
 * upload (ADR 0096). The same SQL text gets the same prepared statement. kysely runs statements
 * with `all`/`run` (finished when they return) on one connection, so reuse is safe.
 */
function cachedStatements(sqlite: Database.Database, max = 1000): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (sql) => {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = sqlite.prepare(sql);
        // `IN (...)` lists of every length make many texts: start over rather than grow.
        if (cache.size >= max) cache.clear();
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * One server per data folder: a second one would not see the first one's in-flight uploads or
 * wake its long-polls. The hold is an exclusive SQLite lock on `server.lock`, which the operating
 * system drops when the process ends, so a crash never leaves a stale lock behind.
 */
function holdFolder(dataDir: string): Database.Database {
  const lock = new Database(join(dataDir, 'server.lock'), { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // What the file holds is only informative (the holder's pid): no fsync (nine at every start
    // before). The rollback journal stays, so a process killed mid-write leaves a sound file; only
    // a power loss could damage it.
    lock.pragma('synchronous = OFF');
    lock.exec('CREATE TABLE IF NOT EXISTS held (pid INTEGER)');
    lock.transaction(() => {
      lock.exec('DELETE FROM held');
      lock.prepare('INSERT INTO held (pid) VALUES (?)').run(process.pid);
    })();
    return lock;
  } catch (error) {
    lock.close();
    if (sqliteCode(error) === 'SQLITE_BUSY') {
      throw new CloudStartError('data-locked', `another foldsync cloud server is using ${dataDir}; stop it first, or choose another --data folder`, { cause: error });
    }
    throw error;
  }
}

/** Left in the data folder by a clean stop of the server (see {@link checkSqlite}). */
const CLEAN_MARK = 'meta.clean';

/** Sets the database up and checks it; true when the last stop was clean (the check was skipped). */
function checkSqlite(sqlite: Database.Database, file: string, cleanMark: string): boolean {
  sqlite.pragma('journal_mode = WAL');
  // FULL: an acknowledged write survives power loss, not only a process crash.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  // Checkpoint the WAL into the database every ~40 MB instead of every 4 MB (SQLite's default):
  // a first sync of small files dirtied enough pages to checkpoint at almost every group commit,
  // two fsyncs more each; a page written by several commits is now copied once. Durability is
  // the WAL's fsync at each commit either way. The WAL file is cut back to 64 MB after a checkpoint.
  sqlite.pragma('wal_autocheckpoint = 10000');
  sqlite.pragma('journal_size_limit = 67108864');
  // Every mutation runs in a SAVEPOINT of its group's transaction (ADR 0096), and a savepoint keeps
  // the first copy of each page it changes in a statement journal: in a temporary file by default,
  // which made each insert of a small-file upload about three times as slow as without it.
  sqlite.pragma('temp_store = MEMORY');
  // A server that cannot write is of no use: take the write lock once now, so that another
  // process holding it is a clear error at start rather than failed uploads later.
  sqlite.exec('BEGIN IMMEDIATE');
  sqlite.exec('ROLLBACK');
  // A full check reads the whole file (about 0.2 s per 10,000 small files, at every start): it is
  // needed after a crash, not after a clean stop, which leaves a mark that is removed here before
  // anything is written, so a crash from now on leaves none.
  const clean = existsSync(cleanMark);
  if (clean) rmSync(cleanMark, { force: true });
  const result = clean ? 'ok' : sqlite.pragma('quick_check', { simple: true });
  if (result !== 'ok') {
    throw new CloudStartError('data-corrupt', `the metadata database ${file} is damaged (${String(result)}); restore it from a backup. foldsync will not reset it.`);
  }
  return clean;
}

function sqliteCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function startError(error: unknown, dataDir: string): unknown {
  if (error instanceof CloudStartError) return error;
  const code = sqliteCode(error) ?? '';
  const file = join(dataDir, 'meta.db');
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new CloudStartError('data-locked', `the metadata database ${file} is locked by another process; stop it and try again`, { cause: error });
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new CloudStartError('data-corrupt', `the metadata database ${file} is damaged or not a database (${code}); restore it from a backup. foldsync will not reset it.`, { cause: error });
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR') || code === 'EACCES' || code === 'ENOTDIR') {
    return new CloudStartError('data-unreadable', `cannot open the data folder ${dataDir} (${code}); check that it exists and is writable`, { cause: error });
  }
  return error;
}
