import { describe, expect, it } from 'vitest';
import type { Mount } from './mounts.js';
import { mountOf, parseMountInfo } from './mounts.js';
import { mountKind, nestingOf, syncMarkerIn, systemFolderOf } from './task-folder-checks.js';

describe('system folder (SPEC.md section 3)', () => {
  it.each(['/', '/bin', '/boot', '/dev', '/etc', '/etc/ssh', '/lib', '/lib64', '/lib32/x', '/libexec', '/library', '/proc', '/run', '/sbin', '/sys', '/usr', '/usr/local/share', '/var', '/var/lib/x'])('linux refuses %s', (p) => {
    expect(systemFolderOf(p, 'linux')).not.toBeNull();
  });
  it.each(['/home/ann/Documents', '/tmp/x', '/li', '/binaries', '/usrdata', '/srv/data'])('linux accepts %s', (p) => {
    expect(systemFolderOf(p, 'linux')).toBeNull();
  });
  it.each(['C:\\Windows', 'c:\\windows\\System32', 'D:\\Program Files', 'C:\\Program Files (x86)\\App', 'C:\\ProgramData', 'C:\\'])('windows refuses %s', (p) => {
    expect(systemFolderOf(p, 'win32')).not.toBeNull();
  });
  it.each(['C:\\Users\\ann\\Documents', 'D:\\Data', 'C:\\Windows-backup'])('windows accepts %s', (p) => {
    expect(systemFolderOf(p, 'win32')).toBeNull();
  });
  it.each(['/System', '/Library/Fonts', '/Applications', '/'])('macOS refuses %s', (p) => {
    expect(systemFolderOf(p, 'darwin')).not.toBeNull();
  });
  it('macOS accepts the user Library and documents', () => {
    expect(systemFolderOf('/Users/ann/Library', 'darwin')).toBeNull();
    expect(systemFolderOf('/Users/ann/Documents', 'darwin')).toBeNull();
  });
});

describe('other sync software markers', () => {
  it.each(['.dropbox', '.stfolder', '.sync', '.nextcloudsync.log', '.owncloudsync.log', '._sync_abc123.db', '.sync_9f8e.db', '.unison'])('%s is a marker', (m) => {
    expect(syncMarkerIn(['a.txt', m])).toBe(m);
  });
  it('ordinary names are not', () => {
    expect(syncMarkerIn(['.git', 'sync', '.syncthing-notes.txt', '_sync_.db', 'notes.db'])).toBeNull();
  });
});

describe('nested task folders', () => {
  it('finds same, inside and contains; sibling prefixes are apart', () => {
    expect(nestingOf('/a/b', '/a/b/')).toBe('same');
    expect(nestingOf('/a/b/c', '/a/b')).toBe('inside');
    expect(nestingOf('/a', '/a/b')).toBe('contains');
    expect(nestingOf('/a/bc', '/a/b')).toBeNull();
    expect(nestingOf('/a/b', '/a/bc')).toBeNull();
  });
});

describe('mounted disks, from the mount table', () => {
  const table = parseMountInfo(
    [
      '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
      '40 27 0:50 / /mnt/nas rw,relatime - nfs4 server:/export rw',
      '41 27 0:51 / /home/ann/remote rw - fuse.sshfs ann@host:/ rw',
      '42 27 0:52 / /home/ann/gdrive rw - fuse.rclone gdrive: rw',
      '43 27 8:17 / /media/ann/USB\\040STICK rw - vfat /dev/sdb1 rw',
      '44 27 8:33 / /data rw - ext4 /dev/sdc1 rw',
      '45 27 0:53 / /mnt/share rw - cifs //nas/share rw',
      'garbage line',
    ].join('\n'),
  );
  const removable = (source: string): boolean => source === '/dev/sdc1';
  const kindAt = (p: string): string | null => {
    const m = mountOf(p, table);
    return m === undefined ? 'none' : mountKind(m, removable);
  };
  it('parses mountinfo, unescaping octal', () => {
    expect(table).toHaveLength(7);
    expect(table.map((m: Mount) => m.mountPoint)).toContain('/media/ann/USB STICK');
  });
  it.each([
    ['/home/ann/Documents', null],
    ['/mnt/nas/photos', 'network'],
    ['/home/ann/remote/x', 'network'],
    ['/home/ann/gdrive', 'fuse'],
    ['/media/ann/USB STICK/docs', 'removable'],
    ['/data/sync', 'removable'],
    ['/mnt/share', 'network'],
    ['/mnt/nasty', null],
  ])('%s -> %s', (p, kind) => {
    expect(kindAt(p)).toBe(kind);
  });
});
