/**
 * Receives a request body into a file: copied into a few large blocks, each hashed and written at
 * its position while the next one fills, with the file's dirty pages flushed in the background as
 * it grows and fsynced at the end. See ADR 0095 for why (and what it replaced).
 */
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { CloudError } from './cloud-error.js';

/** Options of {@link receiveBody}. */
export interface ReceiveOptions {
  /** File position of the body's first byte. */
  readonly position: number;
  /** Most bytes accepted; more is a `too-large` failure (the bytes before it are kept). */
  readonly limit: number;
  /** Updated with exactly the bytes written, in order. */
  readonly hash: Hash;
  /** Block size, bytes (default 4 MiB; a smaller body gets a block of its own size). */
  readonly blockBytes?: number;
  /** Blocks being written while the next fills (default 2). */
  readonly writesInFlight?: number;
  /** Start a background flush each time this many more bytes were written (default 64 MiB; 0: never). */
  readonly flushEvery?: number;
}

/** What {@link receiveBody} wrote: `bytes` are on disk (fsynced) and hashed, whatever `failure` says. */
export interface ReceiveResult {
  readonly bytes: number;
  /** Why the body ended early (a cut connection, `too-large`), or null when it ended normally. */
  readonly failure: Error | null;
}

const DEFAULT_BLOCK = 4 * 1024 * 1024;

/**
 * Writes the body of `body` into `file` from `position`, hashing it on the way, and fsyncs the
 * file before it returns. Never rejects for a body problem: a cut or oversized body is reported in
 * `failure` after every byte that arrived before it is written and fsynced (a resumable upload
 * continues from there). Rejects only when the file itself cannot be written.
 *
 * Why not `pipeline(req, hashTransform, createWriteStream)`: socket chunks (about 64 KiB) held in
 * a write stream's buffer until their write finished lived long enough to be promoted, and the
 * server's main thread spent more time collecting them than hashing (ADR 0095). Here each socket
 * chunk is copied into a block and dropped at once; blocks are reused.
 */
export async function receiveBody(body: AsyncIterable<unknown>, file: FileHandle, options: ReceiveOptions): Promise<ReceiveResult> {
  const { limit, hash } = options;
  const blockBytes = Math.max(1, Math.min(options.blockBytes ?? DEFAULT_BLOCK, limit));
  const maxWrites = Math.max(1, options.writesInFlight ?? 2);
  const flushEvery = options.flushEvery ?? 64 * 1024 * 1024;
  const free: Buffer[] = [];
  const writes: Promise<void>[] = [];
  // Set from callbacks, read in the loop: an object, so the checks are not narrowed away.
  const io: { error: Error | null; flush: Promise<void> | null } = { error: null, flush: null };
  const fail = (error: unknown): void => {
    io.error ??= error instanceof Error ? error : new Error(String(error));
  };
  let block: Buffer | null = null;
  let fill = 0;
  let written = 0; // bytes handed to writes (hashed)
  let received = 0;
  let flushedAt = 0;
  let failure: Error | null = null;

  const take = (): Buffer => free.pop() ?? Buffer.allocUnsafeSlow(Math.min(blockBytes, limit - written) || 1);

  const writeBlock = async (): Promise<void> => {
    if (block === null || fill === 0) return;
    const full = block;
    const length = fill;
    const at = options.position + written;
    hash.update(full.subarray(0, length));
    written += length;
    block = null;
    fill = 0;
    const write = (async () => {
      let done = 0;
      while (done < length) {
        const { bytesWritten } = await file.write(full, done, length - done, at + done);
        done += bytesWritten;
      }
      if (full.length === blockBytes) free.push(full);
    })().catch(fail);
    writes.push(write);
    void write.finally(() => writes.splice(writes.indexOf(write), 1));
    // Start writing dirty pages out while more arrive, so the final fsync has little left to do.
    if (flushEvery > 0 && io.flush === null && written - flushedAt >= flushEvery) {
      flushedAt = written;
      io.flush = file
        .datasync()
        .catch(fail)
        .finally(() => {
          io.flush = null;
        });
    }
    while (writes.length >= maxWrites) await Promise.race(writes);
    if (io.error !== null) throw io.error;
  };

  try {
    for await (const raw of body) {
      const chunk = raw as Buffer;
      if (received + chunk.length > limit) {
        failure = new CloudError('too-large', `more bytes than the declared ${limit}`);
        break;
      }
      received += chunk.length;
      for (let at = 0; at < chunk.length; ) {
        block ??= take();
        const n = Math.min(chunk.length - at, block.length - fill);
        chunk.copy(block, fill, at, at + n);
        fill += n;
        at += n;
        if (fill === block.length) await writeBlock();
      }
    }
  } catch (error) {
    if (io.error !== null) throw io.error;
    failure = error instanceof Error ? error : new Error(String(error));
  }
  // Whatever arrived is kept: the partial block too.
  await writeBlock();
  await Promise.all(writes);
  await io.flush;
  if (io.error !== null) throw io.error;
  await file.sync();
  return { bytes: written, failure };
}
