/**
 * The SQLite event log (better-sqlite3, WAL). kysely owns the schema, through its Migrator and
 * migrations defined here in code, and the occasional query; the hot paths (append, read) run on
 * prepared better-sqlite3 statements, because kysely prepares every statement anew and goes
 * through an async mutex, which measured at about two thirds of the raw rate for appends (ADR 0003).
 *
 * Schema: `events(position INTEGER PRIMARY KEY, stream, stream_version, at, type, v, data)` with a
 * unique index on `(stream, stream_version)`, and `foldsync_meta(key, value)` whose `format` row
 * marks the file as a foldsync log.
 */
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import { Subject, throwError } from '../lib/rx.js';
import type { Clock } from '../io/clock.js';
import { EventLogError, StreamConflictError } from './errors.js';
import { DEFAULT_PAGE_SIZE, type AppendResult, type EventLog, type ExpectedVersion } from './event-log.js';
import { readExport, writeExport } from './export-file.js';
import { followLog } from './follow.js';
import { scanOnWorker, type RowCursor } from './sqlite-scan-worker.js';
import { checkAppend, closedError, notEmpty, settle } from './store-support.js';
import type { FoldsyncEvent, StoredEvent } from './types.js';
import { decodeEvent, encodeEvent, parseData, type StoredRow } from './upcast.js';

/** The `format` value in `foldsync_meta` that marks a database as a foldsync event log. */
export const SQLITE_LOG_FORMAT = 'foldsync-event-log';

/** Options of {@link createSqliteEventLog}. */
export interface SqliteEventLogOptions {
  /** The database file, created when missing (its folder must exist). */
  readonly file: string;
  /** Stamps each appended batch. */
  readonly clock: Pick<Clock, 'now'>;
  /** How long to wait for another process's lock before failing with `log-locked` (ms, default 5000). */
  readonly busyTimeoutMs?: number;
  /**
   * `full` (default): a returned append survives power loss (fsync on every commit). `normal`: it
   * survives a process crash but the newest batches may roll back on power loss; faster on slow disks.
   */
  readonly durability?: 'full' | 'normal';
  /**
   * Whether {@link EventLog.scanRows} reads on a worker thread: `auto` (default) from
   * {@link SCAN_WORKER_ROWS} rows, `always`, or `never` (ADR 0074).
   */
  readonly scanWorker?: 'auto' | 'always' | 'never';
}

interface Schema {
  events: { position: number; stream: string; stream_version: number; at: number; type: string; v: number; data: string };
  foldsync_meta: { key: string; value: string };
}

// Migrations live in code so that the log's schema ships inside the package (no files on disk to find).
const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-events': {
    up: async (db: Kysely<unknown>): Promise<void> => {
      await db.schema
        .createTable('foldsync_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('events')
        .addColumn('position', 'integer', (c) => c.primaryKey())
        .addColumn('stream', 'text', (c) => c.notNull())
        .addColumn('stream_version', 'integer', (c) => c.notNull())
        .addColumn('at', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('v', 'integer', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_stream_version').on('events').columns(['stream', 'stream_version']).unique().execute();
      await sql`insert into foldsync_meta (key, value) values ('format', ${SQLITE_LOG_FORMAT})`.execute(db);
    },
  },
};

const migrationProvider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };
const MIGRATION_TABLE = 'foldsync_migration';
const MIGRATION_LOCK_TABLE = 'foldsync_migration_lock';
const OWN_TABLES = new Set(['events', 'foldsync_meta', MIGRATION_TABLE, MIGRATION_LOCK_TABLE]);

// Multi-row INSERT statements of these sizes; a batch is cut greedily into them, so a handful of
// prepared statements serve every batch size (one statement per size would grow without bound).
const INSERT_CHUNKS = [256, 32, 4, 1] as const;
const COLUMNS = 'position, stream, stream_version, at, type, v, data';
/** Rows per statement of {@link EventLog.scanRows}. */
const SCAN_PAGE = 5000;
/** Rows from which `scanRows` reads on a worker thread in `auto` mode (below, starting it costs more than it saves). */
export const SCAN_WORKER_ROWS = 50_000;

