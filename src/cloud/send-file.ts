/**
 * Sends bytes of an open file as an HTTP response body from a few reused buffers. A read stream
 * allocates a fresh buffer for every read, and at 1 GiB that is a thousand 1 MiB allocations: each
 * one mapped, page-faulted and zeroed by the kernel, then collected. Here a buffer is read into
 * again only once the socket has taken the previous bytes from it (the write callback), so the
 * memory held per download is fixed and the writes apply the socket's backpressure.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/** Bytes per read and per write. */
export const SEND_BLOCK = 1024 * 1024;
/** Buffers per download: one being read while the others are written. */
const SEND_BUFFERS = 2;

/**
 * Writes bytes `start..end` (inclusive) of `file` to `res`, without ending it. Rejects if the
 * response closes first or the file is shorter than `end + 1` (the response is then incomplete,
 * and the caller must destroy it).
 */
export async function sendFileRange(res: ServerResponse, file: FileHandle, start: number, end: number, block = SEND_BLOCK): Promise<void> {
  const total = end + 1 - start;
  if (total <= 0) return;
  const size = Math.min(block, total);
  const buffers = Array.from({ length: Math.min(SEND_BUFFERS, Math.ceil(total / size)) }, () => Buffer.allocUnsafe(size));
  const writing: (Promise<void> | undefined)[] = buffers.map(() => undefined);
  // A write's callback may never come once the socket is gone: the close ends the wait instead.
  let closed: (error: Error) => void = () => undefined;
  const gone = new Promise<never>((_, reject) => {
    closed = reject;
  });
  gone.catch(() => undefined);
  const onClose = (): void => {
    closed(Object.assign(new Error('the response closed before the body was sent'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  };
  if (res.destroyed) onClose();
  res.once('close', onClose);
  try {
    let at = start;
    for (let i = 0; at <= end; i = (i + 1) % buffers.length) {
      const buffer = buffers[i] as Buffer;
      const before = writing[i];
      if (before !== undefined) await Promise.race([before, gone]);
      const want = Math.min(buffer.length, end + 1 - at);
      const { bytesRead } = await Promise.race([file.read(buffer, 0, want, at), gone]);
      if (bytesRead === 0) throw new Error(`the file ends at byte ${at}, before the ${end + 1} expected`);
      at += bytesRead;
      writing[i] = new Promise<void>((resolve, reject) => {
        res.write(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), (error) => {
          if (error === null || error === undefined) resolve();
          else reject(error);
        });
      });
      writing[i]?.catch(() => undefined);
    }
    await Promise.race([Promise.all(writing.filter((w) => w !== undefined)), gone]);
  } finally {
    res.off('close', onClose);
  }
}
