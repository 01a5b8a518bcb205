import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendFileRange } from './send-file.js';

describe('sendFileRange', () => {
  let dir: string;
  let server: Server | undefined;
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foldsync-send-'));
    await writeFile(join(dir, 'f'), bytes);
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => {
      if (server === undefined) resolve();
      else server.close(() => {
        resolve();
      });
    });
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** Serves `fn(res)` once; returns the body the client got (or its error) and what `fn` returned. */
  async function serve(fn: (res: ServerResponse) => Promise<void>, onBody?: (chunk: Buffer, destroy: () => void) => void): Promise<{ body: Buffer; clientError: Error | null; serverError: unknown }> {
    let outcome!: Promise<unknown>;
    server = createServer((_req, res) => {
      outcome = fn(res).then(
        () => null,
        (error: unknown) => {
          res.destroy();
          return error;
        },
      );
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const chunks: Buffer[] = [];
    const clientError = await new Promise<Error | null>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          onBody?.(chunk, () => req.destroy());
        });
        res.on('end', () => {
          resolve(null);
        });
        res.on('error', resolve);
        res.on('close', () => {
          resolve(null);
        });
      });
      req.on('error', resolve);
      req.end();
    });
    return { body: Buffer.concat(chunks), clientError, serverError: await outcome };
  }

  /** The file, opened, with every buffer it is read into recorded. */
  async function recorded(): Promise<{ file: FileHandle; buffers: Set<Buffer> }> {
    const file = await open(join(dir, 'f'), 'r');
    const buffers = new Set<Buffer>();
    const read = file.read.bind(file) as (b: Buffer, o: number, l: number, p: number) => ReturnType<FileHandle['read']>;
    Object.assign(file, {
      read: (buffer: Buffer, offset: number, length: number, position: number) => {
        buffers.add(buffer);
        return read(buffer, offset, length, position);
      },
    });
    return { file, buffers };
  }

  it('sends exactly the bytes of a range that spans many blocks, through two reused buffers', async () => {
    const { file, buffers } = await recorded();
    try {
      const got = await serve(async (res) => {
        res.writeHead(200, { 'content-length': 985 });
        await sendFileRange(res, file, 13, 997, 64);
        res.end();
      });
      expect(got.serverError).toBeNull();
      expect(got.body.equals(bytes.subarray(13, 998))).toBe(true);
      // 985 bytes in blocks of 64: sixteen reads, into the same two buffers.
      expect(buffers.size).toBe(2);
    } finally {
      await file.close();
    }
  });

  it('sends a range shorter than a block and the whole file', async () => {
    const file = await open(join(dir, 'f'), 'r');
    try {
      const short = await serve(async (res) => {
        res.writeHead(200, { 'content-length': 5 });
        await sendFileRange(res, file, 995, 999);
        res.end();
      });
      expect(short.body.equals(bytes.subarray(995))).toBe(true);
      const whole = await serve(async (res) => {
        res.writeHead(200, { 'content-length': 1000 });
        await sendFileRange(res, file, 0, 999, 100);
        res.end();
      });
      expect(whole.body.equals(bytes)).toBe(true);
    } finally {
      await file.close();
    }
  });

  it('fails, and the client sees a short body, when the file is shorter than the range', async () => {
    const file = await open(join(dir, 'f'), 'r');
    try {
      const got = await serve(async (res) => {
        res.writeHead(200, { 'content-length': 2000 });
        await sendFileRange(res, file, 0, 1999, 256);
        res.end();
      });
      expect(String(got.serverError)).toMatch(/ends at byte 1000/);
      expect(got.body.length).toBeLessThanOrEqual(1000);
      expect(got.clientError).not.toBeNull();
    } finally {
      await file.close();
    }
  });

  it('stops with a premature-close error when the client goes away mid-body', async () => {
    const big = Buffer.alloc(64 * 1024 * 1024, 1);
    await writeFile(join(dir, 'big'), big);
    const file = await open(join(dir, 'big'), 'r');
    try {
      let seen = 0;
      const got = await serve(
        async (res) => {
          res.writeHead(200, { 'content-length': big.length });
          await sendFileRange(res, file, 0, big.length - 1, 64 * 1024);
          res.end();
        },
        (chunk, destroy) => {
          seen += chunk.length;
          if (seen > 1024 * 1024) destroy();
        },
      );
      expect((got.serverError as NodeJS.ErrnoException | null)?.code).toBe('ERR_STREAM_PREMATURE_CLOSE');
      expect(got.body.length).toBeLessThan(big.length);
    } finally {
      await file.close();
    }
  });
});
