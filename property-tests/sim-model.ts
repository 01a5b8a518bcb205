/**
 * The `fc.commands` model of what happens to a simulated task (issue 8, ADR 0080): the person's
 * operations on both sides, faults, crashes and user commands, run against the real engine in
 * `src/sim/world.ts`. Shared by the engine property files; each states its own invariant.
 */
import fc from 'fast-check';
import type { LocalFsErrorCode } from '../src/io/local-fs.js';
import type { SimOperation } from '../src/io/sim-remote-drive.js';
import type { CloudErrorCode } from '../src/lib/cloud-api.js';
import type { SyncMode, TaskOptions } from '../src/lib/model.js';
import { parentOf, type RelPath } from '../src/lib/names.js';
import { createContentLedger, writeFailureLog, type ContentLedger } from '../src/sim/checks.js';
import { choicesChooser } from '../src/sim/scheduler.js';
import { contentHash, createEngineSimulation, SIM_CLOUD_FOLDER, type EngineSimulation, type SimLocalFaultOp } from '../src/sim/world.js';
import type { RemoteDrive } from '../src/io/remote-drive.js';

/** FOLDSYNC_DEEP=1 runs many more scenarios; FOLDSYNC_SIM_RUNS / FOLDSYNC_SIM_SECONDS set them exactly. */
export const DEEP = process.env['FOLDSYNC_DEEP'] === '1';
const envNumber = (name: string): number | null => {
  const v = process.env[name];
  return v === undefined || v === '' ? null : Number(v);
};

/** The vitest timeout of an engine property: its time budget plus room for shrinking a failure. */
export function testTimeout(seconds: number): number {
  return 1000 * (envNumber('FOLDSYNC_SIM_SECONDS') ?? (DEEP ? seconds * 60 : seconds)) + 120_000;
}

/** fast-check parameters for one engine property: `runs` by default (x50 deep), bounded in time. */
export function budget(runs: number, seconds: number): { numRuns: number; interruptAfterTimeLimit: number; markInterruptAsFailure: false; seed?: number; path?: string } {
  // FOLDSYNC_SIM_SEED and FOLDSYNC_SIM_PATH replay a reported failure (fast-check's seed and path).
  const seed = envNumber('FOLDSYNC_SIM_SEED');
  const path = process.env['FOLDSYNC_SIM_PATH'];
  return {
    ...(seed === null ? {} : { seed }),
    ...(path === undefined || path === '' ? {} : { path }),
    numRuns: envNumber('FOLDSYNC_SIM_RUNS') ?? (DEEP ? runs * 50 : runs),
    interruptAfterTimeLimit: 1000 * (envNumber('FOLDSYNC_SIM_SECONDS') ?? (DEEP ? seconds * 60 : seconds)),
    markInterruptAsFailure: false,
  };
}

const PATHS: readonly RelPath[] = ['a', 'b', 'c.txt', 'a/x', 'a/y.txt', 'b/x', 'a/b', 'a/b/z', 'b/a'];

/** The system under test, as the commands see it. */
export interface Real {
  readonly sim: EngineSimulation;
  readonly ledger: ContentLedger;
  /** Contents written so far (each write is a new, unique content). */
  n: number;
  /** True once the person changed anything in the cloud. */
  cloudTouched: boolean;
  /** Unexpected throws of the engine (a bug: expected failures are values or typed errors inside the engine). */
  readonly thrown: unknown[];
  /** Local paths the person touched since the last incremental sync: what a watcher would report. */
  readonly notes: Set<RelPath>;
}

/** The model: only what decides whether a command makes sense. */
export interface Model {
  paused: boolean;
}

type Cmd = fc.AsyncCommand<Model, Real>;

/** A person's change, applied between engine calls or in the middle of one. */
export type PersonOp =
  | { readonly side: 'local'; readonly op: 'write' | 'mkdir' | 'delete'; readonly path: RelPath }
  | { readonly side: 'local'; readonly op: 'move' | 'copy'; readonly path: RelPath; readonly to: RelPath }
  | { readonly side: 'cloud'; readonly op: 'write' | 'mkdir' | 'delete'; readonly path: RelPath }
  | { readonly side: 'cloud'; readonly op: 'move' | 'copy'; readonly path: RelPath; readonly to: RelPath }
  | { readonly side: 'cloud'; readonly op: 'restore'; readonly pick: number };

