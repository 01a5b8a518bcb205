/**
 * The `projections` benchmark (issue 7, ADR 0070): a SQLite log of 1,000,000 events of 10 tasks
 * (watcher and change-feed observations, plans, starts, outcomes, status changes; 10,000 paths a
 * task), then
 * 1. rebuild every persisted projection from zero (`ProjectionStore.catchUp` on an empty views
 *    file: read, decode, fold four projections, save), beside the anchor: the raw fold of the same
 *    events in the same run, written by hand as the floor of this work (rows from a prepared
 *    better-sqlite3 statement, `JSON.parse`, and a switch folding what the four projections keep
 *    into plain Maps: each task's three trees, open actions, failures, counters; no checks, no
 *    upcasting, nothing saved). Target < 5 s.
 *    A second line shows the read alone: the log's paged, checked read (`readPages`) beside a
 *    prepared statement and `JSON.parse`.
 * 2. answer the sync details query for the 10 tasks from the saved views (open the store, the
 *    checkpoint is at the head: read the saved view, sort and filter), beside the anchor: what
 *    `foldsync details` did before persisted projections, folding the task summaries from the log.
 *    Target < 10 ms.
 * `FOLDSYNC_BENCH_EVENTS` sets a smaller count for a quick look.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProjectionStore } from '../src/actors/projection-store.js';
import { readPages, type EventLog } from '../src/events/event-log.js';
import { createSqliteEventLog } from '../src/events/sqlite-event-log.js';
import { ENGINE_STREAM, taskStream, type FoldsyncEvent } from '../src/events/types.js';
import { createSystemClock } from '../src/io/clock.js';
import { DEFAULT_OPTIONS } from '../src/lib/model.js';
import { ALL_PROJECTIONS } from '../src/projections/all.js';
import { foldEvents } from '../src/projections/projection.js';
import { querySyncDetails, summariesOf, taskSummariesProjection, type TaskSummary } from '../src/projections/task-summaries.js';
import { report, timeMs } from './report.js';

const TOTAL = Number(process.env['FOLDSYNC_BENCH_EVENTS'] ?? 1_000_000);
const TASKS = 10;
const PATHS = 10_000;
const BATCH = 1000;

/** The i-th event of a task's stream: a repeating cycle of observe, plan, start, outcome. */
function taskEvent(i: number): FoldsyncEvent {
  const n = Math.floor(i / 8);
  const path = `photos/${n % 50}/img-${n % PATHS}.jpg`;
  const actionId = `a${n}`;
  switch (i % 8) {
    case 0:
      return { type: 'LocalChanged', v: 1, source: 'watch', changes: [{ path, meta: { kind: 'file', size: 1000 + n, mtimeNs: `${1763780000000000000 + n}`, fileId: `64769:${n % PATHS}` } }] };
    case 1:
      return { type: 'CloudChanged', v: 1, source: 'feed', cursor: `${n}`, changes: [{ path: `docs/${n % PATHS}.txt`, meta: { kind: 'file', id: `c${n % PATHS}`, version: `${n}`, size: 10 } }] };
    case 2:
      return {
        type: 'PlanMade',
        v: 2,
        planId: `p${n}`,
        guard: null,
        now: n,
        allowMassDelete: false,
        dirty: [path],
        actions: [{ actionId, action: { op: 'upload', path, local: { kind: 'file', size: 1000 + n, mtimeNs: `${1763780000000000000 + n}`, fileId: `64769:${n % PATHS}` }, cloudId: null, baseVersion: null, rule: '2.1 create' } }],
      };
    case 3:
      return { type: 'ActionStarted', v: 1, actionId };
    case 4:
      return n % 20 === 0
        ? { type: 'ActionFailed', v: 1, actionId, reason: 'quota', message: 'The space is full.', transient: false, attempt: 1, nextRetryAt: null }
        : {
            type: 'ActionSucceeded',
            v: 1,
            actionId,
            local: [],
            cloud: [{ path, meta: { kind: 'file', id: `u${n % PATHS}`, version: `${n}`, size: 1000 + n } }],
            synced: [{ path, entry: { kind: 'file', size: 1000 + n, fileId: `64769:${n % PATHS}`, mtimeNs: `${1763780000000000000 + n}`, cloudId: `u${n % PATHS}`, cloudVersion: `${n}` } }],
          };
    case 5:
      return { type: 'LocalChanged', v: 1, source: 'watch', changes: [{ path: `tmp/${n}.tmp`, meta: null }] };
    case 6:
      return { type: 'TaskStatusChanged', v: 1, status: n % 2 === 0 ? 'synchronizing' : 'completed', reason: null, message: null };
    default:
      return { type: 'CloudChanged', v: 1, source: 'feed', cursor: `${n}x`, changes: [] };
  }
}

