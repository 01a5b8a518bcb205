/**
 * The engine's vertical slice on real things: a real cloud server on 127.0.0.1, real folders, a
 * SQLite event log. Each test is a row of SPEC.md section 2, driven through `syncOnce`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCloudServer, type CloudServer } from '../cloud/server.js';
import { createSqliteEventLog } from '../events/sqlite-event-log.js';
import type { EventLog } from '../events/event-log.js';
import { createSystemClock } from '../io/clock.js';
import { createRandomIds } from '../io/ids.js';
import { createNodeLocalFs } from '../io/node-local-fs.js';
import { createTrash } from '../io/trash.js';
import { createHttpRemoteDrive } from '../io/http-remote-drive.js';
import { readAll, type RemoteDrive } from '../io/remote-drive.js';
import { DEFAULT_OPTIONS, type SyncMode, type TaskOptions } from '../lib/model.js';
import type { RegisteredTask } from '../projections/task-registry.js';
import { createTaskRunner, type TaskProgress, type TaskRunner } from './task-runner.js';

let dir: string;
let server: CloudServer;
let drive: RemoteDrive;
let log: EventLog;
let localRoot: string;
let trashHome: string;
/** The log position of the user's last resume, as the engine would hand it to a runner built after it. */
let resumedAt: number | null = null;
/** A runner built from here on is one the user resumed. */
const resume = async (): Promise<void> => {
  // The engine appends TaskResumed next: its position is after everything so far.
  resumedAt = (await log.head()) + 1;
};
const SPACE = 'personal';

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-runner-'));
  server = await startCloudServer({ dataDir: join(dir, 'cloud'), port: 0 });
  const { token } = await server.data.core.addUser('ada');
  drive = createHttpRemoteDrive({ baseUrl: server.url, token });
  log = await createSqliteEventLog({ file: join(dir, 'log.sqlite'), clock: createSystemClock() });
  localRoot = join(dir, 'local');
  trashHome = join(dir, 'xdg');
  mkdirSync(localRoot);
  resumedAt = null;
});

