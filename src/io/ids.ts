import { randomUUID } from 'node:crypto';

/** Identifier source, injected so that simulations and tests get repeatable ids. */
export interface Ids {
  /** A new unique id, optionally prefixed (`task-…`, `act-…`). */
  next(prefix?: string): string;
}

/** Random UUIDs. */
export function createRandomIds(): Ids {
  return { next: (prefix) => (prefix === undefined ? randomUUID() : `${prefix}-${randomUUID()}`) };
}

/** Sequential ids (`prefix-1`, `prefix-2`, ...), for deterministic runs. */
export function createSequentialIds(seed = 0): Ids {
  let n = seed;
  return {
    next: (prefix = 'id') => {
      n += 1;
      return `${prefix}-${n}`;
    },
  };
}
