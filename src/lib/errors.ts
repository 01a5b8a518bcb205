/**
 * The base of every typed failure foldsync raises. `code` is stable and machine-readable;
 * `message` says what happened and what to do; `details` carries the payload for callers.
 */
export class FoldsyncError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: C, message: string, details: Readonly<Record<string, unknown>> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FoldsyncError';
    this.code = code;
    this.details = details;
  }
}

/** True when `error` is a {@link FoldsyncError}, optionally with the given code. */
export function isFoldsyncError<C extends string>(error: unknown, code?: C): error is FoldsyncError<C> {
  return error instanceof FoldsyncError && (code === undefined || error.code === code);
}
