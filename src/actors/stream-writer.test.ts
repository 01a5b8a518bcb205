import { describe, expect, it } from 'vitest';
import type { EventLog } from '../events/event-log.js';
import { createMemoryEventLog } from '../events/memory-event-log.js';
import { sampleLocalChanged } from '../events/sample-events.js';
import type { FoldsyncEvent } from '../events/types.js';
import { createVirtualClock } from '../io/clock.js';
import { createStreamWriter } from './stream-writer.js';

/** A log that counts appends and can be told to fail the next one. */
function countingLog(): { log: EventLog; appends: () => number; failNext: () => void } {
  const inner = createMemoryEventLog({ clock: createVirtualClock() });
  let n = 0;
  let fail = false;
  const log: EventLog = Object.create(inner) as EventLog;
  log.append = async (stream, events, expected) => {
    n += 1;
    await new Promise((r) => setTimeout(r, 1));
    if (fail) {
      fail = false;
      throw new Error('disk full');
    }
    return inner.append(stream, events, expected);
  };
  return { log, appends: () => n, failNext: () => (fail = true) };
}

const ev = (i: number): FoldsyncEvent => sampleLocalChanged(i);

describe('stream writer', () => {
  it('appends writes made while an append is in flight together, in the order they were made', async () => {
    const { log, appends } = countingLog();
    const folded: FoldsyncEvent[] = [];
    const positions: number[] = [];
    const w = createStreamWriter(log, 's', 0, (events) => {
      folded.push(...events.map((e) => e.event));
      positions.push(...events.map((e) => e.position));
    });
    const writes = [w.write([ev(1)]), w.write([ev(2), ev(3)]), w.write([ev(4)])];
    await Promise.all(writes);
    const later = w.write([ev(5)]);
    const last = w.write([ev(6)]);
    await Promise.all([later, last]);
    expect(appends()).toBe(2);
    const stored = await log.readStream('s', 1, 100);
    expect(stored.map((e) => e.event)).toEqual([1, 2, 3, 4, 5, 6].map(ev));
    expect(folded).toEqual([1, 2, 3, 4, 5, 6].map(ev));
    // Each folded event carries its real log position.
    expect(positions).toEqual(stored.map((e) => e.position));
    expect(w.version()).toBe(6);
  });

  it('a write resolves only once its events are stored and folded', async () => {
    const { log } = countingLog();
    const folded: FoldsyncEvent[] = [];
    const w = createStreamWriter(log, 's', 0, (events) => folded.push(...events.map((e) => e.event)));
    await w.write([ev(1)]);
    expect(folded).toEqual([ev(1)]);
    expect(await log.streamVersion('s')).toBe(1);
  });

  it('a failed append rejects its writes and every later one; nothing after it is stored', async () => {
    const { log, failNext } = countingLog();
    const w = createStreamWriter(log, 's', 0, () => undefined);
    await w.write([ev(1)]);
    failNext();
    const failed = w.write([ev(2)]);
    const after = w.write([ev(3)]);
    await expect(failed).rejects.toThrow('disk full');
    await expect(after).rejects.toThrow('disk full');
    expect(await log.streamVersion('s')).toBe(1);
  });
});
