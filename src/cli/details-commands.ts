/**
 * The sync details view (SPEC.md section 6) from the event log: `foldsync details` and
 * `foldsync task failures ID`. They read the persisted projections (ADR 0070), caught up with the
 * log first (a reader may run beside the engine); no engine, no cloud.
 */
import { Option, type Command } from 'commander';
import type { SyncMode, TaskStatus } from '../lib/model.js';
import { FoldsyncError } from '../lib/errors.js';
import { failedFilesOf, failedFilesProjection } from '../projections/failed-files.js';
import { readPages } from '../events/event-log.js';
import { taskStream } from '../events/types.js';
import type { FileStatus, Side } from '../lib/model.js';
import { fileStatusesOf, fileStatusProjection } from '../projections/file-status.js';
import { createPathActivity } from '../projections/path-activity.js';
import { openDataLog, withViews } from './views.js';
import { querySyncDetails, showsFailedMark, summariesOf, taskSummariesProjection, type TaskSummary } from '../projections/task-summaries.js';

const STATUS_LABEL: Record<TaskStatus, string> = {
  scanning: 'Scanning',
  synchronizing: 'Synchronizing',
  completed: 'Synchronized completion',
  failed: 'Synchronization failed',
  paused: 'Paused',
};

async function foldLog(command: Command): Promise<{ summaries: TaskSummary[]; failed: ReturnType<typeof failedFilesProjection.initial> }> {
  return withViews(command, (store) => ({ summaries: summariesOf(store.state(taskSummariesProjection)), failed: store.state(failedFilesProjection) }));
}

const bytes = (n: number): string => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`);
/** A time as `YYYY-MM-DD HH:MM:SS` (UTC), or `-`. */
export const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));

/** Rows as aligned columns. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`).join('');
}

