/**
 * Rate and concurrency limits for transfers (SPEC.md section 4, "throttle"), both changeable
 * while transfers run. Time comes from the injected Clock, so a simulation throttles in virtual time.
 */
import type { Clock } from '../io/clock.js';

/** A token bucket in bytes: callers `take` the bytes they are about to send and wait their turn. */
export interface TokenBucket {
  /** Resolves when `bytes` may be transferred. Waiters are served first come, first served. */
  take(bytes: number): Promise<void>;
  /** Re-reads the rate now (call after the options or the time window changed). */
  refresh(): void;
  /** Rejects every waiter (the task was paused or cancelled). */
  abort(reason: Error): void;
}

/** How often a waiter re-reads the rate, so a time window or an option change applies within that time. */
const RECHECK_MS = 1000;

/**
 * Creates a token bucket whose rate (bytes per second, null for unlimited) is read from `rate`
 * each time it is needed. Up to one second of the rate can be used at once (the burst); a take
 * larger than that is let through when the bucket is full, leaving it in debt.
 */
export function createTokenBucket(clock: Clock, rate: () => number | null): TokenBucket {
  let tokens = 0;
  // The bucket starts full, and fills again whenever the rate was unlimited.
  let full = true;
  let last = clock.now();
  let cancelTimer: (() => void) | null = null;
  const queue: { bytes: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  const refill = (bps: number): void => {
    const now = clock.now();
    tokens = Math.min(bps, tokens + ((now - last) / 1000) * bps);
    last = now;
  };

  const pump = (): void => {
    if (cancelTimer !== null) {
      cancelTimer();
      cancelTimer = null;
    }
    for (let head = queue[0]; head !== undefined; head = queue[0]) {
      const bps = rate();
      if (bps === null) {
        // Unlimited: everyone goes; the bucket starts full when a limit comes back.
        full = true;
        queue.shift();
        head.resolve();
        continue;
      }
      if (bps <= 0) {
        // A zero rate holds everything; look again later.
        cancelTimer = clock.setTimeout(pump, RECHECK_MS);
        return;
      }
      if (full) {
        tokens = bps;
        last = clock.now();
        full = false;
      }
      refill(bps);
      const need = Math.min(head.bytes, bps);
      if (tokens < need) {
        const waitMs = Math.ceil(((need - tokens) / bps) * 1000);
        cancelTimer = clock.setTimeout(pump, Math.min(waitMs, RECHECK_MS));
        return;
      }
      tokens -= head.bytes;
      queue.shift();
      head.resolve();
    }
  };

  return {
    take: (bytes) =>
      new Promise<void>((resolve, reject) => {
        queue.push({ bytes, resolve, reject });
        if (queue.length === 1) pump();
      }),
    refresh: pump,
    abort: (reason) => {
      if (cancelTimer !== null) cancelTimer();
      cancelTimer = null;
      for (const w of queue.splice(0)) w.reject(reason);
    },
  };
}

/** Runs at most `limit` jobs at once; the limit can change while jobs run. */
export interface TransferPool {
  /** Runs `job` when a slot is free; resolves or rejects with its result. */
  run<T>(job: () => Promise<T>): Promise<T>;
  /** Changes the limit; raising it starts waiting jobs at once, lowering it lets running jobs finish. */
  setLimit(limit: number): void;
  /** Jobs that may run at once. */
  readonly limit: number;
  /** Jobs running now. */
  readonly active: number;
  /** Jobs waiting for a slot. */
  readonly waiting: number;
}

/** Creates a {@link TransferPool}. */
export function createTransferPool(initialLimit: number): TransferPool {
  const budget = createByteBudget(Math.max(1, initialLimit));
  return {
    run: (job) => budget.run(1, job),
    setLimit: (n) => { budget.setLimit(Math.max(1, n)); },
    get limit() {
      return budget.limit;
    },
    get active() {
      return budget.jobs;
    },
    get waiting() {
      return budget.waiting;
    },
  };
}

/**
 * Runs jobs that each hold a weight (bytes in memory, say) while the weights running add up to at
 * most the limit. A job heavier than the whole limit runs alone. Jobs start in the order they came.
 */
export interface ByteBudget {
  /** Runs `job` once `weight` fits; resolves or rejects with its result. */
  run<T>(weight: number, job: () => Promise<T>): Promise<T>;
  /** Changes the limit; raising it starts waiting jobs at once, lowering it lets running jobs finish. */
  setLimit(limit: number): void;
  /** The weight that may run at once. */
  readonly limit: number;
  /** Jobs running now. */
  readonly jobs: number;
  /** Jobs waiting. */
  readonly waiting: number;
}

/** Creates a {@link ByteBudget}. */
export function createByteBudget(initialLimit: number): ByteBudget {
  let limit = initialLimit;
  let used = 0;
  let jobs = 0;
  // A queue read from `head`: `shift()` on a queue of 100,000 waiting uploads cost a copy per start.
  let queue: { readonly weight: number; readonly start: () => void }[] = [];
  let head = 0;
  const next = (): void => {
    for (let w = queue[head]; w !== undefined && (jobs === 0 || used + w.weight <= limit); w = queue[head]) {
      head += 1;
      jobs += 1;
      used += w.weight;
      w.start();
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };
  return {
    run: <T>(weight: number, job: () => Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        queue.push({
          weight,
          start: () => {
            job()
              .then(resolve, reject)
              .finally(() => {
                jobs -= 1;
                used -= weight;
                next();
              });
          },
        });
        next();
      }),
    setLimit: (n) => {
      limit = n;
      next();
    },
    get limit() {
      return limit;
    },
    get jobs() {
      return jobs;
    },
    get waiting() {
      return queue.length - head;
    },
  };
}
