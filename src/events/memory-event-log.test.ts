import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../io/clock.js';
import { isFoldsyncError } from '../lib/errors.js';
import { describeEventLogContract, rejection } from './event-log.contract.js';
import { createMemoryEventLog } from './memory-event-log.js';

describeEventLogContract('memory', async (clock) => createMemoryEventLog({ clock }));

describe('memory event log', () => {
  it('reports an unreadable stored event by its position when read', async () => {
    const log = createMemoryEventLog({ clock: createVirtualClock() });
    await log.append('engine', [{ type: 'ActionStarted', v: 1, actionId: 'a' }], 0);
    log.appendRawRow({ stream: 'engine', streamVersion: 2, at: 0, type: 'ActionStarted', v: 1, data: '{"actionId":' });
    const error = await rejection(log.read());
    expect(isFoldsyncError(error, 'corrupt-event')).toBe(true);
    expect((error as { details: { position: number } }).details.position).toBe(2);
    expect((await log.read(1, 1)).map((e) => e.position)).toEqual([1]);
  });
});
