import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isFoldsyncError } from '../lib/errors.js';
import { lockDataDir, resolveDataDir } from './data-dir.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'foldsync-data-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('engine data folder', () => {
  it('is --data, else FOLDSYNC_HOME, else ~/.foldsync, always absolute', () => {
    expect(resolveDataDir('rel/dir', {})).toBe(join(process.cwd(), 'rel/dir'));
    expect(resolveDataDir(undefined, { FOLDSYNC_HOME: '/srv/fs' })).toBe('/srv/fs');
    expect(resolveDataDir(undefined, {})).toMatch(/\.foldsync$/);
  });

  it('a second engine on the same folder is refused while the first lives', () => {
    const dir = tmp();
    const lock = lockDataDir(dir);
    expect(readFileSync(lock.file, 'utf8').trim()).toBe(String(process.pid));
    writeFileSync(lock.file, '4242\n');
    let caught: unknown;
    try {
      lockDataDir(dir, (pid) => pid === 4242);
    } catch (error) {
      caught = error;
    }
    expect(isFoldsyncError(caught, 'engine-running')).toBe(true);
    expect((caught as Error).message).toMatch(/process 4242/);
  });

  it('a lock left by a dead process is taken over; release removes it', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'engine.lock'), '999999\n');
    const lock = lockDataDir(dir, () => false);
    expect(readFileSync(lock.file, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
  });
});