/** Adds `details` and `task failures` to `program`. */
export function registerDetailsCommands(program: Command): void {
  program
    .command('details')
    .description('the sync details of every task: status, files in sync, pending and failed, bytes, speed')
    .addOption(new Option('--sort <by>', 'sort by cloud name or creation time').choices(['name', 'created']).default('created'))
    .option('--desc', 'sort in descending order')
    .addOption(new Option('--status <status>', 'only tasks in this status').choices(['scanning', 'synchronizing', 'completed', 'paused', 'failed']))
    .addOption(new Option('--type <mode>', 'only tasks of this mode').choices(['two-way', 'upload']))
    .option('--space <space>', 'only tasks in this space')
    .option('--json', 'print JSON')
    .action(async (opts: { sort: 'name' | 'created'; desc?: boolean; status?: TaskStatus; type?: SyncMode; space?: string; json?: boolean }, command: Command) => {
      const { summaries } = await foldLog(command);
      const rows = querySyncDetails(summaries, {
        sort: opts.sort,
        desc: opts.desc === true,
        ...(opts.status === undefined ? {} : { status: opts.status }),
        ...(opts.type === undefined ? {} : { type: opts.type }),
        ...(opts.space === undefined ? {} : { space: opts.space }),
      });
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(rows.map((r) => ({ ...r, failedMark: showsFailedMark(r) })), null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('no tasks match\n');
        return;
      }
      process.stdout.write(
        table([
          ['cloud name', 'status', 'in sync', 'pending', 'failed', 'bytes', 'speed', 'mode', 'space', 'local path', 'cloud path', 'created', 'last completed'],
          ...rows.map((r) => [
            r.cloudName,
            `${STATUS_LABEL[r.status]}${showsFailedMark(r) ? ' (!)' : ''}`,
            String(r.filesInSync),
            String(r.filesPending),
            String(r.filesFailed),
            `${bytes(r.bytesDone)}/${bytes(r.bytesTotal)}`,
            `${bytes(r.speedBps)}/s`,
            r.mode,
            r.space,
            r.localPath,
            r.cloudPath,
            when(r.createdAt),
            when(r.lastCompletedAt),
          ]),
        ]),
      );
      for (const r of rows) if (r.status === 'failed' || (r.status === 'paused' && r.message !== null)) process.stdout.write(`${r.cloudName}: ${r.message ?? r.reason ?? ''}\n`);
    });

  const task = program.commands.find((c) => c.name() === 'task');
  if (task === undefined) throw new Error('register the task commands first');
  task
    .command('failures')
    .argument('<id>')
    .description("a task's failed files: path, operation, reason, what to do, attempts, next retry")
    .action(async (id: string, _o: unknown, command: Command) => {
      const { failed } = await foldLog(command);
      const files = failedFilesOf(failed, id);
      if (command.optsWithGlobals<{ json?: boolean }>().json === true) {
        process.stdout.write(`${JSON.stringify(files, null, 2)}\n`);
        return;
      }
      if (files.length === 0) {
        process.stdout.write('no failed files\n');
        return;
      }
      process.stdout.write(
        table([
          ['path', 'operation', 'reason', 'attempts', 'next retry', 'what to do'],
          ...files.map((f) => [f.path, f.operation, f.reason, String(f.attempts), when(f.nextRetryAt), f.message]),
        ]),
      );
    });

  task
    .command('files')
    .argument('<id>')
    .description("a task's files on the local and the cloud side, each with its status")
    .addOption(new Option('--side <side>', 'only this side').choices(['local', 'cloud']))
    .addOption(new Option('--status <status>', 'only files in this status').choices(['in-sync', 'pending-upload', 'pending-download', 'transferring', 'failed', 'ignored', 'conflict']))
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { side?: Side; status?: FileStatus; json?: boolean }, command: Command) => {
      const rows = await withViews(command, (store) => {
        if (!store.state(taskSummariesProjection).tasks.has(id)) throw new FoldsyncError('unknown-task', `There is no task ${id}; \`foldsync details\` lists the tasks.`, { taskId: id });
        return fileStatusesOf(store.state(fileStatusProjection), id, { ...(opts.side === undefined ? {} : { side: opts.side }), ...(opts.status === undefined ? {} : { status: opts.status }) });
      });
      if (opts.json === true || command.optsWithGlobals<{ json?: boolean }>().json === true) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('no files match\n');
        return;
      }
      process.stdout.write(table([['side', 'status', 'path', 'kind', 'size', 'reason'], ...rows.map((r) => [r.side, r.status, r.path, r.kind ?? '-', r.kind === 'file' ? bytes(r.size) : '', r.reason ?? ''])]));
    });

  task
    .command('activity')
    .argument('<id>')
    .argument('<path>', 'a path relative to the task folders')
    .description('what happened to one path: observed, decided (and the SPEC rule), done, and when')
    .option('--json', 'print JSON')
    .action(async (id: string, path: string, opts: { json?: boolean }, command: Command) => {
      const { log } = await openDataLog(command);
      const story = createPathActivity(id, path);
      try {
        for await (const page of readPages(log, { stream: taskStream(id), pageSize: 5000 })) for (const e of page) story.apply(e);
      } finally {
        await log.close();
      }
      if (opts.json === true || command.optsWithGlobals<{ json?: boolean }>().json === true) {
        process.stdout.write(`${JSON.stringify(story.entries, null, 2)}\n`);
        return;
      }
      if (story.entries.length === 0) {
        process.stdout.write(`nothing recorded for ${path}\n`);
        return;
      }
      process.stdout.write(activityTable(story.entries));
    });
}

/** A path's story as a table. */
export function activityTable(entries: readonly { position: number; at: number; what: string; side: string | null; detail: string; rule: string | null }[]): string {
  return table([['position', 'when', 'what', 'side', 'detail', 'rule'], ...entries.map((e) => [String(e.position), when(e.at), e.what, e.side ?? '', e.detail, e.rule ?? ''])]);
}
