/**
 * Marks a branch the type system proves cannot be reached; throws if it is reached at run time.
 * Every `switch` over a discriminated union ends in `unreachable(x)`.
 */
export function unreachable(value: never, what = 'value'): never {
  throw new Error(`unreachable: unexpected ${what} ${JSON.stringify(value)}`);
}

/** Asserts an invariant. A failed assert is a bug in foldsync, never an expected outcome. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
