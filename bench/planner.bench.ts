/**
 * Planner benchmark (issue 3): trees of 1,000,000 files on each side plus the synced tree, 1% changed
 * on each side, then (1) a full plan over every path and (2) an incremental plan over 10,000
 * freshly changed paths; and the process's peak resident memory.
 *
 * Anchors, measured in the same run:
 * - full plan: a raw loop that diffs plain `Map<string, {size, mtime, hash}>` copies of the same
 *   1,000,000 local, cloud and synced entries (no move detection, no rules, no actions);
 * - incremental plan: the same raw diff over the 10,000 changed paths only;
 * - peak RSS: a separate Node process holding the same three trees as plain `Map`s of plain
 *   objects (the obvious representation), after GC.
 */
import { spawnSync } from 'node:child_process';
import { createTrees } from '../src/reconcile/trees.js';
import { planActions } from '../src/reconcile/planner.js';
import { DEFAULT_OPTIONS } from '../src/lib/model.js';
import type { CloudMeta, LocalMeta, SyncedEntry } from '../src/lib/model.js';
import type { CloudChange, LocalChange, SyncedChange } from '../src/events/types.js';
import { report, rssMb, timeMs } from './report.js';

const N = Number(process.env['PLANNER_BENCH_N'] ?? 1_000_000);
const CHANGED = Math.floor(N / 100);
const INCREMENTAL = Math.min(10_000, N);
// Events arrive in batches of about a thousand changes (a scan or watcher batch).
const BATCH = 1_000;
// Collect the setup's garbage before each timed section, so a section pays for its own only.
const gc = (): void => {
  (globalThis as { gc?: () => void }).gc?.();
};

const pathOf = (i: number): string => `dir${Math.floor(i / 1000)}/sub${Math.floor(i / 100) % 10}/file${i}.dat`;
const hashOf = (i: number, salt: number): string => ((i * 2654435761 + salt) >>> 0).toString(16).padStart(8, '0').repeat(8);
const local = (i: number, salt = 0): LocalMeta => ({ kind: 'file', size: 1000 + i, mtimeNs: `${1_700_000_000_000_000_000n + BigInt(i * 1000 + salt)}`, fileId: `2049:${100 + i}`, hash: hashOf(i, salt) });
const cloud = (i: number, salt = 0): CloudMeta => ({ kind: 'file', id: `f-${i}`, version: `${i * 10 + salt}`, size: 1000 + i, hash: hashOf(i, salt) });
const synced = (i: number): SyncedEntry => {
  const l = local(i);
  const c = cloud(i);
  return { kind: 'file', size: l.size, hash: l.hash ?? '', fileId: l.fileId, mtimeNs: l.mtimeNs, cloudId: c.id, cloudVersion: c.version };
};

