/**
 * The `events` benchmark: append 1,000,000 realistic events (watcher LocalChanged batches, about
 * 200 bytes of JSON each) in batches of 1,000 to a SQLite event log, then fold them all back
 * (read + decode + a reducer). The anchor is the same work done directly with prepared
 * better-sqlite3 statements, in the same run, on a database with the same schema and pragmas:
 * an INSERT per row inside one transaction per batch, then `iterate()` + `JSON.parse` + the same
 * reducer. Both sides run in alternating rounds of 100,000 events so that load drifting on this
 * shared machine hits them alike. Targets: append >= 0.6 and fold >= 0.5 of the anchor, and
 * >= 150,000 events/s appended.
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
    // The machine is shared, so load drifts during a run: both sides work in alternating rounds
    // (anchor first in even rounds, foldsync first in odd ones) and each side's rounds are summed.
    const rounds = Math.max(1, Math.min(10, batches));
    const perRound = Math.ceil(batches / rounds);
    // Each side's wall time and CPU time (user + system of this process: SQLite runs on this thread).
    // CPU time is reported too because wall time on a shared machine also counts other people's work.
    interface Cost {
      wallMs: number;
      cpuMs: number;
    }
    const cost = async (fn: () => unknown): Promise<Cost> => {
      gc();
      const cpu = process.cpuUsage();
      const wallMs = await timeMs(fn);
      const used = process.cpuUsage(cpu);
      return { wallMs, cpuMs: (used.user + used.system) / 1000 };
    };
    const add = (total: Cost, more: Cost): void => {
      total.wallMs += more.wallMs;
      total.cpuMs += more.cpuMs;
    };
    const alternate = async (round: number, anchor: () => unknown, ours: () => unknown): Promise<[Cost, Cost]> => {
      if (round % 2 === 0) {
        const a = await cost(anchor);
        return [a, await cost(ours)];
      }
      const o = await cost(ours);
      return [await cost(anchor), o];
    };

    // Anchor: one prepared single-row INSERT per event, one transaction per batch, versions kept in memory.
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
    // foldsync: append through the EventLog, with exact expected versions as the engine would.
    const log = await createSqliteEventLog({ file: join(dir, 'events.db'), clock: createSystemClock() });
    const versions = new Array<number>(STREAMS).fill(0);

    const rawAppend: Cost = { wallMs: 0, cpuMs: 0 };
    const append: Cost = { wallMs: 0, cpuMs: 0 };
    for (let r = 0; r < rounds; r++) {
      const first = r * perRound;
      const last = Math.min(batches, first + perRound);
      const [a, o] = await alternate(
        r,
        () => {
          for (let b = first; b < last; b++) appendBatch(streamOf(b), b % STREAMS, batchAt(b), Date.now());
        },
        async () => {
          for (let b = first; b < last; b++) {
            const s = b % STREAMS;
            versions[s] = (await log.append(streamOf(b), batchAt(b), versions[s] ?? 0)).streamVersion;
          }
        },
      );
      add(rawAppend, a);
      add(append, o);
    }

    // Anchor fold: iterate() + JSON.parse + the reducer. foldsync: paged reads, decoding with checks and upcasting.
    const select = raw.prepare('SELECT position, stream, stream_version, at, type, v, data FROM events WHERE position > ? AND position <= ? ORDER BY position');
    const rawState: FoldState = { events: 0, changes: 0, lastPath: '' };
    const state: FoldState = { events: 0, changes: 0, lastPath: '' };
    const rawFold: Cost = { wallMs: 0, cpuMs: 0 };
    const fold: Cost = { wallMs: 0, cpuMs: 0 };
    for (let r = 0; r < rounds; r++) {
      const from = r * perRound * BATCH;
      const to = Math.min(TOTAL, from + perRound * BATCH);
      const [a, o] = await alternate(
        r,
        () => {
          for (const row of select.iterate(from, to) as Iterable<{ type: string; v: number; data: string }>) {
            const payload = JSON.parse(row.data) as Record<string, unknown>;
            payload['type'] = row.type;
            payload['v'] = row.v;
            reduce(rawState, payload as unknown as FoldsyncEvent);
          }
        },
        async () => {
          for await (const page of readPages(log, { from: from + 1, pageSize: 5000 })) {
            for (const e of page) if (e.position <= to) reduce(state, e.event);
            if ((page[page.length - 1]?.position ?? to) >= to) break;
          }
        },
      );
      add(rawFold, a);
      add(fold, o);
    }
    raw.close();
    await log.close();
    if (state.events !== TOTAL || rawState.events !== TOTAL || state.changes !== rawState.changes || state.lastPath !== rawState.lastPath) {
      throw new Error(`folds disagree: ${JSON.stringify(state)} vs ${JSON.stringify(rawState)}`);
    }

    const rate = (ms: number): number => TOTAL / (ms / 1000);
    report([
      { bench: 'events', metric: 'append', unit: 'events/s', value: rate(append.wallMs), anchor: 'raw prepared insert', anchorValue: rate(rawAppend.wallMs), target: '≥ 0.6 and ≥ 150,000/s' },
      { bench: 'events', metric: 'fold', unit: 'events/s', value: rate(fold.wallMs), anchor: 'raw iterate + JSON.parse', anchorValue: rate(rawFold.wallMs), target: '≥ 0.5' },
      { bench: 'events', metric: 'append per CPU-second', unit: 'events/s', value: rate(append.cpuMs), anchor: 'raw prepared insert', anchorValue: rate(rawAppend.cpuMs) },
      { bench: 'events', metric: 'fold per CPU-second', unit: 'events/s', value: rate(fold.cpuMs), anchor: 'raw iterate + JSON.parse', anchorValue: rate(rawFold.cpuMs) },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
