import { describe, expect, it } from 'vitest';
import { foldEvents } from './projection.js';
import { taskRegistryProjection } from './task-registry.js';
import { createEventList } from './events.fixture.js';
import { DEFAULT_OPTIONS } from '../lib/model.js';

describe('task registry (what the engine rebuilds on start)', () => {
  it('follows creation, configuration, pause, resume, requests and cancellation', () => {
    const log = createEventList();
    log.add('engine', 1, { type: 'TerminalInitialized', v: 1, terminalId: 'term-1', terminalName: 'laptop' });
    log.created('a', 2);
    log.created('b', 3);
    log.add('engine', 4, { type: 'TaskConfigured', v: 1, taskId: 'a', options: { ...DEFAULT_OPTIONS, autoSync: false } });
    log.add('engine', 5, { type: 'TaskPaused', v: 1, taskId: 'a' }, { type: 'SyncRequested', v: 1, taskId: 'a' });
    log.add('engine', 6, { type: 'TaskPaused', v: 1, taskId: 'b' }, { type: 'TaskResumed', v: 1, taskId: 'b' });
    log.add('engine', 7, { type: 'TaskCancelled', v: 1, taskId: 'b' }, { type: 'TaskPaused', v: 1, taskId: 'b' });
    const p = taskRegistryProjection;
    const reg = foldEvents(p, p.initial(), log.events);
    expect(reg.terminalName).toBe('laptop');
    expect([...reg.tasks.keys()]).toEqual(['a']);
    expect(reg.tasks.get('a')).toMatchObject({ paused: true, syncRequests: 1, createdAt: 2, options: { autoSync: false } });
  });
});
