import type { Clock } from '../io/clock.js';

/** The clock shape XState's actor options accept. */
export interface XStateClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

/**
 * Adapts the injected {@link Clock} to XState, so a machine's delays run on the engine's clock
 * (virtual time in simulation) and never on XState's own timers.
 */
export function toXStateClock(clock: Clock): XStateClock {
  return {
    setTimeout: (fn, timeout) => clock.setTimeout(() => { fn(); }, timeout),
    clearTimeout: (id) => {
      if (typeof id === 'function') (id as () => void)();
    },
  };
}
