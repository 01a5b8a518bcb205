/**
 * A simulation of the whole engine (issue 8, ADR 0080): the real `createEngineCore` (task runners,
 * machines, planner, projections) over a simulated local folder, a simulated cloud, an in-memory
 * event log, a virtual clock and sequential ids. Every effect goes through a {@link SimScheduler},
 * so a chooser (a seed, or fast-check's choices) fixes the interleaving. A "crash" drops the engine
 * object at an event boundary: its log appends, file operations and cloud requests never complete
 * again, and a new engine is built over the same log and sides, as a restart would.
 */
import { createHash } from 'node:crypto';
import type { EventLog } from '../events/event-log.js';
import { createMemoryEventLog, type MemoryEventLog } from '../events/memory-event-log.js';
import type { StoredEvent } from '../events/types.js';
import { createEngineCore, type EngineCore } from '../actors/engine.js';
import { createVirtualClock, type VirtualClock } from '../io/clock.js';
import { createSequentialIds, type Ids } from '../io/ids.js';
import { LocalFsError, type LocalFs, type ScanItem } from '../io/local-fs.js';
import { RemoteError, type RemoteDrive } from '../io/remote-drive.js';
import { createSimCloud, type SimCloud, type SimOperation } from '../io/sim-remote-drive.js';
import { createSimLocalFs, type SimLocalFs } from '../io/sim-local-fs.js';
import { createMemorySnapshotStore } from '../io/snapshot-store.js';
import type { CloudErrorCode } from '../lib/cloud-api.js';
import type { LocalFsErrorCode } from '../io/local-fs.js';
import type { SyncMode, TaskOptions } from '../lib/model.js';
import { isRelPath } from '../lib/names.js';
import { createSimScheduler, seededChooser, type DriveOutcome, type SimChooser, type SimScheduler } from './scheduler.js';

/** The user the simulated engine acts as, and the name of the task's cloud folder. */
export const SIM_USER = 'ada';
/** The task's cloud folder, in the user's personal space. */
export const SIM_CLOUD_FOLDER = 'Docs';

/** A cloud fault waiting for the engine's next matching request. */
export interface SimDriveFault {
  /** Which request it hits; null: the next request of any kind. */
  readonly operation: SimOperation | null;
  /** `before`: refused, nothing happens; `after`: it happens and the answer is lost. */
  readonly when: 'before' | 'after';
  readonly code: CloudErrorCode;
}

/** Options of {@link createEngineSimulation}. */
export interface EngineSimulationOptions {
  readonly mode?: SyncMode;
  /** The task's options (merged over the defaults). */
  readonly options?: Partial<TaskOptions>;
  /** Decides which pending operation completes next (default: a seed of 1). */
  readonly choose?: SimChooser;
  /**
   * Wraps the drive the engine gets (after the scheduler and the faults): to test your own
   * {@link RemoteDrive} adapter's behaviour in front of the engine, or to send hostile names.
   */
  readonly wrapDrive?: (drive: RemoteDrive) => RemoteDrive;
  /** False: the engine keeps no snapshots (default: a memory store, a snapshot after every round, ADR 0012). */
  readonly snapshots?: boolean;
}

/** The local operations a fault can hit. */
export type SimLocalFaultOp = 'writeFile' | 'mkdir' | 'move' | 'remove' | 'hash' | 'read';

/** Every path the engine handed to its LocalFs, and every mutating call (for the one-way and path checks). */
export interface LocalCallRecord {
  readonly op: 'lstat' | 'stat' | 'scan' | 'hash' | 'read' | 'writeFile' | 'mkdir' | 'move' | 'remove' | 'removePartials';
  readonly paths: readonly string[];
}

/** The outcome of one engine call under the simulation. */
export type SimCallOutcome<T> = DriveOutcome<T> | { readonly status: 'crashed' };

/** A running simulation. */
export interface EngineSimulation {
  readonly clock: VirtualClock;
  readonly cloud: SimCloud;
  readonly local: SimLocalFs;
  /** The log as stored (every incarnation of the engine appends to it). */
  readonly log: MemoryEventLog;
  readonly scheduler: SimScheduler;
  /** The person's own drive on the same cloud: not scheduled, never faulted. */
  readonly person: RemoteDrive;
  readonly mode: SyncMode;
  readonly taskId: string;
  /** The engine now (a new object after each restart). */
  engine(): EngineCore;
  /** Runs `call` on the current engine under the scheduler; a crash armed with {@link crashAfter} may end it. */
  call<T>(call: (engine: EngineCore) => Promise<T>, options?: { readonly onStep?: (step: number) => void }): Promise<SimCallOutcome<T>>;
  /** Arms a crash right after the engine's `appends`-th next append (an event boundary). */
  crashAfter(appends: number): void;
  /** Crashes now (between calls) if not crashed yet, and builds a new engine over the same log and sides. */
  restart(): Promise<void>;
  /** Queues a cloud fault for the engine's next matching request. */
  failDrive(fault: SimDriveFault): void;
  /** The engine's next local `op` fails with `code`, before it changes anything. */
  failLocal(op: SimLocalFaultOp, code: LocalFsErrorCode): void;
  /** Drops queued faults. */
  clearFaults(): void;
  /** Crashes and restarts so far. */
  restarts(): number;
  /** Every LocalFs call the engine made, oldest first. */
  localCalls(): readonly LocalCallRecord[];
  /** The whole log, decoded. */
  events(): Promise<readonly StoredEvent[]>;
}

