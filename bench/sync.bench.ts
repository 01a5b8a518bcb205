/**
 * The whole engine (issue 6), through the `foldsync` command against the embedded cloud, each
 * figure beside its anchors on the same tree in the same run (Debian's rsync, unison and rclone;
 * a missing tool is reported and skipped):
 * - first sync of a tree of small files (1-4 KiB, 1,000 a folder), files per second, beside
 *   `rsync -a` to a fresh folder, unison's first sync and `rclone bisync --resync`, local to local
 *   (target: at least 0.7 of rsync's rate, faster than unison and rclone);
 * - a no-change `run --once`, beside rsync's, unison's and rclone bisync's no-change runs
 *   (target: no slower than rsync);
 * - `run --once` after modifying 1% of the files, beside unison and rclone (target: under 1 s);
 * - change-to-cloud latency of single-file edits with `run` active, median and 99th percentile
 *   (target: under 300 ms and 1 s), read on the cloud's change feed;
 * - idle CPU of `run` with the tree watched and nothing changing (target: under 1%).
 *
 * Environment: FOLDSYNC_BENCH_SYNC_FILES (default 100,000), FOLDSYNC_BENCH_SYNC_EDITS (default
 * 200), FOLDSYNC_BENCH_IDLE_S (default 30), FOLDSYNC_BENCH_SYNC_ANCHORS=0 to skip the anchors
 * while iterating (the final figures need them). Everything lives under one temporary folder,
 * deleted at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpRemoteDrive } from '../src/io/http-remote-drive.js';
import { report, type Figure } from './report.js';

const FILES = Number(process.env['FOLDSYNC_BENCH_SYNC_FILES'] ?? 100_000);
const EDITS = Number(process.env['FOLDSYNC_BENCH_SYNC_EDITS'] ?? 200);
const IDLE_S = Number(process.env['FOLDSYNC_BENCH_IDLE_S'] ?? 30);
const ANCHORS = process.env['FOLDSYNC_BENCH_SYNC_ANCHORS'] !== '0';
const PER_DIR = 1_000;
const bin = join(import.meta.dirname, '..', 'bin', 'foldsync.js');

const pathOf = (i: number): string => join(`d${String(Math.floor(i / PER_DIR)).padStart(4, '0')}`, `f${i % PER_DIR}.txt`);
/** 1-4 KiB of text that differs per file and per generation. */
const contentOf = (i: number, gen: number): string => `${gen}:${i}:`.padEnd(1024 + ((i * 7919) % 3072), String.fromCharCode(97 + ((i + gen) % 26)));

function generate(root: string): void {
  for (let i = 0; i < FILES; i++) {
    if (i % PER_DIR === 0) mkdirSync(join(root, pathOf(i), '..'), { recursive: true });
    writeFileSync(join(root, pathOf(i)), contentOf(i, 0));
  }
}

