import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../lib/model.js';
import { isFoldsyncError } from '../lib/errors.js';
import { EventLogError } from './errors.js';
import { sampleLocalChanged } from './sample-events.js';
import type { FoldsyncEvent, TaskCreated, TaskCreatedV1 } from './types.js';
import { CURRENT_VERSIONS, decodeEvent, decodeRow, encodeEvent } from './upcast.js';

const v1 = (cloudPath: string): TaskCreatedV1 => ({
  type: 'TaskCreated', v: 1, taskId: 'task-1', localRoot: '/home/ann/Documents', cloudPath, mode: 'two-way', options: DEFAULT_OPTIONS,
});
const decodeV1 = (event: TaskCreatedV1): FoldsyncEvent => {
  const { type, v, ...payload } = event;
  return decodeEvent(type, v, JSON.parse(JSON.stringify(payload)), 7);
};
const thrown = (fn: () => unknown): EventLogError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof EventLogError) return error;
    throw error;
  }
  throw new Error('expected an EventLogError');
};

describe('encode and decode', () => {
  it('round-trips every current event shape', () => {
    const events: FoldsyncEvent[] = [
      sampleLocalChanged(3),
      { type: 'TerminalInitialized', v: 1, terminalId: 't', terminalName: 'n' },
      { type: 'TaskCreated', v: 2, taskId: 't', localRoot: '/r', localRootId: '1:2', cloud: { url: null, space: 'personal', spaceType: 'personal', path: '/' }, mode: 'upload', options: DEFAULT_OPTIONS },
      { type: 'TaskPaused', v: 1, taskId: 't' },
      { type: 'TaskStatusChanged', v: 1, status: 'failed', reason: 'mass-delete', message: 'm' },
      { type: 'CloudChanged', v: 1, source: 'feed', cursor: null, changes: [{ path: 'a', meta: { kind: 'dir', id: 'c1', version: '0', size: 0 } }] },
      { type: 'PlanMade', v: 2, planId: 'p', actions: [{ actionId: 'a1', action: { op: 'cloud-mkdir', path: 'a', rule: 'r' } }], guard: null, now: 5, allowMassDelete: false, dirty: ['a'] },
      { type: 'ActionSucceeded', v: 1, actionId: 'a1', local: [], cloud: [], synced: [{ path: 'a', entry: { kind: 'dir', size: 0 } }] },
      { type: 'ActionFailed', v: 1, actionId: 'a1', reason: 'quota', message: 'm', transient: true, attempt: 2, nextRetryAt: 5 },
      { type: 'LocalScanCompleted', v: 1, scanId: 's', files: 1, dirs: 2, bytes: 3 },
    ];
    for (const event of events) {
      const { type, v, data } = encodeEvent(event);
      expect(JSON.parse(data)).not.toHaveProperty('type');
      expect(decodeRow({ position: 1, stream: 's', streamVersion: 1, at: 0, type, v, data }).event).toEqual(event);
    }
  });

  it('writes the current version of every type', () => {
    expect(CURRENT_VERSIONS.TaskCreated).toBe(2);
    expect(CURRENT_VERSIONS.LocalChanged).toBe(1);
  });
});

describe('upcasting TaskCreated v1 to v2', () => {
  it('splits a personal space:/path into a cloud location of space type personal', () => {
    const event = decodeV1(v1('personal:/Work/Reports'));
    const expected: TaskCreated = {
      type: 'TaskCreated', v: 2, taskId: 'task-1', localRoot: '/home/ann/Documents', localRootId: null,
      cloud: { url: null, space: 'personal', spaceType: 'personal', path: '/Work/Reports' }, mode: 'two-way', options: DEFAULT_OPTIONS,
    };
    expect(event).toEqual(expected);
  });

  it('defaults any other space to team, and an empty path to the root', () => {
    expect(decodeV1(v1('design-team:/'))).toMatchObject({ cloud: { url: null, space: 'design-team', spaceType: 'team', path: '/' } });
    expect(decodeV1(v1('design-team:'))).toMatchObject({ cloud: { space: 'design-team', path: '/' } });
    expect(decodeV1(v1('a:b:/c'))).toMatchObject({ cloud: { space: 'a', path: 'b:/c' } });
  });

  it('refuses a v1 whose cloudPath names no space, as corrupt at its position', () => {
    const error = thrown(() => decodeV1(v1('/no-space')));
    expect(error.code).toBe('corrupt-event');
    expect(error.details).toMatchObject({ position: 7, type: 'TaskCreated', v: 1 });
    expect(error.message).toContain('cloudPath');
  });
});

