/**
 * The sync details web page (issue 7, ADR 0073): `foldsync run --ui [--port N]` serves, on
 * 127.0.0.1 only, one page with the task list (sort and filters of SPEC.md section 6) and, for a
 * chosen task, its failed files and its file status; the page polls a small JSON API every second,
 * and each API call catches the persisted projections up with the log first, so it is live.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createProjectionStore } from '../actors/projection-store.js';
import { createSqliteEventLog } from '../events/sqlite-event-log.js';
import { createSystemClock } from '../io/clock.js';
import type { FileStatus, TaskStatus } from '../lib/model.js';
import { ALL_PROJECTIONS } from '../projections/all.js';
import { failedFilesOf, failedFilesProjection } from '../projections/failed-files.js';
import { fileStatusesOf, fileStatusProjection } from '../projections/file-status.js';
import { querySyncDetails, showsFailedMark, summariesOf, taskSummariesProjection } from '../projections/task-summaries.js';
import { LOG_FILE, VIEWS_FILE } from './views.js';

/** A running page server. */
export interface UiServer {
  readonly url: string;
  close(): Promise<void>;
}

const TASK_STATUSES = new Set(['scanning', 'synchronizing', 'completed', 'paused', 'failed']);
const FILE_STATUSES = new Set(['in-sync', 'pending-upload', 'pending-download', 'transferring', 'failed', 'ignored', 'conflict']);

/** Starts the page server for the data folder `dataDir` (its log must exist) on 127.0.0.1:`port` (0: any free port). */
export async function startUiServer(options: { readonly dataDir: string; readonly port?: number }): Promise<UiServer> {
  const log = await createSqliteEventLog({ file: join(options.dataDir, LOG_FILE), clock: createSystemClock() });
  const store = createProjectionStore({ file: join(options.dataDir, VIEWS_FILE), projections: ALL_PROJECTIONS });
  // One catch-up at a time: requests arriving meanwhile wait for it.
  let chain: Promise<unknown> = Promise.resolve();
  const fresh = (): Promise<unknown> => (chain = chain.then(() => store.catchUp(log)));

  const api = async (url: URL): Promise<unknown> => {
    await fresh();
    const q = url.searchParams;
    if (url.pathname === '/api/details') {
      const status = q.get('status');
      const type = q.get('type');
      const space = q.get('space');
      return querySyncDetails(summariesOf(store.state(taskSummariesProjection)), {
        sort: q.get('sort') === 'name' ? 'name' : 'created',
        desc: q.get('desc') === '1',
        ...(status !== null && TASK_STATUSES.has(status) ? { status: status as TaskStatus } : {}),
        ...(type === 'two-way' || type === 'upload' ? { type: type } : {}),
        ...(space !== null && space !== '' ? { space } : {}),
      }).map((r) => ({ ...r, failedMark: showsFailedMark(r) }));
    }
    const m = /^\/api\/tasks\/([^/]+)\/(failures|files)$/.exec(url.pathname);
    if (m === null) return undefined;
    const id = decodeURIComponent(m[1] ?? '');
    if (m[2] === 'failures') return failedFilesOf(store.state(failedFilesProjection), id);
    const side = q.get('side');
    const status = q.get('status');
    return fileStatusesOf(store.state(fileStatusProjection), id, {
      ...(side === 'local' || side === 'cloud' ? { side: side } : {}),
      ...(status !== null && FILE_STATUSES.has(status) ? { status: status as FileStatus } : {}),
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
      return;
    }
    const body = await api(url);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      await chain.catch(() => undefined);
      store.close();
      await log.close();
    },
  };
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>foldsync: sync details</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}
tr.task{cursor:pointer}tr.task:hover{background:#f4f7ff}.mark{color:#c00;font-weight:bold}
label{margin-right:1rem}
</style></head><body>
<h1>Sync details</h1>
<div id="controls">
<label>Sort <select id="sort"><option value="created">creation time</option><option value="name">cloud name</option></select></label>
<label><input type="checkbox" id="desc"> descending</label>
<label>Status <select id="status"><option value="">any</option><option>scanning</option><option>synchronizing</option><option>completed</option><option>paused</option><option>failed</option></select></label>
<label>Type <select id="type"><option value="">any</option><option>two-way</option><option>upload</option></select></label>
<label>Space <input id="space" size="10"></label>
</div>
<table id="tasks"><thead><tr><th>cloud name</th><th>status</th><th>in sync</th><th>pending</th><th>failed</th><th>mode</th><th>space</th><th>local path</th><th>cloud path</th></tr></thead><tbody></tbody></table>
<section id="task" hidden>
<h2 id="task-title"></h2>
<h3>Failed files</h3>
<table id="failures"><thead><tr><th>path</th><th>operation</th><th>reason</th><th>attempts</th><th>what to do</th></tr></thead><tbody></tbody></table>
<h3>Files <select id="side"><option value="">both sides</option><option>local</option><option>cloud</option></select>
<select id="file-status"><option value="">any status</option><option>in-sync</option><option>pending-upload</option><option>pending-download</option><option>transferring</option><option>failed</option><option>ignored</option><option>conflict</option></select></h3>
<table id="files"><thead><tr><th>side</th><th>status</th><th>path</th><th>reason</th></tr></thead><tbody></tbody></table>
</section>
<script>
const $ = (id) => document.getElementById(id);
let chosen = null;
const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = String(text); if (cls) td.className = cls; return td; };
const fill = (table, rows) => { const body = table.tBodies[0]; body.replaceChildren(...rows); };
const label = { scanning: 'Scanning', synchronizing: 'Synchronizing', completed: 'Synchronized completion', failed: 'Synchronization failed', paused: 'Paused' };
async function get(path) { const r = await fetch(path, { cache: 'no-store' }); return r.json(); }
async function refresh() {
  const q = new URLSearchParams({ sort: $('sort').value, desc: $('desc').checked ? '1' : '0', status: $('status').value, type: $('type').value, space: $('space').value });
  const tasks = await get('/api/details?' + q);
  fill($('tasks'), tasks.map((t) => {
    const tr = document.createElement('tr');
    tr.className = 'task'; tr.dataset.taskId = t.taskId;
    tr.append(cell(t.cloudName), cell(label[t.status] + (t.failedMark ? ' !' : ''), t.failedMark ? 'mark' : ''), cell(t.filesInSync), cell(t.filesPending), cell(t.filesFailed), cell(t.mode), cell(t.space), cell(t.localPath), cell(t.cloudPath));
    tr.onclick = () => { chosen = t.taskId; $('task-title').textContent = t.cloudName; refresh(); };
    return tr;
  }));
  $('task').hidden = chosen === null;
  if (chosen !== null) {
    const id = encodeURIComponent(chosen);
    const failures = await get('/api/tasks/' + id + '/failures');
    fill($('failures'), failures.map((f) => { const tr = document.createElement('tr'); tr.append(cell(f.path), cell(f.operation), cell(f.reason), cell(f.attempts), cell(f.message)); return tr; }));
    const files = await get('/api/tasks/' + id + '/files?' + new URLSearchParams({ side: $('side').value, status: $('file-status').value }));
    fill($('files'), files.map((f) => { const tr = document.createElement('tr'); tr.append(cell(f.side), cell(f.status), cell(f.path), cell(f.reason ?? '')); return tr; }));
  }
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed ?? 0) + 1);
}
for (const id of ['sort', 'desc', 'status', 'type', 'space', 'side', 'file-status']) $(id).addEventListener('input', () => { refresh(); });
refresh();
setInterval(refresh, 1000);
</script></body></html>`;
