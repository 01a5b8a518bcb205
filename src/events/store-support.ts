/**
 * Checks and errors both stores share, so that they behave the same way (the contract suite holds
 * them to it).
 */
import { assert } from '../lib/assert.js';
import { EventLogError } from './errors.js';
import type { ExpectedVersion } from './event-log.js';
import type { FoldsyncEvent } from './types.js';

/** Asserts an append's arguments: a programming error, not an expected outcome, when they are wrong. */
export function checkAppend(stream: string, events: readonly FoldsyncEvent[], expected: ExpectedVersion): void {
  assert(typeof stream === 'string' && stream.length > 0, 'append needs a non-empty stream name');
  assert(events.length > 0, `append to ${stream} needs at least one event`);
  assert(expected === 'any' || (Number.isSafeInteger(expected) && expected >= 0), `expected version ${String(expected)} must be 'any' or an integer >= 0`);
}

/** The error of using a log after `close()`. */
export function closedError(where: string): EventLogError {
  return new EventLogError('log-closed', `the event log (${where}) is closed; open it again to use it.`, { where });
}

/** The refusal of an import into a log that already holds events. */
export function notEmpty(file: string, head: number): EventLogError {
  return new EventLogError(
    'import-not-empty',
    `cannot import ${file}: the log already holds ${head} events. Import into a new, empty log.`,
    { file, head },
  );
}

/**
 * Runs a synchronous store operation as a Promise: its result resolves, its throw rejects. Both
 * stores are synchronous inside, but the interface is asynchronous so that callers never depend on that.
 */
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
