/**
 * The server's typed failure: a stable code (the API's `error.code`), a message that says what to
 * do, and the HTTP status that goes with the code.
 */
import { ERROR_STATUS, type CloudErrorCode } from '../lib/cloud-api.js';
import { FoldsyncError } from '../lib/errors.js';

/** A refusal the server reports to the client as `{ error: { code, message, details } }`. */
export class CloudError extends FoldsyncError<CloudErrorCode> {
  /** The HTTP status for this code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }

  constructor(code: CloudErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}) {
    super(code, message, details);
    this.name = 'CloudError';
  }
}

/** Why the server could not start on a data folder. */
export type CloudStartCode = 'data-locked' | 'data-corrupt' | 'data-unreadable';

/** Raised by `startCloudServer` and the admin functions when the data folder cannot be used. */
export class CloudStartError extends FoldsyncError<CloudStartCode> {
  constructor(code: CloudStartCode, message: string, options?: ErrorOptions) {
    super(code, message, {}, options);
    this.name = 'CloudStartError';
  }
}
