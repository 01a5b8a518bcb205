/**
 * The invariants a simulated run is held to (issue 8, ADR 0080), as functions that return the list
 * of problems they find (empty: the invariant holds). Property tests assert on them; a user checking
 * their own adapter can call them after their own scenario.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskStream } from '../events/types.js';
import { readPages } from '../events/event-log.js';
import { createPathFilter, isTempName, type PathFilter } from '../lib/filters.js';
import type { EntryKind } from '../lib/model.js';
import { parentOf, type RelPath } from '../lib/names.js';
import { foldEvents } from '../projections/projection.js';
import { createReplay } from '../projections/replay.js';
import { taskRegistryProjection } from '../projections/task-registry.js';
import { summariesOf, taskSummariesProjection } from '../projections/task-summaries.js';
import { createTrees, type Trees } from '../reconcile/trees.js';
import { contentHash, isInsideRoot, SIM_CLOUD_FOLDER, type EngineSimulation } from './world.js';

/** One side's tree as the checks compare it: path -> kind and (files) content hash. */
export type SideShape = ReadonlyMap<RelPath, { readonly kind: EntryKind; readonly hash: string | null }>;

/** The filter the task applies now (its paths are not compared). */
export function currentFilter(sim: EngineSimulation): PathFilter {
  return createPathFilter(sim.engine().task(sim.taskId).options.filters);
}

const ignoredBy = (filter: PathFilter, path: RelPath, kind: EntryKind, size: number): boolean => {
  if (isTempName(path) || filter.ignores(path, kind, size)) return true;
  for (let p = parentOf(path); p !== ''; p = parentOf(p)) if (filter.ignores(p, 'dir', 0)) return true;
  return false;
};

/** The local folder's synced part: files and folders the filter keeps (links and special files are never synced). */
export function localShape(sim: EngineSimulation, filter: PathFilter = currentFilter(sim)): SideShape {
  const out = new Map<RelPath, { kind: EntryKind; hash: string | null }>();
  for (const path of sim.local.paths()) {
    const content = sim.local.contentOf(path);
    const kind: EntryKind = content === null ? 'dir' : 'file';
    if (ignoredBy(filter, path, kind, content?.length ?? 0)) continue;
    out.set(path, { kind, hash: content === null ? null : contentHash(content) });
  }
  return out;
}

/** The task's cloud folder, as the person sees it, minus what the filter ignores. */
export async function cloudShape(sim: EngineSimulation, filter: PathFilter = currentFilter(sim)): Promise<SideShape> {
  const out = new Map<RelPath, { kind: EntryKind; hash: string | null }>();
  const prefix = `${SIM_CLOUD_FOLDER}/`;
  for (const e of await sim.person.list('personal', SIM_CLOUD_FOLDER, { recursive: true })) {
    if (!e.path.startsWith(prefix)) continue;
    const path = e.path.slice(prefix.length);
    if (ignoredBy(filter, path, e.kind, e.size)) continue;
    out.set(path, { kind: e.kind, hash: e.kind === 'file' ? (e.hash ?? null) : null });
  }
  return out;
}

/** The task's three trees, folded afresh from its stream in the log. */
export async function treesFromLog(sim: EngineSimulation): Promise<Trees> {
  const trees = createTrees();
  for await (const page of readPages(sim.log, { stream: taskStream(sim.taskId) })) for (const e of page) trees.apply(e.event);
  return trees;
}

const show = (s: SideShape): string[] => [...s].map(([p, e]) => `${p}:${e.kind}${e.hash === null ? '' : `:${e.hash.slice(0, 8)}`}`).sort();

function diffShapes(a: SideShape, aName: string, b: SideShape, bName: string): string[] {
  const out: string[] = [];
  for (const [p, e] of a) {
    const o = b.get(p);
    if (o === undefined) out.push(`${p} is in ${aName} but not in ${bName}`);
    else if (o.kind !== e.kind || o.hash !== e.hash) out.push(`${p} differs: ${aName} ${e.kind} ${e.hash ?? ''} vs ${bName} ${o.kind} ${o.hash ?? ''}`);
  }
  for (const p of b.keys()) if (!a.has(p)) out.push(`${p} is in ${bName} but not in ${aName}`);
  return out;
}

