/**
 * The `projections` benchmark (issue 7, ADR 0070): a SQLite log of 1,000,000 events of 10 tasks
 * (watcher and change-feed observations, plans, starts, outcomes, status changes; 10,000 paths a
 * task), then
 * 1. rebuild every persisted projection from zero (`ProjectionStore.catchUp` on an empty views
 *    file: read, decode, fold four projections, save), beside the anchor: the raw fold of the same
 *    events in the same run (paged reads and decoding, a reducer that only counts). Target < 5 s.
 * 2. answer the sync details query for the 10 tasks from the saved views (open the store, the
 *    checkpoint is at the head: read the saved view, sort and filter), beside the anchor: what
 *    `foldsync details` did before persisted projections, folding the task summaries from the log.
 *    Target < 10 ms.
 * `FOLDSYNC_BENCH_EVENTS` sets a smaller count for a quick look.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProjectionStore } from '../src/actors/projection-store.js';
import { readPages } from '../src/events/event-log.js';
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

/** Runs the benchmark and reports its figures. */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foldsync-bench-proj-'));
  try {
    const log = await createSqliteEventLog({ file: join(dir, 'events.sqlite'), clock: createSystemClock(), durability: 'normal' });
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
      for (let written = TASKS, b = 0; written < TOTAL; b++) {
        const t = b % TASKS;
        const n = Math.min(BATCH, TOTAL - written);
        const events = Array.from({ length: n }, (_, i) => taskEvent((perTask[t] ?? 0) + i));
        perTask[t] = (perTask[t] ?? 0) + n;
        versions[t] = (await log.append(taskStream(`task-${t}`), events, versions[t] ?? 0)).streamVersion;
        written += n;
      }
    });
    const head = await log.head();
    console.log(`log of ${head} events written in ${(writeMs / 1000).toFixed(1)} s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

    // 1. Rebuild from zero vs the raw fold (read + decode + count), alternating which goes first.
    let rawCount = 0;
    const rawFold = async (): Promise<void> => {
      rawCount = 0;
      for await (const page of readPages(log, { pageSize: 5000 })) rawCount += page.length;
    };
    const rebuild = async (i: number): Promise<void> => {
      const store = createProjectionStore({ file: join(dir, `views-${i}.sqlite`), projections: ALL_PROJECTIONS });
      await store.catchUp(log);
      store.close();
    };
    const rawMs: number[] = [];
    const rebuildMs: number[] = [];
    for (let r = 0; r < 2; r++) {
      if (r % 2 === 0) {
        rawMs.push(await timeMs(rawFold));
        rebuildMs.push(await timeMs(() => rebuild(r)));
      } else {
        rebuildMs.push(await timeMs(() => rebuild(r)));
        rawMs.push(await timeMs(rawFold));
      }
    }
    if (rawCount !== head) throw new Error(`raw fold saw ${rawCount} of ${head} events`);

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
      { bench: 'projections', metric: `rebuild all ${ALL_PROJECTIONS.length} projections from ${head} events (best of 2)`, unit: 'ms', value: Math.min(...rebuildMs), anchor: 'raw fold: read + decode + count (best of 2)', anchorValue: Math.min(...rawMs), target: '< 5,000 ms' },
      { bench: 'projections', metric: `sync details query, ${TASKS} tasks, from the saved views (median of 20)`, unit: 'ms', value: median(queryMs), anchor: 'fold the task summaries from the log', anchorValue: foldMs, target: '< 10 ms' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
