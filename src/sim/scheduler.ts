/**
 * The simulation's scheduler: every side effect the engine asks for (a cloud request, a local file
 * operation) waits in a queue until the scheduler releases it, and a seeded choice decides which
 * pending operation completes next. With the virtual clock moved only by the scheduler (when
 * nothing else can happen), one choice sequence gives one exact interleaving, hence one exact run.
 */
import type { VirtualClock } from '../io/clock.js';
import { FoldsyncError } from '../lib/errors.js';

/** Picks one of `n` pending operations (0..n-1); `labels` name them, in the order they were queued. */
export type SimChooser = (n: number, labels: readonly string[]) => number;

/** A chooser that replays `choices` (each taken modulo the number of pending operations), then picks the oldest. */
export function choicesChooser(choices: readonly number[]): SimChooser {
  let i = 0;
  return (n) => {
    const c = choices[i];
    i += 1;
    return c === undefined ? 0 : Math.abs(Math.trunc(c)) % n;
  };
}

/** A chooser driven by a 32-bit seed (mulberry32), for long runs outside fast-check. */
export function seededChooser(seed: number): SimChooser {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(r * n);
  };
}

/** What {@link SimScheduler.drive} reports when the driven promise settles or its run is abandoned. */
export type DriveOutcome<T> =
  | { readonly status: 'done'; readonly value: T }
  | { readonly status: 'threw'; readonly error: unknown }
  | { readonly status: 'abandoned' };

/** Options of {@link SimScheduler.drive}. */
export interface DriveOptions {
  /** Stop driving (and drop what is pending) once this says so: the engine "crashed". */
  readonly abandon?: () => boolean;
  /** Called before each release with the step's number (concurrent user edits hook in here). */
  readonly onStep?: (step: number) => void;
  /** The most operations released in one drive before the run counts as stuck (default 100,000). */
  readonly maxSteps?: number;
}

/** The scheduler. */
export interface SimScheduler {
  /** Queues `effect` (run when released); the returned promise settles with its outcome. */
  schedule<T>(label: string, effect: () => Promise<T>): Promise<T>;
  /**
   * Releases pending operations one at a time, in the chooser's order, moving the virtual clock
   * to the next timer only when nothing is pending, until `promise` settles or `abandon` says so.
   *
   * @throws FoldsyncError `sim-stuck` when nothing is pending, no timer is due and the promise is unsettled.
   */
  drive<T>(promise: Promise<T>, options?: DriveOptions): Promise<DriveOutcome<T>>;
  /** Drops every pending operation (their promises never settle): what a crash does to requests in flight. */
  dropPending(): void;
  /** Operations released so far. */
  steps(): number;
}

const macrotask = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

/** Creates a {@link SimScheduler} over `clock`, choosing with `choose`. */
export function createSimScheduler(clock: VirtualClock, choose: SimChooser): SimScheduler {
  let pending: { label: string; release: () => void }[] = [];
  let released = 0;
  return {
    schedule: <T>(label: string, effect: () => Promise<T>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        pending.push({
          label,
          release: () => {
            effect().then(resolve, reject);
          },
        });
      }),
    drive: async <T>(promise: Promise<T>, options: DriveOptions = {}): Promise<DriveOutcome<T>> => {
      let outcome: DriveOutcome<T> | null = null;
      promise.then(
        (value) => {
          outcome = { status: 'done', value };
        },
        (error: unknown) => {
          outcome = { status: 'threw', error };
        },
      );
      const maxSteps = options.maxSteps ?? 100_000;
      let idle = 0;
      for (let step = 0; ; step++) {
        // Every microtask (and nextTick) queued so far runs before a macrotask: the engine reaches
        // its next await on a scheduled operation, deterministically.
        await macrotask();
        const settled = outcome as DriveOutcome<T> | null;
        if (settled !== null) return settled;
        if (options.abandon?.() === true) return { status: 'abandoned' };
        if (step >= maxSteps) throw new FoldsyncError('sim-stuck', `The simulated engine made ${maxSteps} requests without finishing; it looks stuck in a loop.`);
        if (pending.length > 0) {
          idle = 0;
          options.onStep?.(released);
          const i = choose(pending.length, pending.map((p) => p.label));
          const [picked] = pending.splice(i, 1);
          released += 1;
          picked?.release();
          continue;
        }
        if (clock.runNext()) {
          idle = 0;
          continue;
        }
        idle += 1;
        if (idle > 3) {
          throw new FoldsyncError('sim-stuck', 'The simulated engine waits for something that can never happen: no request is pending and no timer is set.');
        }
      }
    },
    dropPending: () => {
      pending = [];
    },
    steps: () => released,
  };
}