/** What the raw fold keeps of one task: the same facts the four projections keep, in plain Maps. */
interface RawTask {
  status: string;
  readonly local: Map<string, unknown>;
  readonly cloud: Map<string, unknown>;
  readonly synced: Map<string, unknown>;
  readonly open: Map<string, { readonly path: string; readonly op: string; readonly bytes: number; started: boolean }>;
  readonly failed: Map<string, { readonly reason: string; readonly message: string; readonly attempt: number }>;
  readonly skipped: Map<string, string>;
  bytesDone: number;
  bytesTotal: number;
}

type Change = { readonly path: string; readonly meta?: unknown; readonly entry?: unknown };
type RawPayload = Record<string, unknown> & {
  readonly taskId?: string;
  readonly changes?: readonly Change[];
  readonly local?: readonly Change[];
  readonly cloud?: readonly Change[];
  readonly synced?: readonly Change[];
  readonly actions?: readonly { readonly actionId: string; readonly action: { readonly op: string; readonly path?: string; readonly to?: string; readonly local?: { readonly size: number } } }[];
  readonly actionId?: string;
};

function setOrDelete(map: Map<string, unknown>, changes: readonly Change[] | undefined, key: 'meta' | 'entry'): void {
  for (const c of changes ?? []) {
    const v = c[key];
    if (v === null || v === undefined) map.delete(c.path);
    else map.set(c.path, v);
  }
}

/**
 * The anchor of the rebuild: the raw fold of the log in `file`, by hand. Rows come from a prepared
 * statement (pages of 5000, like the store's), payloads from `JSON.parse`, and a switch folds them
 * into plain Maps. Returns the number of events and of paths held, so the work cannot be skipped.
 */