afterEach(async () => {
  await drive.close();
  await log.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function task(mode: SyncMode = 'two-way', options: Partial<TaskOptions> = {}): RegisteredTask {
  return {
    taskId: 't1',
    localRoot,
    localRootId: null,
    cloud: { url: server.url, space: SPACE, spaceType: 'personal', path: '/Docs' },
    mode,
    options: { ...DEFAULT_OPTIONS, ...options },
    paused: false,
    resumedAt,
    createdAt: 0,
    syncRequests: 0,
    retryRequests: 0,
  };
}

async function runner(mode: SyncMode = 'two-way', options: Partial<TaskOptions> = {}, onProgress?: (p: TaskProgress) => void): Promise<TaskRunner> {
  const clock = createSystemClock();
  const local = createNodeLocalFs({ root: localRoot, clock, trash: createTrash({ clock, dataHome: trashHome }) });
  return createTaskRunner({ task: task(mode, options), log, local, drive, clock, ids: createRandomIds(), terminal: 'laptop', ...(onProgress === undefined ? {} : { onProgress }) });
}

const cloudText = async (path: string): Promise<string | null> => {
  const entry = await drive.stat(SPACE, `Docs/${path}`);
  if (entry === null) return null;
  return (await readAll(await drive.download(SPACE, entry.id))).toString();
};
const write = (path: string, text: string): void => {
  mkdirSync(join(localRoot, path, '..'), { recursive: true });
  writeFileSync(join(localRoot, path), text);
};
const read = (path: string): string | null => (existsSync(join(localRoot, path)) ? readFileSync(join(localRoot, path), 'utf8') : null);

describe('task runner on a real server and real folders (SPEC.md section 2.1, two-way)', () => {
  it('create on either side: created on the other, and the task completes', async () => {
    write('a.txt', 'alpha');
    write('sub/b.txt', 'beta');
    await drive.mkdir(SPACE, 'Docs');
    await drive.upload(SPACE, { path: 'Docs/c.txt' }, Buffer.from('gamma'), { size: 5, hash: sha('gamma'), baseVersion: null });
    const r = await runner();
    const result = await r.syncOnce();
    expect(result).toEqual({ status: 'completed', failedFiles: 0 });
    expect(await cloudText('a.txt')).toBe('alpha');
    expect(await cloudText('sub/b.txt')).toBe('beta');
    expect(read('c.txt')).toBe('gamma');
    r.stop();
  });

  it('a second sync with no change plans nothing', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    const before = await log.head();
    await r.syncOnce();
    const plans = (await log.read(before + 1, 10_000)).filter((e) => e.event.type === 'PlanMade');
    expect(plans).toEqual([]);
    r.stop();
  });

  it('modify locally: a new version in the cloud, the old one in its history', async () => {
    write('a.txt', 'one');
    const r = await runner();
    await r.syncOnce();
    write('a.txt', 'two, longer');
    await r.syncOnce();
    expect(await cloudText('a.txt')).toBe('two, longer');
    const entry = await drive.stat(SPACE, 'Docs/a.txt');
    expect((await drive.versions(SPACE, entry!.id)).length).toBe(2);
    r.stop();
  });

  it('rename locally: the same cloud item is renamed (a move, not delete plus create)', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    const id = (await drive.stat(SPACE, 'Docs/a.txt'))!.id;
    renameSync(join(localRoot, 'a.txt'), join(localRoot, 'b.txt'));
    await r.syncOnce();
    expect(await drive.stat(SPACE, 'Docs/a.txt')).toBeNull();
    expect((await drive.stat(SPACE, 'Docs/b.txt'))?.id).toBe(id);
    expect((await drive.bin(SPACE)).length).toBe(0);
    r.stop();
  });

  it('delete in the cloud: the local file goes to the trash', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    const entry = (await drive.stat(SPACE, 'Docs/a.txt'))!;
    await drive.delete(SPACE, entry.id, entry.version);
    await r.syncOnce();
    expect(read('a.txt')).toBeNull();
    expect(readdirSync(join(trashHome, 'Trash', 'files'))).toEqual(['a.txt']);
    r.stop();
  });

  it('delete locally: the cloud item goes to the recycle bin', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    rmSync(join(localRoot, 'a.txt'));
    await r.syncOnce();
    expect(await drive.stat(SPACE, 'Docs/a.txt')).toBeNull();
    expect((await drive.bin(SPACE)).map((b) => b.path)).toEqual(['Docs/a.txt']);
    r.stop();
  });

  it('a restart rebuilds from the log and carries on; an action planned before a crash is re-verified', async () => {
    write('a.txt', 'alpha');
    const first = await runner();
    await first.syncOnce();
    first.stop();
    // A crash right after a plan was recorded, before its effect: the plan has no outcome.
    const head = await log.streamVersion('task:t1');
    await log.append('task:t1', [{ type: 'PlanMade', v: 2, planId: 'p-crash', guard: null, now: 0, allowMassDelete: false, dirty: ['a.txt'], actions: [{ actionId: 'a-crash', action: { op: 'forget', path: 'a.txt', rule: 'test' } }] }], head);
    write('b.txt', 'beta');
    const second = await runner();
    expect(second.trees.synced('a.txt')).toBeDefined();
    expect(await second.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    const abandoned = (await log.readStream('task:t1', 1, 100_000)).filter((e) => e.event.type === 'ActionAbandoned');
    expect(abandoned.map((e) => (e.event.type === 'ActionAbandoned' ? e.event.actionId : ''))).toEqual(['a-crash']);
    expect(await cloudText('b.txt')).toBe('beta');
    expect(second.trees.synced('a.txt')).toBeDefined();
    second.stop();
  });
});

