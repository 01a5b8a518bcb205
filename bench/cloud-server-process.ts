/**
 * The server side of bench/cloud.bench.ts, in its own process so that its memory is measured
 * apart from the client's: the foldsync cloud server on a temporary data folder and, beside it,
 * the anchor: a trivial node:http sink that discards PUT bodies and serves GETs from memory.
 * Prints one JSON line `{ url, sink, token }`, then serves until stdin closes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloudServer } from '../src/cloud/server.js';

const dir = await mkdtemp(join(tmpdir(), 'foldsync-bench-cloud-'));
const server = await startCloudServer({ dataDir: dir, host: '127.0.0.1', port: 0 });
const { token } = await server.data.core.addUser('bench');
const block = Buffer.alloc(1 << 20, 0x61);
const sink = createServer((req, res) => {
  if (req.method === 'PUT') {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    return;
  }
  const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size') ?? '0');
  res.writeHead(200, { 'content-length': size });
  let left = size;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (!res.write(n === block.length ? block : block.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const port = (sink.address() as AddressInfo).port;
process.stdout.write(`${JSON.stringify({ url: server.url, sink: `http://127.0.0.1:${port}`, token })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void (async () => {
    sink.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  })();
});