describe('upcasting PlanMade v1 to v2 (ADR 0072)', () => {
  it('keeps the decision and marks what the planner read besides the log as unknown', () => {
    const actions = [{ actionId: 'a1', action: { op: 'cloud-mkdir', path: 'a', rule: 'r' } }];
    expect(decodeEvent('PlanMade', 1, { planId: 'p', actions, guard: null }, 3)).toEqual({
      type: 'PlanMade', v: 2, planId: 'p', actions, guard: null, now: null, allowMassDelete: null, dirty: null,
    });
  });

  it('refuses a v2 whose dirty paths are not strings, naming its position', () => {
    const error = thrown(() => decodeEvent('PlanMade', 2, { planId: 'p', actions: [], guard: null, now: 1, allowMassDelete: false, dirty: [1] }, 9));
    expect(error).toMatchObject({ code: 'corrupt-event', details: { position: 9 } });
    expect(error.message).toMatch(/"dirty"/);
  });
});

describe('unreadable stored events are typed errors naming their position', () => {
  it('unknown type, including names of Object.prototype members', () => {
    for (const type of ['TaskTeleported', 'constructor', 'toString', '__proto__']) {
      const error = thrown(() => decodeEvent(type, 1, {}, 42));
      expect(error.code).toBe('unknown-event-type');
      expect(error.details).toMatchObject({ position: 42 });
      expect(error.message).toContain('position 42');
    }
  });

  it('unknown version', () => {
    for (const v of [0, 3, 1.5, -1, Number.NaN]) {
      expect(thrown(() => decodeEvent('TaskCreated', v, {}, 9)).code).toBe('unknown-event-version');
    }
  });

  it('malformed payloads: not an object, a missing field, a wrong type, a bad nested change', () => {
    const ok = { source: 'watch', changes: [{ path: 'a', meta: null }] };
    const bad: readonly [unknown, string][] = [
      [null, 'payload'],
      [[1], 'payload'],
      ['text', 'payload'],
      [{ changes: ok.changes }, 'source'],
      [{ ...ok, source: 'psychic' }, 'source'],
      [{ ...ok, changes: 'many' }, 'changes'],
      [{ ...ok, changes: [{ path: 3, meta: null }] }, 'changes'],
      [{ ...ok, changes: [{ path: 'a' }] }, 'changes'],
      [{ ...ok, changes: [null] }, 'changes'],
    ];
    for (const [payload, field] of bad) {
      const error = thrown(() => decodeEvent('LocalChanged', 1, payload, 11));
      expect(isFoldsyncError(error, 'corrupt-event')).toBe(true);
      expect(error.message).toContain(field);
      expect(error.details).toMatchObject({ position: 11 });
    }
    expect(decodeEvent('LocalChanged', 1, ok, 11)).toMatchObject({ type: 'LocalChanged', v: 1 });
  });

  it('invalid JSON in a row', () => {
    const error = thrown(() => decodeRow({ position: 5, stream: 's', streamVersion: 1, at: 0, type: 'ActionStarted', v: 1, data: '{"actionId"' }));
    expect(error.code).toBe('corrupt-event');
    expect(error.details).toMatchObject({ position: 5 });
  });

  it('checks the fields of every type (a payload of {} fails all but none)', () => {
    for (const [type, v] of Object.entries(CURRENT_VERSIONS)) {
      expect(thrown(() => decodeEvent(type, v, {}, 1)).code, type).toBe('corrupt-event');
    }
  });
});

describe('decoding arbitrary stored data', () => {
  it('never crashes: any type, version and payload decode to an event or fail with an EventLogError', () => {
    const types = [...Object.keys(CURRENT_VERSIONS), 'Nope', '__proto__', ''];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.integer({ min: -1, max: 3 }), fc.jsonValue(), fc.integer({ min: 1 }), (type, v, payload, position) => {
        try {
          const event = decodeEvent(type, v, JSON.parse(JSON.stringify(payload)) as unknown, position);
          expect(event.type).toBe(type);
        } catch (error) {
          expect(error).toBeInstanceOf(EventLogError);
          expect((error as EventLogError).details).toMatchObject({ position });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts what it checks: a LocalChanged with any valid paths and metas round-trips', () => {
    const meta = fc.option(fc.record({ kind: fc.constantFrom('file' as const, 'dir' as const), size: fc.nat(), mtimeNs: fc.string(), fileId: fc.string() }), { nil: null });
    fc.assert(
      fc.property(fc.constantFrom('scan' as const, 'watch' as const), fc.array(fc.record({ path: fc.string(), meta })), (source, changes) => {
        const event: FoldsyncEvent = { type: 'LocalChanged', v: 1, source, changes };
        const { type, v, data } = encodeEvent(event);
        expect(decodeRow({ position: 1, stream: 's', streamVersion: 1, at: 0, type, v, data }).event).toEqual(event);
      }),
    );
  });
});