/**
 * Convergence (two-way, once quiescent): the local folder and the cloud folder hold the same tree
 * and contents, and the synced tree folded from the log holds exactly that too.
 */
export async function convergenceProblems(sim: EngineSimulation): Promise<string[]> {
  const filter = currentFilter(sim);
  const local = localShape(sim, filter);
  const cloud = await cloudShape(sim, filter);
  const problems = diffShapes(local, 'local', cloud, 'cloud');
  const trees = await treesFromLog(sim);
  const synced = new Map<RelPath, { kind: EntryKind; hash: string | null }>();
  for (const p of trees.paths('synced')) {
    const s = trees.synced(p);
    if (s === undefined || ignoredBy(filter, p, s.kind, s.size)) continue;
    synced.set(p, { kind: s.kind, hash: s.kind === 'file' ? (s.hash ?? null) : null });
  }
  problems.push(...diffShapes(local, 'local', synced, 'synced tree'));
  if (problems.length > 0) problems.push(`local: ${show(local).join(' ')}`, `cloud: ${show(cloud).join(' ')}`, `synced: ${show(synced).join(' ')}`);
  return problems;
}

/**
 * Tracks which contents must stay reachable (no data loss). `observe` records every content live on
 * either side (call it whenever the engine has had a chance to see the sides); `beforeLocalLoss`
 * excuses a content the person destroys locally while it exists nowhere else (nobody could keep it).
 */
export interface ContentLedger {
  observe(): void;
  /** Call before the person overwrites or deletes `paths` on the local side. */
  beforeLocalLoss(paths: readonly RelPath[]): void;
  /** Contents observed and not excused that are no longer reachable. */
  problems(): string[];
}

/** Every content hash the sides hold: live, in version history, in the recycle bin or in the trash. */
export function reachableHashes(sim: EngineSimulation): Set<string> {
  const held = sim.cloud.heldHashes(`personal:ada`);
  const out = new Set<string>([...held.live, ...held.history, ...held.bin]);
  for (const p of sim.local.paths()) {
    const c = sim.local.contentOf(p);
    if (c !== null) out.add(contentHash(c));
  }
  for (const t of sim.local.trashed()) if (t.content !== null) out.add(contentHash(t.content));
  return out;
}

/** Creates a {@link ContentLedger} over `sim`. */
export function createContentLedger(sim: EngineSimulation): ContentLedger {
  const seen = new Map<string, string>();
  const excused = new Set<string>();
  const liveLocal = (): Map<string, RelPath[]> => {
    const m = new Map<string, RelPath[]>();
    for (const p of sim.local.paths()) {
      const c = sim.local.contentOf(p);
      if (c === null) continue;
      const h = contentHash(c);
      m.set(h, [...(m.get(h) ?? []), p]);
    }
    return m;
  };
  return {
    observe: () => {
      for (const [h, paths] of liveLocal()) if (!seen.has(h)) seen.set(h, `local ${paths.join(', ')}`);
      const held = sim.cloud.heldHashes('personal:ada');
      for (const h of held.live) if (!seen.has(h)) seen.set(h, 'cloud');
    },
    beforeLocalLoss: (paths) => {
      const held = sim.cloud.heldHashes('personal:ada');
      const elsewhere = new Set<string>([...held.live, ...held.history, ...held.bin]);
      for (const t of sim.local.trashed()) if (t.content !== null) elsewhere.add(contentHash(t.content));
      const doomed = new Set<RelPath>();
      for (const p of sim.local.paths()) if (paths.some((q) => p === q || p.startsWith(`${q}/`))) doomed.add(p);
      for (const [h, at] of liveLocal()) {
        if (elsewhere.has(h)) continue;
        if (at.every((p) => doomed.has(p))) excused.add(h);
      }
    },
    problems: () => {
      const reach = reachableHashes(sim);
      const out: string[] = [];
      for (const [h, where] of seen) if (!excused.has(h) && !reach.has(h)) out.push(`content ${h.slice(0, 12)} (seen in ${where}) is nowhere: not live, not in version history, recycle bin or trash`);
      return out;
    },
  };
}