function rawFold(file: string): { events: number; paths: number } {
  const db = new Database(file, { readonly: true });
  try {
    const stmt = db.prepare('SELECT position, stream, type, data FROM events WHERE position > ? ORDER BY position LIMIT 5000').raw(true);
    const tasks = new Map<string, RawTask>();
    let events = 0;
    for (let from = 0; ; ) {
      const rows = stmt.all(from) as [number, string, string, string][];
      if (rows.length === 0) break;
      for (const [, stream, type, data] of rows) {
        const e = JSON.parse(data) as RawPayload;
        events += 1;
        if (type === 'TaskCreated') {
          tasks.set(e.taskId ?? '', { status: 'scanning', local: new Map(), cloud: new Map(), synced: new Map(), open: new Map(), failed: new Map(), skipped: new Map(), bytesDone: 0, bytesTotal: 0 });
          continue;
        }
        if (type === 'TaskCancelled') {
          tasks.delete(e.taskId ?? '');
          continue;
        }
        const t = stream.startsWith('task:') ? tasks.get(stream.slice(5)) : undefined;
        if (t === undefined) continue;
        switch (type) {
          case 'LocalChanged':
            setOrDelete(t.local, e.changes, 'meta');
            for (const c of e.changes ?? []) t.skipped.delete(c.path);
            break;
          case 'CloudChanged':
            setOrDelete(t.cloud, e.changes, 'meta');
            break;
          case 'LocalSkipped':
            t.skipped.set(e['path'] as string, e['reason'] as string);
            break;
          case 'TaskStatusChanged':
            t.status = e['status'] as string;
            break;
          case 'PlanMade':
            for (const { actionId, action } of e.actions ?? []) {
              const bytes = action.local?.size ?? 0;
              t.open.set(actionId, { path: action.to ?? action.path ?? '', op: action.op, bytes, started: false });
              t.bytesTotal += bytes;
            }
            break;
          case 'ActionStarted': {
            const o = t.open.get(e.actionId ?? '');
            if (o !== undefined) o.started = true;
            break;
          }
          case 'ActionSucceeded': {
            setOrDelete(t.local, e.local, 'meta');
            setOrDelete(t.cloud, e.cloud, 'meta');
            setOrDelete(t.synced, e.synced, 'entry');
            const o = t.open.get(e.actionId ?? '');
            t.open.delete(e.actionId ?? '');
            if (o !== undefined) {
              t.failed.delete(o.path);
              t.bytesDone += o.bytes;
            }
            for (const c of e.synced ?? []) t.failed.delete(c.path);
            break;
          }
          case 'ActionFailed': {
            const o = t.open.get(e.actionId ?? '');
            if (o === undefined) break;
            t.failed.set(o.path, { reason: e['reason'] as string, message: e['message'] as string, attempt: e['attempt'] as number });
            if (e['transient'] !== true) {
              t.open.delete(e.actionId ?? '');
              t.bytesTotal -= o.bytes;
            }
            break;
          }
          case 'ActionAbandoned':
            t.open.delete(e.actionId ?? '');
            break;
          default:
            break;
        }
      }
      from = (rows[rows.length - 1] as [number, string, string, string])[0];
    }
    let paths = 0;
    for (const t of tasks.values()) paths += t.local.size + t.cloud.size + t.synced.size;
    return { events, paths };
  } finally {
    db.close();
  }
}

/** The read alone, by hand: the prepared statement and `JSON.parse` of every payload. */
function rawRead(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    const stmt = db.prepare('SELECT position, stream, stream_version, at, type, v, data FROM events WHERE position > ? ORDER BY position LIMIT 5000').raw(true);
    let events = 0;
    for (let from = 0; ; ) {
      const rows = stmt.all(from) as [number, string, number, number, string, number, string][];
      if (rows.length === 0) break;
      for (const r of rows) if (JSON.parse(r[6]) !== null) events += 1;
      from = (rows[rows.length - 1] as [number, string, number, number, string, number, string])[0];
    }
    return events;
  } finally {
    db.close();
  }
}

/** Writes the benchmark's log (10 tasks' creation, then `total` events in all) into the empty `log`; returns how long the appends took (ms). */
export async function writeBenchLog(log: EventLog, total: number): Promise<number> {
  const created: FoldsyncEvent[] = Array.from({ length: TASKS }, (_, t) => ({
    type: 'TaskCreated',
    v: 2,
    taskId: `task-${t}`,
    localRoot: `/home/u/t${t}`,
    localRootId: '1:1',
    cloud: { url: null, space: t % 2 === 0 ? 'personal' : 'Team', spaceType: t % 2 === 0 ? 'personal' : 'team', path: `/T${t}` },
    mode: t % 3 === 0 ? 'upload' : 'two-way',
    options: DEFAULT_OPTIONS,
  }));
  await log.append(ENGINE_STREAM, created, 0);
  const versions = new Array<number>(TASKS).fill(0);
  const perTask = new Array<number>(TASKS).fill(0);
  const writeMs = await timeMs(async () => {
    for (let written = TASKS, b = 0; written < total; b++) {
      const t = b % TASKS;
      const n = Math.min(BATCH, total - written);
      const events = Array.from({ length: n }, (_, i) => taskEvent((perTask[t] ?? 0) + i));
      perTask[t] = (perTask[t] ?? 0) + n;
      versions[t] = (await log.append(taskStream(`task-${t}`), events, versions[t] ?? 0)).streamVersion;
      written += n;
    }
  });
  return writeMs;
}

