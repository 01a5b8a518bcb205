import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../io/clock.js';
import { createByteBudget, createTokenBucket, createTransferPool } from './transfer-limits.js';

/** Lets resolved promises run their continuations. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** Takes `chunks` chunks of `size` bytes one after another; returns the virtual time it took. */
async function transfer(rate: () => number | null, chunks: number, size: number, change?: (t: number) => void): Promise<number> {
  const clock = createVirtualClock(0);
  const bucket = createTokenBucket(clock, rate);
  const state = { done: false };
  const run = (async () => {
    for (let i = 0; i < chunks; i++) await bucket.take(size);
    state.done = true;
  })();
  const finished = (): boolean => state.done;
  for (let guard = 0; !finished() && guard < 100_000; guard++) {
    await settle();
    if (finished()) break;
    change?.(clock.now());
    if (!clock.runNext()) await settle();
  }
  await run;
  return clock.now();
}

describe('token bucket (SPEC.md section 4: upload and download limits)', () => {
  it('limits the rate: 10 MB at 1 MB/s takes about 9 s after the first second of burst', async () => {
    const ms = await transfer(() => 1_000_000, 160, 62_500);
    expect(ms).toBeGreaterThanOrEqual(9_000);
    expect(ms).toBeLessThanOrEqual(9_100);
  });

  it('does not wait at all when unlimited', async () => {
    expect(await transfer(() => null, 1000, 1_000_000)).toBe(0);
  });

  it('lets a chunk larger than one second of rate through, paying the debt after', async () => {
    const ms = await transfer(() => 1000, 3, 5000);
    // 5000 at once (bucket full at 1000), then each next chunk waits for the debt and one more second.
    expect(ms).toBeGreaterThanOrEqual(9_000);
  });

  it('applies a rate change while transfers wait', async () => {
    let bps = 1000;
    const ms = await transfer(() => bps, 100, 1000, (t) => {
      if (t >= 5000) bps = 1_000_000;
    });
    expect(ms).toBeLessThan(7_000);
  });

  it('abort rejects every waiter', async () => {
    const clock = createVirtualClock(0);
    const bucket = createTokenBucket(clock, () => 10);
    await bucket.take(10);
    const waiting = bucket.take(10);
    bucket.abort(new Error('paused'));
    await expect(waiting).rejects.toThrow('paused');
  });
});

describe('transfer pool (SPEC.md section 4: limit on concurrent transfers)', () => {
  it('never runs more than the limit, and a raised limit starts waiting jobs at once', async () => {
    const pool = createTransferPool(2);
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const job = (): Promise<void> =>
      new Promise<void>((resolve) => {
        running += 1;
        peak = Math.max(peak, running);
        gates.push(() => {
          running -= 1;
          resolve();
        });
      });
    const all = Array.from({ length: 6 }, () => pool.run(job));
    await settle();
    expect(pool.active).toBe(2);
    expect(pool.waiting).toBe(4);
    pool.setLimit(4);
    await settle();
    expect(pool.active).toBe(4);
    pool.setLimit(1);
    while (gates.length > 0) {
      gates.shift()?.();
      await settle();
      expect(running).toBeLessThanOrEqual(4);
    }
    await Promise.all(all);
    expect(peak).toBe(4);
    expect(pool.active).toBe(0);
  });

  it('passes results and failures through and frees the slot either way', async () => {
    const pool = createTransferPool(1);
    await expect(pool.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(pool.run(() => Promise.resolve(42))).resolves.toBe(42);
  });
});

describe('byte budget', () => {
  const gate = () => {
    let open: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (open = resolve));
    return { open, done };
  };

  it('runs jobs while their weights fit, in order; a job heavier than the limit runs alone', async () => {
    const budget = createByteBudget(100);
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const job = (name: string, weight: number) => {
      const g = gate();
      gates.set(name, g);
      return budget.run(weight, () => {
        started.push(name);
        return g.done;
      });
    };
    const all = [job('a', 60), job('b', 40), job('c', 10), job('huge', 500), job('d', 1)];
    await Promise.resolve();
    // a and b fill the budget; c waits, and d waits behind c (first come, first served).
    expect(started).toEqual(['a', 'b']);
    expect(budget.waiting).toBe(3);
    gates.get('a')?.open();
    await all[0];
    await Promise.resolve();
    expect(started).toEqual(['a', 'b', 'c']);
    gates.get('b')?.open();
    gates.get('c')?.open();
    await Promise.all([all[1], all[2]]);
    await Promise.resolve();
    expect(started).toEqual(['a', 'b', 'c', 'huge']);
    expect(budget.jobs).toBe(1);
    gates.get('huge')?.open();
    await all[3];
    await Promise.resolve();
    expect(started).toEqual(['a', 'b', 'c', 'huge', 'd']);
    gates.get('d')?.open();
    await Promise.all(all);
    expect(budget.jobs).toBe(0);
  });

  it('keeps its order over a long queue and frees the weight of a job that fails', async () => {
    const budget = createByteBudget(1);
    const order: number[] = [];
    const runs = Array.from({ length: 5000 }, (_, i) => budget.run(1, () => (order.push(i), i % 7 === 0 ? Promise.reject(new Error(`boom ${i}`)) : Promise.resolve(i))));
    const settled = await Promise.allSettled(runs);
    expect(order).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(715);
    expect(budget.waiting).toBe(0);
  });
});
