import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { receiveBody } from './body-sink.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Yields `data` in pieces of `piece` bytes, then throws `end` if given (a cut connection). */
async function* pieces(data: Buffer, piece: number, end?: Error): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += piece) {
    await Promise.resolve();
    yield data.subarray(at, Math.min(data.length, at + piece));
  }
  if (end !== undefined) throw end;
}

describe('receiveBody', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foldsync-sink-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const data = Buffer.from(Array.from({ length: 100_003 }, (_, i) => (i * 7) % 251));

  async function receive(body: AsyncIterable<unknown>, position: number, limit: number, prefix = Buffer.alloc(0)) {
    const file = join(dir, 'f');
    await writeFile(file, prefix);
    const hash = createHash('sha256');
    const handle = await open(file, 'r+');
    try {
      // Small blocks, one write in flight and a flush every few blocks: every path of the sink runs.
      const result = await receiveBody(body, handle, { position, limit, hash, blockBytes: 4096, writesInFlight: 1, flushEvery: 3 * 4096 });
      return { result, bytes: await readFile(file), hash: hash.digest('hex') };
    } finally {
      await handle.close();
    }
  }

  it('writes and hashes a body in pieces that do not line up with its blocks', async () => {
    const { result, bytes, hash } = await receive(pieces(data, 1000), 0, data.length);
    expect(result).toEqual({ bytes: data.length, failure: null });
    expect(bytes.equals(data)).toBe(true);
    expect(hash).toBe(sha(data));
  });

  it('writes at its position, after the bytes already there', async () => {
    const head = data.subarray(0, 5000);
    const { result, bytes } = await receive(pieces(data.subarray(5000), 777), 5000, data.length - 5000, head);
    expect(result.bytes).toBe(data.length - 5000);
    expect(bytes.equals(data)).toBe(true);
  });

  it('keeps and hashes every byte that arrived before the body was cut', async () => {
    const cut = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const sent = data.subarray(0, 50_001);
    const { result, bytes, hash } = await receive(pieces(sent, 999, cut), 0, data.length);
    expect(result.failure).toBe(cut);
    expect(result.bytes).toBe(sent.length);
    expect(bytes.equals(sent)).toBe(true);
    expect(hash).toBe(sha(sent));
  });

  it('stops at a body longer than its limit, keeping the bytes before the piece that overflowed', async () => {
    const { result, bytes } = await receive(pieces(data, 1000), 0, 10_500);
    expect(result.failure).toMatchObject({ code: 'too-large' });
    expect(result.bytes).toBe(10_000);
    expect(bytes.equals(data.subarray(0, 10_000))).toBe(true);
  });
});