/** Modifies every 100th file (1%) in each of `roots`, the same way. */
function modifyOnePercent(roots: readonly string[], gen: number): void {
  for (let i = 0; i < FILES; i += 100) for (const r of roots) if (existsSync(r)) writeFileSync(join(r, pathOf(i)), contentOf(i, gen));
}

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a command to its end and returns its wall time in seconds; throws if it fails. */
function timed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${String(r.status)}: ${r.stderr.slice(-2000)}`);
  return s;
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function run(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'foldsync-bench-sync-'));
  const src = join(base, 'src');
  const home = join(base, 'home');
  const env: NodeJS.ProcessEnv = { ...process.env, FOLDSYNC_HOME: home, XDG_DATA_HOME: join(base, 'xdg') };
  delete env['FOLDSYNC_CLOUD'];
  delete env['FOLDSYNC_TOKEN'];
  const foldsync = (...args: string[]): number => timed(process.execPath, [bin, ...args], env);
  const figures: Figure[] = [];
  const fig = (metric: string, unit: string, value: number, anchor: string, anchorValue: number, target: string): void => {
    figures.push({ bench: 'sync', metric, unit, value, anchor, anchorValue, target });
  };
  let child: ChildProcess | null = null;
  try {
    const started = Date.now();
    generate(src);
    console.log(`generated ${FILES.toLocaleString('en-US')} files in ${((Date.now() - started) / 1000).toFixed(1)} s; load ${loadavg()}`);

    // ---- first sync.
    const anchors: { name: string; first: number; none: number; modified: number | null; dst: string }[] = [];
    const tools: { name: string; tool: string; dst: string; first: () => number; again: () => number }[] = [
      { name: 'rsync -a', tool: 'rsync', dst: join(base, 'rsync'), first: () => timed('rsync', ['-a', `${src}/`, `${join(base, 'rsync')}/`]), again: () => timed('rsync', ['-a', `${src}/`, `${join(base, 'rsync')}/`]) },
      {
        name: 'unison',
        tool: 'unison',
        dst: join(base, 'unison'),
        first: () => timed('unison', [join(base, 'unison-src'), join(base, 'unison'), '-batch', '-auto', '-silent', '-times'], { ...process.env, UNISON: join(base, 'unison-home') }),
        again: () => timed('unison', [join(base, 'unison-src'), join(base, 'unison'), '-batch', '-auto', '-silent', '-times'], { ...process.env, UNISON: join(base, 'unison-home') }),
      },
      {
        name: 'rclone bisync',
        tool: 'rclone',
        dst: join(base, 'rclone'),
        first: () => timed('rclone', ['bisync', join(base, 'rclone-src'), join(base, 'rclone'), '--resync', '--workdir', join(base, 'rclone-work'), '--config', '/dev/null', '-q']),
        again: () => timed('rclone', ['bisync', join(base, 'rclone-src'), join(base, 'rclone'), '--workdir', join(base, 'rclone-work'), '--config', '/dev/null', '-q']),
      },
    ];
    for (const t of ANCHORS ? tools : []) {
      if (!has(t.tool)) {
        console.log(`${t.tool} is not installed (apt-get install ${t.tool}); its anchor is skipped`);
        continue;
      }
      // unison and rclone sync two trees of their own: a copy of the source each, made untimed.
      if (t.tool !== 'rsync') spawnSync('cp', ['-a', src, join(base, `${t.tool}-src`)]);
      mkdirSync(t.dst, { recursive: true });
      const first = t.first();
      const none = t.again();
      anchors.push({ name: t.name, first, none, modified: null, dst: t.dst });
      console.log(`${t.name}: first ${first.toFixed(1)} s, no change ${none.toFixed(2)} s; load ${loadavg()}`);
    }

    mkdirSync(home, { recursive: true });
    foldsync('task', 'create', '--local', src, '--cloud', 'personal:/bench');
    const first = foldsync('run', '--once');
    const none = foldsync('run', '--once');
    // The steady state, for the log only: the first no-change run after a first sync is the figure.
    const noneAgain = foldsync('run', '--once');
    console.log(`foldsync: first ${first.toFixed(1)} s, no change ${none.toFixed(2)} s, then ${noneAgain.toFixed(2)} s; load ${loadavg()}`);
    for (const a of anchors) {
      fig(`first sync (${FILES} files)`, 'files/s', FILES / first, a.name, FILES / a.first, a.name === 'rsync -a' ? '≥ 0.7' : '> 1');
    }
    for (const a of anchors) fig('no-change run --once', 's', none, a.name, a.none, a.name === 'rsync -a' ? '≤ 1' : '');

    // ---- 1% modified.
    modifyOnePercent([src, join(base, 'unison-src'), join(base, 'rclone-src')], 1);
    const modified = foldsync('run', '--once');
    for (const a of anchors) {
      if (a.name === 'rsync -a') continue;
      a.modified = tools.find((t) => t.name === a.name)?.again() ?? null;
      if (a.modified !== null) fig('run --once after 1% modified', 's', modified, a.name, a.modified, '< 1 s');
    }
    console.log(`foldsync: 1% modified ${modified.toFixed(2)} s; load ${loadavg()}`);

    // ---- latency and idle CPU, with `foldsync run` active.
    child = spawn(process.execPath, [bin, 'run'], { env, stdio: 'ignore' });
    const urlFile = join(home, 'embedded-cloud.url');
    const { embedded } = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')) as { embedded: { token: string } };
    while (!existsSync(urlFile)) await sleep(50);
    const drive = createHttpRemoteDrive({ baseUrl: readFileSync(urlFile, 'utf8').trim(), token: embedded.token });
    try {
      // Wait for the first (full) round: it is idle once a long poll sees nothing for a while.
      let cursor = await drive.cursor('personal');
      await sleep(3000);
      const idleFrom = cpuSeconds(child.pid ?? 0);
      const idleStart = Date.now();
      await sleep(IDLE_S * 1000);
      const idlePct = ((cpuSeconds(child.pid ?? 0) - idleFrom) / ((Date.now() - idleStart) / 1000)) * 100;
      fig(`idle CPU, ${FILES} files watched`, '%', idlePct, 'target', 1, '< 1%');

      cursor = await drive.cursor('personal');
      const latencies: number[] = [];
      for (let e = 0; e < EDITS; e++) {
        const i = (e * 4999) % FILES;
        const text = contentOf(i, 1000 + e);
        const hash = createHash('sha256').update(text).digest('hex');
        const t0 = process.hrtime.bigint();
        writeFileSync(join(src, pathOf(i)), text);
        for (;;) {
          const batch = await drive.changes('personal', cursor, { waitSeconds: 10 });
          cursor = batch.cursor;
          if (batch.changes.some((c) => c.hash === hash)) break;
        }
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        await sleep(20);
      }
      latencies.sort((a, b) => a - b);
      const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
      fig(`change-to-cloud latency, median of ${EDITS}`, 'ms', at(0.5), 'target', 300, '< 300 ms');
      fig(`change-to-cloud latency, p99 of ${EDITS}`, 'ms', at(0.99), 'target', 1000, '< 1 s');
    } finally {
      await drive.close();
    }
    console.log(`load ${loadavg()}`);
  } finally {
    if (child !== null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    report(figures);
    rmSync(base, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
