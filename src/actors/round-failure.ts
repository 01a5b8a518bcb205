/**
 * What an unexpected error out of a task's round means for the task (ADR 0098): a task-level
 * failure that is retried by itself, never the end of the engine's continuous loop.
 */
import { LocalFsError } from '../io/local-fs.js';
import { isFoldsyncError } from '../lib/errors.js';
import type { TaskFailureReason } from '../lib/model.js';

/** A retryable task-level failure, with a message that says what to do. */
export interface RoundFailure {
  readonly reason: Extract<TaskFailureReason, 'local-unreadable' | 'log-unwritable' | 'task-error'>;
  readonly message: string;
  readonly retryable: true;
}

/**
 * Maps an error a round did not expect to a task failure. `written` is the task's stream writer
 * settling: when it rejects, the error came from (or broke) the task's log stream, whatever it
 * says. Null for an error that is neither foldsync's nor the log's: a bug, left to the caller.
 */
export async function unexpectedFailure(error: unknown, localRoot: string, written: Promise<void>): Promise<RoundFailure | null> {
  const detail = error instanceof Error ? error.message : String(error);
  const logError = await written.then(
    () => null,
    (e: unknown) => e,
  );
  if (logError !== null) {
    const why = logError instanceof Error ? logError.message : 'the append failed';
    const conflict = isFoldsyncError(logError, 'stream-conflict');
    return {
      reason: 'log-unwritable',
      message: conflict
        ? `This task's record in the event log was changed by another writer (${why}); foldsync reloads the task from the log and tries again by itself. If it keeps happening, make sure only one foldsync uses this data folder.`
        : `This task's record could not be written to the event log (${why}); foldsync tries again by itself. Free disk space where foldsync keeps its data, or check that the data folder is writable.`,
      retryable: true,
    };
  }
  if (error instanceof LocalFsError) {
    return {
      reason: 'local-unreadable',
      message: `The local folder ${localRoot} could not be looked at (${detail}); foldsync tries again by itself. Check that the folder and every folder above it can be opened by the user foldsync runs as.`,
      retryable: true,
    };
  }
  if (isFoldsyncError(error)) {
    return { reason: 'task-error', message: `The task stopped on an error (${detail}); foldsync tries again by itself.`, retryable: true };
  }
  return null;
}
