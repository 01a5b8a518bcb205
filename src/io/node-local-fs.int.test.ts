import { lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { localFsContract } from '../../test/contract/local-fs.contract.js';
import { createSystemClock } from './clock.js';
import { createNodeLocalFs } from './node-local-fs.js';
import { createTrash } from './trash.js';

localFsContract('real (node:fs)', async () => {
  const base = mkdtempSync(join(tmpdir(), 'foldsync-localfs-'));
  const root = join(base, 'root');
  const dataHome = join(base, 'data');
  mkdirSync(root);
  const fs = createNodeLocalFs({ root, trash: createTrash({ clock: createSystemClock(), dataHome }) });
  const at = (p: string): string => join(root, p);
  return {
    fs,
    user: {
      write: async (p, c) => {
        mkdirSync(dirname(at(p)), { recursive: true });
        writeFileSync(at(p), c);
      },
      mkdir: async (p) => {
        mkdirSync(at(p), { recursive: true });
      },
      remove: async (p) => {
        rmSync(at(p), { recursive: true });
      },
      move: async (a, b) => {
        renameSync(at(a), at(b));
      },
      symlink: async (p, t) => {
        mkdirSync(dirname(at(p)), { recursive: true });
        symlinkSync(t, at(p));
      },
    },
    trashed: async () => {
      const files = join(dataHome, 'Trash', 'files');
      return lstatSync(files, { throwIfNoEntry: false }) === undefined ? [] : readdirSync(files);
    },
    rawList: async (dir) => readdirSync(at(dir)),
    settle: (ms) => sleep(ms),
    cleanup: async () => {
      rmSync(base, { recursive: true, force: true });
    },
  };
});
