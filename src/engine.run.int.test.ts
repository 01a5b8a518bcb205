/**
 * The continuous loop (`engine.run`) on real folders, the real watcher and a real server: changes
 * on either side reach the other without anyone asking, through incremental rounds (the watcher's
 * paths and the cloud change feed), commands given while it runs take effect, and a burst of
 * deletes is held by the mass-delete guard as a whole. Waits poll for an outcome with a generous
 * limit; no test asserts how fast anything happens.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCloudServer, type CloudServer } from './cloud/server.js';
import { createEngine, type Engine } from './engine.js';
import { createSystemClock } from './io/clock.js';
import { createHttpRemoteDrive } from './io/http-remote-drive.js';
import { readAll, type RemoteDrive } from './io/remote-drive.js';
import { createTrash } from './io/trash.js';
import type { SyncResult } from './actors/task-runner.js';

let dir: string;
let server: CloudServer;
let drive: RemoteDrive;
let engine: Engine;
let stop: AbortController;
let running: Promise<void>;
let rounds: Map<string, SyncResult>[];
let root: string;

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-run-'));
  server = await startCloudServer({ dataDir: join(dir, 'cloud'), port: 0 });
  const { token } = await server.data.core.addUser('ada');
  drive = createHttpRemoteDrive({ baseUrl: server.url, token });
  const clock = createSystemClock();
  engine = await createEngine({ dataDir: join(dir, 'home'), cloud: { url: server.url, token }, terminalName: 'laptop', trash: createTrash({ clock, dataHome: join(dir, 'xdg') }) });
  root = join(dir, 'local');
  mkdirSync(root);
  rounds = [];
});

afterEach(async () => {
  stop.abort();
  await running;
  await engine.close();
  await drive.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(): void {
  stop = new AbortController();
  running = engine.run(stop.signal, (r) => {
    rounds.push(new Map(r));
  });
}

/** Polls `check` until it returns true (a generous limit: this is about outcomes, not speed). */
async function eventually(what: string, check: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

const put = (path: string, text: string): void => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};
const read = (path: string): string | null => (existsSync(join(root, path)) ? readFileSync(join(root, path), 'utf8') : null);
const cloudText = async (path: string): Promise<string | null> => {
  const e = await drive.stat('personal', `Docs/${path}`);
  return e === null || e.kind !== 'file' ? null : (await readAll(await drive.download('personal', e.id))).toString();
};
const completed = (taskId: string) => () => rounds.some((r) => r.get(taskId)?.status === 'completed');

describe('engine.run: continuous sync', () => {
  it('local creates, edits and deletes reach the cloud, and cloud changes reach the folder, with no sync asked for', async () => {
    put('a.txt', 'alpha');
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/Docs' });
    start();
    await eventually('the first round completed', completed(t.taskId));
    expect(await cloudText('a.txt')).toBe('alpha');

    put('sub/b.txt', 'beta');
    put('a.txt', 'alpha, edited');
    await eventually('the local changes are in the cloud', async () => (await cloudText('sub/b.txt')) === 'beta' && (await cloudText('a.txt')) === 'alpha, edited');

    await drive.upload('personal', { path: 'Docs/c.txt' }, Buffer.from('gamma'), { size: 5, hash: sha('gamma'), baseVersion: null });
    await eventually('the cloud file is in the folder', () => read('c.txt') === 'gamma');

    rmSync(join(root, 'sub'), { recursive: true });
    await eventually('the local delete reached the cloud recycle bin', async () => (await drive.stat('personal', 'Docs/sub')) === null);
    expect((await drive.bin('personal')).map((b) => b.path)).toContain('Docs/sub');

    // Incremental rounds: after the first, no scan of the whole folder and no listing of the cloud.
    const events = (await engine.log.read(1, 1_000_000)).map((e) => e.event);
    expect(events.filter((e) => e.type === 'LocalScanStarted' && e.under === '')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'CloudChanged' && e.source === 'list')).toHaveLength(1);
  });

  it('a paused task is left alone while the loop runs; resuming it syncs what changed meanwhile', async () => {
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/Docs' });
    start();
    await eventually('the first round completed', completed(t.taskId));
    await engine.pause(t.taskId);
    put('while-paused.txt', 'p');
    // Give the watcher every chance to report it: nothing may happen while paused.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await cloudText('while-paused.txt')).toBeNull();
    await engine.resume(t.taskId);
    await eventually('the file made while paused is in the cloud', async () => (await cloudText('while-paused.txt')) === 'p');
  });

  it('a server that stops fails the task (cloud-unreachable); the loop retries by itself and carries on when it is back', async () => {
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/Docs' });
    start();
    await eventually('the first round completed', completed(t.taskId));
    const port = server.port;
    await server.close();
    put('offline.txt', 'made while the cloud was away');
    await eventually('the round failed', () => rounds.some((r) => r.get(t.taskId)?.status === 'failed'));
    server = await startCloudServer({ dataDir: join(dir, 'cloud'), port });
    await eventually('the file is in the cloud', async () => (await cloudText('offline.txt')) === 'made while the cloud was away', 30_000);
  });

  it('filters configured while the loop runs apply to the next change', async () => {
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/Docs' });
    start();
    await eventually('the first round completed', completed(t.taskId));
    await engine.configure(t.taskId, { filters: { include: [], exclude: ['*.log'], maxFileSize: null } });
    put('debug.log', 'noise');
    put('kept.txt', 'kept');
    await eventually('the kept file is in the cloud', async () => (await cloudText('kept.txt')) === 'kept');
    expect(await cloudText('debug.log')).toBeNull();
  });

  it('deleting most synced files in quick bursts pauses the task with mass-delete as one burst; nothing goes to the recycle bin', async () => {
    for (let i = 0; i < 150; i++) put(`f${String(i).padStart(3, '0')}.txt`, `file ${i}`);
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/Docs' });
    start();
    await eventually('the first round completed', completed(t.taskId), 30_000);
    // Four bursts, each under the threshold on its own, with gaps longer than the watcher's debounce.
    for (let burst = 0; burst < 4; burst++) {
      for (let i = burst * 30; i < burst * 30 + 30; i++) rmSync(join(root, `f${String(i).padStart(3, '0')}.txt`));
      await new Promise((r) => setTimeout(r, 400));
    }
    await eventually('the task paused', () => engine.task(t.taskId).paused);
    expect(rounds.some((r) => r.get(t.taskId)?.status === 'paused')).toBe(true);
    expect(await drive.bin('personal')).toEqual([]);
  });
});
