/**
 * Snapshot files read ahead (ADR 0012): `bin/foldsync.js` starts reading a `run`'s snapshots
 * through the libuv thread pool before the rest of foldsync loads, so that the read (and the page
 * faults of a buffer of tens of megabytes: 70-90 ms for a 100,000-file task here) is not on the
 * main thread when the engine restores its tasks. Light on purpose: node built-ins only.
 *
 * A snapshot read ahead is the file as it was then: a snapshot is a cache of the log, checked
 * against it before use (ADR 0012), and it is only replaced whole (renamed into place), so an
 * older or newer one than the engine would have read itself is either used correctly or not used.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Read-ahead files not taken after this long are dropped (a paused task's, say). */
const KEEP_MS = 30_000;

const ahead = new Map<string, Promise<Buffer>>();

/**
 * Starts reading every snapshot file of folder `dir` (`*.snap`); nothing when there is none.
 * Resolves when every read is done (tests wait for it; the command line does not).
 */
export function prereadSnapshots(dir: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return Promise.resolve();
  }
  const reads: Promise<unknown>[] = [];
  for (const name of names) {
    if (!name.endsWith('.snap')) continue;
    const file = join(dir, name);
    if (ahead.has(file)) continue;
    const read = readFile(file);
    // Whoever takes it sees the failure; one never taken must not be an unhandled rejection.
    reads.push(read.catch(() => undefined));
    ahead.set(file, read);
  }
  if (ahead.size > 0) {
    setTimeout(() => {
      ahead.clear();
    }, KEEP_MS).unref();
  }
  return Promise.all(reads).then(() => undefined);
}

/** The read of `file` started ahead, now the caller's; undefined when none was. */
export function takePreread(file: string): Promise<Buffer> | undefined {
  const read = ahead.get(file);
  ahead.delete(file);
  return read;
}
