import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryEventLog, type MemoryEventLog } from '../events/memory-event-log.js';
import { createSqliteEventLog } from '../events/sqlite-event-log.js';
import { isFoldsyncError } from '../lib/errors.js';
import { ENGINE_STREAM, type EventType, type StoredEvent } from '../events/types.js';
import { createVirtualClock } from '../io/clock.js';
import type { PersistedProjection } from '../projections/projection.js';
import { createProjectionStore } from './projection-store.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-views-'));
  file = join(dir, 'views.sqlite');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Counts the events it folds (and records which positions), so a test can see what was re-folded. */
function counting(version = 1, name = 'count'): PersistedProjection<{ positions: number[] }> & { applied: number[] } {
  const applied: number[] = [];
  return {
    name,
    version,
    handles: new Set<EventType>(['TaskPaused', 'TaskResumed']),
    initial: () => ({ positions: [] }),
    apply: (s, e: StoredEvent) => {
      applied.push(e.position);
      s.positions.push(e.position);
      return s;
    },
    encode: (s) => s.positions,
    decode: (j) => ({ positions: [...(j as number[])] }),
    view: (s) => ({ count: s.positions.length }),
    applied,
  };
}

async function logWith(n: number, start = 0): Promise<MemoryEventLog> {
  const log = createMemoryEventLog({ clock: createVirtualClock(Date.UTC(2026, 0, 1) + start) });
  for (let i = 0; i < n; i++) await log.append(ENGINE_STREAM, [{ type: i % 2 === 0 ? 'TaskPaused' : 'TaskResumed', v: 1, taskId: 't' }], 'any');
  return log;
}

