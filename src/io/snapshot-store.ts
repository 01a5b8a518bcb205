/**
 * Where task runners keep their snapshots (ADR 0012): one file per task in the engine's data
 * folder, or memory for simulation. A snapshot is a cache of the log: a missing, damaged or
 * unreadable one is simply not there (`load` gives null) and the task folds its stream from the
 * start; a snapshot that cannot be written is skipped.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SnapshotWriter } from '../lib/snapshot-codec.js';
import { takePreread } from './snapshot-preread.js';

/** Keeps one snapshot per task. */
export interface SnapshotStore {
  /** The task's snapshot, or null when there is none (or it is damaged): bytes of the caller's own, a fresh copy at every call. */
  load(taskId: string): Promise<Uint8Array<ArrayBuffer> | null>;
  /** Whether the task has a snapshot (damaged or not), without reading it. */
  has(taskId: string): boolean;
  /** Replaces the task's snapshot with what `fill` writes (synchronously), all or nothing. */
  save(taskId: string, fill: (w: SnapshotWriter) => void): Promise<void>;
  /** Drops the task's snapshot (a cancelled task). */
  remove(taskId: string): Promise<void>;
}

// Version 2: a CRC-32 at the end instead of a SHA-256 (the digest only has to catch a torn or
// damaged file, and SHA-256 cost some 50 ms of every start of a 100,000-file task).
const MAGIC = Buffer.from('FSSNAP2\n');
const DIGEST = 4;
const SAFE_ID = /^[A-Za-z0-9._-]{1,200}$/;

/** Writes every byte of `data` at the file's current offset. */
function writeAll(fd: number, data: Uint8Array): void {
  for (let at = 0; at < data.byteLength; ) at += writeSync(fd, data, at, data.byteLength - at);
}

/**
 * Snapshots as files `DIR/TASK.snap`: a magic line, the snapshot, and its CRC-32, written to a
 * temporary file and renamed into place. No fsync: after a power cut a torn file fails its digest
 * and is not used.
 */
export function createFileSnapshotStore(dir: string): SnapshotStore {
  const fileOf = (taskId: string): string | null => (SAFE_ID.test(taskId) && !taskId.startsWith('.') ? join(dir, `${taskId}.snap`) : null);
  return {
    load: async (taskId) => {
      const file = fileOf(taskId);
      if (file === null) return null;
      let data: Buffer;
      try {
        // Read ahead by the command line while foldsync loaded, when it was (snapshot-preread.ts).
        data = (await takePreread(file)?.catch(() => null)) ?? readFileSync(file);
      } catch {
        return null;
      }
      if (data.byteLength < MAGIC.byteLength + DIGEST || !data.subarray(0, MAGIC.byteLength).equals(MAGIC)) return null;
      const body = data.subarray(MAGIC.byteLength, data.byteLength - DIGEST);
      if (crc32(body) !== data.readUInt32LE(data.byteLength - DIGEST)) return null;
      return new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength);
    },
    has: (taskId) => {
      const file = fileOf(taskId);
      return file !== null && existsSync(file);
    },
    save: (taskId, fill) => {
      const file = fileOf(taskId);
      if (file === null) return Promise.resolve();
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        let crc = 0;
        writeAll(fd, MAGIC);
        // Pieces go to the file as they are made: a snapshot of 1,000,000 files is never in memory twice.
        fill(
          new SnapshotWriter((piece) => {
            crc = crc32(piece, crc);
            writeAll(fd, piece);
          }),
        );
        const digest = Buffer.alloc(DIGEST);
        digest.writeUInt32LE(crc);
        writeAll(fd, digest);
        closeSync(fd);
        renameSync(tmp, file);
      } catch (error) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
        rmSync(tmp, { force: true });
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      return Promise.resolve();
    },
    remove: (taskId) => {
      const file = fileOf(taskId);
      if (file !== null) rmSync(file, { force: true });
      return Promise.resolve();
    },
  };
}

/** Snapshots in memory (simulation): survive a simulated crash of the engine when the store is kept. */
export function createMemorySnapshotStore(): SnapshotStore & { readonly count: () => number } {
  const kept = new Map<string, Uint8Array<ArrayBuffer>>();
  return {
    load: (taskId) => Promise.resolve(kept.get(taskId)?.slice() ?? null),
    has: (taskId) => kept.has(taskId),
    save: (taskId, fill) => {
      const w = new SnapshotWriter();
      fill(w);
      kept.set(taskId, w.bytes());
      return Promise.resolve();
    },
    remove: (taskId) => {
      kept.delete(taskId);
      return Promise.resolve();
    },
    count: () => kept.size,
  };
}
