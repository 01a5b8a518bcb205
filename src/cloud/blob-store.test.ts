import { describe, expect, it } from 'vitest';
import { createFlusher } from './blob-store.js';

/** A fake file whose flushes end when the test says so. */
function fakeFile(): { open: (path: string) => Promise<{ datasync(): Promise<void>; close(): Promise<void> }>; opened: string[]; flushes: number; closed: boolean; finish(): void } {
  const state = {
    opened: [] as string[],
    flushes: 0,
    closed: false,
    ends: [] as (() => void)[],
    finish: () => {
      for (const end of state.ends.splice(0)) end();
    },
    open: (path: string) => {
      state.opened.push(path);
      return Promise.resolve({
        datasync: () => {
          state.flushes += 1;
          return new Promise<void>((resolve) => state.ends.push(resolve));
        },
        close: () => {
          state.closed = true;
          return Promise.resolve();
        },
      });
    },
  };
  return state;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createFlusher', () => {
  it('flushes in the background each time `every` more bytes were written, one flush at a time', async () => {
    const file = fakeFile();
    const flusher = createFlusher('/data/uploads/u.part', 100, file.open);
    flusher.advance(60);
    await tick();
    expect(file.flushes).toBe(0);
    flusher.advance(60);
    await tick();
    expect(file.opened).toEqual(['/data/uploads/u.part']);
    expect(file.flushes).toBe(1);
    // While that flush runs, more bytes start no second one.
    flusher.advance(500);
    await tick();
    expect(file.flushes).toBe(1);
    file.finish();
    await tick();
    flusher.advance(100);
    await tick();
    expect(file.flushes).toBe(2);
    expect(file.opened).toHaveLength(1);
    file.finish();
    await flusher.settle();
    expect(file.closed).toBe(true);
  });

  it('settle waits for the running flush, then closes the file; later bytes flush nothing', async () => {
    const file = fakeFile();
    const flusher = createFlusher('f', 10, file.open);
    flusher.advance(10);
    await tick();
    let settled = false;
    const settling = flusher.settle().then(() => {
      settled = true;
    });
    await tick();
    expect(settled).toBe(false);
    file.finish();
    await settling;
    expect(file.closed).toBe(true);
    flusher.advance(1000);
    await tick();
    expect(file.flushes).toBe(1);
  });

  it('is best effort: a file that cannot be opened is not flushed, and nothing throws', async () => {
    const flusher = createFlusher('missing', 10, () => Promise.reject(new Error('ENOENT')));
    flusher.advance(50);
    await tick();
    await expect(flusher.settle()).resolves.toBeUndefined();
  });
});
