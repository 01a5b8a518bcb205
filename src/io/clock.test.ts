import { describe, expect, it } from 'vitest';
import { createVirtualClock } from './clock.js';

describe('virtual clock', () => {
  it('runs due timers in time order, then insertion order, and only when advanced', () => {
    const clock = createVirtualClock(1000);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => seen.push(`a2@${clock.now()}`), 10);
    const cancel = clock.setTimeout(() => seen.push('never'), 15);
    cancel();
    expect(seen).toEqual([]);
    clock.advance(15);
    expect(seen).toEqual(['a@1010', 'a2@1010']);
    expect(clock.now()).toBe(1015);
    expect(clock.runNext()).toBe(true);
    expect(seen).toEqual(['a@1010', 'a2@1010', 'b@1020']);
    expect(clock.runNext()).toBe(false);
  });
});
