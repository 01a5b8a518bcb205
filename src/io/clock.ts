/**
 * Time, injected. Everything that reads the time or waits goes through a Clock, so that a
 * simulation can run on virtual time and a replay sees the times that were recorded.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds; returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** The machine's clock. */
export function createSystemClock(): Clock {
  return {
    now: Date.now,
    setTimeout: (fn, ms) => {
      const handle = setTimeout(fn, ms);
      return () => {
        clearTimeout(handle);
      };
    },
  };
}

/** A clock whose time moves only when told to: `advance` runs due timers in time order. */
export interface VirtualClock extends Clock {
  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void;
  /** Moves time to the next pending timer and runs it; false when none is pending. */
  runNext(): boolean;
  /** How many timers are pending. */
  pending(): number;
}

/** Creates a {@link VirtualClock} starting at `start` (ms since the epoch). */
export function createVirtualClock(start = Date.UTC(2026, 0, 1)): VirtualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; seq: number; fn: () => void }>();
  const next = (): { at: number; seq: number; fn: () => void } | undefined => {
    let best: { at: number; seq: number; fn: () => void } | undefined;
    for (const t of timers.values()) {
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  };
  const clock: VirtualClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = seq++;
      timers.set(id, { at: now + Math.max(0, ms), seq: id, fn });
      return () => timers.delete(id);
    },
    advance: (ms) => {
      const until = now + ms;
      for (let t = next(); t !== undefined && t.at <= until; t = next()) {
        timers.delete(t.seq);
        now = t.at;
        t.fn();
      }
      now = until;
    },
    runNext: () => {
      const t = next();
      if (t === undefined) return false;
      timers.delete(t.seq);
      now = Math.max(now, t.at);
      t.fn();
      return true;
    },
    pending: () => timers.size,
  };
  return clock;
}
