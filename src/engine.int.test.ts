/**
 * The engine through its public API (`createEngine`) on real folders against a real server:
 * creation checks that ask the cloud, user commands, the mass-delete guard, and carrying on
 * after a restart.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCloudServer, type CloudServer } from './cloud/server.js';
import { SNAPSHOT_AT_RETIRE_EVENTS } from './actors/engine.js';
import { createEngine, type Engine } from './engine.js';
import { createSystemClock } from './io/clock.js';
import { createTrash } from './io/trash.js';
import { isFoldsyncError } from './lib/errors.js';

let dir: string;
let server: CloudServer;
let token: string;
const engines: Engine[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-engine-'));
  server = await startCloudServer({ dataDir: join(dir, 'cloud'), port: 0 });
  token = (await server.data.core.addUser('ada')).token;
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close().catch(() => undefined);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(maxFiles?: number): Promise<Engine> {
  const clock = createSystemClock();
  const engine = await createEngine({
    dataDir: join(dir, 'home'),
    cloud: { url: server.url, token },
    terminalName: 'laptop',
    trash: createTrash({ clock, dataHome: join(dir, 'xdg') }),
    ...(maxFiles === undefined ? {} : { maxFiles }),
  });
  engines.push(engine);
  return engine;
}

function folder(name: string, files: Record<string, string> = {}): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isFoldsyncError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('engine: creating tasks (SPEC.md section 3)', () => {
  it('a Backer may create an upload task on a team space, and is refused two-way (not permitted)', async () => {
    await server.data.core.addSpace('Budget', 'team', null);
    await server.data.core.setMember('Budget', 'ada', 'backer');
    const engine = await open();
    expect(await refusal(engine.createTask({ localRoot: folder('two'), cloud: 'Budget:/q1', mode: 'two-way' }))).toBe('not-permitted');
    const t = await engine.createTask({ localRoot: folder('up'), cloud: 'Budget:/q1', mode: 'upload' });
    expect(t.cloud).toMatchObject({ space: 'Budget', spaceType: 'team', path: '/q1' });
  });

  it('a member who is neither Synchronizer nor Backer is refused on a team space', async () => {
    await server.data.core.addSpace('Team', 'team', null);
    await server.data.core.setMember('Team', 'ada', 'member');
    const engine = await open();
    expect(await refusal(engine.createTask({ localRoot: folder('x'), cloud: 'Team:/a', mode: 'upload' }))).toBe('not-permitted');
  });

  it('nested local folders are refused, and a refusal is recorded without creating anything', async () => {
    const engine = await open();
    await engine.createTask({ localRoot: folder('outer'), cloud: 'personal:/outer' });
    expect(await refusal(engine.createTask({ localRoot: folder('outer/inner'), cloud: 'personal:/inner' }))).toBe('nested');
    expect(engine.tasks().length).toBe(1);
  });

  it('the eleventh task is refused', async () => {
    const engine = await open();
    for (let i = 0; i < 10; i++) await engine.createTask({ localRoot: folder(`f${i}`), cloud: `personal:/f${i}` });
    expect(await refusal(engine.createTask({ localRoot: folder('f10'), cloud: 'personal:/f10' }))).toBe('too-many-tasks');
  });
});

describe('engine: controls (SPEC.md section 6)', () => {
  it('pause holds a task, resume lets it sync; the state survives a restart', async () => {
    let engine = await open();
    const t = await engine.createTask({ localRoot: folder('p', { 'a.txt': 'a' }), cloud: 'personal:/p' });
    await engine.pause(t.taskId);
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('paused');
    await engine.close();
    engine = await open();
    expect(engine.task(t.taskId).paused).toBe(true);
    await engine.resume(t.taskId);
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)).toEqual({ status: 'completed', failedFiles: 0 });
  });

  it('a replaced local folder pauses the task; once resumed, the new folder is the task\'s for good, also after a restart', async () => {
    let engine = await open();
    const root = folder('r', { 'a.txt': 'a' });
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/r' });
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('completed');
    renameSync(root, join(dir, 'r-old'));
    folder('r', { 'a.txt': 'a', 'b.txt': 'b' });
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('paused');
    await engine.resume(t.taskId);
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)).toEqual({ status: 'completed', failedFiles: 0 });
    await engine.close();
    engine = await open();
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)).toEqual({ status: 'completed', failedFiles: 0 });
    expect(engine.task(t.taskId).paused).toBe(false);
    // An acceptance is for that folder only: replaced once more, the task pauses again.
    renameSync(root, join(dir, 'r-older'));
    folder('r', { 'c.txt': 'c' });
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('paused');
  });

  it('a restarted engine starts each task from the snapshot its last run wrote (ADR 0012) and syncs on', async () => {
    let engine = await open();
    // Enough files for the run's events to pass SNAPSHOT_AT_RETIRE_EVENTS: a closing engine writes
    // a snapshot only for a stream that grew that much since the last one.
    const files = SNAPSHOT_AT_RETIRE_EVENTS / 2;
    const root = folder('snap', Object.fromEntries(Array.from({ length: files }, (_, i) => [`f${i}.txt`, `file ${i}`])));
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/snap' });
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('completed');
    await engine.close();
    expect(readdirSync(join(dir, 'home', 'snapshots'))).toEqual([`${t.taskId}.snap`]);
    engine = await open();
    writeFileSync(join(root, 'b.txt'), 'b');
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)).toEqual({ status: 'completed', failedFiles: 0 });
    const drive = (await import('./io/http-remote-drive.js')).createHttpRemoteDrive({ baseUrl: server.url, token });
    expect((await drive.list('personal', 'snap')).length).toBe(files + 1);
    await drive.close();
  });

  it('cancel removes the task and touches no file on either side', async () => {
    const engine = await open();
    const root = folder('c', { 'a.txt': 'a' });
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/c' });
    await engine.syncOnce(t.taskId);
    await engine.cancel(t.taskId);
    expect(engine.tasks()).toEqual([]);
    expect(existsSync(join(root, 'a.txt'))).toBe(true);
    const drive = (await import('./io/http-remote-drive.js')).createHttpRemoteDrive({ baseUrl: server.url, token });
    expect(await drive.stat('personal', 'c/a.txt')).not.toBeNull();
    await drive.close();
  });

  it('retry records the request and syncs the failed files again (SPEC.md section 6, retry failed files)', async () => {
    const engine = await open();
    const t = await engine.createTask({ localRoot: folder('q', { 'small.txt': 'fits', 'big.bin': 'x'.repeat(500) }), cloud: 'personal:/q' });
    await server.data.core.setQuota('personal:ada', 100);
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)).toEqual({ status: 'completed', failedFiles: 1 });
    await server.data.core.setQuota('personal:ada', null);
    expect(await engine.retry(t.taskId)).toEqual({ status: 'completed', failedFiles: 0 });
    expect(engine.task(t.taskId).retryRequests).toBe(1);
    const drive = (await import('./io/http-remote-drive.js')).createHttpRemoteDrive({ baseUrl: server.url, token });
    expect(await drive.stat('personal', 'q/big.bin')).not.toBeNull();
    await drive.close();
  });

  it('configure changes filters for the next sync', async () => {
    const engine = await open();
    const root = folder('f', { 'keep.txt': 'k', 'skip.log': 's' });
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/f', options: { filters: { include: [], exclude: ['*.log'], maxFileSize: null } } });
    await engine.syncOnce(t.taskId);
    const drive = (await import('./io/http-remote-drive.js')).createHttpRemoteDrive({ baseUrl: server.url, token });
    expect(await drive.stat('personal', 'f/skip.log')).toBeNull();
    await engine.configure(t.taskId, { filters: { include: [], exclude: [], maxFileSize: null } });
    await engine.syncOnce(t.taskId);
    expect(await drive.stat('personal', 'f/skip.log')).not.toBeNull();
    await drive.close();
  });
});

describe('engine: safety (SPEC.md section 5)', () => {
  it('more than half of the synced files gone at once pauses the task with mass-delete instead of deleting', async () => {
    const engine = await open();
    const files: Record<string, string> = {};
    for (let i = 0; i < 120; i++) files[`f${i}.txt`] = `content ${i}`;
    const root = folder('m', files);
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/m' });
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('completed');
    for (let i = 0; i < 100; i++) rmSync(join(root, `f${i}.txt`));
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('paused');
    const drive = (await import('./io/http-remote-drive.js')).createHttpRemoteDrive({ baseUrl: server.url, token });
    expect((await drive.list('personal', 'm')).length).toBe(120);
    expect((await drive.bin('personal')).length).toBe(0);
    // The pause lasts until the user resumes, also across a restart.
    expect(engine.task(t.taskId).paused).toBe(true);
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)?.status).toBe('paused');
    expect((await drive.bin('personal')).length).toBe(0);
    // Resuming confirms the deletes: they go to the recycle bin.
    await engine.resume(t.taskId);
    expect((await engine.syncOnce(t.taskId)).get(t.taskId)).toEqual({ status: 'completed', failedFiles: 0 });
    expect((await drive.list('personal', 'm')).length).toBe(20);
    expect((await drive.bin('personal')).length).toBe(100);
    await drive.close();
  });
});

describe('engine: files per terminal (SPEC.md section 5)', () => {
  it('the task that would pass the limit fails with file-limit; nothing already synced is touched', async () => {
    const engine = await open(10);
    const a = await engine.createTask({ localRoot: folder('a', { '1': '1', '2': '2', '3': '3', '4': '4', '5': '5', '6': '6' }), cloud: 'personal:/a' });
    expect((await engine.syncOnce(a.taskId)).get(a.taskId)?.status).toBe('completed');
    const b = await engine.createTask({ localRoot: folder('b', { '1': '1', '2': '2', '3': '3', '4': '4', '5': '5' }), cloud: 'personal:/b' });
    const results = await engine.syncOnce();
    expect(results.get(a.taskId)?.status).toBe('completed');
    expect(results.get(b.taskId)?.status).toBe('failed');
    const drive = (await import('./io/http-remote-drive.js')).createHttpRemoteDrive({ baseUrl: server.url, token });
    expect((await drive.list('personal', 'a')).length).toBe(6);
    expect(await drive.stat('personal', 'b/1')).toBeNull();
    await drive.close();
  });
});
