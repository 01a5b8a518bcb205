/**
 * `foldsync log export FILE [--task ID]`, `foldsync log import FILE` and `foldsync replay [LOG]`
 * (SPEC.md section 7, ADR 0072). Replay reads a data folder's log, a SQLite log file or an export
 * file, and needs no file system beyond it and no network.
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readPages, type EventLog } from '../events/event-log.js';
import { EventLogError } from '../events/errors.js';
import { writeExport } from '../events/export-file.js';
import { createMemoryEventLog } from '../events/memory-event-log.js';
import { createSqliteEventLog } from '../events/sqlite-event-log.js';
import { ENGINE_STREAM, taskStream } from '../events/types.js';
import type { StoredRow } from '../events/upcast.js';
import { createSystemClock } from '../io/clock.js';
import { lockDataDir, resolveDataDir } from '../io/data-dir.js';
import { FoldsyncError } from '../lib/errors.js';
import { fileStatusesOf, fileStatusProjection, type FileStatusState } from '../projections/file-status.js';
import { createReplay } from '../projections/replay.js';
import { querySyncDetails, summariesOf, taskSummariesProjection, type TaskSummariesState } from '../projections/task-summaries.js';
import { activityTable, table, when } from './details-commands.js';
import { LOG_FILE, openDataLog } from './views.js';

const SQLITE_MAGIC = 'SQLite format 3\u0000';

function isSqliteFile(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    return n === 16 && buf.toString('latin1') === SQLITE_MAGIC;
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens the log to replay: an export file (read into memory, every line checked; a bad line is
 * reported with its position), a SQLite log file, or else the data folder's log.
 */
export async function openReplayLog(source: string | undefined, command: Command): Promise<EventLog> {
  if (source === undefined) return (await openDataLog(command)).log;
  const file = resolve(source);
  if (!existsSync(file)) throw new FoldsyncError('no-log', `There is no log at ${file}.`, { file });
  if (isSqliteFile(file)) return createSqliteEventLog({ file, clock: createSystemClock() });
  const log = createMemoryEventLog({ clock: createSystemClock() });
  try {
    await log.importFrom(file);
  } catch (error) {
    if (error instanceof EventLogError && error.code === 'import-corrupt') {
      const line = error.details['line'] as number;
      throw new EventLogError('import-corrupt', error.message.replace(` line ${line}:`, ` line ${line} (event at position ${line - 1}):`), { ...error.details, position: line - 1 }, { cause: error });
    }
    throw error;
  }
  return log;
}

/** The rows of one task: the terminal, the engine stream's events about it, and its stream; renumbered gap-free. */
async function taskRows(log: EventLog, taskId: string): Promise<StoredRow[]> {
  const out: StoredRow[] = [];
  const versions = new Map<string, number>();
  const own = taskStream(taskId);
  for (let from = 1; ; ) {
    const rows = await log.readRows(from, 5000);
    const lastRow = rows[rows.length - 1];
    if (lastRow === undefined) break;
    for (const r of rows) {
      let keep = r.stream === own;
      if (r.stream === ENGINE_STREAM) keep = r.type === 'TerminalInitialized' || (JSON.parse(r.data) as { taskId?: unknown }).taskId === taskId;
      if (!keep) continue;
      const v = (versions.get(r.stream) ?? 0) + 1;
      versions.set(r.stream, v);
      out.push({ ...r, position: out.length + 1, streamVersion: v });
    }
    from = lastRow.position + 1;
  }
  return out;
}

