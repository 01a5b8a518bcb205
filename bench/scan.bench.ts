/**
 * Scanner and watcher figures (issue 5), each beside its anchor from the same run:
 * - a full scan (the scanner alone) and a no-change rescan of a tree of small files, beside
 *   `find ROOT -printf '%p %s %T@ %i\n'` (target: within 1.5x of find). The rescan is what a task
 *   does to find that nothing changed: the scan with the task's default filter, compared with the
 *   local tree a first scan built, by the engine's own loop (`diffLocalScan`, ADR 0030);
 * - peak resident memory during the full scan (target: under 300 MB);
 * - the watcher's change-to-event latency beyond its debounce, median of many edits (target: under 100 ms).
 *
 * Environment: FOLDSYNC_BENCH_SCAN_FILES (default 1,000,000; 1,000 a folder) sizes the tree;
 * FOLDSYNC_BENCH_SCAN_WORKER (`auto`, `always`, `never`) overrides the scanner's worker mode;
 * FOLDSYNC_BENCH_EDITS (default 1,000; 0 skips it) the latency sample; FOLDSYNC_BENCH_ROUNDS
 * (default 5) the pairs of each figure. The tree is generated under
 * `$TMPDIR/foldsync-bench-scan-<files>` and deleted at the end unless FOLDSYNC_BENCH_KEEP=1, in
 * which case the next run reuses it (a `.complete` marker beside it says it was fully written).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter as rxFilter, Subject } from 'rxjs';
import { diffLocalScan } from '../src/actors/local-scan.js';
import type { LocalChange } from '../src/events/types.js';
import { createNodeLocalFs } from '../src/io/node-local-fs.js';
import { createPathFilter } from '../src/lib/filters.js';
import { DEFAULT_OPTIONS } from '../src/lib/model.js';
import { createTrees, type Trees } from '../src/reconcile/trees.js';
import type { ScanWorkerMode } from '../src/io/node-scan.js';
import { scanNodeTree } from '../src/io/node-scan.js';
import type { ScanItem, WatchBatch } from '../src/io/local-fs.js';
import { report, rssMb } from './report.js';

const FILES = Number(process.env['FOLDSYNC_BENCH_SCAN_FILES'] ?? 1_000_000);
const EDITS = Number(process.env['FOLDSYNC_BENCH_EDITS'] ?? 1_000);
const KEEP = process.env['FOLDSYNC_BENCH_KEEP'] === '1';
const PER_DIR = 1_000;
const DEBOUNCE_MS = 20;
const ROUNDS = Number(process.env['FOLDSYNC_BENCH_ROUNDS'] ?? 5);
/** `never` measures the scanner without its worker thread (the figure before ADR 0030's worker). */
const WORKER = process.env['FOLDSYNC_BENCH_SCAN_WORKER'] as ScanWorkerMode | undefined;