const ancestors = (p: RelPath): RelPath[] => {
  const out: RelPath[] = [];
  for (let q = p; q !== ''; q = parentOf(q)) out.push(q);
  return out;
};

const cloudPath = (p: RelPath): string => `${SIM_CLOUD_FOLDER}/${p}`;

async function cloudWrite(drive: RemoteDrive, path: RelPath, content: string): Promise<void> {
  const bytes = new TextEncoder().encode(content);
  const at = await drive.stat('personal', cloudPath(path));
  if (at?.kind === 'dir') return;
  await drive.upload('personal', { path: cloudPath(path) }, bytes, { size: bytes.length, hash: contentHash(bytes), baseVersion: at?.version ?? null });
}

/** Applies a person's operation; refusals (a taken path, a file in the way) are ignored, as a person would retry elsewhere. */
export async function applyPersonOp(real: Real, op: PersonOp): Promise<void> {
  const { sim, ledger } = real;
  const content = (): string => {
    real.n += 1;
    return `${op.side}-content-${real.n}`;
  };
  if (op.side === 'local') {
    const u = sim.local.user;
    real.notes.add(op.path);
    if (op.op === 'move' || op.op === 'copy') real.notes.add(op.to);
    switch (op.op) {
      case 'write':
        ledger.beforeLocalLoss(ancestors(op.path));
        u.write(op.path, content());
        return;
      case 'mkdir':
        ledger.beforeLocalLoss(ancestors(op.path));
        u.mkdir(op.path);
        return;
      case 'delete':
        ledger.beforeLocalLoss([op.path]);
        u.remove(op.path);
        return;
      case 'move':
        if (!sim.local.paths().includes(op.path) || op.to === op.path || op.to.startsWith(`${op.path}/`)) return;
        ledger.beforeLocalLoss(ancestors(op.to));
        u.move(op.path, op.to);
        return;
      case 'copy': {
        const c = sim.local.contentOf(op.path);
        if (c === null || op.to === op.path) return;
        ledger.beforeLocalLoss(ancestors(op.to));
        u.write(op.to, c);
        return;
      }
    }
  }
  real.cloudTouched = true;
  const d = sim.person;
  try {
    switch (op.op) {
      case 'write':
        await cloudWrite(d, op.path, content());
        return;
      case 'mkdir':
        await d.mkdir('personal', cloudPath(op.path));
        return;
      case 'delete': {
        const at = await d.stat('personal', cloudPath(op.path));
        if (at !== null) await d.delete('personal', at.id, null);
        return;
      }
      case 'move':
      case 'copy': {
        const at = await d.stat('personal', cloudPath(op.path));
        if (at === null) return;
        if (op.op === 'move') await d.move('personal', at.id, cloudPath(op.to));
        else await d.copy('personal', at.id, cloudPath(op.to));
        return;
      }
      case 'restore': {
        const bin = await d.bin('personal');
        const entry = bin[op.pick % Math.max(1, bin.length)];
        if (entry !== undefined) await d.restoreFromBin('personal', entry.id);
        return;
      }
    }
  } catch {
    // The cloud refused (a taken path, a file in the way): nothing changed.
  }
}

const pathArb = fc.constantFrom(...PATHS);
export const localOpArb: fc.Arbitrary<PersonOp> = fc.oneof(
  fc.record({ side: fc.constant('local' as const), op: fc.constantFrom('write' as const, 'mkdir' as const, 'delete' as const), path: pathArb }),
  fc.record({ side: fc.constant('local' as const), op: fc.constantFrom('move' as const, 'copy' as const), path: pathArb, to: pathArb }),
);
export const cloudOpArb: fc.Arbitrary<PersonOp> = fc.oneof(
  fc.record({ side: fc.constant('cloud' as const), op: fc.constantFrom('write' as const, 'mkdir' as const, 'delete' as const), path: pathArb }),
  fc.record({ side: fc.constant('cloud' as const), op: fc.constantFrom('move' as const, 'copy' as const), path: pathArb, to: pathArb }),
  fc.record({ side: fc.constant('cloud' as const), op: fc.constant('restore' as const), pick: fc.nat(5) }),
);

