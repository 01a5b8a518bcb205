/**
 * The engine's data folder (its event log, the embedded cloud's data) and the lock that keeps a
 * second engine out of it: two writers of one log would each see the other's appends as conflicts.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { FoldsyncError } from '../lib/errors.js';

/** The data folder: `--data`, else `$FOLDSYNC_HOME`, else `~/.foldsync`, made absolute. */
export function resolveDataDir(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env['FOLDSYNC_HOME'] ?? join(homedir(), '.foldsync');
  return resolve(chosen);
}

/** A held lock on a data folder. */
export interface DataDirLock {
  readonly file: string;
  /** Releases the lock. Idempotent. */
  release(): void;
}

/** Tells whether a process id is alive on this machine. Injected by tests. */
export type PidAlive = (pid: number) => boolean;

const pidAlive: PidAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the lock of `dataDir` (creating the folder), or throws `FoldsyncError('engine-running')`
 * when a live process holds it. A lock left by a process that died is taken over.
 */
export function lockDataDir(dataDir: string, alive: PidAlive = pidAlive): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'engine.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let held = true;
      return {
        file,
        release: () => {
          if (!held) return;
          held = false;
          rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new FoldsyncError(
          'engine-running',
          `Another foldsync engine (process ${holder}) is using the data folder ${dataDir}. Stop it first, or use another folder with --data.`,
          { dataDir, pid: holder },
        );
      }
      // The holder is gone (or is us, from a crash with a recycled pid): the lock is stale.
      rmSync(file, { force: true });
    }
  }
  throw new FoldsyncError('engine-running', `Could not take the lock of ${dataDir}: another engine keeps taking it.`, { dataDir });
}
