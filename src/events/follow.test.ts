import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { followLog } from './follow.js';
import type { StoredEvent } from './types.js';

const ev = (position: number): StoredEvent => ({ position, stream: 's', streamVersion: position, at: 0, event: { type: 'ActionStarted', v: 1, actionId: `a${position}` } });

/**
 * A fake store whose reads resolve only when the test says so, and see the store as it is when
 * they were issued (`snapshot`) or when they resolve (`late`): the two orders a real read and an
 * append can interleave in.
 */
function fakeStore(mode: 'snapshot' | 'late') {
  const events: StoredEvent[] = [];
  const appended$ = new Subject<readonly StoredEvent[]>();
  const pending: (() => void)[] = [];
  const read = (from: number, limit: number): Promise<readonly StoredEvent[]> => {
    const slice = (): readonly StoredEvent[] => events.filter((e) => e.position >= from).slice(0, limit);
    const early = slice();
    return new Promise((resolve) => pending.push(() => { resolve(mode === 'snapshot' ? early : slice()); }));
  };
  const append = (n: number): void => {
    const batch = Array.from({ length: n }, (_, i) => ev(events.length + 1 + i));
    events.push(...batch);
    appended$.next(batch);
  };
  const settle = async (): Promise<void> => {
    while (pending.length > 0) {
      pending.shift()?.();
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  return { read, append, appended$, settle };
}

describe('followLog: replay then live', () => {
  for (const mode of ['snapshot', 'late'] as const) {
    it(`delivers every position once, in order, when appends land during the replay's reads (${mode} reads)`, async () => {
      const store = fakeStore(mode);
      store.append(3);
      const seen: number[] = [];
      const subscription = followLog(2, store.read, store.appended$).subscribe((e) => seen.push(e.position));
      store.append(2); // while the first read is in flight
      await store.settle();
      store.append(1); // live, at the cursor: delivered directly
      store.append(4);
      await store.settle();
      subscription.unsubscribe();
      expect(seen).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });
  }

  it('does not deliver a live batch twice when a catch-up read already returned it', async () => {
    const store = fakeStore('late');
    const seen: number[] = [];
    followLog(1, store.read, store.appended$).subscribe((e) => seen.push(e.position));
    store.append(2);
    store.append(2);
    await store.settle();
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('errors when a read fails, and completes when the store completes', async () => {
    const failing = followLog(1, () => Promise.reject(new Error('damaged')), new Subject<readonly StoredEvent[]>());
    await expect(new Promise((_, reject) => failing.subscribe({ error: reject }))).rejects.toThrow('damaged');
    const store = fakeStore('late');
    let completed = false;
    followLog(1, store.read, store.appended$).subscribe({ complete: () => (completed = true) });
    store.appended$.complete();
    expect(completed).toBe(true);
  });
});