/** Adds `log export`, `log import` and `replay` to `program`. */
export function registerLogCommands(program: Command, setExitCode: (code: number) => void): void {
  const log = program.command('log').description('export and import the event log (a portable, versioned JSON Lines file)');
  log
    .command('export')
    .argument('<file>', 'the file to write')
    .option('--task <id>', "only this task's events (and the terminal's)")
    .option('--json', 'print JSON')
    .description('write the event log to a portable file, to replay it elsewhere')
    .action(async (file: string, opts: { task?: string; json?: boolean }, command: Command) => {
      const { log: source } = await openDataLog(command);
      try {
        let summary;
        if (opts.task === undefined) summary = await source.exportTo(resolve(file));
        else {
          const rows = await taskRows(source, opts.task);
          if (!rows.some((r) => r.stream === taskStream(opts.task ?? ''))) {
            if (!rows.some((r) => r.type === 'TaskCreated')) throw new FoldsyncError('unknown-task', `The log holds no task ${opts.task}.`, { taskId: opts.task });
          }
          summary = await writeExport(resolve(file), (from, limit) => Promise.resolve(rows.slice(from - 1, from - 1 + limit)));
        }
        process.stdout.write(opts.json === true ? `${JSON.stringify(summary)}\n` : `exported ${summary.events} events to ${resolve(file)}\n`);
      } finally {
        await source.close();
      }
    });
  log
    .command('import')
    .argument('<file>', 'an export file')
    .option('--json', 'print JSON')
    .description("read an export file into this data folder's log, which must be empty (all or nothing)")
    .action(async (file: string, opts: { json?: boolean }, command: Command) => {
      const dataDir = resolveDataDir(command.optsWithGlobals<{ data?: string }>().data);
      mkdirSync(dataDir, { recursive: true });
      const lock = lockDataDir(dataDir);
      try {
        const target = await createSqliteEventLog({ file: join(dataDir, LOG_FILE), clock: createSystemClock() });
        try {
          const summary = await target.importFrom(resolve(file));
          process.stdout.write(opts.json === true ? `${JSON.stringify(summary)}\n` : `imported ${summary.events} events into ${dataDir}\n`);
        } finally {
          await target.close();
        }
      } finally {
        lock.release();
      }
    });

  program
    .command('replay')
    .argument('[log]', 'an export file or a SQLite log (default: the data folder\'s log)')
    .option('--task <id>', 'only this task')
    .option('--until <position>', 'stop after this log position')
    .option('--path <path>', "that path's story: observations, decisions (and the SPEC rule), outcomes")
    .option('--verify', 're-run every recorded decision; exit 1 at the first that differs')
    .option('--json', 'print JSON')
    .description('rebuild every state from a log, with no file system and no network, and show what happened')
    .action(async (source: string | undefined, opts: { task?: string; until?: string; path?: string; verify?: boolean; json?: boolean }, command: Command) => {
      const until = opts.until === undefined ? undefined : Number(opts.until);
      if (until !== undefined && !(Number.isSafeInteger(until) && until >= 0)) throw new FoldsyncError('bad-option', `--until must be a log position (a whole number), not ${JSON.stringify(opts.until)}.`);
      const replayLog = await openReplayLog(source, command);
      const replay = createReplay({
        ...(opts.task === undefined ? {} : { taskId: opts.task }),
        ...(until === undefined ? {} : { until }),
        ...(opts.path === undefined ? {} : { path: opts.path }),
        verify: opts.verify === true,
      });
      try {
        outer: for await (const page of readPages(replayLog, { pageSize: 5000 })) for (const e of page) if (!replay.apply(e)) break outer;
      } finally {
        await replayLog.close();
      }
      const summaries = querySyncDetails(summariesOf(replay.states().get(taskSummariesProjection.name) as TaskSummariesState)).filter((s) => opts.task === undefined || s.taskId === opts.task);
      const files = replay.states().get(fileStatusProjection.name) as FileStatusState;
      const v = replay.verification;
      if (opts.verify === true) setExitCode(v.mismatch === null ? 0 : 1);
      if (opts.json === true) {
        process.stdout.write(
          `${JSON.stringify(
            {
              position: replay.position(),
              statuses: replay.statuses,
              tasks: summaries.map((s) => ({ ...s, files: fileStatusesOf(files, s.taskId) })),
              ...(opts.path === undefined ? {} : { story: replay.story }),
              ...(opts.verify === true ? { verification: v } : {}),
            },
            null,
            2,
          )}\n`,
        );
        return;
      }
      process.stdout.write(`replayed up to position ${replay.position()}\n\ntask status over time\n`);
      process.stdout.write(
        replay.statuses.length === 0
          ? '  (none)\n'
          : table([['position', 'when', 'task', 'status', 'reason'], ...replay.statuses.map((s) => [String(s.position), when(s.at), s.taskId, s.status, s.reason ?? ''])]),
      );
      process.stdout.write(`\nsync details at position ${replay.position()}\n`);
      process.stdout.write(
        table([
          ['task', 'cloud name', 'status', 'in sync', 'pending', 'failed'],
          ...summaries.map((s) => [s.taskId, s.cloudName, s.status, String(s.filesInSync), String(s.filesPending), String(s.filesFailed)]),
        ]),
      );
      if (opts.path !== undefined) {
        process.stdout.write(`\nstory of ${opts.path}\n`);
        process.stdout.write(replay.story.length === 0 ? '  nothing recorded\n' : activityTable(replay.story));
      }
      if (opts.verify === true) {
        process.stdout.write(`\nverify: ${v.checked} decisions re-run\n`);
        for (const u of v.unverifiable) process.stdout.write(`  cannot check plan ${u.planId} of task ${u.taskId} at position ${u.position}: ${u.why}\n`);
        if (v.mismatch === null) process.stdout.write('  every decision re-run matches the log\n');
        else {
          const m = v.mismatch;
          process.stdout.write(
            `  FIRST DIFFERENCE: plan ${m.planId} of task ${m.taskId} at position ${m.position}, ${m.index < 0 ? 'the guard' : `action ${m.index}`}\n    recorded: ${JSON.stringify(m.recorded)}\n    replayed: ${JSON.stringify(m.replayed)}\n`,
          );
        }
      }
    });
}
