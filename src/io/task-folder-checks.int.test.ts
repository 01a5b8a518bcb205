import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Mount } from './mounts.js';
import type { TaskFolderCheckOptions } from './task-folder-checks.js';
import { TaskFolderError, checkTaskFolder } from './task-folder-checks.js';

describe('task-folder checks on real folders (SPEC.md section 3)', () => {
  let base: string;
  let opts: TaskFolderCheckOptions;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'foldsync-checks-'));
    const rootMount: Mount = { mountPoint: '/', fsType: 'ext4', source: '/dev/vda', options: ['rw'] };
    opts = { existingRoots: [], engineDataDir: '/nonexistent/foldsync-data', mounts: () => [rootMount], isRemovable: () => false, platform: 'linux' };
  });
  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });
  const refusal = (path: string, o: TaskFolderCheckOptions = opts): string => {
    try {
      checkTaskFolder(path, o);
      return 'accepted';
    } catch (error) {
      if (!(error instanceof TaskFolderError)) throw error;
      expect(error.message.length).toBeGreaterThan(20);
      return error.code;
    }
  };

  it('accepts a plain folder and returns its identity', () => {
    const ok = join(base, 'ok');
    mkdirSync(ok);
    const r = checkTaskFolder(ok, opts);
    expect(r.root).toBe(ok);
    expect(r.rootId).toMatch(/^\d+:\d+$/);
  });

  it('not a folder: missing, a file', () => {
    expect(refusal(join(base, 'missing'))).toBe('not-a-folder');
    writeFileSync(join(base, 'file'), 'x');
    expect(refusal(join(base, 'file'))).toBe('not-a-folder');
  });

  it('link folder: the folder itself, or a folder above it', () => {
    mkdirSync(join(base, 'real/inner'), { recursive: true });
    symlinkSync(join(base, 'real'), join(base, 'link'));
    expect(refusal(join(base, 'link'))).toBe('link-folder');
    expect(refusal(join(base, 'link/inner'))).toBe('link-folder');
  });

  it('mounted disk: network, FUSE and removable mounts from the (injected) mount table', () => {
    const dir = join(base, 'm');
    mkdirSync(dir);
    const at = (fsType: string, source: string): TaskFolderCheckOptions => ({
      ...opts,
      mounts: () => [{ mountPoint: '/', fsType: 'ext4', source: '/dev/vda', options: [] }, { mountPoint: base, fsType, source, options: [] }],
      isRemovable: (s) => s === '/dev/sdz1',
    });
    expect(refusal(dir, at('nfs4', 'server:/x'))).toBe('mounted-disk');
    expect(refusal(dir, at('fuse.sshfs', 'me@host:/'))).toBe('mounted-disk');
    expect(refusal(dir, at('fuse', 'something'))).toBe('mounted-disk');
    expect(refusal(dir, at('vfat', '/dev/sdz1'))).toBe('mounted-disk');
    expect(refusal(dir, at('ext4', '/dev/sda1'))).toBe('accepted');
  });

  it.each(['.dropbox', '.stfolder', '.sync', '.nextcloudsync.log', '.owncloudsync.log', '._sync_1a2b.db', '.unison'])('other sync software: %s in the folder or above', (marker) => {
    const inFolder = join(base, 'a');
    mkdirSync(inFolder);
    writeFileSync(join(inFolder, marker), '');
    expect(refusal(inFolder)).toBe('other-sync-software');
    const above = join(base, 'b');
    mkdirSync(join(above, 'deep/er'), { recursive: true });
    mkdirSync(join(above, marker), { recursive: true });
    expect(refusal(join(above, 'deep/er'))).toBe('other-sync-software');
  });

  it('nested: inside, containing, or the same as another task folder', () => {
    mkdirSync(join(base, 'outer/inner'), { recursive: true });
    expect(refusal(join(base, 'outer/inner'), { ...opts, existingRoots: [join(base, 'outer')] })).toBe('nested');
    expect(refusal(join(base, 'outer'), { ...opts, existingRoots: [join(base, 'outer/inner')] })).toBe('nested');
    expect(refusal(join(base, 'outer'), { ...opts, existingRoots: [join(base, 'outer')] })).toBe('nested');
    expect(refusal(join(base, 'outer'), { ...opts, existingRoots: [join(base, 'out')] })).toBe('accepted');
  });

  it.each(['/', '/etc', '/usr/share', '/var', '/proc', '/sys', '/dev', '/boot'])('system folder: %s', (p) => {
    expect(refusal(p)).toBe('system-folder');
  });

  it('engine data inside the folder', () => {
    mkdirSync(join(base, 'home/.foldsync'), { recursive: true });
    expect(refusal(join(base, 'home'), { ...opts, engineDataDir: join(base, 'home/.foldsync') })).toBe('engine-data-inside');
    expect(refusal(join(base, 'home'), { ...opts, engineDataDir: join(base, 'elsewhere') })).toBe('accepted');
  });

  it('not a folder: unreadable (checked as the unprivileged user nobody when running as root)', () => {
    const locked = join(base, 'locked');
    mkdirSync(locked, { mode: 0o000 });
    if (process.getuid?.() !== 0) {
      expect(refusal(locked)).toBe('not-a-folder');
      return;
    }
    // Root reads a mode-000 folder anyway; run the check in a child process as nobody instead.
    chmodSync(base, 0o755);
    const script = `import { checkTaskFolder } from ${JSON.stringify(new URL('./task-folder-checks.ts', import.meta.url).href)};
      try { checkTaskFolder(${JSON.stringify(locked)}, { existingRoots: [], engineDataDir: '/nonexistent' }); console.log('accepted'); }
      catch (e) { console.log(e.code); }`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, HOME: base } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('not-a-folder');
  });
});
