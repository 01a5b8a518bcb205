/**
 * ADR 0100: a task's cursor passes its own changes in the cloud's feed without reading them, but
 * only across a run of them with no other writer's change in between.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventLog } from '../events/memory-event-log.js';
import type { EventLog } from '../events/event-log.js';
import { createVirtualClock, type VirtualClock } from '../io/clock.js';
import { createSequentialIds } from '../io/ids.js';
import { readAll, type RemoteDrive, type UploadItemResult } from '../io/remote-drive.js';
import { createSimCloud, type SimCloud } from '../io/sim-remote-drive.js';
import { createSimLocalFs, type SimLocalFs } from '../io/sim-local-fs.js';
import type { SyncMode } from '../lib/model.js';
import { docsTask } from './sim-engine.fixture.js';
import { createTaskRunner, type TaskRunner } from './task-runner.js';

interface Setup {
  readonly clock: VirtualClock;
  readonly cloud: SimCloud;
  readonly local: SimLocalFs;
  readonly log: EventLog;
  /** Feed entries the task has read, and the cursors it read from. */
  readonly read: { entries: number; since: string[] };
  readonly drive: RemoteDrive;
  runner(wrap?: (d: RemoteDrive) => RemoteDrive): Promise<TaskRunner>;
}

function setup(mode: SyncMode = 'two-way'): Setup {
  const clock = createVirtualClock();
  const ids = createSequentialIds();
  const cloud = createSimCloud({ clock, ids });
  cloud.addUser('ada');
  const local = createSimLocalFs({ clock, root: '/home/ada/Docs' });
  const log = createMemoryEventLog({ clock });
  const read = { entries: 0, since: [] as string[] };
  const base = cloud.drive('ada', mode);
  const drive: RemoteDrive = {
    ...base,
    changes: async (space, cursor, options) => {
      const page = await base.changes(space, cursor, options);
      read.entries += page.changes.length;
      read.since.push(cursor);
      return page;
    },
  };
  return {
    clock,
    cloud,
    local,
    log,
    read,
    drive,
    runner: (wrap) =>
      createTaskRunner({
        task: docsTask(mode),
        log,
        local,
        drive: wrap === undefined ? drive : wrap(drive),
        clock,
        ids,
        terminal: 'laptop',
      }),
  };
}

const quiet = { paths: [], rescans: [] };
const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const text = (local: SimLocalFs, path: string): string | null => {
  const c = local.contentOf(path);
  return c === null ? null : Buffer.from(c).toString();
};

describe('own changes in the feed (ADR 0100)', () => {
  it('after a first sync, the next round and a restarted task read none of the task\'s own uploads', async () => {
    const s = setup();
    // More than FEED_RECORD_AFTER, so the cursor past them is recorded, not only kept in memory.
    for (let i = 0; i < 1200; i++) s.local.user.write(`d${i % 7}/f${i}.txt`, `file ${i}`);
    const r = await s.runner();
    expect(await r.syncOnce()).toMatchObject({ status: 'completed', failedFiles: 0 });
    const person = s.cloud.drive('ada');
    expect(r.cloudCursor()).toBe(await person.cursor('personal'));
    await r.syncChanges(quiet);
    expect(s.read.entries).toBe(0);
    r.stop();
    // A new runner (a restart) starts from the recorded cursor, past the uploads.
    const again = await s.runner();
    expect(await again.syncOnce()).toMatchObject({ status: 'completed', failedFiles: 0 });
    expect(s.read.entries).toBe(0);
    expect(s.read.since.at(-1)).toBe(await person.cursor('personal'));
    again.stop();
  });

  it('passes its own moves, deletes and updates too; a folder move (many changes) is read from the feed', async () => {
    const s = setup();
    for (const p of ['a/one.txt', 'a/two.txt', 'b/three.txt', 'c/four.txt']) s.local.user.write(p, p);
    const r = await s.runner();
    await r.syncOnce();
    s.local.user.move('a/one.txt', 'b/one.txt');
    s.local.user.remove('b/three.txt');
    s.local.user.write('a/two.txt', 'two, edited');
    await r.syncOnce();
    expect(s.read.entries).toBe(0);
    const person = s.cloud.drive('ada');
    expect(await person.stat('personal', 'Docs/b/one.txt')).not.toBeNull();
    expect(await person.stat('personal', 'Docs/b/three.txt')).toBeNull();
    expect(r.cloudCursor()).toBe(await person.cursor('personal'));
    s.local.user.move('c', 'd');
    await r.syncOnce();
    expect(await person.stat('personal', 'Docs/d/four.txt')).not.toBeNull();
    expect(s.read.entries).toBe(0);
    // The folder's move is two changes (the folder, its file): its answer cannot account for the
    // second, so the next round reads both from the feed, once.
    await r.syncOnce();
    expect(s.read.entries).toBe(2);
    await r.syncOnce();
    expect(s.read.entries).toBe(2);
    expect(r.cloudCursor()).toBe(await person.cursor('personal'));
    r.stop();
  });

  it('an upload batch with another writer\'s change in the middle stops the cursor before it, and the change is synced', async () => {
    const s = setup();
    for (let i = 0; i < 6; i++) s.local.user.write(`f${i}.txt`, `file ${i}`);
    const person = s.cloud.drive('ada');
    const put = async (path: string, text: string): Promise<void> => {
      await person.upload('personal', { path }, Buffer.from(text), { size: text.length, hash: sha256Hex(Buffer.from(text)), baseVersion: null });
    };
    const foreign: { at: number | null } = { at: null };
    const r = await s.runner((d) => ({
      ...d,
      uploadMany: async (space, items, options): Promise<UploadItemResult[]> => {
        const many = d.uploadMany?.bind(d);
        if (many === undefined) throw new Error('no uploadMany');
        const half = Math.floor(items.length / 2);
        const first = await many(space, items.slice(0, half), options);
        // Another client writes into the task's folder between two files of the batch.
        if (foreign.at === null) {
          await put('Docs/foreign.txt', 'from elsewhere');
          foreign.at = Number(await person.cursor('personal'));
        }
        return [...first, ...(await many(space, items.slice(half), options))];
      },
    }));
    await r.syncOnce();
    expect(foreign.at).not.toBeNull();
    expect(Number(r.cloudCursor())).toBeLessThan(foreign.at ?? 0);
    // The next round reads the feed from before the foreign change and downloads the file.
    await r.syncChanges(quiet);
    expect(s.read.entries).toBeGreaterThan(0);
    expect(text(s.local, 'foreign.txt')).toBe('from elsewhere');
    expect(r.cloudCursor()).toBe(await person.cursor('personal'));
    r.stop();
  });

  it('a foreign change landing right after the cursor, before the task\'s uploads, is still read', async () => {
    const s = setup();
    s.local.user.write('mine.txt', 'mine');
    const person = s.cloud.drive('ada');
    const r = await s.runner((d) => ({
      ...d,
      list: async (space, path, options) => {
        const listed = await d.list(space, path, options);
        // After the listing (cursor taken before it), before the plan's uploads.
        const text = 'theirs';
        await person.upload('personal', { path: 'Docs/theirs.txt' }, Buffer.from(text), { size: text.length, hash: sha256Hex(Buffer.from(text)), baseVersion: null });
        return listed;
      },
    }));
    await r.syncOnce();
    await r.syncChanges(quiet);
    expect(text(s.local, 'theirs.txt')).toBe('theirs');
    const mine = await person.stat('personal', 'Docs/mine.txt');
    expect((await readAll(await person.download('personal', mine!.id))).toString()).toBe('mine');
    r.stop();
  });
});
