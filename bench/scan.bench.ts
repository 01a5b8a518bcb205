/**
 * Scanner and watcher figures (issue 5), each beside its anchor from the same run:
 * - a full scan and a no-change rescan of a tree of small files, beside
 *   `find ROOT -printf '%p %s %T@ %i\n'` (target: within 1.5x of find);
 * - peak resident memory during the full scan (target: under 300 MB);
 * - the watcher's change-to-event latency beyond its debounce, median of many edits (target: under 100 ms).
 *
 * Environment: FOLDSYNC_BENCH_SCAN_FILES (default 1,000,000; 1,000 a folder) sizes the tree;
 * FOLDSYNC_BENCH_EDITS (default 1,000) the latency sample. The tree is generated under
 * `$TMPDIR/foldsync-bench-scan-<files>` and deleted at the end unless FOLDSYNC_BENCH_KEEP=1, in
 * which case the next run reuses it (a `.complete` marker beside it says it was fully written).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter as rxFilter, Subject } from 'rxjs';
import { createNodeLocalFs } from '../src/io/node-local-fs.js';
import type { WatchBatch } from '../src/io/local-fs.js';
import { report, rssMb, timeMs } from './report.js';

const FILES = Number(process.env['FOLDSYNC_BENCH_SCAN_FILES'] ?? 1_000_000);
const EDITS = Number(process.env['FOLDSYNC_BENCH_EDITS'] ?? 1_000);
const KEEP = process.env['FOLDSYNC_BENCH_KEEP'] === '1';
const PER_DIR = 1_000;
const DEBOUNCE_MS = 20;

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

function timeFind(root: string): number {
  const devNull = openSync('/dev/null', 'w');
  try {
    const start = process.hrtime.bigint();
    const r = spawnSync('find', [root, '-printf', '%p %s %T@ %i\n'], { stdio: ['ignore', devNull, 'inherit'] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`find failed: ${String(r.status)}`);
    return ms;
  } finally {
    closeSync(devNull);
  }
}

async function scanOnce(root: string, previous: Map<string, string> | null, keep: Map<string, string> | null): Promise<{ entries: number; changed: number; peakMb: number }> {
  const fs = createNodeLocalFs({ root });
  let entries = 0;
  let changed = 0;
  let peak = rssMb();
  // Timers run between batches because the scanner yields to the event loop there.
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb());
  }, 10);
  try {
    for await (const batch of fs.scan('')) {
      for (const it of batch) {
        entries++;
        if (it.type !== 'entry') continue;
        const print = `${it.meta.size}:${it.meta.mtimeNs}:${it.meta.fileId}`;
        if (keep !== null) keep.set(it.path, print);
        if (previous !== null && previous.get(it.path) !== print) changed++;
      }
      peak = Math.max(peak, rssMb());
    }
  } finally {
    clearInterval(sampler);
  }
  return { entries, changed, peakMb: peak };
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
    const findMs = Math.min(timeFind(root), timeFind(root));
    const baseRss = rssMb();
    let full = { entries: 0, changed: 0, peakMb: 0 };
    const scanMs = await timeMs(async () => {
      full = await scanOnce(root, null, null);
    });
    const tree = new Map<string, string>();
    await scanOnce(root, null, tree);
    let again = { entries: 0, changed: 0, peakMb: 0 };
    const rescanMs = await timeMs(async () => {
      again = await scanOnce(root, tree, null);
    });
    const findAfterMs = timeFind(root);
    console.log(`full scan: ${full.entries} entries; rescan: ${again.entries} entries, ${again.changed} changed; find again: ${findAfterMs.toFixed(0)} ms; RSS before scan ${baseRss.toFixed(0)} MB`);
    if (again.changed !== 0) throw new Error('a no-change rescan reported changes');
    const latency = await watchLatency();
    report([
      { bench: 'scan', metric: `full scan, ${FILES.toLocaleString('en-US')} files`, unit: 'ms', value: scanMs, anchor: 'find -printf', anchorValue: findMs, target: 'ratio <= 1.5' },
      { bench: 'scan', metric: 'no-change rescan (diff vs tree)', unit: 'ms', value: rescanMs, anchor: 'find -printf', anchorValue: findMs, target: 'ratio <= 1.5' },
      { bench: 'scan', metric: 'peak RSS during full scan', unit: 'MB', value: full.peakMb, anchor: 'target', anchorValue: 300, target: '< 300 MB' },
      { bench: 'scan', metric: `watch latency beyond ${DEBOUNCE_MS} ms debounce, median of ${EDITS}`, unit: 'ms', value: latency, anchor: 'target', anchorValue: 100, target: '< 100 ms' },
    ]);
  } finally {
    if (!KEEP) {
      rmSync(root, { recursive: true, force: true });
      rmSync(`${root}.complete`, { force: true });
    }
  }
}