/** Runs the benchmark and reports its figures. */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foldsync-bench-proj-'));
  try {
    const log = await createSqliteEventLog({ file: join(dir, 'events.sqlite'), clock: createSystemClock(), durability: 'normal' });
    const writeMs = await writeBenchLog(log, TOTAL);
    const head = await log.head();
    console.log(`log of ${head} events written in ${(writeMs / 1000).toFixed(1)} s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

    // 1. Rebuild from zero vs the raw fold (by hand, into plain Maps), alternating which goes first.
    const logFile = join(dir, 'events.sqlite');
    let raw = { events: 0, paths: 0 };
    const rebuild = async (i: number): Promise<void> => {
      const store = createProjectionStore({ file: join(dir, `views-${i}.sqlite`), projections: ALL_PROJECTIONS });
      await store.catchUp(log);
      store.close();
    };
    const rawMs: number[] = [];
    const rebuildMs: number[] = [];
    for (let r = 0; r < 2; r++) {
      if (r % 2 === 0) {
        rawMs.push(await timeMs(() => (raw = rawFold(logFile))));
        rebuildMs.push(await timeMs(() => rebuild(r)));
      } else {
        rebuildMs.push(await timeMs(() => rebuild(r)));
        rawMs.push(await timeMs(() => (raw = rawFold(logFile))));
      }
    }
    if (raw.events !== head || raw.paths === 0) throw new Error(`raw fold saw ${raw.events} of ${head} events`);
    // The read alone: the log's checked read vs the prepared statement and JSON.parse.
    let readCount = 0;
    let rawReadCount = 0;
    const readMs = await timeMs(async () => {
      for await (const page of readPages(log, { pageSize: 5000 })) readCount += page.length;
    });
    const rawReadMs = await timeMs(() => (rawReadCount = rawRead(logFile)));
    if (readCount !== head || rawReadCount !== head) throw new Error(`the reads saw ${readCount} and ${rawReadCount} of ${head} events`);

    // 2. The details query for the 10 tasks: from the saved views, and by folding the log (the anchor).
    let rows: TaskSummary[] = [];
    const fromViews = (): void => {
      const store = createProjectionStore({ file: join(dir, 'views-0.sqlite'), projections: ALL_PROJECTIONS });
      const view = store.savedView(taskSummariesProjection.name, head) as TaskSummary[] | null;
      store.close();
      if (view === null) throw new Error('the saved view is not at the head');
      rows = querySyncDetails(view, { sort: 'name', desc: true });
    };
    let anchorRows: TaskSummary[] = [];
    const byFold = async (): Promise<void> => {
      let s = taskSummariesProjection.initial();
      for await (const page of readPages(log, { pageSize: 5000 })) s = foldEvents(taskSummariesProjection, s, page);
      anchorRows = querySyncDetails(summariesOf(s), { sort: 'name', desc: true });
    };
    const queryMs: number[] = [];
    for (let r = 0; r < 20; r++) queryMs.push(await timeMs(fromViews));
    const foldMs = await timeMs(byFold);
    if (JSON.stringify(rows) !== JSON.stringify(anchorRows) || rows.length !== TASKS) throw new Error('the saved view and the fold disagree');
    await log.close();

    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    report([
      { bench: 'projections', metric: `rebuild all ${ALL_PROJECTIONS.length} projections from ${head} events (best of 2)`, unit: 'ms', value: Math.min(...rebuildMs), anchor: 'raw fold by hand: statement + JSON.parse + plain Maps (best of 2)', anchorValue: Math.min(...rawMs), target: '< 5,000 ms' },
      { bench: 'projections', metric: `read ${head} events through the log (paged, decoded, checked)`, unit: 'ms', value: readMs, anchor: 'statement + JSON.parse only', anchorValue: rawReadMs },
      { bench: 'projections', metric: `sync details query, ${TASKS} tasks, from the saved views (median of 20)`, unit: 'ms', value: median(queryMs), anchor: 'fold the task summaries from the log', anchorValue: foldMs, target: '< 10 ms' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