/** One-way upload: the engine never asked its LocalFs to create, modify, move or delete anything. */
export function uploadLocalProblems(sim: EngineSimulation): string[] {
  return sim
    .localCalls()
    .filter((c) => c.op === 'writeFile' || c.op === 'mkdir' || c.op === 'move' || c.op === 'remove')
    .map((c) => `upload mode changed the local side: ${c.op} ${c.paths.join(' -> ')}`);
}

/**
 * One-way upload, once quiescent: every local file's content is in the cloud, live or as an older
 * version of a live file (SPEC.md 2.2: a cloud modify keeps the backed-up version in history); when
 * `exactPaths`, at the same path with the same content.
 */
export async function uploadBackupProblems(sim: EngineSimulation, exactPaths: boolean): Promise<string[]> {
  const filter = currentFilter(sim);
  const local = localShape(sim, filter);
  const held = sim.cloud.heldHashes('personal:ada');
  const cloud: SideShape = exactPaths ? await cloudShape(sim, filter) : new Map();
  const out: string[] = [];
  for (const [p, e] of local) {
    if (e.kind !== 'file' || e.hash === null) continue;
    if (!held.live.has(e.hash) && !held.history.has(e.hash)) out.push(`local ${p} (${e.hash.slice(0, 12)}) is not backed up in the cloud`);
    if (exactPaths && cloud.get(p)?.hash !== e.hash) out.push(`local ${p} is not at Docs/${p} with its content`);
  }
  return out;
}

/** Every path the engine handed its LocalFs lies inside the task root. */
export function outsideRootProblems(sim: EngineSimulation): string[] {
  const out: string[] = [];
  for (const c of sim.localCalls()) for (const p of c.paths) if (!isInsideRoot(p)) out.push(`${c.op} ${JSON.stringify(p)} is not a path inside the task root`);
  for (const p of sim.local.paths()) if (!isInsideRoot(p)) out.push(`the local folder holds ${JSON.stringify(p)}`);
  return out;
}

/**
 * Replay (the cheap part): folding the log afresh gives the engine's live task registry, and
 * folding the summaries in one pass or event by event gives the same views.
 */
export async function replayProblems(sim: EngineSimulation): Promise<string[]> {
  const events = await sim.events();
  const registry = foldEvents(taskRegistryProjection, taskRegistryProjection.initial(), events.filter((e) => e.stream === 'engine'));
  const out: string[] = [];
  const live = JSON.stringify(sim.engine().tasks());
  const folded = JSON.stringify([...registry.tasks.values()].sort((a, b) => a.createdAt - b.createdAt || (a.taskId < b.taskId ? -1 : 1)));
  if (live !== folded) out.push(`the engine's task registry ${live} differs from the log's ${folded}`);
  const once = summariesOf(foldEvents(taskSummariesProjection, taskSummariesProjection.initial(), events));
  let state = taskSummariesProjection.initial();
  for (const e of events) state = foldEvents(taskSummariesProjection, state, [e]);
  if (JSON.stringify(once) !== JSON.stringify(summariesOf(state))) out.push('the task summaries folded in one pass differ from those folded event by event');
  // Every recorded decision, re-run by the planner from the state the log had before it (replay --verify).
  const replay = createReplay({ verify: true });
  for (const e of events) replay.apply(e);
  const m = replay.verification.mismatch;
  // Simulated runs are small and recent: every decision in them must be checkable.
  for (const u of replay.verification.unverifiable) out.push(`replay --verify could not check the decision at position ${u.position}: ${u.why}`);
  if (m !== null) out.push(`replay --verify: the decision at position ${m.position} (task ${m.taskId}, action ${m.index}) differs: recorded ${JSON.stringify(m.recorded)}, replayed ${JSON.stringify(m.replayed)}`);
  return out;
}

/** Writes the run's log as JSONL (the export format `foldsync replay` reads) under the OS temp dir; returns the file. */
export async function writeFailureLog(sim: EngineSimulation, name: string): Promise<string> {
  const file = join(tmpdir(), `foldsync-sim-${name}-${process.pid}.jsonl`);
  writeFileSync(file, '');
  await sim.log.exportTo(file);
  return file;
}
