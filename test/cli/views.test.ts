/**
 * The view commands in-process (SPEC.md section 6): `details` with each sort and filter, `task
 * files` with each side and status filter, `task activity`, and `retry`, against a real cloud
 * server, a real folder and the data folder's persisted projections.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCloudServer, type CloudServer } from '../../src/cloud/server.js';
import { main } from '../../src/cli/main.js';

let dir: string;
let server: CloudServer;
let token: string;

/** Runs the command line in-process; returns its exit code and what it printed. */
async function foldsync(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(['node', 'foldsync', '--data', join(dir, 'home'), ...args]);
    return { code, out };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}
const json = async <T>(...args: string[]): Promise<T> => JSON.parse((await foldsync(...args, '--json')).out) as T;
const cloud = (): string[] => ['--cloud-url', server.url, '--token', token];

let albums: string;
let backup: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-cli-views-'));
  server = await startCloudServer({ dataDir: join(dir, 'cloud'), port: 0 });
  token = (await server.data.core.addUser('ada')).token;
  await server.data.core.addSpace('Team', 'team', null, { user: 'ada', role: 'synchronizer' });
  const a = join(dir, 'albums');
  mkdirSync(a);
  writeFileSync(join(a, 'small.txt'), 'fits');
  writeFileSync(join(a, 'big.bin'), 'x'.repeat(500));
  const b = join(dir, 'backup');
  mkdirSync(b);
  writeFileSync(join(b, 'b.txt'), 'backed up');
  albums = (await json<{ taskId: string }>('task', 'create', '--local', a, '--cloud', 'personal:/Albums', ...cloud())).taskId;
  backup = (await json<{ taskId: string }>('task', 'create', '--local', b, '--cloud', 'Team:/backup', '--mode', 'upload', ...cloud())).taskId;
  await server.data.core.setQuota('personal:ada', 100);
  expect((await foldsync('run', '--once', ...cloud())).code).toBe(1);
}, 60_000);
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

type Row = { taskId: string; cloudName: string; status: string; filesFailed: number; failedMark: boolean };
const ids = (rows: Row[]): string[] => rows.map((r) => r.taskId);

describe('foldsync details: each sort and filter', () => {
  it.each([
    [['--sort', 'name'], () => [albums, backup]],
    [['--sort', 'name', '--desc'], () => [backup, albums]],
    [['--sort', 'created'], () => [albums, backup]],
    [['--sort', 'created', '--desc'], () => [backup, albums]],
    [['--type', 'upload'], () => [backup]],
    [['--type', 'two-way'], () => [albums]],
    [['--space', 'Team'], () => [backup]],
    [['--space', 'personal'], () => [albums]],
    [['--status', 'completed'], () => [albums, backup]],
    [['--status', 'failed'], () => []],
    [['--status', 'scanning'], () => []],
    [['--status', 'synchronizing'], () => []],
    [['--status', 'paused'], () => []],
  ] as [string[], () => string[]][])('details %j', async (args, expected) => {
    expect(ids(await json<Row[]>('details', ...args))).toEqual(expected());
  });

  it('marks a completed task with failed files (the red exclamation), from the saved views', async () => {
    const rows = await json<Row[]>('details');
    expect(rows.find((r) => r.taskId === albums)).toMatchObject({ cloudName: 'Albums', status: 'completed', filesFailed: 1, failedMark: true });
    expect(existsSync(join(dir, 'home', 'views.sqlite'))).toBe(true);
  });
});

type FileRow = { path: string; side: string; status: string; reason: string | null };

describe('foldsync task files, task activity, retry', () => {
  it('lists each side with its status, filtered by side and status', async () => {
    const all = await json<FileRow[]>('task', 'files', albums);
    expect(all).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'big.bin', side: 'local', status: 'failed', reason: 'quota' }),
        expect.objectContaining({ path: 'small.txt', side: 'local', status: 'in-sync' }),
        expect.objectContaining({ path: 'small.txt', side: 'cloud', status: 'in-sync' }),
      ]),
    );
    expect((await json<FileRow[]>('task', 'files', albums, '--side', 'cloud')).map((r) => `${r.side}:${r.path}`)).toEqual(['cloud:small.txt']);
    expect((await json<FileRow[]>('task', 'files', albums, '--status', 'failed')).map((r) => r.path)).toEqual(['big.bin']);
    expect(await json<FileRow[]>('task', 'files', albums, '--status', 'pending-upload')).toEqual([]);
    expect((await foldsync('task', 'files', albums)).out).toMatch(/local\s+failed\s+big\.bin/);
    expect((await foldsync('task', 'files', 'nope')).code).toBe(1);
  });

  it("tells a path's story: observed, decided under a SPEC rule, started, failed", async () => {
    const story = await json<{ what: string; rule: string | null }[]>('task', 'activity', albums, 'big.bin');
    expect(story.map((s) => s.what)).toEqual(expect.arrayContaining(['observed', 'decided', 'started', 'failed']));
    expect(story.find((s) => s.what === 'decided')?.rule).toMatch(/\S/);
  });

  it('run --ui serves the sync details page on 127.0.0.1 while it runs', async () => {
    const r = await foldsync('run', '--once', '--ui', '--port', '0', ...cloud());
    expect(r.out).toMatch(/sync details at http:\/\/127\.0\.0\.1:\d+\//);
    expect((await foldsync('run', '--once', '--ui', '--port', 'x', ...cloud())).code).toBe(1);
  });

  it('retry syncs the failed files again once the cause is gone', async () => {
    await server.data.core.setQuota('personal:ada', null);
    expect((await foldsync('retry', albums, ...cloud())).code).toBe(0);
    expect(await json<FileRow[]>('task', 'files', albums, '--status', 'failed')).toEqual([]);
    expect((await json<FileRow[]>('task', 'files', albums, '--side', 'cloud')).map((r) => `${r.path}:${r.status}`)).toEqual(['big.bin:in-sync', 'small.txt:in-sync']);
    const story = await json<{ what: string }[]>('task', 'activity', albums, 'big.bin');
    expect(story.at(-1)?.what).toBe('done');
  });
});
