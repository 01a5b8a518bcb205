import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../io/clock.js';
import { isFoldsyncError } from '../lib/errors.js';
import { describeEventLogContract, rejection } from './event-log.contract.js';
import type { EventLog } from './event-log.js';
import { sampleLocalChanged } from './sample-events.js';
import { createSqliteEventLog } from './sqlite-event-log.js';
import { scanWorkerStats } from './sqlite-scan-worker.js';
import type { StoredRow } from './upcast.js';

describeEventLogContract('sqlite', async (clock, dir) => createSqliteEventLog({ file: join(dir, 'events.db'), clock }));

describe('sqlite event log', () => {
  let dir: string;
  const clock = createVirtualClock();
  const opened: EventLog[] = [];
  const open = async (file: string, busyTimeoutMs?: number): Promise<EventLog> => {
    const log = await createSqliteEventLog(busyTimeoutMs === undefined ? { file, clock } : { file, clock, busyTimeoutMs });
    opened.push(log);
    return log;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'foldsync-sqlite-'));
  });
  afterEach(async () => {
    for (const log of opened.splice(0)) await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its events across close and reopen, in WAL mode, with its schema under kysely migrations', async () => {
    const file = join(dir, 'events.db');
    const log = await open(file);
    await log.append('task:a', [sampleLocalChanged(1), sampleLocalChanged(2)], 0);
    await log.close();
    const again = await open(file);
    expect((await again.read()).map((e) => e.event)).toEqual([sampleLocalChanged(1), sampleLocalChanged(2)]);
    expect(await again.append('task:a', [sampleLocalChanged(3)], 2)).toMatchObject({ firstPosition: 3 });
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.prepare('SELECT name FROM foldsync_migration').pluck().all()).toEqual(['0001-events']);
    } finally {
      raw.close();
    }
  });

  it('checks the expected version against the database, not a cache: a second writer on the same file conflicts', async () => {
    const file = join(dir, 'events.db');
    const first = await open(file);
    const second = await open(file);
    await first.append('task:a', [sampleLocalChanged(1)], 0);
    const error = await rejection(second.append('task:a', [sampleLocalChanged(2)], 0));
    expect(isFoldsyncError(error, 'stream-conflict')).toBe(true);
    // Positions stay gap-free across both connections.
    expect(await second.append('task:b', [sampleLocalChanged(3)], 0)).toMatchObject({ firstPosition: 2 });
    expect(await first.append('task:a', [sampleLocalChanged(4)], 1)).toMatchObject({ firstPosition: 3, streamVersion: 2 });
  });

  it('reports a corrupt stored row by its position on read, on subscribe and on export', async () => {
    const file = join(dir, 'events.db');
    const log = await open(file);
    await log.append('task:a', [sampleLocalChanged(1), sampleLocalChanged(2)], 0);
    const raw = new Database(file);
    raw.prepare('INSERT INTO events (position, stream, stream_version, at, type, v, data) VALUES (3, ?, 3, 0, ?, 1, ?)').run('task:a', 'LocalChanged', '{"source":"watch","changes":[{"path":7}]}');
    raw.close();
    await log.append('task:a', [sampleLocalChanged(4)], 3);
    for (const attempt of [log.read(), log.readStream('task:a'), firstValueFrom(log.subscribe().pipe(toArray())), log.exportTo(join(dir, 'x.jsonl'))]) {
      const error = await rejection(attempt);
      expect(isFoldsyncError(error, 'corrupt-event')).toBe(true);
      expect((error as { details: { position: number } }).details.position).toBe(3);
      expect((error as Error).message).toContain('position 3');
    }
    // The rows around it still read.
    expect((await log.read(1, 2)).map((e) => e.position)).toEqual([1, 2]);
    expect((await log.read(4)).map((e) => e.position)).toEqual([4]);
  });

  it('reports an unknown type, an unknown version and unparsable JSON by position', async () => {
    const file = join(dir, 'events.db');
    const log = await open(file);
    await log.append('engine', [{ type: 'ActionStarted', v: 1, actionId: 'a' }], 0);
    const raw = new Database(file);
    const insert = raw.prepare('INSERT INTO events (position, stream, stream_version, at, type, v, data) VALUES (?, ?, ?, 0, ?, ?, ?)');
    insert.run(2, 'engine', 2, 'TaskTeleported', 1, '{}');
    insert.run(3, 'engine', 3, 'ActionStarted', 7, '{"actionId":"b"}');
    insert.run(4, 'engine', 4, 'ActionStarted', 1, 'not json');
    raw.close();
    for (const [position, code] of [[2, 'unknown-event-type'], [3, 'unknown-event-version'], [4, 'corrupt-event']] as const) {
      const error = await rejection(log.read(position, 1));
      expect(isFoldsyncError(error, code), code).toBe(true);
      expect((error as { details: { position: number } }).details.position).toBe(position);
    }
  });

  it('upcasts a stored TaskCreated v1 row on read, and exports it as stored (v1)', async () => {
    const file = join(dir, 'events.db');
    const log = await open(file);
    const raw = new Database(file);
    const options = { autoSync: true };
    raw.prepare('INSERT INTO events (position, stream, stream_version, at, type, v, data) VALUES (1, ?, 1, 5, ?, 1, ?)')
      .run('engine', 'TaskCreated', JSON.stringify({ taskId: 't1', localRoot: '/home/a/Docs', cloudPath: 'marketing:/Shared/Docs', mode: 'upload', options }));
    raw.close();
    const [stored] = await log.read();
    expect(stored?.event).toEqual({
      type: 'TaskCreated', v: 2, taskId: 't1', localRoot: '/home/a/Docs', localRootId: null,
      cloud: { url: null, space: 'marketing', spaceType: 'team', path: '/Shared/Docs' }, mode: 'upload', options,
    });
    const out = join(dir, 'out.jsonl');
    await log.exportTo(out);
    const copy = await open(join(dir, 'copy.db'));
    await copy.importFrom(out);
    expect((await copy.readRows())[0]).toMatchObject({ type: 'TaskCreated', v: 1 });
    expect(await copy.read()).toEqual(await log.read());
  });

  it('refuses a file that is not a SQLite database', async () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
    const error = await rejection(open(file));
    expect(isFoldsyncError(error, 'not-an-event-log')).toBe(true);
    expect((error as Error).message).toContain(file);
  });

  it("refuses another program's SQLite database and leaves it untouched", async () => {
    const file = join(dir, 'other.db');
    const other = new Database(file);
    other.exec('CREATE TABLE contacts (name TEXT)');
    other.close();
    const error = await rejection(open(file));
    expect(isFoldsyncError(error, 'not-an-event-log')).toBe(true);
    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()).toEqual(['contacts']);
    check.close();
  });

  it('refuses a damaged database file with log-corrupt', async () => {
    const file = join(dir, 'events.db');
    const log = await open(file);
    for (let b = 0; b < 20; b++) await log.append('task:a', Array.from({ length: 100 }, (_, i) => sampleLocalChanged(b * 100 + i)), 'any');
    await log.close();
    // Checkpointed pages are now in the main file; overwrite the middle of it with garbage.
    const raw = new Database(file);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    const { openSync, writeSync, closeSync, statSync } = await import('node:fs');
    const fd = openSync(file, 'r+');
    const size = statSync(file).size;
    writeSync(fd, Buffer.alloc(size / 2, 0xa5), 0, size / 2, 4096);
    closeSync(fd);
    const error = await rejection((async () => {
      const damaged = await open(file);
      for (let from = 1; ; from += 500) if ((await damaged.read(from, 500)).length === 0) break;
    })());
    // The overwritten pages hold the tables' root pages, which opening reads: the damage shows at once.
    expect(isFoldsyncError(error, 'log-corrupt')).toBe(true);
    expect((error as Error).message).toContain(file);
  });

  it('refuses a log migrated by a newer foldsync with log-too-new', async () => {
    const file = join(dir, 'events.db');
    await (await open(file)).close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO foldsync_migration (name, timestamp) VALUES (?, ?)').run('9999-from-the-future', new Date(0).toISOString());
    raw.close();
    const error = await rejection(open(file));
    expect(isFoldsyncError(error, 'log-too-new')).toBe(true);
  });

  describe('scans a long range on a worker thread (ADR 0074)', () => {
    /** A log of 12,001 events in two streams (three worker pages), with fractional times and payloads beyond ASCII. */
    const filled = async (): Promise<{ file: string; log: EventLog }> => {
      const file = join(dir, 'events.db');
      const log = await open(file);
      for (let b = 0; b < 12; b++) {
        clock.advance(0.25);
        await log.append(b % 2 === 0 ? 'task:é' : 'engine', Array.from({ length: 1000 }, (_, i) => sampleLocalChanged(b * 1000 + i, i % 7 === 0 ? '-日本-😀' : '')), 'any');
      }
      await log.append('task:a', [sampleLocalChanged(-1)], 'any');
      return { file, log };
    };
    const scan = async (log: EventLog, from: number, to: number): Promise<StoredRow[]> => {
      const rows: StoredRow[] = [];
      await log.scanRows(from, to, (row) => rows.push({ ...row }));
      return rows;
    };

    it('hands over the same rows as the direct read, in order, for any range', async () => {
      const { file } = await filled();
      const direct = await createSqliteEventLog({ file, clock, scanWorker: 'never' });
      const worker = await createSqliteEventLog({ file, clock, scanWorker: 'always' });
      opened.push(direct, worker);
      for (const [from, to] of [[1, 12_001], [0, 20_000], [4_999, 10_002], [12_001, 12_001], [7, 6]] as const) {
        const pages = scanWorkerStats.pages;
        const expected = await scan(direct, from, to);
        expect(scanWorkerStats.pages).toBe(pages);
        expect(expected.length).toBe(Math.max(0, Math.min(to, 12_001) - Math.max(from, 1) + 1));
        expect(await scan(worker, from, to)).toEqual(expected);
        // The rows came from the worker, not from the direct read it falls back to.
        expect(scanWorkerStats.pages - pages).toBe(Math.ceil(expected.length / 5000));
      }
      expect(await scan(worker, 1, 12_001)).toEqual(await direct.readRows(1, 20_000));
    });

    it("stops at the callback's first error and rejects with it", async () => {
      const { file } = await filled();
      const worker = await createSqliteEventLog({ file, clock, scanWorker: 'always' });
      opened.push(worker);
      let last = 0;
      const error = await rejection(
        worker.scanRows(1, 12_001, (row) => {
          last = row.position;
          if (row.position === 7_000) throw new Error('stop here');
        }),
      );
      expect((error as Error).message).toBe('stop here');
      expect(last).toBe(7_000);
    });

    it('fails with log-closed when the log closes during the scan', async () => {
      const { file } = await filled();
      const worker = await createSqliteEventLog({ file, clock, scanWorker: 'always' });
      let seen = 0;
      const error = await rejection(
        worker.scanRows(1, 12_001, () => {
          seen += 1;
          if (seen === 100) void worker.close();
        }),
      );
      expect(isFoldsyncError(error, 'log-closed')).toBe(true);
      expect(seen).toBeLessThan(12_001);
    });
  });

  it('reports a database locked by another process as log-locked', async () => {
    const file = join(dir, 'events.db');
    const log = await open(file);
    await log.append('engine', [{ type: 'ActionStarted', v: 1, actionId: 'a' }], 0);
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      const fresh = await open(file, 50);
      // Reading goes on (WAL readers do not wait for writers); writing waits, then fails clearly.
      expect(await fresh.head()).toBe(1);
      const error = await rejection(fresh.append('engine', [{ type: 'ActionStarted', v: 1, actionId: 'b' }], 1));
      expect(isFoldsyncError(error, 'log-locked')).toBe(true);
      const newFile = join(dir, 'new.db');
      const creator = new Database(newFile);
      creator.pragma('journal_mode = WAL');
      creator.exec('BEGIN EXCLUSIVE');
      try {
        expect(isFoldsyncError(await rejection(open(newFile, 50)), 'log-locked')).toBe(true);
      } finally {
        creator.exec('ROLLBACK');
        creator.close();
      }
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await log.append('engine', [{ type: 'ActionStarted', v: 1, actionId: 'c' }], 1)).toMatchObject({ lastPosition: 2 });
  });
});
