/**
 * Content-addressed storage of file contents, keyed by SHA-256. A blob appears under its final
 * name only once it is whole and on disk (written to a temporary file, fsynced, renamed, folder
 * fsynced), so a crash can leave a stray temporary file but never a half blob.
 */
import { unlinkSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Where contents live. Paths it hands out are always inside its own folder. */
export interface BlobStore {
  /** A fresh path for a temporary file on the same file system as the blobs (for rename). */
  tempPath(): string;
  /** The path of a resumable upload's partial file; `uploadId` must be a server-made id. */
  uploadPath(uploadId: string): string;
  /** Moves a complete, fsynced temporary file in as blob `hash`. If the blob exists, drops the file. */
  adopt(tempFile: string, hash: string): Promise<void>;
  /** True when blob `hash` is stored. */
  has(hash: string): Promise<boolean>;
  /** Opens blob `hash` for positional reads (the server's downloads read it into reused buffers). */
  open(hash: string): Promise<FileHandle>;
  /**
   * Deletes blob `hash` (no error if it is already gone). Synchronous on purpose: the garbage
   * collector checks for pins and removes in one step, with no await in between.
   */
  remove(hash: string): void;
  /** Removes leftover temporary files (from a crash); called at start. */
  sweepTemp(): Promise<void>;
  /** The ids of the resumable uploads that have a partial file. */
  listUploads(): Promise<string[]>;
  /** Every stored blob's hash (for the start-time sweep of unreferenced blobs). */
  list(): AsyncIterable<string>;
}

const HASH = /^[0-9a-f]{64}$/;
const SAFE_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Opens (creating if needed) a disk blob store in `root`. */
export async function createDiskBlobStore(root: string): Promise<BlobStore> {
  const blobs = join(root, 'blobs');
  const tmp = join(root, 'tmp');
  const uploads = join(root, 'uploads');
  await mkdir(blobs, { recursive: true });
  await mkdir(tmp, { recursive: true });
  await mkdir(uploads, { recursive: true });
  const blobPath = (hash: string): { dir: string; file: string } => {
    // A hash is the only thing that names a file here, and it is checked: no path can escape.
    if (!HASH.test(hash)) throw new Error(`assertion failed: not a SHA-256: ${hash}`);
    const dir = join(blobs, hash.slice(0, 2), hash.slice(2, 4));
    return { dir, file: join(dir, hash) };
  };
  return {
    tempPath: () => join(tmp, `${randomBytes(12).toString('hex')}.tmp`),
    uploadPath: (uploadId) => {
      if (!SAFE_ID.test(uploadId)) throw new Error(`assertion failed: bad upload id ${uploadId}`);
      return join(uploads, `${uploadId}.part`);
    },
    adopt: async (tempFile, hash) => {
      const { dir, file } = blobPath(hash);
      if (await exists(file)) {
        await rm(tempFile, { force: true });
        return;
      }
      await mkdir(dir, { recursive: true });
      await fsyncFile(tempFile);
      await rename(tempFile, file);
      await fsyncFile(dir);
    },
    has: (hash) => exists(blobPath(hash).file),
    // 1 MiB reads: the default 64 KiB costs a thread-pool round trip per 64 KiB sent.
    open: (hash) => open(blobPath(hash).file, 'r'),
    remove: (hash) => {
      try {
        unlinkSync(blobPath(hash).file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    },
    sweepTemp: async () => {
      for (const name of await readdir(tmp)) await rm(join(tmp, name), { force: true });
    },
    listUploads: async () => (await readdir(uploads)).filter((n) => n.endsWith('.part')).map((n) => n.slice(0, -'.part'.length)),
    list: async function* () {
      for (const a of await readdir(blobs)) {
        for (const b of await readdir(join(blobs, a)).catch(() => [])) {
          for (const name of await readdir(join(blobs, a, b)).catch(() => [])) if (HASH.test(name)) yield name;
        }
      }
    },
  };
}

/** fsyncs a file or folder so that its contents (or entries) survive a crash. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Flushes a file that is being written, in the background, every `every` bytes, so that the fsync
 * that makes it durable at the end has little left to write. Without it the kernel holds a whole
 * 256 MiB chunk in the page cache and writes it only when that fsync comes, while nothing is
 * received (ADR 0095). Best effort: a failed or skipped flush costs time, never durability, which
 * only the closing fsync gives. At most one flush runs at a time; `settle` waits for it and
 * releases the file before the caller fsyncs, renames or removes it.
 */
export function createFlusher(
  path: string,
  every = 32 * 1024 * 1024,
  openFile: (path: string) => Promise<Pick<FileHandle, 'datasync' | 'close'>> = (p) => open(p, 'r'),
): { advance(bytes: number): void; settle(): Promise<void> } {
  let pending = 0;
  let running: Promise<void> | null = null;
  let handle: Promise<Pick<FileHandle, 'datasync' | 'close'> | null> | null = null;
  let settled = false;
  const flush = async (): Promise<void> => {
    handle ??= openFile(path).catch(() => null);
    const h = await handle;
    if (h !== null && !settled) await h.datasync().catch(() => undefined);
  };
  return {
    advance: (bytes) => {
      pending += bytes;
      if (pending < every || running !== null || settled) return;
      pending = 0;
      running = flush().finally(() => {
        running = null;
      });
    },
    settle: async () => {
      settled = true;
      await running;
      const h = await handle;
      await h?.close().catch(() => undefined);
    },
  };
}
