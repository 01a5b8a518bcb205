/**
 * The engine's commands: `sync FOLDER`, `run`, and `task create|list|show|pause|resume|cancel|config`.
 * The data folder is `--data DIR`, else `$FOLDSYNC_HOME`, else `~/.foldsync`; the cloud is
 * `--cloud-url URL --token T` (or `FOLDSYNC_CLOUD`, `FOLDSYNC_TOKEN`), else the embedded one.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { createEngine, type Engine } from '../engine.js';
import { resolveDataDir } from '../io/data-dir.js';
import { FoldsyncError } from '../lib/errors.js';
import { DEFAULT_OPTIONS, type SyncMode, type TaskOptions } from '../lib/model.js';
import type { RegisteredTask } from '../projections/task-registry.js';
import type { SyncResult } from '../actors/task-runner.js';
import { parseBytes } from './cloud-commands.js';
import { startProgressView } from './progress-view.js';
import { startUiServer } from './ui-server.js';

interface GlobalOpts {
  data?: string;
  cloudUrl?: string;
  token?: string;
  json?: boolean;
}

/** Options of SPEC.md section 4, as flags. */
interface OptionFlags {
  include?: string[];
  exclude?: string[];
  maxFileSize?: string;
  uploadLimit?: string;
  downloadLimit?: string;
  maxTransfers?: string;
  deleteInCloud?: boolean;
  cloudDeletes?: 'trash' | 'delete';
  conflicts?: TaskOptions['conflicts'];
  autoSync?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function addOptionFlags(command: Command): Command {
  return command
    .option('--include <pattern>', 'sync only paths matching (gitignore syntax; repeatable)', collect)
    .option('--exclude <pattern>', 'never sync paths matching (gitignore syntax; repeatable)', collect)
    .option('--max-file-size <size>', 'ignore larger files (bytes, or 10M, 2G; none)')
    .option('--upload-limit <rate>', 'upload limit in bytes per second (or 1M; none)')
    .option('--download-limit <rate>', 'download limit in bytes per second (or 1M; none)')
    .option('--max-transfers <n>', 'concurrent transfers')
    .option('--delete-in-cloud', 'upload mode: a local delete sends the cloud item to the recycle bin')
    .option('--no-delete-in-cloud', 'upload mode: local deletes stay local (default)')
    .addOption(new Option('--cloud-deletes <how>', 'two-way: a cloud delete moves the local file to the trash, or deletes it').choices(['trash', 'delete']))
    .addOption(new Option('--conflicts <policy>', 'two-way: what a conflicting change does').choices(['keep-both', 'local-wins', 'cloud-wins']))
    .option('--auto-sync', 'watch both sides and sync continuously (default)')
    .option('--no-auto-sync', 'sync only when asked');
}

/** The options the flags set, over `base`. */
export function optionsFromFlags(flags: OptionFlags, base: TaskOptions = DEFAULT_OPTIONS): TaskOptions {
  const count = (text: string, what: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new FoldsyncError('bad-option', `${what} must be a whole number of at least 1, not ${JSON.stringify(text)}.`);
    return n;
  };
  return {
    ...base,
    filters: {
      include: flags.include ?? base.filters.include,
      exclude: flags.exclude ?? base.filters.exclude,
      maxFileSize: flags.maxFileSize === undefined ? base.filters.maxFileSize : parseBytes(flags.maxFileSize),
    },
    throttle: {
      ...base.throttle,
      uploadBps: flags.uploadLimit === undefined ? base.throttle.uploadBps : parseBytes(flags.uploadLimit),
      downloadBps: flags.downloadLimit === undefined ? base.throttle.downloadBps : parseBytes(flags.downloadLimit),
      maxTransfers: flags.maxTransfers === undefined ? base.throttle.maxTransfers : count(flags.maxTransfers, '--max-transfers'),
    },
    deleteInCloud: flags.deleteInCloud ?? base.deleteInCloud,
    cloudDeletes: flags.cloudDeletes ?? base.cloudDeletes,
    conflicts: flags.conflicts ?? base.conflicts,
    autoSync: flags.autoSync ?? base.autoSync,
  };
}

async function withEngine<T>(command: Command, fn: (engine: Engine, opts: GlobalOpts) => T | Promise<T>): Promise<T> {
  const opts = command.optsWithGlobals<GlobalOpts>();
  const url = opts.cloudUrl ?? process.env['FOLDSYNC_CLOUD'];
  const token = opts.token ?? process.env['FOLDSYNC_TOKEN'];
  if ((url === undefined) !== (token === undefined)) {
    throw new FoldsyncError('bad-option', 'Give both --cloud-url and --token (or FOLDSYNC_CLOUD and FOLDSYNC_TOKEN), or neither for the embedded cloud.');
  }
  const engine = await createEngine({ dataDir: resolveDataDir(opts.data), ...(url !== undefined && token !== undefined ? { cloud: { url, token } } : {}) });
  try {
    return await fn(engine, opts);
  } finally {
    await engine.close();
  }
}

function print(opts: GlobalOpts, value: unknown, human: string): void {
  process.stdout.write(opts.json === true ? `${JSON.stringify(value, null, 2)}\n` : human);
}

const describeTask = (t: RegisteredTask): string =>
  `${t.taskId}  ${t.mode.padEnd(7)}  ${t.paused ? 'paused ' : 'active '}  ${t.localRoot}  <->  ${t.cloud.space}:${t.cloud.path}\n`;

type Print = (line: string) => void;

function reportRound(engine: Engine, results: ReadonlyMap<string, SyncResult>, json: boolean, print: Print): void {
  for (const [taskId, r] of results) {
    const t = engine.task(taskId);
    if (json) print(`${JSON.stringify({ taskId, localRoot: t.localRoot, ...r })}\n`);
    else print(`${t.localRoot}: ${r.status}${r.failedFiles > 0 ? ` (${r.failedFiles} files failed; \`foldsync task show ${taskId}\`)` : ''}\n`);
  }
}

/**
 * Runs `work` with live progress on standard output (bars on a terminal, plain lines when piped);
 * `--json` prints only the results, one JSON object a line.
 */
async function withProgress<T>(engine: Engine, json: boolean, work: (print: Print) => Promise<T>): Promise<T> {
  const plain: Print = (line) => {
    process.stdout.write(line);
  };
  if (json) return work(plain);
  const view = startProgressView({ progress$: engine.progress$, out: process.stdout, nameOf: (id) => basename(engine.task(id).localRoot) });
  try {
    return await work((line) => {
      view.log(line);
    });
  } finally {
    view.stop();
  }
}

/** 0 when every task completed with no failed file, else 1. */
function exitCodeOf(results: ReadonlyMap<string, SyncResult>): number {
  return [...results.values()].every((r) => r.status === 'completed' && r.failedFiles === 0) ? 0 : 1;
}

async function runUntilSignal(engine: Engine, json: boolean): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Incremental rounds come often (the engine's own writes are seen too): print a task's line only when it says something new.
  const shown = new Map<string, string>();
  try {
    await withProgress(engine, json, (print) =>
      engine.run(stop.signal, (results) => {
        const fresh = new Map([...results].filter(([id, r]) => shown.get(id) !== `${r.status}/${r.failedFiles}`));
        for (const [id, r] of fresh) shown.set(id, `${r.status}/${r.failedFiles}`);
        if (fresh.size > 0) reportRound(engine, fresh, json, print);
      }),
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Adds the engine's commands to `program`; `setExitCode` receives `run --once`'s result. */
export function registerEngineCommands(program: Command, setExitCode: (code: number) => void): void {
  const cloudFlags = (c: Command): Command =>
    c.option('--cloud-url <url>', 'the cloud server (default $FOLDSYNC_CLOUD, else the embedded one)').option('--token <token>', 'your token for it (default $FOLDSYNC_TOKEN)').option('--json', 'print JSON');

  cloudFlags(
    program
      .command('sync')
      .description('sync FOLDER two-way with personal:/<folder name> (created if missing) and keep it in sync; --once stops when done')
      .argument('<folder>', 'the local folder to keep in sync')
      .option('--once', 'sync until done, then exit (0: all in sync, 1: some files failed)'),
  ).action(async (folder: string, opts: { once?: boolean }, command: Command) => {
    const root = resolve(folder);
    if (!existsSync(root)) {
      mkdirSync(root, { recursive: true });
      process.stdout.write(`created ${root}\n`);
    }
    await withEngine(command, async (engine, g) => {
      let task = engine.tasks().find((t) => t.localRoot === root);
      if (task === undefined) {
        task = await engine.createTask({ localRoot: root, cloud: `personal:/${basename(root)}` });
        process.stdout.write(`created task ${task.taskId}: ${root} <-> personal:/${basename(root)} (two-way)\n`);
      }
      if (opts.once === true) {
        const id = task.taskId;
        await withProgress(engine, g.json === true, async (print) => {
          const results = await engine.syncOnce(id);
          reportRound(engine, results, g.json === true, print);
          setExitCode(exitCodeOf(results));
        });
        return;
      }
      process.stdout.write(`syncing ${root} with ${engine.cloudUrl}; Ctrl-C stops\n`);
      await runUntilSignal(engine, g.json === true);
    });
  });

  cloudFlags(
    program
      .command('run')
      .description('run every task in the foreground; --once stops when done')
      .option('--once', 'sync until done, then exit (0: all in sync, 1: otherwise)')
      .option('--ui', 'serve the sync details page on 127.0.0.1 while running')
      .option('--port <n>', 'the page\'s port (default: any free port)'),
  ).action(async (opts: { once?: boolean; ui?: boolean; port?: string }, command: Command) => {
    await withEngine(command, async (engine, g) => {
      const port = opts.port === undefined ? 0 : Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FoldsyncError('bad-option', `--port must be a port number, not ${JSON.stringify(opts.port)}.`);
      const ui = opts.ui === true ? await startUiServer({ dataDir: engine.dataDir, port }) : null;
      if (ui !== null) process.stdout.write(`sync details at ${ui.url}\n`);
      try {
        if (opts.once === true) {
          await withProgress(engine, g.json === true, async (print) => {
            const results = await engine.syncOnce();
            reportRound(engine, results, g.json === true, print);
            setExitCode(exitCodeOf(results));
          });
          return;
        }
        await runUntilSignal(engine, g.json === true);
      } finally {
        await ui?.close();
      }
    });
  });

  cloudFlags(program.command('retry').argument('<id>').description("retry a task's failed files now (exit 0 when none is left failed)")).action(
    async (id: string, _o: unknown, command: Command) => {
      await withEngine(command, async (engine, g) => {
        await withProgress(engine, g.json === true, async (print) => {
          const result = await engine.retry(id);
          const results = new Map([[id, result]]);
          reportRound(engine, results, g.json === true, print);
          setExitCode(exitCodeOf(results));
        });
      });
    },
  );

  const task = cloudFlags(program.command('task').description('create, list and control sync tasks'));
  addOptionFlags(
    task
      .command('create')
      .description('create a sync task (refused, with what to do, when SPEC.md section 3 forbids it)')
      .requiredOption('--local <path>', 'the local folder')
      .requiredOption('--cloud <SPACE:/path>', 'the cloud folder')
      .addOption(new Option('--mode <mode>', 'two-way or one-way upload').choices(['two-way', 'upload']).default('two-way')),
  ).action(async (opts: OptionFlags & { local: string; cloud: string; mode: SyncMode }, command: Command) => {
    await withEngine(command, async (engine, g) => {
      const created = await engine.createTask({ localRoot: opts.local, cloud: opts.cloud, mode: opts.mode, options: optionsFromFlags(opts) });
      print(g, created, `created task ${created.taskId}\n`);
    });
  });
  task.command('list').description('list the tasks').action(async (_o: unknown, command: Command) => {
    await withEngine(command, (engine, g) => {
      const tasks = engine.tasks();
      print(g, tasks, tasks.length === 0 ? 'no tasks; create one with `foldsync task create` or `foldsync sync FOLDER`\n' : tasks.map(describeTask).join(''));
    });
  });
  task.command('show').argument('<id>').description("show a task and its options").action(async (id: string, _o: unknown, command: Command) => {
    await withEngine(command, (engine, g) => {
      const t = engine.task(id);
      print(g, t, `${describeTask(t)}${JSON.stringify(t.options, null, 2)}\n`);
    });
  });
  for (const [name, what] of [
    ['pause', 'pause a task'],
    ['resume', 'resume a paused task'],
    ['cancel', 'stop and remove a task (no file on either side is touched)'],
  ] as const) {
    task.command(name).argument('<id>').description(what).action(async (id: string, _o: unknown, command: Command) => {
      await withEngine(command, async (engine, g) => {
        await engine[name](id);
        print(g, { taskId: id, done: name }, `${name === 'cancel' ? 'cancelled' : `${name}d`} ${id}\n`);
      });
    });
  }
  addOptionFlags(task.command('config').argument('<id>').description("change a task's options")).action(async (id: string, opts: OptionFlags, command: Command) => {
    await withEngine(command, async (engine, g) => {
      const updated = await engine.configure(id, optionsFromFlags(opts, engine.task(id).options));
      print(g, updated, `configured ${id}\n`);
    });
  });
}
