import * as rxjs from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as rx from './rx.js';

describe('rx', () => {
  it('re-exports the very objects the rxjs package exports', () => {
    expect(rx.Observable).toBe(rxjs.Observable);
    expect(rx.Subject).toBe(rxjs.Subject);
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the identity of the function, not a call
    expect(rx.throwError).toBe(rxjs.throwError);
  });
});
