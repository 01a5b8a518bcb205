/**
 * The typed failures of the event log. Pure: no IO, so the codec (`upcast.ts`) can raise them too.
 */
import { FoldsyncError } from '../lib/errors.js';

/**
 * Why an event-log operation failed:
 * - `corrupt-event`: a stored event's payload is not valid JSON or lacks a required field;
 * - `unknown-event-type` / `unknown-event-version`: a stored event this build cannot read (a log
 *   written by a newer foldsync, or damaged);
 * - `stream-conflict`: an append's expected stream version is stale; nothing was written;
 * - `not-an-event-log`: the file is not a foldsync event log (not SQLite, or another program's database);
 * - `log-corrupt`: SQLite reports the database file itself as damaged;
 * - `log-locked`: another process holds the database's write lock longer than the busy timeout;
 * - `log-too-new`: the log's schema was written by a newer foldsync;
 * - `log-closed`: the log was used after `close()`;
 * - `import-corrupt`: a line of an export file is malformed (its line number is in the details);
 * - `import-not-empty`: an import was attempted into a log that already holds events.
 */
export type EventLogErrorCode =
  | 'corrupt-event'
  | 'unknown-event-type'
  | 'unknown-event-version'
  | 'stream-conflict'
  | 'not-an-event-log'
  | 'log-corrupt'
  | 'log-locked'
  | 'log-too-new'
  | 'log-closed'
  | 'import-corrupt'
  | 'import-not-empty';

/**
 * A failure of the event log or of reading one stored event. `details` always says where:
 * `position` for a stored event, `line` for an import file, `path` for a database file.
 */
export class EventLogError extends FoldsyncError<EventLogErrorCode> {
  constructor(code: EventLogErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}, options?: ErrorOptions) {
    super(code, message, details, options);
    this.name = 'EventLogError';
  }
}

/** The codes that mean "a stored event cannot be read": the log is damaged or newer than this build. */
export const UNREADABLE_EVENT_CODES: readonly EventLogErrorCode[] = ['corrupt-event', 'unknown-event-type', 'unknown-event-version'];

/**
 * An append's expected stream version did not match the stream's actual version; nothing was
 * written. The caller re-reads the stream, decides again, and retries.
 */
export class StreamConflictError extends EventLogError {
  /** The stream appended to. */
  readonly stream: string;
  /** What the caller expected the stream's version to be. */
  readonly expected: number;
  /** The stream's version when the append was tried. */
  readonly actual: number;

  constructor(stream: string, expected: number, actual: number) {
    super(
      'stream-conflict',
      `stream ${stream} is at version ${actual}, not ${expected} as expected; nothing was written. Re-read the stream and decide again.`,
      { stream, expected, actual },
    );
    this.name = 'StreamConflictError';
    this.stream = stream;
    this.expected = expected;
    this.actual = actual;
  }
}