describe('task runner: safety guards (SPEC.md section 5, beyond)', () => {
  it('the local folder disappearing pauses the task with folder-gone; nothing is deleted in the cloud', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    renameSync(localRoot, `${localRoot}-away`);
    expect(await r.syncOnce()).toEqual({ status: 'paused', failedFiles: 0 });
    expect(await cloudText('a.txt')).toBe('alpha');
    expect(await drive.bin(SPACE)).toEqual([]);
    const statuses = (await log.readStream('task:t1', 1, 100_000)).flatMap((e) => (e.event.type === 'TaskStatusChanged' ? [e.event] : []));
    expect(statuses.at(-1)).toMatchObject({ status: 'paused', reason: 'folder-gone' });
    r.stop();
    renameSync(`${localRoot}-away`, localRoot);
    const resumed = await runner();
    expect(await resumed.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    resumed.stop();
  });

  it('the local folder replaced by another pauses with folder-replaced; resuming accepts the new folder', async () => {
    write('a.txt', 'alpha');
    const st = statSync(localRoot, { bigint: true });
    const rootId = `${st.dev}:${st.ino}`;
    const withId = async (): Promise<TaskRunner> => {
      const clock = createSystemClock();
      const local = createNodeLocalFs({ root: localRoot, clock, trash: createTrash({ clock, dataHome: trashHome }) });
      return createTaskRunner({ task: { ...task(), localRootId: rootId }, log, local, drive, clock, ids: createRandomIds(), terminal: 'laptop' });
    };
    const r = await withId();
    await r.syncOnce();
    renameSync(localRoot, `${localRoot}-old`);
    mkdirSync(localRoot);
    expect((await r.syncOnce()).status).toBe('paused');
    expect(await cloudText('a.txt')).toBe('alpha');
    r.stop();
    // Built again without a resume (a crash before the engine recorded the pause): still held.
    const rebuilt = await withId();
    expect((await rebuilt.syncOnce()).status).toBe('paused');
    rebuilt.stop();
    await resume();
    const resumed = await withId();
    expect(await resumed.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    expect(await cloudText('a.txt')).toBeNull();
    expect((await drive.bin(SPACE)).map((b) => b.path)).toEqual(['Docs/a.txt']);
    resumed.stop();
  });
});

describe('task runner: the cloud folder gone or replaced (SPEC.md section 5 guards, cloud side, beyond)', () => {
  const lastStatus = async () => (await log.readStream('task:t1', 1, 100_000)).flatMap((e) => (e.event.type === 'TaskStatusChanged' ? [e.event] : [])).at(-1);
  const trashed = (): string[] => (existsSync(join(trashHome, 'Trash', 'files')) ? readdirSync(join(trashHome, 'Trash', 'files')) : []);

  it('two-way: the cloud folder deleted pauses the task (cloud-folder-gone); no local file goes to the trash; restored, the task carries on', async () => {
    write('a.txt', 'alpha');
    write('sub/b.txt', 'beta');
    const r = await runner();
    await r.syncOnce();
    const docs = await drive.stat(SPACE, 'Docs');
    await drive.delete(SPACE, docs?.id ?? '', null);
    expect(await r.syncOnce()).toEqual({ status: 'paused', failedFiles: 0 });
    expect(await lastStatus()).toMatchObject({ status: 'paused', reason: 'cloud-folder-gone' });
    expect((await lastStatus())?.message).toMatch(/recycle bin/);
    expect([read('a.txt'), read('sub/b.txt')]).toEqual(['alpha', 'beta']);
    expect(trashed()).toEqual([]);
    expect(await drive.stat(SPACE, 'Docs')).toBeNull();
    r.stop();
    // Resumed while the folder is still gone: paused again, nothing touched.
    const again = await runner();
    expect((await again.syncOnce()).status).toBe('paused');
    expect(trashed()).toEqual([]);
    again.stop();
    const [entry] = await drive.bin(SPACE);
    await drive.restoreFromBin(SPACE, entry?.id ?? '');
    write('c.txt', 'gamma');
    const resumed = await runner();
    expect(await resumed.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    expect([await cloudText('a.txt'), await cloudText('sub/b.txt'), await cloudText('c.txt')]).toEqual(['alpha', 'beta', 'gamma']);
    expect(read('a.txt')).toBe('alpha');
    resumed.stop();
  });

  it('two-way: the cloud folder renamed, seen in the feed of an incremental round: the folder is looked at, found gone, and the task pauses (cloud-folder-gone), nothing re-made', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    const docs = await drive.stat(SPACE, 'Docs');
    await drive.move(SPACE, docs?.id ?? '', 'Documents');
    expect(await r.syncChanges({ paths: [], rescans: [] })).toEqual({ status: 'paused', failedFiles: 0 });
    expect(await lastStatus()).toMatchObject({ status: 'paused', reason: 'cloud-folder-gone' });
    expect(read('a.txt')).toBe('alpha');
    expect(trashed()).toEqual([]);
    expect(await drive.stat(SPACE, 'Docs')).toBeNull();
    r.stop();
  });

  it('two-way: the cloud folder replaced by a new one of the same name pauses (cloud-folder-replaced); resuming accepts the new folder', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    const docs = await drive.stat(SPACE, 'Docs');
    await drive.delete(SPACE, docs?.id ?? '', null);
    await drive.mkdir(SPACE, 'Docs');
    expect(await r.syncOnce()).toEqual({ status: 'paused', failedFiles: 0 });
    expect(await lastStatus()).toMatchObject({ status: 'paused', reason: 'cloud-folder-replaced' });
    expect(read('a.txt')).toBe('alpha');
    r.stop();
    // The folder's id is in the log: a runner built again (a restart, a configure) without a resume still holds.
    const rebuilt = await runner();
    expect((await rebuilt.syncOnce()).status).toBe('paused');
    expect(read('a.txt')).toBe('alpha');
    expect(trashed()).toEqual([]);
    rebuilt.stop();
    await resume();
    const resumed = await runner();
    expect(await resumed.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    // The new folder is the task's: what it lacks went to the trash, where it can be restored.
    expect(read('a.txt')).toBeNull();
    expect(trashed()).toEqual(['a.txt']);
    resumed.stop();
  });

  it('upload: the cloud folder deleted is put back and the backup uploaded again (SPEC.md 2.2)', async () => {
    write('a.txt', 'alpha');
    const r = await runner('upload');
    await r.syncOnce();
    const docs = await drive.stat(SPACE, 'Docs');
    await drive.delete(SPACE, docs?.id ?? '', null);
    expect(await r.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    expect(await cloudText('a.txt')).toBe('alpha');
    expect(read('a.txt')).toBe('alpha');
    r.stop();
  });

  it('a new task whose cloud folder does not exist yet creates it', async () => {
    write('a.txt', 'alpha');
    expect(await drive.stat(SPACE, 'Docs')).toBeNull();
    const r = await runner();
    expect(await r.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    expect(await cloudText('a.txt')).toBe('alpha');
    r.stop();
  });
});

describe('task runner: task-level failures (SPEC.md section 6)', () => {
  it('a revoked token fails the task (token-revoked) with what to do; no file is touched', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    await server.data.core.resetToken('ada');
    write('b.txt', 'beta');
    expect((await r.syncOnce()).status).toBe('failed');
    const statuses = (await log.readStream('task:t1', 1, 100_000)).flatMap((e) => (e.event.type === 'TaskStatusChanged' ? [e.event] : []));
    expect(statuses.at(-1)).toMatchObject({ status: 'failed', reason: 'token-revoked' });
    expect(statuses.at(-1)?.message).toMatch(/valid --token/);
    expect(read('a.txt')).toBe('alpha');
    r.stop();
  });

  it('a server that stops fails the round (cloud-unreachable, retryable); when it is back the task carries on', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    const port = server.port;
    await server.close();
    write('b.txt', 'beta');
    expect((await r.syncOnce()).status).toBe('failed');
    server = await startCloudServer({ dataDir: join(dir, 'cloud'), port });
    expect(await r.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    expect(await cloudText('b.txt')).toBe('beta');
    r.stop();
  });
});

describe('task runner: storage limits (SPEC.md section 5)', () => {
  it('a file over the cloud quota fails with quota and a retry time, the rest sync, and it is retried when space frees', async () => {
    await drive.mkdir(SPACE, 'Docs');
    await server.data.core.setQuota('personal:ada', 100);
    write('small.txt', 'fits');
    write('big.bin', 'x'.repeat(500));
    const r = await runner();
    const first = await r.syncOnce();
    expect(first).toEqual({ status: 'completed', failedFiles: 1 });
    expect(await cloudText('small.txt')).toBe('fits');
    expect(await cloudText('big.bin')).toBeNull();
    expect(r.nextRetryAt()).not.toBeNull();
    const failed = (await log.readStream('task:t1', 1, 100_000)).flatMap((e) => (e.event.type === 'ActionFailed' ? [e.event] : []));
    expect(failed).toEqual([expect.objectContaining({ reason: 'quota', transient: true, attempt: 1 })]);
    await server.data.core.setQuota('personal:ada', null);
    expect(await r.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    expect(await cloudText('big.bin')).toBe('x'.repeat(500));
    expect(r.nextRetryAt()).toBeNull();
    r.stop();
  });
});

describe('task runner, one-way upload (SPEC.md section 2.2)', () => {
  it('uploads local files and never touches the local side for cloud changes', async () => {
    write('a.txt', 'alpha');
    await drive.mkdir(SPACE, 'Docs');
    await drive.upload(SPACE, { path: 'Docs/cloud-only.txt' }, Buffer.from('x'), { size: 1, hash: sha('x'), baseVersion: null });
    const r = await runner('upload');
    expect((await r.syncOnce()).status).toBe('completed');
    expect(await cloudText('a.txt')).toBe('alpha');
    expect(read('cloud-only.txt')).toBeNull();
    rmSync(join(localRoot, 'a.txt'));
    await r.syncOnce();
    expect(await cloudText('a.txt')).toBe('alpha');
    r.stop();
  });
});

describe('task runner: progress', () => {
  it('reports what a sync planned and did: actions, transfer bytes, and the status as it changes', async () => {
    write('a.txt', 'alpha');
    write('b.bin', 'x'.repeat(3000));
    const seen: TaskProgress[] = [];
    const r = await runner('two-way', {}, (p) => seen.push(p));
    await r.syncOnce();
    const last = r.progress();
    expect(last).toMatchObject({ taskId: 't1', status: 'completed', bytesTotal: 3005, bytesDone: 3005, failedFiles: 0 });
    expect(last.planned).toBeGreaterThanOrEqual(2);
    expect(last.done).toBe(last.planned);
    expect(seen.some((p) => p.status === 'synchronizing' && p.done < p.planned)).toBe(true);
    expect(seen.at(-1)).toEqual(last);
    // The next sync starts counting again.
    write('c.txt', 'gamma');
    await r.syncOnce();
    expect(r.progress()).toMatchObject({ bytesTotal: 5, bytesDone: 5, status: 'completed' });
    r.stop();
  });
});

describe('task runner: small files in batches', () => {
  it('small uploads go to the cloud in a few batched requests, each file with its own outcome', async () => {
    for (let i = 0; i < 150; i++) write(`f${i}.txt`, `small ${i}`);
    write('big.bin', 'x'.repeat(300 * 1024));
    const calls = { upload: 0, uploadMany: 0, files: 0 };
    const counting = new Proxy(drive, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'upload' && typeof value === 'function') {
          return (...args: unknown[]) => {
            calls.upload += 1;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        if (prop === 'uploadMany' && typeof value === 'function') {
          return (space: string, items: readonly unknown[]) => {
            calls.uploadMany += 1;
            calls.files += items.length;
            return (value as (...a: unknown[]) => unknown).apply(target, [space, items]);
          };
        }
        return value;
      },
    });
    const clock = createSystemClock();
    const local = createNodeLocalFs({ root: localRoot, clock, trash: createTrash({ clock, dataHome: trashHome }) });
    const r = await createTaskRunner({ task: task(), log, local, drive: counting, clock, ids: createRandomIds(), terminal: 'laptop' });
    expect(await r.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    expect(calls.files).toBe(150);
    expect(calls.uploadMany).toBeLessThanOrEqual(10);
    expect(calls.upload).toBe(1);
    expect(await cloudText('f149.txt')).toBe('small 149');
    // A second version of a small file goes the same way, conditional on the version it replaces.
    write('f7.txt', 'small 7, edited');
    await r.syncOnce();
    expect(await cloudText('f7.txt')).toBe('small 7, edited');
    expect(calls.files).toBe(151);
    r.stop();
  });
});

describe('task runner, incremental rounds (the watcher\'s paths and the cloud change feed)', () => {
  const since = async (position: number) => (await log.read(position + 1, 100_000)).map((e) => e.event);
  const none = { paths: [], rescans: [] };

  it('a first incremental round of a new runner observes both sides in full', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    expect(await r.syncChanges(none)).toEqual({ status: 'completed', failedFiles: 0 });
    expect(await cloudText('a.txt')).toBe('alpha');
    r.stop();
  });

  it('looks only at the noted local paths: a noted change syncs, an unnoted one waits for a scan', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    write('a.txt', 'alpha 2');
    write('new/b.txt', 'beta');
    write('unnoted.txt', 'later');
    const before = await log.head();
    expect(await r.syncChanges({ paths: ['a.txt', 'new/b.txt'], rescans: [] })).toEqual({ status: 'completed', failedFiles: 0 });
    expect(await cloudText('a.txt')).toBe('alpha 2');
    expect(await cloudText('new/b.txt')).toBe('beta');
    expect(await cloudText('unnoted.txt')).toBeNull();
    const events = await since(before);
    // No scan of the whole root and no listing of the cloud: the new folder alone was scanned.
    expect(events.filter((e) => e.type === 'LocalScanStarted')).toEqual([expect.objectContaining({ under: 'new' })]);
    expect(events.filter((e) => e.type === 'CloudChanged' && e.source === 'list')).toEqual([]);
    await r.syncChanges({ paths: [], rescans: [''] });
    expect(await cloudText('unnoted.txt')).toBe('later');
    r.stop();
  });

  it('a noted delete of a folder removes it and everything below it; a noted rename is a move', async () => {
    write('d/x.txt', 'x');
    write('d/e/y.txt', 'y');
    write('m.txt', 'm');
    const r = await runner();
    await r.syncOnce();
    const id = (await drive.stat(SPACE, 'Docs/m.txt'))!.id;
    rmSync(join(localRoot, 'd'), { recursive: true });
    renameSync(join(localRoot, 'm.txt'), join(localRoot, 'n.txt'));
    await r.syncChanges({ paths: ['d', 'm.txt', 'n.txt'], rescans: [] });
    expect(await drive.stat(SPACE, 'Docs/d')).toBeNull();
    expect(await drive.stat(SPACE, 'Docs/d/e/y.txt')).toBeNull();
    expect((await drive.stat(SPACE, 'Docs/n.txt'))?.id).toBe(id);
    expect(r.trees.paths('local').sort()).toEqual(['n.txt']);
    r.stop();
  });

  it('cloud changes arrive through the feed from the task\'s cursor, not a listing', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    const cursorBefore = r.cloudCursor();
    expect(cursorBefore).not.toBeNull();
    await drive.upload(SPACE, { path: 'Docs/c.txt' }, Buffer.from('gamma'), { size: 5, hash: sha('gamma'), baseVersion: null });
    const a = (await drive.stat(SPACE, 'Docs/a.txt'))!;
    await drive.move(SPACE, a.id, 'Docs/renamed.txt');
    const before = await log.head();
    await r.syncChanges(none);
    expect(read('c.txt')).toBe('gamma');
    expect(read('a.txt')).toBeNull();
    expect(read('renamed.txt')).toBe('alpha');
    const events = await since(before);
    expect(events.flatMap((e) => (e.type === 'CloudChanged' ? [e.source] : []))).toEqual(['feed']);
    expect(r.cloudCursor()).not.toBe(cursorBefore);
    r.stop();
  });

  it('a quiet incremental round appends nothing at all', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    // The engine's own upload is in the feed: reading it past that changes nothing.
    await r.syncChanges({ paths: ['a.txt'], rescans: [] });
    const before = await log.head();
    expect(await r.syncChanges({ paths: ['a.txt'], rescans: [] })).toEqual({ status: 'completed', failedFiles: 0 });
    expect(await since(before)).toEqual([]);
    r.stop();
  });

  it('a long stretch of the feed with nothing for the task records the cursor alone, so a restart does not read it again; a short one appends nothing', async () => {
    write('a.txt', 'alpha');
    const r = await runner();
    await r.syncOnce();
    await drive.mkdir(SPACE, 'Other/one');
    const quiet = await log.head();
    await r.syncChanges(none);
    expect(await since(quiet)).toEqual([]);
    const items = Array.from({ length: 1000 }, (_, i) => ({ target: { path: `Other/f${i}` }, body: Buffer.from(`${i}`), hash: sha(`${i}`), baseVersion: null }));
    for (let i = 0; i < items.length; i += 100) await drive.uploadMany?.(SPACE, items.slice(i, i + 100));
    const before = await log.head();
    await r.syncChanges(none);
    const end = await drive.cursor(SPACE);
    expect(await since(before)).toEqual([{ type: 'CloudChanged', v: 1, source: 'feed', cursor: end, changes: [] }]);
    r.stop();
    const again = await runner();
    expect(again.cloudCursor()).toBe(end);
    again.stop();
  });

  it('a restarted runner reads the feed from the cursor in its log instead of listing again', async () => {
    write('a.txt', 'alpha');
    const first = await runner();
    await first.syncOnce();
    first.stop();
    await drive.upload(SPACE, { path: 'Docs/c.txt' }, Buffer.from('gamma'), { size: 5, hash: sha('gamma'), baseVersion: null });
    const second = await runner();
    const before = await log.head();
    expect(await second.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    expect(read('c.txt')).toBe('gamma');
    expect((await since(before)).filter((e) => e.type === 'CloudChanged' && e.source === 'list')).toEqual([]);
    // Asked for, a listing still happens (the safety net).
    const before2 = await log.head();
    await second.syncOnce({ list: true });
    expect((await since(before2)).filter((e) => e.type === 'CloudChanged' && e.source === 'list')).toHaveLength(1);
    second.stop();
  });
});

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