describe('projection store (ADR 0070)', () => {
  it('saves each state with its checkpoint; a reopened store folds only the events after it', async () => {
    const log = await logWith(3);
    const p1 = counting();
    const s1 = createProjectionStore({ file, projections: [p1] });
    expect(await s1.catchUp(log)).toBe(3);
    s1.close();
    await log.append(ENGINE_STREAM, [{ type: 'TaskPaused', v: 1, taskId: 't' }], 'any');
    const p2 = counting();
    const s2 = createProjectionStore({ file, projections: [p2] });
    await s2.catchUp(log);
    expect(p2.applied).toEqual([4]);
    expect(s2.state(p2).positions).toEqual([1, 2, 3, 4]);
    expect(s2.checkpoints()).toEqual([{ name: 'count', version: 1, position: 4 }]);
    s2.close();
  });

  it('rebuilds from zero when the projection version changes', async () => {
    const log = await logWith(3);
    const s1 = createProjectionStore({ file, projections: [counting(1)] });
    await s1.catchUp(log);
    s1.close();
    const p2 = counting(2);
    const s2 = createProjectionStore({ file, projections: [p2] });
    await s2.catchUp(log);
    expect(p2.applied).toEqual([1, 2, 3]);
    s2.close();
  });

  it('rebuilds from zero when the checkpoint belongs to another log', async () => {
    const s1 = createProjectionStore({ file, projections: [counting()] });
    await s1.catchUp(await logWith(3));
    s1.close();
    const other = await logWith(5, 7); // other times: another log
    const p2 = counting();
    const s2 = createProjectionStore({ file, projections: [p2] });
    await s2.catchUp(other);
    expect(p2.applied).toEqual([1, 2, 3, 4, 5]);
    s2.close();
    const shorter = await logWith(2);
    const p3 = counting();
    const s3 = createProjectionStore({ file, projections: [p3] });
    await s3.catchUp(shorter);
    expect(p3.applied).toEqual([1, 2]);
    s3.close();
  });

  it('drops a views file of the previous schema and rebuilds it; a new file has 64 KiB pages, the view stored before the state (ADR 0074)', async () => {
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE projections (name TEXT PRIMARY KEY, version INTEGER NOT NULL, position INTEGER NOT NULL, mark TEXT NOT NULL, state TEXT NOT NULL, view TEXT)');
    old.prepare('INSERT INTO projections VALUES (?, ?, ?, ?, ?, ?)').run('count', 1, 3, 'whatever', '[1,2,3]', '{"count":3}');
    old.pragma('user_version = 1');
    old.close();
    const log = await logWith(3);
    const p = counting();
    const s = createProjectionStore({ file, projections: [p] });
    await s.catchUp(log);
    expect(p.applied).toEqual([1, 2, 3]);
    s.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect((db.pragma('table_info(projections)') as { name: string }[]).map((c) => c.name)).toEqual(['name', 'version', 'position', 'mark', 'view', 'state']);
    db.close();
    const fresh = join(dir, 'fresh.sqlite');
    createProjectionStore({ file: fresh, projections: [counting()] }).close();
    const f = new Database(fresh, { readonly: true });
    expect(f.pragma('page_size', { simple: true })).toBe(65536);
    f.close();
  });

  it('serves the saved view only when it is at the position asked for', async () => {
    const log = await logWith(3);
    const s = createProjectionStore({ file, projections: [counting()] });
    await s.catchUp(log);
    expect(s.savedView('count', 3)).toEqual({ count: 3 });
    expect(s.savedView('count', 4)).toBeNull();
    s.close();
  });

  it('follows the log as it is appended to, saving as it goes', async () => {
    const log = await logWith(2);
    const p = counting();
    const s = createProjectionStore({ file, projections: [p] });
    const sub = await s.follow(log, 1);
    await log.append(ENGINE_STREAM, [{ type: 'TaskPaused', v: 1, taskId: 't' }], 'any');
    await vi.waitFor(() => {
      expect(s.state(p).positions).toEqual([1, 2, 3]);
    });
    expect(s.savedView('count', 3)).toEqual({ count: 3 });
    sub.unsubscribe();
    s.close();
  });

  it('a catch-up over a corrupt stored row fails naming its position, and saves nothing', async () => {
    const logFile = join(dir, 'events.sqlite');
    const log = await createSqliteEventLog({ file: logFile, clock: createVirtualClock(Date.UTC(2026, 0, 1)) });
    await log.append(ENGINE_STREAM, [{ type: 'TaskPaused', v: 1, taskId: 't' }, { type: 'TaskResumed', v: 1, taskId: 't' }], 0);
    const raw = new Database(logFile);
    raw.prepare('INSERT INTO events (position, stream, stream_version, at, type, v, data) VALUES (3, ?, 3, 0, ?, 1, ?)').run(ENGINE_STREAM, 'TaskPaused', '{"taskId":7}');
    raw.close();
    await log.append(ENGINE_STREAM, [{ type: 'TaskPaused', v: 1, taskId: 't' }], 3);
    const p = counting();
    const s = createProjectionStore({ file, projections: [p] });
    const error = await s.catchUp(log).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isFoldsyncError(error, 'corrupt-event')).toBe(true);
    expect((error as { details: { position: number } }).details.position).toBe(3);
    expect((error as Error).message).toContain('position 3');
    // Nothing of the events after the corrupt row was folded, and nothing was saved.
    expect(p.applied.every((x) => x < 3)).toBe(true);
    s.close();
    const again = createProjectionStore({ file, projections: [counting()] });
    expect(again.checkpoints()).toEqual([{ name: 'count', version: 1, position: 0 }]);
    again.close();
    await log.close();
  });
  it('a fold that throws leaves its projection at the event before, the projections that folded that event at it', async () => {
    const log = await logWith(4);
    const before = counting(1, 'before');
    const failing = counting(1, 'failing');
    const after = counting(1, 'after');
    const apply = (x: { positions: number[] }, e: StoredEvent): { positions: number[] } => {
      failing.applied.push(e.position);
      x.positions.push(e.position);
      return x;
    };
    failing.apply = (s, e) => {
      if (e.position === 3) throw new Error('fold failed');
      return apply(s, e);
    };
    const s = createProjectionStore({ file, projections: [before, failing, after] });
    await expect(s.catchUp(log)).rejects.toThrow('fold failed');
    expect(s.checkpoints()).toEqual([
      { name: 'before', version: 1, position: 3 },
      { name: 'failing', version: 1, position: 2 },
      { name: 'after', version: 1, position: 2 },
    ]);
    expect(s.state(before).positions).toEqual([1, 2, 3]);
    expect(s.state(after).positions).toEqual([1, 2]);
    // Once the fold works again, each folds on from its own checkpoint: no event twice, none missed.
    failing.apply = apply;
    await s.catchUp(log);
    for (const p of [before, failing, after]) expect(s.state(p).positions).toEqual([1, 2, 3, 4]);
    expect(s.checkpoints().map((c) => c.position)).toEqual([4, 4, 4]);
    s.close();
  });

  it('projections at different checkpoints each fold only what they have not seen, and only the types they handle', async () => {
    const log = await logWith(3);
    const old = counting(1, 'old');
    const s1 = createProjectionStore({ file, projections: [old] });
    await s1.catchUp(log);
    s1.close();
    await log.append(ENGINE_STREAM, [{ type: 'TaskPaused', v: 1, taskId: 't' }, { type: 'SyncRequested', v: 1, taskId: 't' }, { type: 'TaskResumed', v: 1, taskId: 't' }], 'any');
    const old2 = counting(1, 'old');
    const fresh = counting(1, 'fresh');
    const s2 = createProjectionStore({ file, projections: [old2, fresh] });
    expect(await s2.catchUp(log)).toBe(6);
    expect(old2.applied).toEqual([4, 6]);
    expect(fresh.applied).toEqual([1, 2, 3, 4, 6]);
    expect(s2.checkpoints().map((c) => c.position)).toEqual([6, 6]);
    s2.close();
  });
});
