/**
 * The cloud server and its client on 127.0.0.1 (issue 4), each figure beside its anchor from the
 * same run: a raw undici PUT/GET to a trivial node:http sink that discards or serves from memory.
 *
 * - 1 GiB upload and download through the client (target: at least 70% of the raw rate), with the
 *   client's and the server's memory growth (target: under 64 MB each) and CPU seconds. Both sides
 *   of each pair are measured by the same code (`transfer`): the same body source and size, the
 *   same memory samplers running, the same clock.
 * - 10,000 files of 4 KiB uploaded 8 at a time, in files per second; and the same files through
 *   batched uploads (`uploadMany`), against the same anchor.
 * - The change feed and a recursive list after 100,000 small uploads: reading it all, in items per
 *   second, beside a raw undici GET of as many bytes from the sink (no target given).
 *
 * The server runs in its own process (bench/cloud-server-process.ts) so the two memories are apart.
 * `FOLDSYNC_BENCH_CLOUD_MB`, `FOLDSYNC_BENCH_CLOUD_FILES` and `FOLDSYNC_BENCH_CLOUD_FEED` shrink the
 * run while developing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { createHttpRemoteDrive } from '../src/io/http-remote-drive.js';
import { report, type Figure } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const MB = 1024 * 1024;

/** Peak-minus-start resident memory of a process while `fn` runs, sampled every 50 ms. */
async function growth<T>(sample: () => number, fn: () => Promise<T>): Promise<{ value: T; growthMb: number }> {
  const start = sample();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, sample());
  }, 50);
  try {
    const value = await fn();
    peak = Math.max(peak, sample());
    return { value, growthMb: (peak - start) / MB };
  } finally {
    clearInterval(timer);
  }
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * One transfer, measured the same way for the anchor and for foldsync: wall seconds, both
 * processes' peak memory growth (sampled alike), and both processes' CPU seconds.
 */