class PersonCmd implements Cmd {
  constructor(readonly op: PersonOp) {}
  check = (): boolean => true;
  run = async (_m: Model, r: Real): Promise<void> => applyPersonOp(r, this.op);
  toString = (): string => `person(${JSON.stringify(this.op)})`;
}

/** Runs one engine call, counting an unexpected throw; observes the sides before and after. */
async function engineCall(r: Real, fn: Parameters<EngineSimulation['call']>[0], during: readonly { at: number; op: PersonOp }[] = []): Promise<void> {
  r.ledger.observe();
  const pending: Promise<void>[] = [];
  const outcome = await r.sim.call(fn, {
    onStep: (step) => {
      for (const d of during) if (d.at === step) pending.push(applyPersonOp(r, d.op));
    },
  });
  await Promise.all(pending);
  if (outcome.status === 'threw') r.thrown.push(outcome.error);
  r.ledger.observe();
}

class SyncCmd implements Cmd {
  constructor(readonly during: readonly { at: number; op: PersonOp }[]) {}
  check = (): boolean => true;
  run = async (_m: Model, r: Real): Promise<void> => engineCall(r, (e) => e.syncOnce(), this.during);
  toString = (): string => `sync(${this.during.length === 0 ? '' : JSON.stringify(this.during)})`;
}

/**
 * An incremental round (`syncChanges`): the engine looks again only at the paths a watcher would
 * have reported, minus one when `drop` is set (a watcher event lost); the cloud side comes from the
 * change feed. A dropped path is found again by a later full sync.
 */
class IncrementalSyncCmd implements Cmd {
  constructor(readonly drop: number | null) {}
  check = (): boolean => true;
  run = async (_m: Model, r: Real): Promise<void> => {
    const paths = [...r.notes].sort();
    r.notes.clear();
    if (this.drop !== null && paths.length > 0) paths.splice(this.drop % paths.length, 1);
    await engineCall(r, (e) => e.syncChanges(r.sim.taskId, { paths, rescans: [] }));
  };
  toString = (): string => `syncChanges(${this.drop === null ? '' : `drop ${this.drop}`})`;
}

class CrashCmd implements Cmd {
  constructor(readonly afterAppends: number) {}
  check = (): boolean => true;
  run = async (_m: Model, r: Real): Promise<void> => {
    const before = r.sim.restarts();
    r.sim.crashAfter(this.afterAppends);
    await engineCall(r, (e) => e.syncOnce());
    // The sync ended before the crash point: crash between calls instead.
    if (r.sim.restarts() === before) await r.sim.restart();
  };
  toString = (): string => `crashAfter(${this.afterAppends} appends)`;
}

class DriveFaultCmd implements Cmd {
  constructor(readonly operation: SimOperation | null, readonly when: 'before' | 'after', readonly code: CloudErrorCode) {}
  check = (): boolean => true;
  run = async (_m: Model, r: Real): Promise<void> => {
    r.sim.failDrive({ operation: this.operation, when: this.when, code: this.code });
  };
  toString = (): string => `cloudFault(${this.operation ?? 'any'}, ${this.when}, ${this.code})`;
}

class LocalFaultCmd implements Cmd {
  constructor(readonly op: SimLocalFaultOp, readonly code: LocalFsErrorCode) {}
  check = (): boolean => true;
  run = async (_m: Model, r: Real): Promise<void> => {
    r.sim.failLocal(this.op, this.code);
  };
  toString = (): string => `localFault(${this.op}, ${this.code})`;
}

class PauseCmd implements Cmd {
  check = (m: Readonly<Model>): boolean => !m.paused;
  run = async (m: Model, r: Real): Promise<void> => {
    m.paused = true;
    await engineCall(r, (e) => e.pause(r.sim.taskId));
  };
  toString = (): string => 'pause';
}

class ResumeCmd implements Cmd {
  check = (): boolean => true;
  run = async (m: Model, r: Real): Promise<void> => {
    m.paused = false;
    await engineCall(r, (e) => e.resume(r.sim.taskId));
  };
  toString = (): string => 'resume';
}

