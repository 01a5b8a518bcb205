/**
 * The `events` benchmark: append 1,000,000 realistic events (watcher LocalChanged batches, about
 * 200 bytes of JSON each) in batches of 1,000 to a SQLite event log, then fold them all back
 * (read + decode + a reducer). The anchor is the same work done directly with prepared
 * better-sqlite3 statements, in the same run, on a database with the same schema and pragmas:
 * an INSERT per row inside one transaction per batch, then `iterate()` + `JSON.parse` + the same
 * reducer. Targets: append >= 0.6 and fold >= 0.5 of the anchor, and >= 150,000 events/s appended.
 * `FOLDSYNC_BENCH_EVENTS` sets a smaller count for a quick look.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPages } from '../src/events/event-log.js';
import { sampleLocalChanged } from '../src/events/sample-events.js';
import { createSqliteEventLog } from '../src/events/sqlite-event-log.js';
import type { FoldsyncEvent } from '../src/events/types.js';
import { createSystemClock } from '../src/io/clock.js';
import { report, timeMs } from './report.js';

const TOTAL = Number(process.env['FOLDSYNC_BENCH_EVENTS'] ?? 1_000_000);
const BATCH = 1000;
const STREAMS = 10;
// A pool of distinct batches, reused in turn, so that 1M event objects need not sit in memory at once.
const POOL = 20;

interface FoldState {
  events: number;
  changes: number;
  lastPath: string;
}

/** The reducer both sides run: what a projection of local changes does, cheaply. */
function reduce(state: FoldState, event: FoldsyncEvent): void {
  state.events += 1;
  if (event.type === 'LocalChanged') {
    state.changes += event.changes.length;
    const first = event.changes[0];
    if (first !== undefined) state.lastPath = first.path;
  }
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The anchor's database: the same table, index and pragmas as the SQLite log. */
function openRaw(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, stream_version INTEGER NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL, v INTEGER NOT NULL, data TEXT NOT NULL);
    CREATE UNIQUE INDEX events_stream_version ON events (stream, stream_version);`);
  return db;
}

/** Runs the benchmark and reports its figures. */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foldsync-bench-events-'));
  const batches = TOTAL / BATCH;
  const pool: FoldsyncEvent[][] = Array.from({ length: POOL }, (_, p) => Array.from({ length: BATCH }, (_, i) => sampleLocalChanged(p * BATCH + i)));
  const batchAt = (b: number): FoldsyncEvent[] => pool[b % POOL] as FoldsyncEvent[];
  const streamOf = (b: number): string => `task:bench-${b % STREAMS}`;
  try {
    // Anchor: raw append.
    const raw = openRaw(join(dir, 'raw.db'));
    const insert = raw.prepare('INSERT INTO events (position, stream, stream_version, at, type, v, data) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const rawVersions = new Array<number>(STREAMS).fill(0);
    let position = 0;
    const appendBatch = raw.transaction((stream: string, s: number, events: readonly FoldsyncEvent[], at: number) => {
      for (const e of events) {
        const { type, v, ...payload } = e;
        rawVersions[s] = (rawVersions[s] ?? 0) + 1;
        insert.run(++position, stream, rawVersions[s], at, type, v, JSON.stringify(payload));
      }
    });
    gc();
    const rawAppendMs = await timeMs(() => {
      for (let b = 0; b < batches; b++) appendBatch(streamOf(b), b % STREAMS, batchAt(b), Date.now());
    });

    // foldsync: append through the EventLog, with exact expected versions as the engine would.
    const log = await createSqliteEventLog({ file: join(dir, 'events.db'), clock: createSystemClock() });
    const versions = new Array<number>(STREAMS).fill(0);
    gc();
    const appendMs = await timeMs(async () => {
      for (let b = 0; b < batches; b++) {
        const s = b % STREAMS;
        versions[s] = (await log.append(streamOf(b), batchAt(b), versions[s] ?? 0)).streamVersion;
      }
    });

    // Anchor: raw fold.
    const select = raw.prepare('SELECT position, stream, stream_version, at, type, v, data FROM events ORDER BY position');
    const rawState: FoldState = { events: 0, changes: 0, lastPath: '' };
    gc();
    const rawFoldMs = await timeMs(() => {
      for (const row of select.iterate() as Iterable<{ type: string; v: number; data: string }>) {
        const payload = JSON.parse(row.data) as Record<string, unknown>;
        payload['type'] = row.type;
        payload['v'] = row.v;
        reduce(rawState, payload as unknown as FoldsyncEvent);
      }
    });
    raw.close();

    // foldsync: fold through the EventLog (paged read, decode with checks and upcasting).
    const state: FoldState = { events: 0, changes: 0, lastPath: '' };
    gc();
    const foldMs = await timeMs(async () => {
      for await (const page of readPages(log, { pageSize: 5000 })) for (const e of page) reduce(state, e.event);
    });
    await log.close();
    if (state.events !== TOTAL || rawState.events !== TOTAL || state.changes !== rawState.changes || state.lastPath !== rawState.lastPath) {
      throw new Error(`folds disagree: ${JSON.stringify(state)} vs ${JSON.stringify(rawState)}`);
    }

    const rate = (ms: number): number => TOTAL / (ms / 1000);
    report([
      { bench: 'events', metric: 'append', unit: 'events/s', value: rate(appendMs), anchor: 'raw prepared insert', anchorValue: rate(rawAppendMs), target: '≥ 0.6 and ≥ 150,000/s' },
      { bench: 'events', metric: 'fold', unit: 'events/s', value: rate(foldMs), anchor: 'raw iterate + JSON.parse', anchorValue: rate(rawFoldMs), target: '≥ 0.5' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
