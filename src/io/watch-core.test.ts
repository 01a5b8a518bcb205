import { describe, expect, it } from 'vitest';
import { createVirtualClock } from './clock.js';
import type { ScanItem, WatchBatch } from './local-fs.js';
import type { RawEvent, WatchProbe } from './watch-core.js';
import { commonFolder, createWatchStream, pairMoves } from './watch-core.js';

const file = (path: string, fileId: string): ScanItem => ({ type: 'entry', path, meta: { kind: 'file', size: 1, mtimeNs: '1', fileId }, mode: 0o644, ignored: null });
const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('watch core', () => {
  it('pairs a delete and an appearance of the same identity into a move; other deletes stay deletes', () => {
    const known = new Map([['a.txt', '1:5'], ['gone.txt', '1:6']]);
    const out = pairMoves(['a.txt', 'gone.txt'], [file('b.txt', '1:5'), file('c.txt', '1:7')], (p) => known.get(p));
    expect(out).toEqual([
      { type: 'moved', from: 'a.txt', to: 'b.txt', meta: { kind: 'file', size: 1, mtimeNs: '1', fileId: '1:5' }, mode: 0o644, ignored: null },
      { type: 'gone', path: 'gone.txt' },
      file('c.txt', '1:7'),
    ]);
  });

  it('finds the common folder of a batch', () => {
    expect(commonFolder(['a/b/c.txt', 'a/b/d/e.txt'])).toBe('a/b');
    expect(commonFolder(['a/x', 'b/y'])).toBe('');
    expect(commonFolder(['top.txt'])).toBe('');
  });

  const harness = (): { emit: (e: RawEvent[]) => void; batches: WatchBatch[]; clock: ReturnType<typeof createVirtualClock>; stop: () => void } => {
    const clock = createVirtualClock(0);
    let emit: (e: RawEvent[]) => void = () => undefined;
    const probe: WatchProbe = {
      item: (path) => file(path, `1:${path.length}`),
      scan: async function* () {
        yield [];
      },
    };
    const batches: WatchBatch[] = [];
    const sub = createWatchStream(
      (e) => {
        emit = e;
        return () => undefined;
      },
      probe,
      clock,
      { debounceMs: 10, burstRescanEvents: 100 },
    ).subscribe((b) => batches.push(b));
    return { emit: (e) => { emit(e); }, batches, clock, stop: () => { sub.unsubscribe(); } };
  };

  it('turns a watcher error or overflow into a full rescan, not a stream error', async () => {
    const h = harness();
    h.emit([{ type: 'error', message: 'boom' }]);
    h.clock.advance(20);
    await flush();
    expect(h.batches[0]?.changes).toEqual([{ type: 'rescan', under: '', reason: 'error', message: 'boom' }]);
    h.emit([{ type: 'overflow', message: 'queue overflowed' }]);
    h.clock.advance(20);
    await flush();
    expect(h.batches[1]?.changes[0]).toMatchObject({ type: 'rescan', under: '', reason: 'overflow' });
    h.stop();
  });

  it('asks for a rescan of the folder holding a burst of events (parcel hides inotify overflows)', async () => {
    const h = harness();
    h.emit(Array.from({ length: 150 }, (_, i): RawEvent => ({ type: 'create', path: `burst/f${i}` })));
    h.clock.advance(20);
    await flush();
    expect(h.batches[0]?.changes[0]).toMatchObject({ type: 'rescan', under: 'burst', reason: 'overflow' });
    expect(h.batches[0]?.changes).toHaveLength(151);
    h.stop();
  });

  it('drops the engine temporary files before they reach a batch', async () => {
    const h = harness();
    h.emit([{ type: 'create', path: 'a/.foldsync-partial-x1' }]);
    h.clock.advance(20);
    await flush();
    expect(h.batches).toEqual([]);
    h.stop();
  });
});