function generate(root: string): void {
  const marker = `${root}.complete`;
  if (existsSync(marker) && existsSync(root)) {
    console.log(`reusing the tree at ${root}`);
    return;
  }
  rmSync(root, { recursive: true, force: true });
  const started = Date.now();
  for (let d = 0; d * PER_DIR < FILES; d++) {
    const dir = join(root, `d${String(d).padStart(4, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < PER_DIR && d * PER_DIR + f < FILES; f++) writeFileSync(join(dir, `f${f}.txt`), `file ${d}/${f}\n`);
  }
  writeFileSync(marker, '');
  console.log(`generated ${FILES.toLocaleString('en-US')} files in ${((Date.now() - started) / 1000).toFixed(1)} s at ${root}`);
}

/** Wall and CPU (user + system) time of find, CPU read from /usr/bin/time when it is there. */
function timeFind(root: string): { wall: number; cpu: number } {
  const devNull = openSync('/dev/null', 'w');
  try {
    const timer = existsSync('/usr/bin/time');
    const args = ['find', root, '-printf', '%p %s %T@ %i\n'];
    const start = process.hrtime.bigint();
    const r = timer
      ? spawnSync('/usr/bin/time', ['-f', '%U %S', ...args], { stdio: ['ignore', devNull, 'pipe'], encoding: 'utf8' })
      : spawnSync(args[0] ?? 'find', args.slice(1), { stdio: ['ignore', devNull, 'pipe'], encoding: 'utf8' });
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`find failed: ${String(r.status)} ${r.stderr}`);
    const [u, sy] = timer ? r.stderr.trim().split('\n').at(-1)?.split(' ').map(Number) ?? [] : [];
    return { wall, cpu: u === undefined || sy === undefined ? Number.NaN : (u + sy) * 1000 };
  } finally {
    closeSync(devNull);
  }
}

interface ScanRun {
  entries: number;
  changed: number;
  peakMb: number;
  wall: number;
  cpu: number;
}

/**
 * One scan of the whole tree, timed. `scanner`: the scanner alone, nothing consumes the items.
 * `build`: the first scan of a task, into `trees` (files get a fake hash instead of being read).
 * `rescan`: a task's rescan against `trees`, by the engine's own comparison; any change counts.
 */
async function scanOnce(root: string, mode: 'scanner' | 'build' | 'rescan', trees: Trees): Promise<ScanRun> {
  const fs = createNodeLocalFs({ root });
  const rss = (): number => process.memoryUsage.rss() / 1024 / 1024;
  let entries = 0;
  let changed = 0;
  let peak = rss();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  // Timers run between batches because the scanner yields to the event loop there.
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 10);
  const options = mode === 'scanner' ? {} : { filter: createPathFilter(DEFAULT_OPTIONS.filters) };
  const scan = WORKER === undefined ? fs.scan('', options) : scanNodeTree(fs.root, '', { ...options, worker: WORKER });
  // Counts entries and samples memory per batch, as the scanner-only loop does.
  async function* counted(): AsyncGenerator<readonly ScanItem[]> {
    for await (const batch of scan) {
      entries += batch.length;
      peak = Math.max(peak, rss());
      yield batch;
    }
  }
  const FAKE_HASH = 'f'.repeat(64);
  try {
    if (mode === 'scanner') {
      for await (const _ of counted());
    } else {
      await diffLocalScan(trees, '', counted(), {
        // As the task's: a file whose size, mtime and identity match the tree keeps its hash;
        // any other is read (here: given a fake hash, and a failure in a no-change rescan).
        withHash: (path, meta, prev) => {
          if (meta.kind !== 'file') return Promise.resolve(meta);
          if (prev?.hash !== undefined && prev.kind === 'file' && prev.size === meta.size && prev.mtimeNs === meta.mtimeNs && prev.fileId === meta.fileId) return Promise.resolve({ ...meta, hash: prev.hash });
          if (mode === 'rescan') return Promise.reject(new Error(`a no-change rescan had to hash "${path}"`));
          return Promise.resolve({ ...meta, hash: FAKE_HASH });
        },
        flush: (changes: LocalChange[]) => {
          if (mode === 'rescan') changed += changes.length;
          trees.applyLocal(changes);
          changes.length = 0;
          return Promise.resolve();
        },
        flushAt: 1000,
      });
    }
  } finally {
    clearInterval(sampler);
  }
  const c = process.cpuUsage(cpu0);
  return { entries, changed, peakMb: peak, wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: (c.user + c.system) / 1000 };
}

async function watchLatency(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'foldsync-bench-watch-'));
  try {
    const fs = createNodeLocalFs({ root: dir });
    const batches = new Subject<{ at: bigint; batch: WatchBatch }>();
    const sub = fs.watch({ debounceMs: DEBOUNCE_MS }).subscribe((batch) => {
      batches.next({ at: process.hrtime.bigint(), batch });
    });
    await new Promise((r) => setTimeout(r, 500));
    const samples: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      const name = `edit-${i % 20}.txt`;
      const seen = firstValueFrom(batches.pipe(rxFilter((b) => b.batch.changes.some((c) => c.type === 'entry' && c.path === name && c.meta.size === String(i).length + 1))));
      const t0 = process.hrtime.bigint();
      writeFileSync(join(dir, name), `${i}\n`);
      const { at } = await seen;
      samples.push(Number(at - t0) / 1e6 - DEBOUNCE_MS);
    }
    sub.unsubscribe();
    samples.sort((a, b) => a - b);
    return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the scan and watcher benchmarks. */
export async function run(): Promise<void> {
  const root = join(tmpdir(), `foldsync-bench-scan-${FILES}`);
  generate(root);
  try {
    timeFind(root); // warms the cache for both sides alike
    // The machine is shared and its load shifts by the minute, so find and the scan run in pairs,
    // back to back, and the figure is the pair with the median ratio: both sides of one pair saw
    // about the same load.
    const finds: { wall: number; cpu: number }[] = [];
    const scans: ScanRun[] = [];
    const trees = createTrees();
    for (let round = 0; round < ROUNDS; round++) {
      finds.push(timeFind(root));
      scans.push(await scanOnce(root, 'scanner', trees));
    }
    const built = await scanOnce(root, 'build', trees);
    trees.takeDirty();
    console.log(`first scan into the local tree: ${built.wall.toFixed(0)} ms, ${trees.count('local')} entries, RSS ${rssMb().toFixed(0)} MB`);
    const rescanFinds: { wall: number; cpu: number }[] = [];
    const rescans: ScanRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rescanFinds.push(timeFind(root));
      rescans.push(await scanOnce(root, 'rescan', trees));
    }
    const medianPair = (fs: readonly { wall: number }[], ss: readonly ScanRun[]): { find: number; scan: number } => {
      const pairs = ss.map((s, k) => ({ scan: s.wall, find: fs[k]?.wall ?? Number.NaN })).sort((a, b) => a.scan / a.find - b.scan / b.find);
      return pairs[Math.floor(pairs.length / 2)] ?? { find: Number.NaN, scan: Number.NaN };
    };
    const full = medianPair(finds, scans);
    const again = medianPair(rescanFinds, rescans);
    const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const ratios = (fs: readonly { wall: number }[], ss: readonly ScanRun[]): string => ss.map((s, k) => (s.wall / (fs[k]?.wall ?? Number.NaN)).toFixed(2)).join(', ');
    console.log(`full scan rounds, scan/find wall ms: ${scans.map((s, k) => `${s.wall.toFixed(0)}/${finds[k]?.wall.toFixed(0) ?? '?'}`).join(', ')}; ratios ${ratios(finds, scans)}`);
    console.log(`rescan rounds, scan/find wall ms: ${rescans.map((s, k) => `${s.wall.toFixed(0)}/${rescanFinds[k]?.wall.toFixed(0) ?? '?'}`).join(', ')}; ratios ${ratios(rescanFinds, rescans)}`);
    console.log(`full scan: ${scans[0]?.entries ?? 0} entries; rescan: ${rescans[0]?.entries ?? 0} entries, ${rescans[0]?.changed ?? 0} changed; RSS now ${rssMb().toFixed(0)} MB`);
    if (rescans.some((r) => r.changed !== 0)) throw new Error('a no-change rescan reported changes');
    const latency = EDITS > 0 ? await watchLatency() : Number.NaN;
    report([
      { bench: 'scan', metric: `full scan, ${FILES.toLocaleString('en-US')} files (median pair of ${ROUNDS})`, unit: 'ms', value: full.scan, anchor: 'find -printf, same pair', anchorValue: full.find, target: 'ratio <= 1.5' },
      { bench: 'scan', metric: 'full scan, CPU time (medians)', unit: 'ms', value: median(scans.map((r) => r.cpu)), anchor: 'find -printf CPU', anchorValue: median(finds.map((f) => f.cpu)), target: '(context)' },
      { bench: 'scan', metric: 'no-change rescan, diff vs the local tree (median pair)', unit: 'ms', value: again.scan, anchor: 'find -printf, same pair', anchorValue: again.find, target: 'ratio <= 1.5' },
      { bench: 'scan', metric: 'no-change rescan, CPU time (medians)', unit: 'ms', value: median(rescans.map((r) => r.cpu)), anchor: 'find -printf CPU', anchorValue: median(rescanFinds.map((f) => f.cpu)), target: '(context)' },
      { bench: 'scan', metric: 'peak RSS during full scan', unit: 'MB', value: Math.max(...scans.map((r) => r.peakMb)), anchor: 'target', anchorValue: 300, target: '< 300 MB' },
      { bench: 'scan', metric: 'peak RSS during rescan (incl. the local tree)', unit: 'MB', value: Math.max(...rescans.map((r) => r.peakMb)), anchor: 'target', anchorValue: 300, target: '(context)' },
      { bench: 'scan', metric: `watch latency beyond ${DEBOUNCE_MS} ms debounce, median of ${EDITS}`, unit: 'ms', value: latency, anchor: 'target', anchorValue: 100, target: '< 100 ms' },
    ]);
  } finally {
    if (!KEEP) {
      rmSync(root, { recursive: true, force: true });
      rmSync(`${root}.complete`, { force: true });
    }
  }
}