type RawRow = [position: number, stream: string, streamVersion: number, at: number, type: string, v: number, data: string];

/** Maps a better-sqlite3 failure to a typed one where it has a meaning for the caller. */
function mapSqliteError(error: unknown, file: string, doing: string): Error {
  if (!(error instanceof Database.SqliteError)) return error instanceof Error ? error : new Error(String(error));
  const code = error.code;
  if (code === 'SQLITE_NOTADB') {
    return new EventLogError('not-an-event-log', `${file} is not a foldsync event log (not a SQLite database). Point foldsync at its own data folder.`, { file }, { cause: error });
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new EventLogError('log-corrupt', `the event log ${file} is damaged (${error.message}) while ${doing}. Restore it from an export or a backup.`, { file, sqliteCode: code }, { cause: error });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new EventLogError('log-locked', `the event log ${file} is locked by another process while ${doing}. Stop the other foldsync using this data folder, then retry.`, { file, sqliteCode: code }, { cause: error });
  }
  return error;
}

/**
 * Opens (creating when missing) a SQLite {@link EventLog}, bringing its schema up to date.
 *
 * @throws EventLogError `not-an-event-log` (not SQLite, or another program's database),
 *   `log-corrupt`, `log-locked`, or `log-too-new` (written by a newer foldsync).
 * @example
 * const log = await createSqliteEventLog({ file: join(dataDir, 'events.db'), clock: createSystemClock() });
 */
export async function createSqliteEventLog(options: SqliteEventLogOptions): Promise<EventLog> {
  const { file, clock } = options;
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
  } catch (error) {
    throw mapSqliteError(error, file, 'opening it');
  }
  const kysely = new Kysely<Schema>({ dialect: new SqliteDialect({ database: db }) });
  try {
    checkOwnership(db, file);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && mode !== 'memory') throw new Error(`assertion failed: SQLite refused WAL mode (${String(mode)})`);
    db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
    const migrator = new Migrator({ db: kysely, provider: migrationProvider, migrationTableName: MIGRATION_TABLE, migrationLockTableName: MIGRATION_LOCK_TABLE });
    const { error } = await migrator.migrateToLatest();
    if (error !== undefined) {
      // A lock or a damaged file is mapped below; otherwise see whether a newer foldsync migrated this log.
      if (error instanceof Database.SqliteError) throw error;
      const known = new Set(Object.keys(MIGRATIONS));
      const applied = db.prepare(`SELECT name FROM ${MIGRATION_TABLE}`).pluck().all() as string[];
      if (applied.some((name) => !known.has(name))) {
        throw new EventLogError('log-too-new', `the event log ${file} was written by a newer foldsync (schema ${applied.join(', ')}). Upgrade foldsync to open it.`, { file, applied }, { cause: error });
      }
      throw error instanceof Error ? error : new Error(`migration failed: ${JSON.stringify(error)}`);
    }
    return openStore(db, kysely, file, clock, options.scanWorker ?? 'auto');
  } catch (error) {
    await kysely.destroy();
    throw mapSqliteError(error, file, 'opening it');
  }
}

/** Refuses a database that holds tables but is not a foldsync log (so we never write into another program's data). */
function checkOwnership(db: Database.Database, file: string): void {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
  const foreign = tables.filter((name) => !OWN_TABLES.has(name));
  const format = tables.includes('foldsync_meta') ? (db.prepare(`SELECT value FROM foldsync_meta WHERE key = 'format'`).pluck().get() as string | undefined) : undefined;
  if (foreign.length > 0 || (tables.includes('foldsync_meta') && format !== SQLITE_LOG_FORMAT)) {
    throw new EventLogError(
      'not-an-event-log',
      `${file} is a SQLite database but not a foldsync event log (it holds ${tables.join(', ')}). Point foldsync at its own data folder.`,
      { file, tables },
    );
  }
}

