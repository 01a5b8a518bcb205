/**
 * The SQLite log's read of a long range of rows on a second thread (ADR 0074). A whole-log fold
 * (a projection rebuild) spends about a third of its time in better-sqlite3 turning 7 columns of
 * each row into JavaScript values; a worker with its own read-only connection does that while the
 * main thread decodes and folds the rows before, and hands them over a page at a time as a few
 * strings and typed arrays: the payloads as a list of strings, the numbers in one
 * `Float64Array`, the streams and types as indexes into the page's own list of names. (The
 * payloads joined into one string and sliced here measured slower: `JSON.parse` of the slices.)
 *
 * The worker is a speed-up only: if it cannot start or its read fails, the caller reads what is
 * left itself (`scanOnWorker` returns where the worker stopped), so errors are the direct read's.
 */
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { StoredRow } from './upcast.js';

/** Rows per page the worker sends. */
const PAGE = 5000;
/**
 * Pages the worker may read ahead of the main thread (memory: about 1 MB each for the bench's
 * events, held serialized outside the heap until taken).
 */
const AHEAD = 8;
/**
 * Pages taken before the main thread gives the worker credit for them, in one message: each
 * message wakes the worker, and on a busy machine a thread woken from the fold's thread may take
 * its core there and then (measured: one credit a page, 200 wakeups, cost the fold 0.4-0.6 s at
 * load 8; one for two pages still 1.3-1.8 ms a message at load 2.5). Below AHEAD.
 */
const CREDIT_BATCH = 4;

/**
 * The worker's code (plain CommonJS, evaluated, so it runs the same from sources, tests, `dist`
 * and the bundle; better-sqlite3 comes by the absolute path the main thread resolved). It reads
 * pages while it has credit (one per page the main thread has not taken yet, up to {@link AHEAD})
 * (a message from the main thread is a number of pages credited) and posts each as `{ n, nums, codes, names, data, end }`: per row, position, stream
 * version, time and event version in `nums`; stream and type as indexes into `names` in `codes`;
 * the payload in `data`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const { file, from, to, page, pages } = workerData;
// A page goes to \`pages\`, where it waits serialized until the main thread takes it; the ping on
// parentPort only wakes a main thread that is waiting for one.
const send = (m, transfer) => {
  pages.postMessage(m, transfer);
  parentPort.postMessage(0);
};
let credit = workerData.ahead;
let next = from;
let scheduled = false;
let db;
let stmt;
try {
  db = new Database(file, { readonly: true, fileMustExist: true });
  stmt = db.prepare('SELECT position, stream, stream_version, at, type, v, data FROM events WHERE position >= ? AND position <= ? ORDER BY position LIMIT ?').raw(true);
} catch (e) {
  send({ error: String(e) });
  next = to + 1;
}
const schedule = () => {
  if (!scheduled && credit > 0 && next <= to) {
    scheduled = true;
    setImmediate(step);
  }
};
parentPort.on('message', (m) => {
  credit += typeof m === 'number' && m > 0 ? m : 1;
  schedule();
});
function step() {
  scheduled = false;
  let rows;
  try {
    rows = stmt.all(next, to, page);
  } catch (e) {
    send({ error: String(e) });
    next = to + 1;
    return;
  }
  const n = rows.length;
  const nums = new Float64Array(n * 4);
  const codes = new Uint16Array(n * 2);
  const names = [];
  const index = new Map();
  const data = new Array(n);
  const code = (name) => {
    let c = index.get(name);
    if (c === undefined) {
      c = names.length;
      names.push(name);
      index.set(name, c);
    }
    return c;
  };
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    nums[4 * i] = r[0];
    nums[4 * i + 1] = r[2];
    nums[4 * i + 2] = r[3];
    nums[4 * i + 3] = r[5];
    codes[2 * i] = code(r[1]);
    codes[2 * i + 1] = code(r[4]);
    data[i] = r[6];
  }
  next = n < page ? to + 1 : rows[n - 1][0] + 1;
  credit -= 1;
  send({ n, nums, codes, names, data, end: next > to }, [nums.buffer, codes.buffer]);
  if (next > to) db.close();
  else schedule();
}
schedule();
`;

type Page =
  | { readonly error: string }
  | {
      readonly n: number;
      readonly nums: Float64Array;
      readonly codes: Uint16Array;
      readonly names: readonly string[];
      readonly data: readonly string[];
      readonly end: boolean;
    };

let sqlitePath: string | null = null;

/** Pages handed over by workers in this process (tests check that a scan did run on a worker). */
export const scanWorkerStats = { pages: 0 };

/** The mutable row `scanOnWorker` fills for each call of the callback. */
export type RowCursor = { -readonly [K in keyof StoredRow]: StoredRow[K] };

/**
 * Reads the rows `from..to` of the log in `file` on a worker thread and calls `fn` with each, in
 * order, through `row` (overwritten for each). `beforePage` runs before each page is handed on
 * (the log's closed check). Returns the position after the last row handed to `fn`: `to + 1` when
 * all were, less when the worker failed (the caller reads the rest itself). Rejects with what `fn`
 * or `beforePage` throws.
 */
export async function scanOnWorker(file: string, from: number, to: number, row: RowCursor, fn: (row: StoredRow) => void, beforePage: () => void): Promise<number> {
  sqlitePath ??= createRequire(import.meta.url).resolve('better-sqlite3');
  let worker: Worker;
  // Pages come through their own channel and are taken one at a time (`receiveMessageOnPort`):
  // until then they wait serialized, outside the heap. Delivered as events, every page the worker
  // had sent came into the heap at once whenever this thread awaited, and up to AHEAD pages of
  // strings sat there while the first was folded: young-generation collections copied and
  // promoted them (ADR 0074, fourth pass).
  const { port1, port2 } = new MessageChannel();
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sqlite: sqlitePath, file, from, to, page: PAGE, ahead: AHEAD, pages: port2 }, transferList: [port2] });
  } catch {
    port1.close();
    return from;
  }
  const take = (): Page | undefined => (receiveMessageOnPort(port1)?.message as Page | undefined);
  // Set by the worker's handlers (an object: a `let` would read as never changing here).
  const state = { stopped: false };
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  worker.on('message', () => {
    notify();
  });
  worker.on('error', () => {
    state.stopped = true;
    notify();
  });
  worker.on('exit', () => {
    state.stopped = true;
    notify();
  });
  let next = from;
  // Pages taken and not yet credited to the worker.
  let untold = 0;
  try {
    for (;;) {
      let page = take();
      while (page === undefined && !state.stopped) {
        await new Promise<void>((resolve) => (wake = resolve));
        page = take();
      }
      // A worker that stopped may have sent pages before it did.
      page ??= take();
      if (page === undefined || 'error' in page) return next;
      beforePage();
      untold += 1;
      if (untold === CREDIT_BATCH) {
        worker.postMessage(untold);
        untold = 0;
      }
      scanWorkerStats.pages += 1;
      const { n, nums, codes, names, data } = page;
      for (let i = 0; i < n; i++) {
        row.position = nums[4 * i] as number;
        row.stream = names[codes[2 * i] as number] as string;
        row.streamVersion = nums[4 * i + 1] as number;
        row.at = nums[4 * i + 2] as number;
        row.type = names[codes[2 * i + 1] as number] as string;
        row.v = nums[4 * i + 3] as number;
        row.data = data[i] as string;
        fn(row);
        next = row.position + 1;
      }
      if (page.end) return to + 1;
    }
  } finally {
    port1.close();
    void worker.terminate();
  }
}