/** Thrown into nothing: the promise of a dead incarnation's request simply never settles. */
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** The SHA-256 of a text, as the cloud and the local side report it. */
export function contentHash(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

interface Incarnation {
  alive: boolean;
  /** Appends left before the armed crash; null when none is armed. */
  crashIn: number | null;
}

/**
 * Creates a simulation with one task (local `sim:/` <-> `personal:/Docs`) and an engine over it.
 *
 * @example
 * const sim = await createEngineSimulation({ mode: 'two-way', choose: seededChooser(42) });
 * sim.local.user.write('a.txt', 'hello');
 * await sim.call((e) => e.syncOnce());
 */
export async function createEngineSimulation(options: EngineSimulationOptions = {}): Promise<EngineSimulation> {
  const mode = options.mode ?? 'two-way';
  const clock = createVirtualClock();
  const scheduler = createSimScheduler(clock, options.choose ?? seededChooser(1));
  const cloud = createSimCloud({ clock, ids: createSequentialIds() });
  cloud.addUser(SIM_USER);
  const person = cloud.drive(SIM_USER, 'two-way');
  await person.mkdir('personal', SIM_CLOUD_FOLDER);
  const local = createSimLocalFs({ clock });
  const log = createMemoryEventLog({ clock });
  // One id source across restarts, as random UUIDs would never repeat.
  const ids: Ids = createSequentialIds();
  const driveFaults: SimDriveFault[] = [];
  const localFaults: { op: SimLocalFaultOp; code: LocalFsErrorCode }[] = [];
  const calls: LocalCallRecord[] = [];
  let restarts = 0;
  const snapshots = createMemorySnapshotStore();
  let current: Incarnation = { alive: true, crashIn: null };

  const gatedLog = (inc: Incarnation): EventLog => ({
    ...log,
    append: async (stream, events, expected) => {
      if (!inc.alive) return never();
      const result = await log.append(stream, events, expected);
      if (inc.crashIn !== null) {
        inc.crashIn -= 1;
        if (inc.crashIn <= 0) {
          inc.alive = false;
          return never();
        }
      }
      return result;
    },
    read: (from, limit) => (inc.alive ? log.read(from, limit) : never()),
    readStream: (stream, from, limit) => (inc.alive ? log.readStream(stream, from, limit) : never()),
    readRows: (from, limit) => (inc.alive ? log.readRows(from, limit) : never()),
    scanRows: (from, to, fn) => (inc.alive ? log.scanRows(from, to, fn) : never()),
    head: () => (inc.alive ? log.head() : never()),
    streamVersion: (stream) => (inc.alive ? log.streamVersion(stream) : never()),
    // The engine never closes the shared log; a restart keeps it.
    close: () => Promise.resolve(),
  });

  const gatedLocal = (inc: Incarnation): LocalFs => {
    const run = <T>(op: LocalCallRecord['op'], paths: string[], effect: () => Promise<T>): Promise<T> => {
      if (!inc.alive) return never();
      calls.push({ op, paths });
      return scheduler.schedule(`local.${op} ${paths.join(' ')}`, () => {
        if (!inc.alive) return never<T>();
        const at = localFaults.findIndex((f) => f.op === op);
        const fault = at < 0 ? undefined : localFaults.splice(at, 1)[0];
        if (fault !== undefined) return Promise.reject(new LocalFsError(fault.code, paths[0] ?? '', `Simulated failure of ${op} on "${paths[0] ?? ''}" (${fault.code}).`));
        return effect();
      });
    };
    return {
      root: local.root,
      lstat: (p) => run('lstat', [p], () => local.lstat(p)),
      stat: (p) => run('stat', [p], () => local.stat(p)),
      hash: (p, prev) => run('hash', [p], () => local.hash(p, prev)),
      read: (p) => run('read', [p], () => local.read(p)),
      readAll: (p, max) => run('read', [p], () => local.readAll(p, max)),
      writeFile: (p, content, expect, o) => run('writeFile', [p], () => local.writeFile(p, content, expect, o)),
      mkdir: (p) => run('mkdir', [p], () => local.mkdir(p)),
      move: (from, to, id) => run('move', [from, to], () => local.move(from, to, id)),
      remove: (p, expect, how, filter) => run('remove', [p], () => local.remove(p, expect, how, filter)),
      removePartials: (p) => run('removePartials', [p], () => local.removePartials(p)),
      scan: (under, o) => {
        calls.push({ op: 'scan', paths: [under] });
        const inner = local.scan(under, o);
        return (async function* (): AsyncGenerator<readonly ScanItem[]> {
          for await (const batch of inner) {
            if (!inc.alive) await never();
            yield batch;
          }
        })();
      },
      watch: (o) => local.watch(o),
    };
  };

  const gatedDrive = (inc: Incarnation, drive: RemoteDrive): RemoteDrive => {
    const wrapped: Record<string, unknown> = { mode: drive.mode, close: () => Promise.resolve() };
    for (const key of Object.keys(drive) as (keyof RemoteDrive)[]) {
      if (key === 'mode' || key === 'close') continue;
      // The drive's methods are closures and never use `this`.
      // eslint-disable-next-line @typescript-eslint/unbound-method
      const original = drive[key] as (...args: unknown[]) => Promise<unknown>;
      wrapped[key] = (...args: unknown[]): Promise<unknown> => {
        if (!inc.alive) return never();
        return scheduler.schedule(`cloud.${key} ${typeof args[1] === 'string' ? args[1] : ''}`, async () => {
          if (!inc.alive) return never();
          const at = driveFaults.findIndex((f) => f.operation === null || f.operation === key);
          const fault = at < 0 ? undefined : driveFaults.splice(at, 1)[0];
          const error = fault === undefined ? null : new RemoteError(fault.code, `simulated ${fault.code} (${fault.when} ${key})`);
          if (fault?.when === 'before' && error !== null) throw error;
          const value = await original(...args);
          if (error !== null) throw error;
          return value;
        });
      };
    }
    return wrapped as unknown as RemoteDrive;
  };

  const build = (inc: Incarnation): Promise<EngineCore> =>
    createEngineCore({
      log: gatedLog(inc),
      clock,
      ids,
      terminalName: 'sim',
      defaultCloudUrl: null,
      driveFor: (_cloud, m) => {
        const base = gatedDrive(inc, cloud.drive(SIM_USER, m));
        return options.wrapDrive === undefined ? base : options.wrapDrive(base);
      },
      localFor: () => gatedLocal(inc),
      checkLocalFolder: (path) => ({ root: path, rootId: null }),
      // Snapshots after every round, kept across restarts: every crash property also checks that a
      // runner started from a snapshot and the events after it acts as one that folded everything.
      ...(options.snapshots === false ? {} : { snapshots, snapshotEvery: 1 }),
    });

  const drive = async <T>(promise: Promise<T>, inc: Incarnation, onStep?: (step: number) => void): Promise<SimCallOutcome<T>> => {
    const outcome = await scheduler.drive(promise, { abandon: () => !inc.alive, ...(onStep === undefined ? {} : { onStep }) });
    if (!inc.alive) {
      scheduler.dropPending();
      return { status: 'crashed' };
    }
    return outcome;
  };

  /** Builds engines until one starts without crashing (a crash may be armed during the start). */
  const start = async (): Promise<EngineCore> => {
    for (;;) {
      const inc = current;
      const outcome = await drive(build(inc), inc);
      if (outcome.status === 'done') return outcome.value;
      if (outcome.status === 'threw') throw outcome.error;
      restarts += 1;
      current = { alive: true, crashIn: null };
    }
  };

  let engine = await start();
  const created = await drive(engine.createTask({ localRoot: local.root, cloud: `personal:/${SIM_CLOUD_FOLDER}`, mode, options: options.options ?? {} }), current);
  if (created.status !== 'done') throw new Error(`assertion failed: the simulated task could not be created (${created.status})`);
  const taskId = created.value.taskId;

  /** Builds the next incarnation over the same log and sides (the previous one is dead). */
  const restartAfterCrash = async (): Promise<void> => {
    restarts += 1;
    current = { alive: true, crashIn: null };
    engine = await start();
  };
  const restart = async (): Promise<void> => {
    current.alive = false;
    scheduler.dropPending();
    await restartAfterCrash();
  };

  return {
    clock,
    cloud,
    local,
    log,
    scheduler,
    person,
    mode,
    taskId,
    engine: () => engine,
    call: async (fn, callOptions = {}) => {
      const inc = current;
      const outcome = await drive(fn(engine), inc, callOptions.onStep);
      if (outcome.status === 'crashed') await restartAfterCrash();
      return outcome;
    },
    crashAfter: (appends) => {
      current.crashIn = Math.max(1, appends);
    },
    restart,
    failDrive: (fault) => {
      driveFaults.push(fault);
    },
    failLocal: (op, code) => {
      localFaults.push({ op, code });
    },
    clearFaults: () => {
      driveFaults.length = 0;
      localFaults.length = 0;
    },
    restarts: () => restarts,
    localCalls: () => calls,
    events: async () => {
      const out: StoredEvent[] = [];
      for (let from = 1; ; ) {
        const page = await log.read(from, 5000);
        const last = page[page.length - 1];
        if (last === undefined) return out;
        out.push(...page);
        from = last.position + 1;
      }
    },
  };

}

/** True when `path` is a path inside a task root (what the engine may hand its LocalFs). */
export function isInsideRoot(path: string): boolean {
  return isRelPath(path);
}

