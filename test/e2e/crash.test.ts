/**
 * Crash recovery as a user meets it (issue 6, DESIGN.md section 4): `foldsync run` killed with
 * SIGKILL in the middle of a transfer, then started again. Nothing is lost or duplicated: the
 * action left without an outcome is re-verified against both sides and planned again, the file
 * ends whole on the other side once, and no temporary file is left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'foldsync.js');
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-crash-'));
  env = { ...process.env, FOLDSYNC_HOME: join(dir, 'home'), XDG_DATA_HOME: join(dir, 'xdg') };
  delete env['FOLDSYNC_CLOUD'];
  delete env['FOLDSYNC_TOKEN'];
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function foldsync(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Event types in the engine's log, read from its SQLite file beside the running engine (WAL allows it). */
function eventTypes(): string[] {
  const file = join(dir, 'home', 'events.sqlite');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT type, data FROM events ORDER BY position').all() as { type: string; data: string }[]).map((r) => (r.type === 'ActionAbandoned' ? `ActionAbandoned:${(JSON.parse(r.data) as { why: string }).why}` : r.type));
  } finally {
    db.close();
  }
}

/** Starts `foldsync run`, waits until a transfer is under way (`inFlight`), and kills it with SIGKILL. */
async function killMidTransfer(inFlight: () => boolean): Promise<void> {
  const child = spawn(process.execPath, [bin, 'run'], { cwd: dir, env, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  const until = Date.now() + 60_000;
  while (!(eventTypes().includes('ActionStarted') && inFlight())) {
    if (Date.now() > until) throw new Error('no transfer under way');
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  await exited;
}

/** The download's temporary file beside its target, once it holds some bytes. */
const partialDownload = (): boolean => existsSync(join(dir, 'docs')) && readdirSync(join(dir, 'docs')).some((n) => n.startsWith('.foldsync-partial-') && statSync(join(dir, 'docs', n)).size > 0);

function taskId(): string {
  return (JSON.parse(foldsync('task', 'list', '--json').out) as { taskId: string }[])[0]!.taskId;
}

describe('foldsync run killed mid-transfer, then started again', () => {
  it('an upload: the file ends in the cloud whole, as one item with one version; the open action is re-verified', async () => {
    expect(foldsync('sync', './docs', '--once').code).toBe(0);
    // A slow upload, so the kill lands in its middle.
    expect(foldsync('task', 'config', taskId(), '--upload-limit', '1000000').code).toBe(0);
    const content = randomBytes(6_000_000);
    writeFileSync(join(dir, 'docs', 'big.bin'), content);
    // About a second and a half into a six-second upload.
    let started = 0;
    await killMidTransfer(() => {
      started ||= Date.now();
      return Date.now() - started > 1500;
    });

    const again = foldsync('run', '--once');
    expect(again.err).toBe('');
    expect(again.code).toBe(0);
    expect(eventTypes()).toContain('ActionAbandoned:re-verified after restart');
    const ls = JSON.parse(foldsync('remote', 'ls', 'personal:/docs', '--json').out) as { path: string; size: number }[];
    expect(ls.map((e) => [e.path, e.size])).toEqual([['docs/big.bin', content.length]]);
    const versions = JSON.parse(foldsync('remote', 'versions', 'personal:/docs/big.bin', '--json').out) as unknown[];
    expect(versions).toHaveLength(1);
    const cat = spawnSync(process.execPath, [bin, 'remote', 'cat', 'personal:/docs/big.bin'], { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 });
    expect(cat.status).toBe(0);
    expect(cat.stdout.equals(content)).toBe(true);
  });

  it('a download: the file ends in the folder whole, once, and no temporary file is left', async () => {
    expect(foldsync('sync', './docs', '--once').code).toBe(0);
    expect(foldsync('task', 'config', taskId(), '--download-limit', '1000000').code).toBe(0);
    const content = randomBytes(6_000_000);
    mkdirSync(join(dir, 'staging'));
    writeFileSync(join(dir, 'staging', 'big.bin'), content);
    expect(foldsync('remote', 'put', join(dir, 'staging', 'big.bin'), 'personal:/docs/big.bin').code).toBe(0);
    await killMidTransfer(partialDownload);
    expect(readdirSync(join(dir, 'docs')).some((n) => n.startsWith('.foldsync-partial-'))).toBe(true);

    const again = foldsync('run', '--once');
    expect(again.err).toBe('');
    expect(again.code).toBe(0);
    expect(eventTypes()).toContain('ActionAbandoned:re-verified after restart');
    expect(readdirSync(join(dir, 'docs'))).toEqual(['big.bin']);
    expect(readFileSync(join(dir, 'docs', 'big.bin')).equals(content)).toBe(true);
    const ls = JSON.parse(foldsync('remote', 'ls', 'personal:/docs', '--json').out) as unknown[];
    expect(ls).toHaveLength(1);
  });
});