describe('task runner: a first scan hashes small files beside its listing', () => {
  it('files the scan hashed on its worker thread are not read again to hash them, and reach the cloud with the right content', async () => {
    // Past 500 entries the scan's worker lists and hashes the folders it is given.
    for (let d = 0; d < 40; d++) for (let f = 0; f < 100; f++) write(`d${d}/f${f}.txt`, `file ${d}/${f}`);
    const clock = createSystemClock();
    const local = createNodeLocalFs({ root: localRoot, clock, trash: createTrash({ clock, dataHome: trashHome }) });
    let hashed = 0;
    const counting = {
      ...local,
      hash: (...args: Parameters<typeof local.hash>) => {
        hashed++;
        return local.hash(...args);
      },
    };
    const r = await createTaskRunner({ task: task(), log, local: counting, drive, clock, ids: createRandomIds(), terminal: 'laptop' });
    expect(await r.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    expect(hashed).toBeGreaterThan(0);
    expect(hashed).toBeLessThan(4_000);
    for (const [d, f] of [[0, 0], [3, 17], [39, 99]] as const) expect(await cloudText(`d${d}/f${f}.txt`)).toBe(`file ${d}/${f}`);
    const entry = await drive.stat(SPACE, 'Docs/d39/f99.txt');
    expect(entry?.hash).toBe(createHash('sha256').update('file 39/99').digest('hex'));
    r.stop();
  }, 60_000);

  it('own changes (ADR 0100): after a first sync, uploads and renames over HTTP, the next rounds read none of them from the feed', async () => {
    for (let d = 0; d < 3; d++) {
      mkdirSync(join(localRoot, `d${d}`));
      for (let f = 0; f < 40; f++) writeFileSync(join(localRoot, `d${d}`, `f${f}.txt`), `file ${d}/${f}`);
    }
    let read = 0;
    const counting: RemoteDrive = {
      ...drive,
      changes: async (space, cursor, options) => {
        const page = await drive.changes(space, cursor, options);
        read += page.changes.length;
        return page;
      },
    };
    const clock = createSystemClock();
    const local = createNodeLocalFs({ root: localRoot, clock, trash: createTrash({ clock, dataHome: trashHome }) });
    const r = await createTaskRunner({ task: task(), log, local, drive: counting, clock, ids: createRandomIds(), terminal: 'laptop' });
    expect(await r.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    renameSync(join(localRoot, 'd0', 'f0.txt'), join(localRoot, 'd1', 'moved.txt'));
    writeFileSync(join(localRoot, 'd2', 'f1.txt'), 'edited');
    rmSync(join(localRoot, 'd2', 'f2.txt'));
    expect(await r.syncOnce()).toEqual({ status: 'completed', failedFiles: 0 });
    expect(await cloudText('d1/moved.txt')).toBe('file 0/0');
    await r.syncChanges({ paths: [], rescans: [] });
    expect(read).toBe(0);
    expect(r.cloudCursor()).toBe(await drive.cursor(SPACE));
    r.stop();
  }, 60_000);
});
