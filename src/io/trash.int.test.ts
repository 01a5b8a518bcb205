import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock } from './clock.js';
import { createTrash, encodeTrashPath, trashInfo } from './trash.js';

describe('freedesktop.org trash', () => {
  let base: string;
  let shm: string | null;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'foldsync-trash-'));
    shm = null;
  });
  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
    if (shm !== null) rmSync(shm, { recursive: true, force: true });
  });

  it('writes the .trashinfo of the spec: escaped absolute path and local deletion date', () => {
    expect(encodeTrashPath('/home/ann/my file%.txt')).toBe('/home/ann/my%20file%25.txt');
    const local = new Date(2026, 0, 2, 3, 4, 5).getTime();
    expect(trashInfo('/a b', local)).toBe('[Trash Info]\nPath=/a%20b\nDeletionDate=2026-01-02T03:04:05\n');
  });

  it('moves entries into the home trash on the same device, never overwriting an earlier one', () => {
    const dataHome = join(base, 'data');
    const trash = createTrash({ clock: createVirtualClock(), dataHome });
    mkdirSync(join(base, 'work'));
    for (const content of ['first', 'second']) {
      writeFileSync(join(base, 'work/report.txt'), content);
      trash.put(join(base, 'work/report.txt'));
    }
    const t = join(dataHome, 'Trash');
    expect(readFileSync(join(t, 'files/report.txt'), 'utf8')).toBe('first');
    expect(readFileSync(join(t, 'files/report.txt.2'), 'utf8')).toBe('second');
    expect(readFileSync(join(t, 'info/report.txt.2.trashinfo'), 'utf8')).toContain(`Path=${encodeTrashPath(join(base, 'work/report.txt'))}`);
    expect(existsSync(join(base, 'work/report.txt'))).toBe(false);
  });

  it('uses the topdir trash ($topdir/.Trash-$uid, path relative to topdir) for another device, so nothing is copied', () => {
    if (!existsSync('/dev/shm') || statSync('/dev/shm').dev === statSync(tmpdir()).dev) return; // needs a second device
    shm = mkdtempSync('/dev/shm/foldsync-trash-');
    const mountPoint = shm;
    const trash = createTrash({
      clock: createVirtualClock(),
      dataHome: join(base, 'data'),
      uid: 1234,
      mounts: () => [{ mountPoint: '/', fsType: 'ext4', source: '/dev/vda', options: [] }, { mountPoint, fsType: 'tmpfs', source: 'tmpfs', options: [] }],
    });
    mkdirSync(join(shm, 'docs'));
    writeFileSync(join(shm, 'docs/a.txt'), 'x');
    const at = trash.put(join(shm, 'docs/a.txt'));
    expect(at).toBe(join(shm, '.Trash-1234/files/a.txt'));
    expect(readFileSync(join(shm, '.Trash-1234/info/a.txt.trashinfo'), 'utf8')).toContain('Path=docs/a.txt\n');
    expect(existsSync(join(base, 'data/Trash/files/a.txt'))).toBe(false);
  });
});
