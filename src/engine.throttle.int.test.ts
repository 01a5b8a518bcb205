/**
 * Throttling (SPEC.md section 4) through the whole engine, on real folders and a real server, with
 * the engine on a virtual clock: the token buckets wait on that clock, so how much virtual time a
 * sync takes is exactly what the limits made it wait — a deterministic measure, not a timing.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCloudServer, type CloudServer } from './cloud/server.js';
import { createEngine, type Engine } from './engine.js';
import { createVirtualClock, type VirtualClock } from './io/clock.js';
import { createHttpRemoteDrive } from './io/http-remote-drive.js';
import type { RemoteDrive } from './io/remote-drive.js';
import { createTrash } from './io/trash.js';
import { DEFAULT_OPTIONS } from './lib/model.js';

let dir: string;
let server: CloudServer;
let token: string;
let drive: RemoteDrive;
let clock: VirtualClock;
let engine: Engine;
let root: string;
const MB = 1_000_000;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-throttle-'));
  server = await startCloudServer({ dataDir: join(dir, 'cloud'), port: 0 });
  token = (await server.data.core.addUser('ada')).token;
  drive = createHttpRemoteDrive({ baseUrl: server.url, token });
  clock = createVirtualClock();
  engine = await createEngine({ dataDir: join(dir, 'home'), cloud: { url: server.url, token }, terminalName: 'laptop', clock, trash: createTrash({ clock, dataHome: join(dir, 'xdg') }) });
  root = join(dir, 'local');
  mkdirSync(root);
});

afterEach(async () => {
  await engine.close();
  await drive.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `work` to its end, moving the virtual clock to each timer the engine sets while real IO goes on. */
async function onVirtualTime<T>(work: Promise<T>): Promise<{ value: T; elapsedMs: number }> {
  const start = clock.now();
  const state = { done: false };
  const settled = work.finally(() => {
    state.done = true;
  });
  // A function, not the property: the compiler would take `done` as fixed across awaits.
  const finished = (): boolean => state.done;
  while (!finished()) {
    await new Promise((r) => setImmediate(r));
    if (clock.pending() > 0) clock.runNext();
    else await new Promise((r) => setTimeout(r, 1));
  }
  return { value: await settled, elapsedMs: clock.now() - start };
}

const bytes = (n: number, seed: number): Buffer => Buffer.alloc(n, seed);
const throttle = (upload: number | null, download: number | null) => ({ ...DEFAULT_OPTIONS.throttle, uploadBps: upload, downloadBps: download });

describe('throttling through the engine (SPEC.md section 4)', () => {
  it('an upload limit of 1 MB/s makes 4 MB of uploads wait about 3 s (1 s of burst); unlimited waits not at all', async () => {
    writeFileSync(join(root, 'a.bin'), bytes(2 * MB, 1));
    writeFileSync(join(root, 'b.bin'), bytes(2 * MB, 2));
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/Docs', options: { throttle: throttle(MB, null) } });
    const { value, elapsedMs } = await onVirtualTime(engine.syncOnce(t.taskId));
    expect(value.get(t.taskId)).toEqual({ status: 'completed', failedFiles: 0 });
    expect(elapsedMs).toBeGreaterThanOrEqual(2_900);
    expect(elapsedMs).toBeLessThan(4_000);
    expect((await drive.stat('personal', 'Docs/b.bin'))?.size).toBe(2 * MB);

    await engine.configure(t.taskId, { throttle: throttle(null, null) });
    writeFileSync(join(root, 'c.bin'), bytes(2 * MB, 3));
    const free = await onVirtualTime(engine.syncOnce(t.taskId));
    expect(free.elapsedMs).toBe(0);
    expect((await drive.stat('personal', 'Docs/c.bin'))?.size).toBe(2 * MB);
  });

  it('a download limit of 500 kB/s makes a 2 MB download wait about 3 s, and the file arrives whole', async () => {
    const content = bytes(2 * MB, 7);
    await drive.mkdir('personal', 'Docs');
    await drive.upload('personal', { path: 'Docs/big.bin' }, content, { size: content.length, hash: createHash('sha256').update(content).digest('hex'), baseVersion: null });
    const t = await engine.createTask({ localRoot: root, cloud: 'personal:/Docs', options: { throttle: throttle(null, MB / 2) } });
    const { elapsedMs } = await onVirtualTime(engine.syncOnce(t.taskId));
    expect(elapsedMs).toBeGreaterThanOrEqual(2_900);
    expect(elapsedMs).toBeLessThan(4_000);
    expect(readFileSync(join(root, 'big.bin')).equals(content)).toBe(true);
  });
});