class ConfigureCmd implements Cmd {
  constructor(readonly changes: Partial<TaskOptions>) {}
  check = (): boolean => true;
  run = async (_m: Model, r: Real): Promise<void> => engineCall(r, (e) => e.configure(r.sim.taskId, this.changes));
  toString = (): string => `configure(${JSON.stringify(this.changes)})`;
}

const DRIVE_OPS: readonly SimOperation[] = ['upload', 'download', 'list', 'stat', 'mkdir', 'move', 'delete', 'copy', 'cursor'];

/** What the commands may include. */
export interface ModelOptions {
  readonly crashes?: boolean;
  readonly faults?: boolean;
  readonly userCommands?: boolean;
  readonly cloudOps?: boolean;
  /** False: the person never moves cloud items (the upload property's precondition, known case K3). */
  readonly cloudMoves?: boolean;
  readonly concurrent?: boolean;
  readonly maxCommands?: number;
}

/** The command arbitraries. */
export function commandsArb(o: ModelOptions = {}): fc.Arbitrary<Iterable<Cmd>> {
  const cloudOps = o.cloudMoves === false ? cloudOpArb.filter((op) => op.op !== 'move') : cloudOpArb;
  const ops = o.cloudOps === false ? localOpArb : fc.oneof(localOpArb, cloudOps);
  const during = o.concurrent === false ? fc.constant([]) : fc.array(fc.record({ at: fc.nat(40), op: ops }), { maxLength: 3 });
  const arbs: fc.Arbitrary<Cmd>[] = [
    fc.array(localOpArb, { minLength: 1, maxLength: 4 }).map((list) => new MultiCmd(list)),
    ops.map((op) => new PersonCmd(op)),
    during.map((d) => new SyncCmd(d)),
    // Syncs are the point: twice the weight of any other command.
    during.map((d) => new SyncCmd(d)),
    fc.option(fc.nat(8), { nil: null, freq: 3 }).map((drop) => new IncrementalSyncCmd(drop)),
  ];
  if (o.cloudOps !== false) arbs.push(fc.array(cloudOps, { minLength: 1, maxLength: 4 }).map((list) => new MultiCmd(list)));
  if (o.crashes !== false) arbs.push(fc.integer({ min: 1, max: 40 }).map((k) => new CrashCmd(k)));
  if (o.faults !== false) {
    arbs.push(
      fc
        .tuple(fc.option(fc.constantFrom(...DRIVE_OPS), { nil: null }), fc.constantFrom('before' as const, 'after' as const), fc.constantFrom<CloudErrorCode>('server', 'network', 'unavailable'))
        .map(([op, when, code]) => new DriveFaultCmd(op, when, code)),
      fc
        .tuple(fc.constantFrom<SimLocalFaultOp>('writeFile', 'mkdir', 'move', 'remove', 'hash', 'read'), fc.constantFrom<LocalFsErrorCode>('io', 'disk-full', 'permission'))
        .map(([op, code]) => new LocalFaultCmd(op, code)),
    );
  }
  if (o.userCommands !== false) {
    arbs.push(
      fc.constant(new PauseCmd()),
      fc.constant(new ResumeCmd()),
      fc
        .oneof(
          // Precondition (ADR 0080, known case K1): no folder-only pattern such as 'b/': a synced
          // file at the path of a folder the filter ignores on the other side is never reported.
          fc.record({ filters: fc.constantFrom({ include: [], exclude: [], maxFileSize: null }, { include: [], exclude: ['*.txt'], maxFileSize: null }, { include: [], exclude: ['b'], maxFileSize: null }) }),
          fc.record({ throttle: fc.constantFrom({ uploadBps: null, downloadBps: null, maxTransfers: 4, windows: [] }, { uploadBps: 8, downloadBps: 8, maxTransfers: 1, windows: [] }) }),
          fc.record({ autoSync: fc.boolean() }),
        )
        .map((changes) => new ConfigureCmd(changes)),
    );
  }
  return fc.commands(arbs, { maxCommands: o.maxCommands ?? 12 });
}

class MultiCmd implements Cmd {
  constructor(readonly ops: readonly PersonOp[]) {}
  check = (): boolean => true;
  run = async (_m: Model, r: Real): Promise<void> => {
    for (const op of this.ops) await applyPersonOp(r, op);
  };
  toString = (): string => `person(${this.ops.map((o) => JSON.stringify(o)).join(', ')})`;
}