async function transfer(serverPid: number, fn: () => Promise<unknown>): Promise<{ seconds: number; clientMb: number; serverMb: number; clientCpu: number; serverCpu: number }> {
  const serverCpu = cpuOf(serverPid);
  const clientCpu = process.cpuUsage();
  const server = await growth(() => rssOf(serverPid), () => growth(() => process.memoryUsage().rss, () => seconds(fn)));
  const used = process.cpuUsage(clientCpu);
  return { seconds: server.value.value, clientMb: server.value.growthMb, serverMb: server.growthMb, clientCpu: (used.user + used.system) / 1e6, serverCpu: cpuOf(serverPid) - serverCpu };
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

/** Runs the benchmark. */
export async function run(): Promise<void> {
  const size = Number(process.env['FOLDSYNC_BENCH_CLOUD_MB'] ?? '1024') * MB;
  const files = Number(process.env['FOLDSYNC_BENCH_CLOUD_FILES'] ?? '10000');
  const feedItems = Number(process.env['FOLDSYNC_BENCH_CLOUD_FEED'] ?? '100000');
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'cloud-server-process.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => {
      reject(new Error(`bench server exited with ${String(code)}`));
    });
  });
  const { url, sink, token } = JSON.parse(first) as { url: string; sink: string; token: string };
  const serverPid = child.pid ?? 0;
  const figures: Figure[] = [];
  const bench = 'cloud';

  // Contents: a 1 MiB pattern repeated, produced on the fly so the client never holds the file.
  const block = Buffer.alloc(MB);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) % 251;
  const hasher = createHash('sha256');
  for (let done = 0; done < size; done += MB) hasher.update(block.subarray(0, Math.min(MB, size - done)));
  const hash = hasher.digest('hex');
  const source = (start: number, end: number): AsyncIterable<Uint8Array> =>
    (async function* () {
      for (let at = start; at < end; ) {
        const offset = at % MB;
        const n = Math.min(MB - offset, end - at);
        yield block.subarray(offset, offset + n);
        at += n;
        await Promise.resolve();
      }
    })();

  const raw = new Pool(sink, { connections: 8 });
  const drive = createHttpRemoteDrive({ baseUrl: url, token });
  try {
    // ---- 1 GiB upload ----
    const rawPut = await transfer(serverPid, async () => {
      const res = await raw.request({ method: 'PUT', path: '/big', headers: { 'content-length': String(size) }, body: Readable.from(source(0, size)) });
      await res.body.dump();
    });
    let entryId = '';
    const up = await transfer(serverPid, async () => {
      entryId = (await drive.upload('personal', { path: 'big.bin' }, source, { size, hash, baseVersion: null })).id;
    });
    figures.push({ bench, metric: `upload ${size / MB} MiB`, unit: 'MB/s', value: size / MB / up.seconds, anchor: 'raw undici PUT to a sink', anchorValue: size / MB / rawPut.seconds, target: '≥ 0.70' });

    // ---- 1 GiB download ----
    const rawGet = await transfer(serverPid, async () => {
      const res = await raw.request({ method: 'GET', path: `/big?size=${size}` });
      let n = 0;
      for await (const chunk of res.body) n += (chunk as Buffer).length;
      if (n !== size) throw new Error(`raw GET got ${n} bytes`);
    });
    const down = await transfer(serverPid, async () => {
      // Counted, not hashed: the anchor does not hash either (the contract tests check contents).
      let n = 0;
      for await (const chunk of await drive.download('personal', entryId)) n += (chunk as Buffer).length;
      if (n !== size) throw new Error(`download got ${n} bytes`);
    });
    figures.push({ bench, metric: `download ${size / MB} MiB`, unit: 'MB/s', value: size / MB / down.seconds, anchor: 'raw undici GET from a sink', anchorValue: size / MB / rawGet.seconds, target: '≥ 0.70' });
    figures.push({ bench, metric: 'client memory growth, upload', unit: 'MB', value: up.clientMb, anchor: 'limit', anchorValue: 64, target: '< 1 (of 64 MB)' });
    figures.push({ bench, metric: 'client memory growth, download', unit: 'MB', value: down.clientMb, anchor: 'limit', anchorValue: 64, target: '< 1 (of 64 MB)' });
    figures.push({ bench, metric: 'server memory growth, upload', unit: 'MB', value: up.serverMb, anchor: 'sink growth, raw PUT', anchorValue: rawPut.serverMb, target: '< 64 MB' });
    figures.push({ bench, metric: 'server memory growth, download', unit: 'MB', value: down.serverMb, anchor: 'sink growth, raw GET', anchorValue: rawGet.serverMb, target: '< 64 MB' });
    // CPU seconds per transfer (all threads): under load the rates swing, these much less.
    figures.push({ bench, metric: 'server CPU, upload', unit: 's', value: up.serverCpu, anchor: 'sink CPU, raw PUT', anchorValue: rawPut.serverCpu });
    figures.push({ bench, metric: 'client CPU, upload', unit: 's', value: up.clientCpu, anchor: 'client CPU, raw PUT', anchorValue: rawPut.clientCpu });
    figures.push({ bench, metric: 'server CPU, download', unit: 's', value: down.serverCpu, anchor: 'sink CPU, raw GET', anchorValue: rawGet.serverCpu });
    figures.push({ bench, metric: 'client CPU, download', unit: 's', value: down.clientCpu, anchor: 'client CPU, raw GET', anchorValue: rawGet.clientCpu });

    // ---- many small files, 8 at a time ----
    const small = Array.from({ length: files }, (_, i) => {
      const bytes = Buffer.alloc(4096, i % 251);
      bytes.write(`file ${i}\n`);
      return { i, bytes, hash: createHash('sha256').update(bytes).digest('hex') };
    });
    const rawSmall = await seconds(() =>
      pool(small, 8, async (f) => {
        const res = await raw.request({ method: 'PUT', path: `/f/${f.i}`, headers: { 'content-length': '4096' }, body: f.bytes });
        await res.body.dump();
      }),
    );
    const clientSmall = await seconds(() =>
      pool(small, 8, (f) => drive.upload('personal', { path: `small/d${f.i % 100}/f${f.i}.bin` }, f.bytes, { size: 4096, hash: f.hash, baseVersion: null })),
    );
    figures.push({ bench, metric: `${files} files of 4 KiB, 8 at a time`, unit: 'files/s', value: files / clientSmall, anchor: 'raw undici PUTs to a sink', anchorValue: files / rawSmall });
    const uploadMany = drive.uploadMany?.bind(drive);
    if (uploadMany === undefined) throw new Error('the HTTP drive has no uploadMany');
    let refused = 0;
    const batched = await seconds(async () => {
      const results = await uploadMany(
        'personal',
        small.map((f) => ({ target: { path: `batched/d${f.i % 100}/f${f.i}.bin` }, body: f.bytes, hash: f.hash, baseVersion: null })),
      );
      refused = results.filter((r) => !r.ok).length;
    });
    if (refused > 0) throw new Error(`${refused} batched files were refused`);
    figures.push({ bench, metric: `${files} files of 4 KiB, batched (uploadMany)`, unit: 'files/s', value: files / batched, anchor: 'raw undici PUTs to a sink', anchorValue: files / rawSmall });

    // ---- the change feed and a listing after many small uploads ----
    const tiny = (i: number): { body: Buffer; hash: string } => {
      const body = Buffer.from(`feed item ${i}\n`);
      return { body, hash: createHash('sha256').update(body).digest('hex') };
    };
    const start = await drive.cursor('personal');
    const filled = await seconds(async () => {
      for (let at = 0; at < feedItems; at += 10_000) {
        const n = Math.min(10_000, feedItems - at);
        const results = await uploadMany(
          'personal',
          Array.from({ length: n }, (_, k) => {
            const t = tiny(at + k);
            return { target: { path: `feed/d${(at + k) % 1000}/f${at + k}.txt` }, body: t.body, hash: t.hash, baseVersion: null };
          }),
        );
        if (results.some((r) => !r.ok)) throw new Error('a feed file was refused');
      }
    });
    let feedBytes = 0;
    let feedEntries = 0;
    const feedRead = await seconds(async () => {
      for (let cursor = start; ; ) {
        const batch = await drive.changes('personal', cursor, { limit: 5000 });
        feedEntries += batch.changes.length;
        feedBytes += JSON.stringify(batch).length;
        cursor = batch.cursor;
        if (!batch.more) break;
      }
    });
    let listed = 0;
    const listRead = await seconds(async () => {
      listed = (await drive.list('personal', 'feed', { recursive: true })).length;
    });
    const lastPage = await seconds(async () => {
      const end = Number(await drive.cursor('personal'));
      await drive.changes('personal', String(Math.max(0, end - 100)), { limit: 5000 });
    });
    const rawFeed = await seconds(async () => {
      const res = await raw.request({ method: 'GET', path: `/feed?size=${feedBytes}` });
      await res.body.dump();
    });
    figures.push({ bench, metric: `${feedItems} tiny files, batched, to fill the feed`, unit: 'files/s', value: feedItems / filled, anchor: 'raw undici PUTs to a sink', anchorValue: files / rawSmall });
    figures.push({ bench, metric: `change feed read whole (${feedEntries} entries, pages of 5000)`, unit: 'entries/s', value: feedEntries / feedRead, anchor: 'raw GET of as many bytes, entries/s', anchorValue: feedEntries / rawFeed });
    figures.push({ bench, metric: `recursive list of ${listed} items`, unit: 'items/s', value: listed / listRead, anchor: 'raw GET of as many bytes, entries/s', anchorValue: feedEntries / rawFeed });
    figures.push({ bench, metric: 'change feed: the last 100 entries after the fill', unit: 'ms', value: lastPage * 1000, anchor: 'whole feed read, ms', anchorValue: feedRead * 1000 });
  } finally {
    await drive.close();
    await raw.close();
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
  }
  report(figures);
}
