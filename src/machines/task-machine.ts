/**
 * The task machine (SPEC.md section 6): the states a sync task shows and what moves it between
 * them. Pure: it performs no IO and owns no timers; its one delay (the retry backoff of `failed`)
 * runs on whatever clock the actor is given, so a simulation drives it on virtual time.
 *
 * The task actor feeds it facts (a scan finished, work appeared, everything is done, a task-level
 * failure) and user commands; it appends a `TaskStatusChanged` event whenever
 * {@link taskStatusOf} changes.
 */
import { assign, setup } from 'xstate';
import type { TaskFailureReason, TaskStatus } from '../lib/model.js';

/** Why a task is paused: the user asked, or a safety guard held it (SPEC.md section 5). */
export type PauseReason = 'user' | 'mass-delete' | 'folder-gone' | 'folder-replaced' | 'cloud-folder-gone' | 'cloud-folder-replaced';

/** What the task machine is told. */
export type TaskMachineEvent =
  /** Both sides have been scanned or listed since the task (re)started. */
  | { readonly type: 'SCAN_DONE' }
  /** Changes were observed or actions are pending. */
  | { readonly type: 'WORK_FOUND' }
  /** Nothing is pending: every planned action has an outcome. */
  | { readonly type: 'IDLE' }
  | { readonly type: 'PAUSE' }
  | { readonly type: 'RESUME' }
  | { readonly type: 'CANCEL' }
  /** The user asked to sync now: rescan both sides. */
  | { readonly type: 'SYNC_NOW' }
  /** A safety guard stopped the task: it pauses and says why, rather than deleting. */
  | { readonly type: 'GUARD'; readonly reason: Exclude<PauseReason, 'user'>; readonly message: string }
  /** The task as a whole cannot go on. `retryable` failures are retried with backoff. */
  | { readonly type: 'FAIL'; readonly reason: TaskFailureReason; readonly message: string; readonly retryable: boolean }
  | { readonly type: 'CONFIGURE'; readonly autoSync: boolean };

/** The machine's memory. */
export interface TaskMachineContext {
  readonly autoSync: boolean;
  /** Why the task is paused or failed; null otherwise. */
  readonly reason: PauseReason | TaskFailureReason | null;
  readonly message: string | null;
  readonly retryable: boolean;
  /** Consecutive failed attempts, for the backoff. */
  readonly attempt: number;
}

/** What the machine starts with. */
export interface TaskMachineInput {
  readonly autoSync: boolean;
  /** Start paused (a task the user paused before the engine stopped). */
  readonly paused?: boolean;
}

/** Backoff before retrying a failed task: 1 s, 2 s, 4 s, ... up to 5 minutes. No jitter: runs are deterministic. */
export function retryDelayMs(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt - 1), 5 * 60 * 1000);
}

const cleared = { reason: null, message: null, retryable: false } as const;

/** The task machine definition. */
export const taskMachine = setup({
  types: {
    context: {} as TaskMachineContext,
    events: {} as TaskMachineEvent,
    input: {} as TaskMachineInput,
  },
  delays: {
    backoff: ({ context }) => retryDelayMs(context.attempt),
  },
  guards: {
    autoSync: ({ context }) => context.autoSync,
    retryable: ({ context }) => context.retryable,
    startPaused: ({ context }) => context.reason === 'user',
  },
  actions: {
    clear: assign(() => cleared),
    pausedByUser: assign(() => ({ ...cleared, reason: 'user' as const })),
    guarded: assign(({ event }) => {
      if (event.type !== 'GUARD') return {};
      return { reason: event.reason, message: event.message, retryable: false };
    }),
    failed: assign(({ context, event }) => {
      if (event.type !== 'FAIL') return {};
      return { reason: event.reason, message: event.message, retryable: event.retryable, attempt: context.attempt + 1 };
    }),
    succeeded: assign(() => ({ ...cleared, attempt: 0 })),
    configure: assign(({ event }) => (event.type === 'CONFIGURE' ? { autoSync: event.autoSync } : {})),
  },
}).createMachine({
  id: 'task',
  context: ({ input }) => ({ autoSync: input.autoSync, ...cleared, reason: input.paused === true ? 'user' : null, attempt: 0 }),
  initial: 'starting',
  on: {
    CANCEL: '.cancelled',
    CONFIGURE: { actions: 'configure' },
  },
  states: {
    starting: {
      always: [
        { guard: 'startPaused', target: 'paused' },
        { target: 'scanning' },
      ],
    },
    scanning: {
      on: {
        SCAN_DONE: 'synchronizing',
        PAUSE: { target: 'paused', actions: 'pausedByUser' },
        GUARD: { target: 'paused', actions: 'guarded' },
        FAIL: { target: 'failed', actions: 'failed' },
      },
    },
    synchronizing: {
      on: {
        IDLE: { target: 'completed', actions: 'succeeded' },
        SYNC_NOW: 'scanning',
        PAUSE: { target: 'paused', actions: 'pausedByUser' },
        GUARD: { target: 'paused', actions: 'guarded' },
        FAIL: { target: 'failed', actions: 'failed' },
      },
    },
    completed: {
      on: {
        WORK_FOUND: { guard: 'autoSync', target: 'synchronizing' },
        SYNC_NOW: 'scanning',
        PAUSE: { target: 'paused', actions: 'pausedByUser' },
        GUARD: { target: 'paused', actions: 'guarded' },
        FAIL: { target: 'failed', actions: 'failed' },
      },
    },
    paused: {
      on: {
        RESUME: { target: 'scanning', actions: 'clear' },
        // A guard may replace a user pause's reason, never the reverse: the user still has to resume.
        GUARD: { actions: 'guarded' },
      },
    },
    failed: {
      after: {
        backoff: { guard: 'retryable', target: 'scanning', actions: 'clear' },
      },
      on: {
        RESUME: { target: 'scanning', actions: 'clear' },
        SYNC_NOW: { target: 'scanning', actions: 'clear' },
        PAUSE: { target: 'paused', actions: 'pausedByUser' },
        FAIL: { target: 'failed', actions: 'failed', reenter: true },
      },
    },
    cancelled: { type: 'final' },
  },
});

/** A state value of the task machine. */
export type TaskMachineState = 'starting' | 'scanning' | 'synchronizing' | 'completed' | 'paused' | 'failed' | 'cancelled';

/** The status shown for a machine state (SPEC.md section 6); null for states never shown (start, cancelled). */
export function taskStatusOf(state: TaskMachineState): TaskStatus | null {
  switch (state) {
    case 'starting':
    case 'cancelled':
      return null;
    case 'scanning':
    case 'synchronizing':
    case 'completed':
    case 'paused':
    case 'failed':
      return state;
  }
}