/** How many sync rounds, with no change and no fault, the engine gets to become quiescent. */
export const QUIESCENCE_ROUNDS = 4;

/**
 * Lets the engine settle: faults withdrawn, the task resumed if paused, then `syncOnce` until a
 * round plans nothing, ends `completed` and leaves no failed file. Returns the round that was quiet
 * (1-based), or null when none was within {@link QUIESCENCE_ROUNDS}.
 */
export async function settle(r: Real): Promise<number | null> {
  const { sim } = r;
  sim.clearFaults();
  for (let round = 1; round <= QUIESCENCE_ROUNDS; round++) {
    if (sim.engine().task(sim.taskId).paused) await engineCall(r, (e) => e.resume(sim.taskId));
    const from = (await sim.log.head()) + 1;
    r.ledger.observe();
    const outcome = await sim.call((e) => e.syncOnce(sim.taskId));
    r.ledger.observe();
    if (outcome.status === 'threw') {
      r.thrown.push(outcome.error);
      return null;
    }
    if (outcome.status !== 'done') continue;
    const result = outcome.value.get(sim.taskId);
    const planned = (await sim.log.read(from, 100_000)).some((e) => e.event.type === 'PlanMade' && e.event.actions.length > 0);
    if (!planned && result?.status === 'completed' && result.failedFiles === 0) return round;
  }
  return null;
}

/**
 * Builds a simulation and its ledger for one scenario; `setup` (the person's operations) is
 * applied and synced first, so that the commands change sides that were in step.
 */
export async function scenario(mode: SyncMode, choices: readonly number[], setup: readonly PersonOp[] = [], options: Partial<TaskOptions> = {}): Promise<Real> {
  const sim = await createEngineSimulation({ mode, options: { massDeleteMinFiles: 1_000_000, ...options }, choose: choicesChooser(choices) });
  const real: Real = { sim, ledger: createContentLedger(sim), n: 0, cloudTouched: false, thrown: [], notes: new Set() };
  if (setup.length > 0) {
    for (const op of setup) await applyPersonOp(real, op);
    await engineCall(real, (e) => e.syncOnce());
    real.cloudTouched = false;
  }
  return real;
}

/** Setups: the person's operations on both sides before the first sync. */
export const setupArb: fc.Arbitrary<PersonOp[]> = fc.array(fc.oneof(localOpArb, cloudOpArb), { maxLength: 8 });
/** Setups for upload mode: the local side only. */
export const localSetupArb: fc.Arbitrary<PersonOp[]> = fc.array(localOpArb, { maxLength: 8 });

const counts = new Map<string, { runs: number; since: number }>();

/** In deep or sized runs, prints how many scenarios a property ran and at what rate. */
export function reportCount(name: string): void {
  const c = counts.get(name);
  if (c === undefined || (!DEEP && envNumber('FOLDSYNC_SIM_RUNS') === null && envNumber('FOLDSYNC_SIM_SECONDS') === null)) return;
  const minutes = (performance.now() - c.since) / 60_000;
  console.log(`${name}: ${c.runs} scenarios in ${(minutes * 60).toFixed(0)} s, ${(c.runs / minutes).toFixed(0)} per minute`);
}

/** Runs the commands, then `check`; on a failure writes the log and names it (with the problems) in the error. */
export async function runScenario(name: string, real: Real, cmds: Iterable<Cmd>, check: (r: Real) => Promise<string[]>): Promise<void> {
  const c = counts.get(name) ?? { runs: 0, since: performance.now() };
  c.runs += 1;
  counts.set(name, c);
  let problems: string[];
  try {
    await fc.asyncModelRun(() => ({ model: { paused: false }, real }), cmds);
    problems = [...real.thrown.map((e) => `the engine threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`), ...(await check(real))];
  } catch (error) {
    problems = [`the run threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`];
  }
  if (problems.length === 0) return;
  const file = await writeFailureLog(real.sim, name);
  throw new Error(`${problems.join('\n')}\nevent log (foldsync replay reads it): ${file}`);
}

/** The scheduler's choices: which pending operation completes next, at each step. */
export const choicesArb = fc.array(fc.nat(7), { maxLength: 60 });