function openStore(db: Database.Database, kysely: Kysely<Schema>, file: string, clock: Pick<Clock, 'now'>, scanWorker: 'auto' | 'always' | 'never'): EventLog {
  const headStmt = db.prepare('SELECT coalesce(max(position), 0) FROM events').pluck();
  const versionStmt = db.prepare('SELECT coalesce(max(stream_version), 0) FROM events WHERE stream = ?').pluck();
  const readStmt = db.prepare(`SELECT ${COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?`).raw(true);
  const scanStmt = db.prepare(`SELECT ${COLUMNS} FROM events WHERE position >= ? AND position <= ? ORDER BY position LIMIT ?`).raw(true);
  const readStreamStmt = db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream = ? AND stream_version >= ? ORDER BY stream_version LIMIT ?`).raw(true);
  const inserts = new Map(INSERT_CHUNKS.map((n) => [n, db.prepare(`INSERT INTO events (${COLUMNS}) VALUES ${Array.from({ length: n }, () => '(?,?,?,?,?,?,?)').join(',')}`)]));
  const appended$ = new Subject<readonly StoredEvent[]>();
  let closed = false;
  let importing = false;

  /** Inserts rows given as flat column values (7 per row), in as few statements as the chunk sizes allow. */
  const insertFlat = (values: readonly unknown[]): void => {
    const total = values.length / 7;
    let done = 0;
    for (const size of INSERT_CHUNKS) {
      const stmt = inserts.get(size);
      if (stmt === undefined) throw new Error('assertion failed: missing insert statement');
      while (total - done >= size) {
        stmt.run(values.slice(done * 7, (done + size) * 7));
        done += size;
      }
    }
  };

  const appendTx = db.transaction((stream: string, encoded: readonly { type: string; v: number; data: string }[], expected: ExpectedVersion, at: number) => {
    const actual = versionStmt.get(stream) as number;
    if (expected !== 'any' && expected !== actual) throw new StreamConflictError(stream, expected, actual);
    const head = headStmt.get() as number;
    const values: unknown[] = new Array<unknown>(encoded.length * 7);
    for (let i = 0, k = 0; i < encoded.length; i++) {
      const e = encoded[i] as { type: string; v: number; data: string };
      values[k++] = head + 1 + i;
      values[k++] = stream;
      values[k++] = actual + 1 + i;
      values[k++] = at;
      values[k++] = e.type;
      values[k++] = e.v;
      values[k++] = e.data;
    }
    insertFlat(values);
    return { head, actual };
  });

  const ensureOpen = (): void => {
    if (closed) throw closedError(file);
    if (importing) throw new Error('assertion failed: the log is used while an import into it runs');
  };
  const guard = <T>(doing: string, fn: () => T): T => {
    ensureOpen();
    try {
      return fn();
    } catch (error) {
      throw mapSqliteError(error, file, doing);
    }
  };
  const decodeRaw = (r: RawRow): StoredEvent => {
    const [position, stream, streamVersion, at, type, v, data] = r;
    return { position, stream, streamVersion, at, event: decodeEvent(type, v, parseData({ position, type, v, data }), position) };
  };
  const read = (from: number, limit: number): readonly StoredEvent[] => {
    const rows = guard('reading', () => readStmt.all(from, limit) as RawRow[]);
    const out = new Array<StoredEvent>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = decodeRaw(rows[i] as RawRow);
    return out;
  };

  const log: EventLog = {
    append: (stream: string, events: readonly FoldsyncEvent[], expected: ExpectedVersion): Promise<AppendResult> =>
      settle(() => {
        checkAppend(stream, events, expected);
        const encoded = events.map(encodeEvent);
        const at = clock.now();
        const { head, actual } = guard('appending', () => appendTx.immediate(stream, encoded, expected, at));
        if (appended$.observed) {
          appended$.next(events.map((event, i) => ({ position: head + 1 + i, stream, streamVersion: actual + 1 + i, at, event })));
        }
        return { streamVersion: actual + events.length, firstPosition: head + 1, lastPosition: head + events.length, at };
      }),
    read: (from = 1, limit = DEFAULT_PAGE_SIZE) => settle(() => read(from, limit)),
    readStream: (stream, fromVersion = 1, limit = DEFAULT_PAGE_SIZE) =>
      settle(() => guard('reading', () => readStreamStmt.all(stream, fromVersion, limit) as RawRow[]).map(decodeRaw)),
    readRows: (from = 1, limit = DEFAULT_PAGE_SIZE) =>
      settle(() => guard('reading', () => readStmt.all(from, limit) as RawRow[]).map(([position, stream, streamVersion, at, type, v, data]): StoredRow => ({ position, stream, streamVersion, at, type, v, data }))),
    scanRows: async (from, to, fn) => {
      ensureOpen();
      // One object for every row (the caller copies what it keeps): a fold of the whole log
      // allocates no row objects beside the arrays better-sqlite3 returns (ADR 0074).
      const row: RowCursor = { position: 0, stream: '', streamVersion: 0, at: 0, type: '', v: 0, data: '' };
      let next = Math.max(from, 1);
      // A long range is read on a second thread while this one folds (ADR 0074); whatever the
      // worker did not hand over (it failed, or could not start) is read here.
      if (file !== ':memory:' && file !== '' && to >= next && (scanWorker === 'always' || (scanWorker === 'auto' && to - next + 1 >= SCAN_WORKER_ROWS))) {
        next = await scanOnWorker(file, next, to, row, fn, ensureOpen);
      }
      while (next <= to) {
        const rows = guard('reading', () => scanStmt.all(next, to, SCAN_PAGE) as RawRow[]);
        for (const r of rows) {
          row.position = r[0];
          row.stream = r[1];
          row.streamVersion = r[2];
          row.at = r[3];
          row.type = r[4];
          row.v = r[5];
          row.data = r[6];
          fn(row);
        }
        if (rows.length < SCAN_PAGE) return;
        next = (rows[rows.length - 1] as RawRow)[0] + 1;
        // Between pages, let other work in (an `await` of a page read did so before).
        await Promise.resolve();
      }
    },
    head: async () => {
      ensureOpen();
      const row = await kysely.selectFrom('events').select((eb) => eb.fn.max('position').as('head')).executeTakeFirst();
      return row?.head ?? 0;
    },
    streamVersion: async (stream) => {
      ensureOpen();
      const row = await kysely
        .selectFrom('events')
        .select((eb) => eb.fn.max('stream_version').as('version'))
        .where('stream', '=', stream)
        .executeTakeFirst();
      return row?.version ?? 0;
    },
    subscribe: (from = 1) => (closed ? throwError(() => closedError(file)) : followLog(from, (f, l) => settle(() => read(f, l)), appended$)),
    exportTo: async (target) => {
      ensureOpen();
      return writeExport(target, (from, limit) => log.readRows(from, limit));
    },
    importFrom: async (source) => {
      // The emptiness check runs under the write lock, so no other writer can slip in before the import.
      guard('importing', () => db.exec('BEGIN IMMEDIATE'));
      importing = true;
      try {
        const head = headStmt.get() as number;
        if (head > 0) throw notEmpty(source, head);
        const summary = await readExport(source, {
          write: (rows) => {
            const values: unknown[] = [];
            for (const r of rows) values.push(r.position, r.stream, r.streamVersion, r.at, r.type, r.v, r.data);
            insertFlat(values);
          },
        });
        db.exec('COMMIT');
        return summary;
      } catch (error) {
        db.exec('ROLLBACK');
        throw mapSqliteError(error, file, 'importing');
      } finally {
        importing = false;
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      appended$.complete();
      // kysely's driver closes the better-sqlite3 connection it was given.
      await kysely.destroy();
    },
  };
  return log;
}