/** Runs the planner benchmark. */
export async function run(): Promise<void> {
  let peak = rssMb();
  const sample = (): void => {
    peak = Math.max(peak, rssMb());
  };
  const trees = createTrees();
  // Folders first, as a scan reports them.
  const dirs: string[] = [];
  for (let d = 0; d * 1000 < N; d++) {
    dirs.push(`dir${d}`);
    for (let s = 0; s < 10; s++) dirs.push(`dir${d}/sub${s}`);
  }
  trees.applyLocal(dirs.map((path, k) => ({ path, meta: { kind: 'dir', size: 0, mtimeNs: '1', fileId: `2049:${10_000_000 + k}` } })));
  trees.applyCloud(dirs.map((path, k) => ({ path, meta: { kind: 'dir', id: `d-${k}`, version: '0', size: 0 } })));
  trees.applySynced(dirs.map((path, k) => ({ path, entry: { kind: 'dir', size: 0, fileId: `2049:${10_000_000 + k}`, mtimeNs: '1', cloudId: `d-${k}`, cloudVersion: '0' } })));
  const buildMs = await timeMs(() => {
    for (let start = 0; start < N; start += BATCH) {
      const l: LocalChange[] = [];
      const c: CloudChange[] = [];
      const s: SyncedChange[] = [];
      for (let i = start; i < Math.min(N, start + BATCH); i++) {
        const path = pathOf(i);
        l.push({ path, meta: local(i) });
        c.push({ path, meta: cloud(i) });
        s.push({ path, entry: synced(i) });
      }
      trees.applyLocal(l);
      trees.applyCloud(c);
      trees.applySynced(s);
      if (start % 100_000 === 0) {
        sample();
        // The generated events are the bench's garbage, not the trees': collect it as we go.
        gc();
      }
    }
  });
  sample();
  trees.takeDirty();

  // 1% changed on each side: local edits on even stripes, cloud edits on odd ones.
  const step = Math.floor(N / CHANGED);
  const localChanged: LocalChange[] = [];
  const cloudChanged: CloudChange[] = [];
  for (let k = 0; k < CHANGED; k++) {
    const i = k * step;
    localChanged.push({ path: pathOf(i), meta: local(i, 7) });
    const j = Math.min(N - 1, i + Math.floor(step / 2));
    cloudChanged.push({ path: pathOf(j), meta: cloud(j, 9) });
  }
  trees.applyLocal(localChanged);
  trees.applyCloud(cloudChanged);
  trees.markAllDirty();
  const dirtyAll = trees.takeDirty();
  let fullActions = 0;
  gc();
  const fullMs = await timeMs(() => {
    const plan = planActions({ trees, dirty: dirtyAll, mode: 'two-way', options: DEFAULT_OPTIONS, terminal: 'bench', now: 0 });
    fullActions = plan.actions.length;
  });
  sample();

  // A further 10,000 changed paths, planned incrementally.
  const inc: LocalChange[] = [];
  for (let k = 0; k < INCREMENTAL; k++) {
    const i = (k * 97 + 13) % N;
    inc.push({ path: pathOf(i), meta: local(i, 11) });
  }
  trees.applyLocal(inc);
  const dirty = trees.takeDirty();
  let incActions = 0;
  gc();
  const incMs = await timeMs(() => {
    const plan = planActions({ trees, dirty, mode: 'two-way', options: DEFAULT_OPTIONS, terminal: 'bench', now: 0 });
    incActions = plan.actions.length;
  });
  sample();

  // Anchor: plain Maps of the same entries, diffed by a raw loop.
  interface Plain {
    size: number;
    stamp: string;
    hash: string;
  }
  const mapL = new Map<string, Plain>();
  const mapC = new Map<string, Plain>();
  const mapS = new Map<string, Plain>();
  for (let i = 0; i < N; i++) {
    const p = pathOf(i);
    const l = local(i);
    const c = cloud(i);
    mapL.set(p, { size: l.size, stamp: l.mtimeNs, hash: l.hash ?? '' });
    mapC.set(p, { size: c.size, stamp: c.version, hash: c.hash ?? '' });
    mapS.set(p, { size: l.size, stamp: l.mtimeNs, hash: l.hash ?? '' });
  }
  for (const ch of localChanged) if (ch.meta !== null) mapL.set(ch.path, { size: ch.meta.size, stamp: ch.meta.mtimeNs, hash: ch.meta.hash ?? '' });
  for (const ch of cloudChanged) if (ch.meta !== null) mapC.set(ch.path, { size: ch.meta.size, stamp: ch.meta.version, hash: ch.meta.hash ?? '' });
  const rawDiff = (paths: Iterable<string>): number => {
    let diffs = 0;
    for (const p of paths) {
      const s = mapS.get(p);
      const l = mapL.get(p);
      const c = mapC.get(p);
      if (s === undefined || l === undefined || c === undefined) continue;
      if (l.hash !== s.hash) diffs++;
      if (c.hash !== s.hash) diffs++;
    }
    return diffs;
  };
  let anchorDiffs = 0;
  gc();
  const anchorFullMs = await timeMs(() => {
    anchorDiffs = rawDiff(mapS.keys());
  });
  const incPaths = inc.map((c) => c.path);
  const anchorIncMs = await timeMs(() => rawDiff(incPaths));

  const anchorRss = anchorProcessRss(N);
  console.log(
    `N=${N}: build ${Math.round(buildMs)} ms; full plan ${fullActions} actions (anchor found ${anchorDiffs} differences); incremental plan ${incActions} actions`,
  );
  report([
    { bench: 'planner', metric: `full plan, ${N.toLocaleString('en-US')} files, 1% changed each side`, unit: 'ms', value: fullMs, anchor: 'raw diff of plain Maps, same entries', anchorValue: anchorFullMs, target: '< 5,000 ms' },
    { bench: 'planner', metric: `incremental plan, ${INCREMENTAL.toLocaleString('en-US')} changed paths`, unit: 'ms', value: incMs, anchor: 'raw diff of the same paths in plain Maps', anchorValue: anchorIncMs, target: '< 100 ms' },
    { bench: 'planner', metric: 'peak RSS, three trees + plans', unit: 'MB', value: peak, anchor: 'RSS of plain Maps of the same 3 trees (own process)', anchorValue: anchorRss, target: '< 400 MB' },
  ]);
}

/** RSS of a fresh Node process holding the three trees as plain Maps of plain objects. */
function anchorProcessRss(n: number): number {
  const script = `
    const pathOf = (i) => 'dir' + Math.floor(i / 1000) + '/sub' + (Math.floor(i / 100) % 10) + '/file' + i + '.dat';
    const hashOf = (i, salt) => ((i * 2654435761 + salt) >>> 0).toString(16).padStart(8, '0').repeat(8);
    const L = new Map(), C = new Map(), S = new Map();
    for (let i = 0; i < ${n}; i++) {
      const p = pathOf(i);
      const mtimeNs = String(1700000000000000000n + BigInt(i * 1000));
      L.set(p, { kind: 'file', size: 1000 + i, mtimeNs, fileId: '2049:' + (100 + i), hash: hashOf(i, 0) });
      C.set(p, { kind: 'file', id: 'f-' + i, version: String(i * 10), size: 1000 + i, hash: hashOf(i, 0) });
      S.set(p, { kind: 'file', size: 1000 + i, hash: hashOf(i, 0), fileId: '2049:' + (100 + i), mtimeNs, cloudId: 'f-' + i, cloudVersion: String(i * 10) });
    }
    globalThis.gc();
    process.stdout.write(String(process.memoryUsage().rss / 1024 / 1024 + 0 * (L.size + C.size + S.size)));
  `;
  const out = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return Number(out.stdout);
}
