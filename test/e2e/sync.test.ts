/**
 * The `foldsync` command as a user runs it: the README's main job (`foldsync sync FOLDER`) against
 * the embedded cloud, and task creation refusals. Runs the built command (`npm test` builds first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCloudServer } from '../../src/cloud/server.js';
import { createHttpRemoteDrive } from '../../src/io/http-remote-drive.js';
import { readAll } from '../../src/io/remote-drive.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'foldsync.js');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-e2e-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function foldsync(...args: string[]): { code: number; out: string; err: string } {
  // XDG_DATA_HOME: local deletes go to a trash inside the test folder, not the user's.
  const env: NodeJS.ProcessEnv = { ...process.env, FOLDSYNC_HOME: join(dir, 'home'), XDG_DATA_HOME: join(dir, 'xdg') };
  delete env['FOLDSYNC_CLOUD'];
  delete env['FOLDSYNC_TOKEN'];
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Reads a file from the embedded cloud's data folder, as its local user. */
async function cloudFile(path: string): Promise<string | null> {
  const server = await startCloudServer({ dataDir: join(dir, 'home', 'cloud'), port: 0 });
  const { embedded } = JSON.parse(readFileSync(join(dir, 'home', 'credentials.json'), 'utf8')) as { embedded: { token: string } };
  const drive = createHttpRemoteDrive({ baseUrl: server.url, token: embedded.token });
  try {
    const entry = await drive.stat('personal', path);
    return entry === null ? null : (await readAll(await drive.download('personal', entry.id))).toString();
  } finally {
    await drive.close();
    await server.close();
  }
}

describe('foldsync sync FOLDER (the README main job)', () => {
  it('creates the folder if missing, creates the task once, syncs, and exits 0 with --once', async () => {
    const first = foldsync('sync', './my-folder', '--once');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/created .*my-folder/);
    expect(first.out).toMatch(/created task/);
    writeFileSync(join(dir, 'my-folder', 'notes.txt'), 'hello cloud');
    mkdirSync(join(dir, 'my-folder', 'sub'));
    writeFileSync(join(dir, 'my-folder', 'sub', 'deep.txt'), 'deeper');
    const second = foldsync('sync', './my-folder', '--once');
    expect(second.code).toBe(0);
    expect(second.out).not.toMatch(/created task/);
    expect(await cloudFile('my-folder/notes.txt')).toBe('hello cloud');
    expect(await cloudFile('my-folder/sub/deep.txt')).toBe('deeper');
    const list = foldsync('task', 'list', '--json');
    expect((JSON.parse(list.out) as unknown[]).length).toBe(1);
    // SPEC.md section 6: the sync details view, from the event log.
    const details = JSON.parse(foldsync('details', '--json').out) as { cloudName: string; status: string; filesInSync: number; filesFailed: number; mode: string; space: string; failedMark: boolean }[];
    expect(details).toEqual([expect.objectContaining({ cloudName: 'my-folder', status: 'completed', filesInSync: 2, filesFailed: 0, mode: 'two-way', space: 'personal', failedMark: false })]);
    expect(JSON.parse(foldsync('details', '--json', '--status', 'failed').out)).toEqual([]);
    expect(foldsync('details').out).toMatch(/Synchronized completion/);
    const taskId = (JSON.parse(list.out) as { taskId: string }[])[0]!.taskId;
    expect(JSON.parse(foldsync('task', 'failures', taskId, '--json').out)).toEqual([]);
  });
});

describe('cloud-side operations through foldsync remote, with no flags: the embedded cloud (SPEC.md section 2.1)', () => {
  it('a file put, moved and removed in the cloud is created, moved and trashed locally', async () => {
    expect(foldsync('sync', './docs', '--once').code).toBe(0);
    writeFileSync(join(dir, 'upload-me.txt'), 'from the cloud side');
    const put = foldsync('remote', 'put', 'upload-me.txt', 'personal:/docs/report.txt');
    expect(put.err).toBe('');
    expect(put.code).toBe(0);
    expect(foldsync('sync', './docs', '--once').code).toBe(0);
    expect(readFileSync(join(dir, 'docs', 'report.txt'), 'utf8')).toBe('from the cloud side');

    expect(foldsync('remote', 'mv', 'personal:/docs/report.txt', 'personal:/docs/final.txt').code).toBe(0);
    expect(foldsync('sync', './docs', '--once').code).toBe(0);
    expect(existsSync(join(dir, 'docs', 'report.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'docs', 'final.txt'), 'utf8')).toBe('from the cloud side');

    expect(foldsync('remote', 'rm', 'personal:/docs/final.txt').code).toBe(0);
    expect(foldsync('sync', './docs', '--once').code).toBe(0);
    expect(existsSync(join(dir, 'docs', 'final.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'xdg', 'Trash', 'files', 'final.txt'), 'utf8')).toBe('from the cloud side');
    const ls = JSON.parse(foldsync('remote', 'ls', 'personal:/docs', '--json').out) as unknown[];
    expect(ls).toEqual([]);
  });
});

describe('foldsync task create refusals (SPEC.md section 3)', () => {
  it('a system folder is refused, exits non-zero with what to do, and creates nothing', () => {
    const r = foldsync('task', 'create', '--local', '/etc', '--cloud', 'personal:/etc');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/system folder/);
    expect(JSON.parse(foldsync('task', 'list', '--json').out)).toEqual([]);
  });

  it('a folder containing the engine data folder is refused', () => {
    const r = foldsync('task', 'create', '--local', dir, '--cloud', 'personal:/x');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/foldsync keeps its own data in .* which is inside/);
  });

  it('an unknown space is refused with the spaces there are', () => {
    mkdirSync(join(dir, 'f'));
    const r = foldsync('task', 'create', '--local', join(dir, 'f'), '--cloud', 'nowhere:/x');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no space "nowhere"/);
  });

  it('a second task on the same cloud folder is refused as nested', () => {
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    expect(foldsync('task', 'create', '--local', join(dir, 'a'), '--cloud', 'personal:/shared').code).toBe(0);
    const r = foldsync('task', 'create', '--local', join(dir, 'b'), '--cloud', 'personal:/shared/inner');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already syncs/);
  });
});
