/**
 * The reference cloud server's HTTP API over node:http (see docs/cloud-api.md and ADR 0020).
 * Every request is authenticated; parameters are checked before they reach the core; contents
 * stream to and from the blob store and are hashed on the way in.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dialect } from 'kysely';
import { BATCH_LIMITS, feedHeader, HEADERS, type BatchItemResult, type CloudErrorBody, type FeedSpan } from '../lib/cloud-api.js';
import type { SyncMode } from '../lib/model.js';
import type { BlobStore } from './blob-store.js';
import { createFlusher, fsyncFile } from './blob-store.js';
import { checkHash, checkId, checkPath, type CloudUser, type SpaceAccess, type UploadTarget } from './cloud-core.js';
import { CloudError } from './cloud-error.js';
import { openCloudData, type CloudData } from './open-data.js';
import { sendFileRange } from './send-file.js';

/** Options of {@link startCloudServer}. */
export interface CloudServerOptions {
  /** The data folder (created if missing). */
  readonly dataDir: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** A kysely dialect for the metadata (default SQLite in the data folder). */
  readonly dialect?: Dialect;
  /** A blob store (default on disk in the data folder). */
  readonly blobs?: BlobStore;
  /** Largest body of a one-request upload, bytes (default 256 MiB; larger files use sessions). */
  readonly maxUploadBytes?: number;
  /** Largest file, bytes (default 1 TiB). */
  readonly maxFileBytes?: number;
  /** Versions kept per file (default 100). */
  readonly retainVersions?: number;
  /** Longest long-poll wait, seconds (default 60). */
  readonly maxWaitSeconds?: number;
  /** How long `close` lets requests in flight finish before cutting them (default 5000 ms). */
  readonly closeGraceMs?: number;
  /** Wait for a locked database this long at start (default 2000 ms). */
  readonly busyTimeoutMs?: number;
  /** Resumable sessions older than this are dropped with their bytes (default 7 days). */
  readonly uploadTtlMs?: number;
  /** Called with unexpected errors (bugs, disk failures); the server itself prints nothing. */
  readonly onError?: (error: unknown) => void;
}

/** A running server. */
export interface CloudServer {
  /** `http://HOST:PORT`. */
  readonly url: string;
  readonly port: number;
  /** The open data folder (for in-process administration, e.g. tests adding users). */
  readonly data: CloudData;
  /** Requests being handled, how many are feed readers waiting, and whether the start-time blob sweep runs. */
  stats(): { readonly inflight: number; readonly waiting: number; readonly sweepingBlobs: boolean };
  /** Stops accepting, lets requests in flight finish (up to the grace time), closes the data folder. */
  close(): Promise<void>;
}

const JSON_LIMIT = 64 * 1024;
// Buffering up to 1 MiB lets the file stream write many socket chunks in one writev call; with the
// default 16 KiB every 64 KiB socket chunk was its own trip to the thread pool.
const WRITE_HWM = 1024 * 1024;
const MODES: readonly SyncMode[] = ['two-way', 'upload'];

interface Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly user: CloudUser;
  readonly params: readonly string[];
}

type Handler = (ctx: Ctx) => Promise<void>;

/**
 * Starts the server on a data folder.
 *
 * @example
 * const server = await startCloudServer({ dataDir: '/tmp/cloud', port: 0 });
 * const { token } = await server.data.core.addUser('ada');
 * // ... talk to server.url with `Authorization: Bearer ${token}`
 * await server.close();
 */
export async function startCloudServer(options: CloudServerOptions): Promise<CloudServer> {
  const data = await openCloudData({
    dataDir: options.dataDir,
    exclusive: true,
    ...(options.dialect === undefined ? {} : { dialect: options.dialect }),
    ...(options.blobs === undefined ? {} : { blobs: options.blobs }),
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    ...(options.retainVersions === undefined ? {} : { retainVersions: options.retainVersions }),
  });
  const { core, blobs } = data;
  const maxUpload = options.maxUploadBytes ?? 256 * 1024 * 1024;
  const maxFile = options.maxFileBytes ?? 1024 ** 4;
  const maxWait = options.maxWaitSeconds ?? 60;
  const onError = options.onError ?? (() => undefined);
  const inflight = new Set<Promise<void>>();
  const waiters = new Set<() => void>();
  // Resumable sessions being written, with the running hash of the bytes on disk (see putChunk).
  const hashing = new Map<string, { hash: Hash; bytes: number }>();
  const busy = new Set<string>();
  let closing = false;

  // Abandoned sessions would keep their partial files for ever: expire them now and hourly, and
  // drop partial files no session owns (a crash between the two deletes leaves one).
  const uploadTtl = options.uploadTtlMs ?? 7 * 24 * 3600 * 1000;
  const sweepUploads = async (): Promise<void> => {
    const { kept } = await core.expireUploads(uploadTtl);
    const live = new Set(kept);
    for (const id of await blobs.listUploads()) {
      if (live.has(id) || busy.has(id)) continue;
      hashing.delete(id);
      await rm(blobs.uploadPath(id), { force: true });
    }
  };
  try {
    await sweepUploads();
    // Contents kept inline that no version uses are left only by a crash between a commit and its
    // garbage collection; the sweep reads both tables whole (about 0.3 s per 20,000 files), so it
    // runs after a crash only.
    if (!data.cleanStart) await core.sweepInline();
  } catch (error) {
    await data.close();
    throw error;
  }
  // A crash between a blob's rename and its commit leaves a blob nothing refers to; the pins that
  // protect in-flight uploads are in memory, so they are gone too. Sweep such blobs in the
  // background (the same check as garbage collection, so an upload running now is safe).
  let sweepingBlobs = true;
  const sweepBlobs = async (): Promise<void> => {
    try {
      for await (const hash of blobs.list()) {
        if (closing) break;
        await core.removeIfUnreferenced(hash);
      }
    } catch (error) {
      if (!closing) onError(error);
    } finally {
      sweepingBlobs = false;
    }
  };
  const blobSweep = sweepBlobs();
  const sweeper = setInterval(() => {
    sweepUploads().catch(onError);
  }, 3600 * 1000);
  sweeper.unref();

  const space = async (ctx: Ctx): Promise<SpaceAccess> => core.access(ctx.user, ctx.params[0] ?? '');

  const modeOf = (req: IncomingMessage): SyncMode => {
    const raw = req.headers[HEADERS.mode];
    if (raw === undefined) return 'two-way';
    if (typeof raw === 'string' && (MODES as readonly string[]).includes(raw)) return raw as SyncMode;
    throw new CloudError('bad-request', `${HEADERS.mode} must be two-way or upload`);
  };

  const writable = async (ctx: Ctx): Promise<SpaceAccess> => {
    const access = await space(ctx);
    core.requireWrite(access, modeOf(ctx.req));
    return access;
  };

  const target = (q: URLSearchParams | Record<string, unknown>): UploadTarget => {
    const get = (k: string): unknown => (q instanceof URLSearchParams ? (q.get(k) ?? undefined) : q[k]);
    const id = get('id');
    if (id !== undefined && id !== null) return { id: checkId(id) };
    const path = checkPath(get('path'));
    if (path === '') throw new CloudError('bad-name', 'an upload needs a file path, not the root');
    return { path };
  };

  const routes: [string, RegExp, Handler][] = [
    ['GET', /^\/v1\/me$/, async (ctx) => {
      json(ctx.res, 200, { user: ctx.user.name, spaces: await core.spaces(ctx.user) });
    }],
    ['GET', /^\/v1\/spaces$/, async (ctx) => {
      json(ctx.res, 200, { spaces: await core.spaces(ctx.user) });
    }],
    ['GET', /^\/v1\/spaces\/([^/]+)\/permission$/, async (ctx) => {
      const mode = ctx.url.searchParams.get('mode') ?? 'two-way';
      if (!(MODES as readonly string[]).includes(mode)) throw new CloudError('bad-request', 'mode must be two-way or upload');
      json(ctx.res, 200, core.permission(await space(ctx), mode as SyncMode));
    }],
    ['GET', /^\/v1\/spaces\/([^/]+)\/items$/, async (ctx) => {
      const { space: s } = await space(ctx);
      const path = checkPath(ctx.url.searchParams.get('path') ?? '');
      json(ctx.res, 200, await core.list(s, path, ctx.url.searchParams.get('recursive') === '1'));
    }],
    ['GET', /^\/v1\/spaces\/([^/]+)\/stat$/, async (ctx) => {
      const { space: s } = await space(ctx);
      json(ctx.res, 200, await core.stat(s, checkPath(ctx.url.searchParams.get('path'))));
    }],
    ['GET', /^\/v1\/spaces\/([^/]+)\/items\/([^/]+)$/, async (ctx) => {
      const { space: s } = await space(ctx);
      json(ctx.res, 200, await core.statById(s, checkId(ctx.params[1])));
    }],
    ['GET', /^\/v1\/spaces\/([^/]+)\/items\/([^/]+)\/content$/, async (ctx) => {
      const { space: s } = await space(ctx);
      const version = ctx.url.searchParams.get('version');
      const content = await core.content(s, checkId(ctx.params[1]), version === null ? null : checkId(version, 'version'));
      await sendBlob(ctx, content);
    }],
    ['GET', /^\/v1\/spaces\/([^/]+)\/items\/([^/]+)\/versions$/, async (ctx) => {
      const { space: s } = await space(ctx);
      json(ctx.res, 200, { versions: await core.versions(s, checkId(ctx.params[1])) });
    }],
    ['POST', /^\/v1\/spaces\/([^/]+)\/items\/([^/]+)\/move$/, async (ctx) => {
      const { space: s } = await writable(ctx);
      const body = await readJson(ctx.req);
      json(ctx.res, 200, await core.move(s, checkId(ctx.params[1]), checkPath(body['to'], 'to'), optionalId(body['ifVersion'], 'ifVersion'), feedTo(ctx.res)));
    }],
    ['POST', /^\/v1\/spaces\/([^/]+)\/items\/([^/]+)\/copy$/, async (ctx) => {
      const { space: s } = await writable(ctx);
      const body = await readJson(ctx.req);
      json(ctx.res, 200, await core.copy(s, checkId(ctx.params[1]), checkPath(body['to'], 'to')));
    }],
    ['POST', /^\/v1\/spaces\/([^/]+)\/items\/([^/]+)\/restore$/, async (ctx) => {
      const { space: s } = await writable(ctx);
      const body = await readJson(ctx.req);
      json(ctx.res, 200, await core.restoreVersion(s, checkId(ctx.params[1]), checkId(body['version'], 'version'), optionalId(body['ifVersion'], 'ifVersion')));
    }],
    ['DELETE', /^\/v1\/spaces\/([^/]+)\/items\/([^/]+)$/, async (ctx) => {
      const { space: s } = await writable(ctx);
      json(ctx.res, 200, await core.remove(s, checkId(ctx.params[1]), optionalId(ctx.url.searchParams.get('ifVersion'), 'ifVersion'), feedTo(ctx.res)));
    }],
    ['POST', /^\/v1\/spaces\/([^/]+)\/folders$/, async (ctx) => {
      const { space: s } = await writable(ctx);
      const body = await readJson(ctx.req);
      json(ctx.res, 200, await core.mkdir(s, checkPath(body['path']), feedTo(ctx.res)));
    }],
    ['PUT', /^\/v1\/spaces\/([^/]+)\/content$/, async (ctx) => {
      await putContent(ctx);
    }],
    ['POST', /^\/v1\/spaces\/([^/]+)\/batch$/, async (ctx) => {
      await putBatch(ctx);
    }],
    ['POST', /^\/v1\/spaces\/([^/]+)\/uploads$/, async (ctx) => {
      const access = await writable(ctx);
      const body = await readJson(ctx.req);
      const size = checkSize(body['size'], maxFile);
      const session = await core.createUpload(ctx.user, access.space, modeOf(ctx.req), target(body), optionalId(body['baseVersion'], 'baseVersion'), checkHash(body['hash']), size);
      await writeFile(blobs.uploadPath(session.id), '');
      json(ctx.res, 200, session);
    }],
    ['GET', /^\/v1\/spaces\/([^/]+)\/uploads\/([^/]+)$/, async (ctx) => {
      const { space: s } = await space(ctx);
      const session = await core.upload(ctx.user, s, checkId(ctx.params[1]));
      json(ctx.res, 200, { id: session.id, size: session.size, hash: session.hash, received: await partSize(session.id) });
    }],
    ['PUT', /^\/v1\/spaces\/([^/]+)\/uploads\/([^/]+)$/, async (ctx) => {
      await putChunk(ctx);
    }],
    ['POST', /^\/v1\/spaces\/([^/]+)\/uploads\/([^/]+)\/commit$/, async (ctx) => {
      await commitSession(ctx);
    }],
    ['DELETE', /^\/v1\/spaces\/([^/]+)\/uploads\/([^/]+)$/, async (ctx) => {
      const { space: s } = await space(ctx);
      const session = await core.upload(ctx.user, s, checkId(ctx.params[1]));
      await core.dropUpload(session.id);
      hashing.delete(session.id);
      await rm(blobs.uploadPath(session.id), { force: true });
      json(ctx.res, 200, { cancelled: session.id });
    }],
    ['GET', /^\/v1\/spaces\/([^/]+)\/bin$/, async (ctx) => {
      const { space: s } = await space(ctx);
      json(ctx.res, 200, { entries: await core.bin(s) });
    }],
    ['POST', /^\/v1\/spaces\/([^/]+)\/bin\/([^/]+)\/restore$/, async (ctx) => {
      const { space: s } = await writable(ctx);
      json(ctx.res, 200, await core.restoreFromBin(s, checkId(ctx.params[1])));
    }],
    ['DELETE', /^\/v1\/spaces\/([^/]+)\/bin\/([^/]+)$/, async (ctx) => {
      const { space: s } = await writable(ctx);
      await core.purge(s, checkId(ctx.params[1]));
      json(ctx.res, 200, { purged: ctx.params[1] });
    }],
    ['GET', /^\/v1\/spaces\/([^/]+)\/cursor$/, async (ctx) => {
      const { space: s } = await space(ctx);
      json(ctx.res, 200, { cursor: await core.cursor(s) });
    }],
    ['GET', /^\/v1\/spaces\/([^/]+)\/changes$/, async (ctx) => {
      await changes(ctx);
    }],
  ];

  async function changes(ctx: Ctx): Promise<void> {
    const { space: s } = await space(ctx);
    const q = ctx.url.searchParams;
    const cursor = q.get('cursor') ?? '0';
    const limit = Math.min(Math.max(1, intParam(q.get('limit'), 1000)), 5000);
    const wait = Math.min(Math.max(0, intParam(q.get('wait'), 0)), maxWait);
    let batch = await core.changes(s, cursor, limit);
    if (batch.changes.length === 0 && wait > 0 && !closing) {
      // Subscribe first, then look again: a change landing in between still wakes us.
      await new Promise<void>((resolve) => {
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          unsubscribe();
          clearTimeout(timer);
          waiters.delete(finish);
          ctx.req.socket.off('close', finish);
          resolve();
        };
        const unsubscribe = core.onChange(s.id, finish);
        const timer = setTimeout(finish, wait * 1000);
        waiters.add(finish);
        ctx.req.socket.once('close', finish);
        core.changes(s, cursor, 1).then((b) => {
          if (b.changes.length > 0) finish();
        }, finish);
      });
      batch = await core.changes(s, cursor, limit);
    }
    json(ctx.res, 200, batch);
  }

  async function sendBlob(ctx: Ctx, content: { hash: string; size: number; version: string }): Promise<void> {
    const { res } = ctx;
    const range = parseRange(ctx.req.headers.range, content.size);
    res.setHeader('etag', `"${content.version}"`);
    res.setHeader(HEADERS.sha256, content.hash);
    res.setHeader('accept-ranges', 'bytes');
    res.setHeader('content-type', 'application/octet-stream');
    const inline = content.size <= BATCH_LIMITS.maxItemBytes ? await core.inlineBlob(content.hash) : null;
    if (range === null) {
      res.writeHead(200, { 'content-length': content.size });
      if (content.size === 0) {
        res.end();
        return;
      }
      if (inline !== null) res.end(inline);
      else await sendBlobRange(content.hash, 0, content.size - 1, res);
      return;
    }
    res.writeHead(206, { 'content-length': range.end - range.start + 1, 'content-range': `bytes ${range.start}-${range.end}/${content.size}` });
    if (inline !== null) res.end(inline.subarray(range.start, range.end + 1));
    else await sendBlobRange(content.hash, range.start, range.end, res);
  }

  async function sendBlobRange(hash: string, start: number, end: number, res: ServerResponse): Promise<void> {
    const file = await blobs.open(hash);
    try {
      await sendFileRange(res, file, start, end);
    } finally {
      await file.close();
    }
    res.end();
  }

  /** A one-request upload: streamed to a temp file, hashed, then committed if whole and matching. */
  async function putContent(ctx: Ctx): Promise<void> {
    const access = await writable(ctx);
    const hash = checkHash(ctx.req.headers[HEADERS.sha256]);
    const size = contentLength(ctx.req, Math.min(maxUpload, maxFile));
    const base = optionalId(ctx.req.headers[HEADERS.baseVersion], 'base version');
    const to = target(ctx.url.searchParams);
    await core.precheckUpload(access.space, to, base, hash, size);
    if (size <= BATCH_LIMITS.maxItemBytes) {
      // Small: kept in the database, committed with its version in one transaction (ADR 0096).
      const bytes = await readBody(ctx.req, size);
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== hash) throw new CloudError('hash-mismatch', `the body's SHA-256 is ${actual}, not the ${hash} you sent; the file may have changed while uploading: read it again`, { actual, expected: hash });
      json(ctx.res, 200, await core.commitUpload(access.space, to, base, hash, size, bytes, feedTo(ctx.res)));
      return;
    }
    const unpin = core.pin(hash);
    const temp = blobs.tempPath();
    try {
      const flusher = createFlusher(temp);
      const counter = createCounter(size, undefined, flusher);
      try {
        await pipeline(ctx.req, counter, createWriteStream(temp, { highWaterMark: WRITE_HWM }));
      } catch (error) {
        if (counter.bytes > size) throw new CloudError('too-large', `the body is longer than its Content-Length ${size}`);
        throw error;
      } finally {
        await flusher.settle();
      }
      if (counter.bytes !== size) throw new CloudError('incomplete', `received ${counter.bytes} of ${size} bytes; send the whole file`);
      const actual = counter.hash.digest('hex');
      if (actual !== hash) throw new CloudError('hash-mismatch', `the body's SHA-256 is ${actual}, not the ${hash} you sent; the file may have changed while uploading: read it again`, { actual, expected: hash });
      await blobs.adopt(temp, hash);
      try {
        json(ctx.res, 200, await core.commitUpload(access.space, to, base, hash, size, undefined, feedTo(ctx.res)));
      } catch (error) {
        await core.removeIfUnreferenced(hash);
        throw error;
      }
    } finally {
      unpin();
      await rm(temp, { force: true });
    }
  }

  /**
   * A batched upload: a JSON manifest (its length in a header), then each file's bytes in manifest
   * order. The whole body is read first (a cut request commits nothing); then every file is checked
   * and committed on its own, all in one group commit, and answered with its own result.
   */
  async function putBatch(ctx: Ctx): Promise<void> {
    const access = await writable(ctx);
    const manifestRaw = ctx.req.headers[HEADERS.manifestBytes];
    if (typeof manifestRaw !== 'string' || !/^\d{1,9}$/.test(manifestRaw)) throw new CloudError('bad-request', `send the manifest's length in ${HEADERS.manifestBytes}`);
    const manifestBytes = Number(manifestRaw);
    if (manifestBytes > BATCH_LIMITS.maxManifestBytes) throw new CloudError('too-large', `a batch manifest may be at most ${BATCH_LIMITS.maxManifestBytes} bytes`);
    const length = contentLength(ctx.req, BATCH_LIMITS.maxBodyBytes);
    if (manifestBytes > length) throw new CloudError('bad-request', 'the manifest is longer than the body');
    const body = await readBody(ctx.req, length);
    let manifest: unknown;
    try {
      manifest = JSON.parse(body.subarray(0, manifestBytes).toString('utf8'));
    } catch {
      throw new CloudError('bad-request', 'the batch manifest is not valid JSON');
    }
    const items = (manifest as { items?: unknown } | null)?.items;
    if (!Array.isArray(items)) throw new CloudError('bad-request', 'the batch manifest must be { "items": [...] }');
    if (items.length > BATCH_LIMITS.maxItems) throw new CloudError('too-large', `a batch may hold at most ${BATCH_LIMITS.maxItems} files`);
    const sizes = items.map((item: unknown) => checkSize((item as { size?: unknown } | null)?.size, BATCH_LIMITS.maxItemBytes));
    if (manifestBytes + sizes.reduce((a, b) => a + b, 0) !== length) throw new CloudError('bad-request', 'the body is not the manifest followed by exactly the files\' sizes in bytes');
    let at = manifestBytes;
    const work = items.map(async (raw: unknown, i): Promise<BatchItemResult> => {
      const size = sizes[i] ?? 0;
      const bytes = body.subarray(at, at + size);
      at += size;
      try {
        const item = raw as Record<string, unknown>;
        const hash = checkHash(item['hash']);
        const to = target(item);
        const base = optionalId(item['baseVersion'], 'baseVersion');
        const actual = createHash('sha256').update(bytes).digest('hex');
        if (actual !== hash) throw new CloudError('hash-mismatch', `the SHA-256 of file ${i} is ${actual}, not the ${hash} sent; read the file again`, { actual, expected: hash });
        const got: { feed?: FeedSpan } = {};
        const entry = await core.commitUpload(access.space, to, base, hash, size, bytes, (span) => (got.feed = span));
        return got.feed === undefined ? { ok: true, entry } : { ok: true, entry, feed: got.feed };
      } catch (error) {
        if (!(error instanceof CloudError)) throw error;
        return { ok: false, error: { code: error.code, message: error.message, ...(Object.keys(error.details).length === 0 ? {} : { details: error.details }) } };
      }
    });
    json(ctx.res, 200, { results: await Promise.all(work) });
  }

  async function partSize(id: string): Promise<number> {
    try {
      return (await stat(blobs.uploadPath(id))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
  }

  /**
   * One chunk of a resumable upload, at `?offset=N` (at most the bytes received so far: a client
   * resending overlapping bytes truncates to its offset). Bytes are fsynced before the answer, so
   * `received` never goes backwards, even across a crash. A cut connection keeps what arrived.
   */
  async function putChunk(ctx: Ctx): Promise<void> {
    const access = await space(ctx);
    const session = await core.upload(ctx.user, access.space, checkId(ctx.params[1]));
    core.requireWrite(access, session.mode);
    if (busy.has(session.id)) throw new CloudError('conflict', 'another chunk of this upload is still being received; retry in a moment', { reason: 'busy' });
    busy.add(session.id);
    try {
      const file = blobs.uploadPath(session.id);
      const have = await partSize(session.id);
      const offset = intParam(ctx.url.searchParams.get('offset'), -1);
      if (offset < 0 || offset > have) throw new CloudError('incomplete', `offset must be between 0 and ${have} (bytes received so far)`, { received: have });
      // A chunk may be as long as the rest of the declared file: its size was checked (and counted
      // against the quota) when the session opened, and a cut chunk keeps what arrived anyway.
      const length = contentLength(ctx.req, session.size - offset);
      if (offset < have) {
        await truncate(file, offset);
        hashing.delete(session.id);
      }
      let state = hashing.get(session.id);
      if (state?.bytes !== offset) {
        hashing.delete(session.id);
        state = offset === 0 ? { hash: createHash('sha256'), bytes: 0 } : undefined;
      }
      const flusher = createFlusher(file);
      const counter = createCounter(length, state?.hash, flusher);
      let failure: Error | null = null;
      try {
        await pipeline(ctx.req, counter, createWriteStream(file, { flags: 'a', highWaterMark: WRITE_HWM }));
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      }
      await flusher.settle();
      await fsyncFile(file);
      const received = await partSize(session.id);
      // The running hash is only worth keeping if it covered exactly the bytes now on disk.
      if (state !== undefined && received === offset + counter.bytes) hashing.set(session.id, { hash: state.hash, bytes: received });
      else hashing.delete(session.id);
      if (failure !== null) throw failure;
      if (counter.bytes !== length) throw new CloudError('incomplete', `received ${counter.bytes} of ${length} bytes`, { received });
      json(ctx.res, 200, { id: session.id, size: session.size, hash: session.hash, received });
    } finally {
      busy.delete(session.id);
    }
  }

  async function commitSession(ctx: Ctx): Promise<void> {
    const access = await space(ctx);
    const session = await core.upload(ctx.user, access.space, checkId(ctx.params[1]));
    core.requireWrite(access, session.mode);
    if (busy.has(session.id)) throw new CloudError('conflict', 'a chunk of this upload is still being received', { reason: 'busy' });
    const file = blobs.uploadPath(session.id);
    const received = await partSize(session.id);
    if (received !== session.size) throw new CloudError('incomplete', `received ${received} of ${session.size} bytes; send the rest before committing`, { received });
    const state = hashing.get(session.id);
    hashing.delete(session.id);
    let actual: string;
    if (state?.bytes === received) actual = state.hash.digest('hex');
    else {
      const h = createHash('sha256');
      for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
      actual = h.digest('hex');
    }
    if (actual !== session.hash) {
      await core.dropUpload(session.id);
      await rm(file, { force: true });
      throw new CloudError('hash-mismatch', `the uploaded bytes hash to ${actual}, not ${session.hash}; the session is dropped: start again`, { actual, expected: session.hash });
    }
    const unpin = core.pin(session.hash);
    try {
      await blobs.adopt(file, session.hash);
      await core.dropUpload(session.id);
      try {
        json(ctx.res, 200, await core.commitUpload(access.space, session.target, session.baseVersion, session.hash, session.size, undefined, feedTo(ctx.res)));
      } catch (error) {
        await core.removeIfUnreferenced(session.hash);
        throw error;
      }
    } finally {
      unpin();
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (closing) throw new CloudError('unavailable', 'the server is shutting down; retry shortly');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token === undefined) throw new CloudError('unauthorized', 'send `Authorization: Bearer TOKEN` (from `foldsync cloud user add`)');
      const user = await core.authenticate(token);
      if (user === null) throw new CloudError('unauthorized', 'the token is not valid (revoked or mistyped); ask the server admin for a new one');
      for (const [method, pattern, handler] of routes) {
        const m = pattern.exec(url.pathname);
        if (m === null) continue;
        if (req.method !== method) continue;
        const params = m.slice(1).map((p) => {
          try {
            return decodeURIComponent(p);
          } catch {
            throw new CloudError('bad-request', 'a URL segment is not valid percent-encoding');
          }
        });
        await handler({ req, res, url, user, params });
        return;
      }
      throw new CloudError('not-found', `no API route ${req.method ?? ''} ${url.pathname}`);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        if (!(error instanceof CloudError) && !isAbort(error)) onError(error);
        return;
      }
      if (error instanceof CloudError) {
        sendError(res, error);
        return;
      }
      if (isAbort(error)) {
        res.destroy();
        return;
      }
      onError(error);
      sendError(res, new CloudError('server', 'the server failed to handle this request; it has been logged'));
    }
  };

  const server: Server = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 }, (req, res) => {
    const done = handle(req, res).finally(() => inflight.delete(done));
    inflight.add(done);
  });
  // A client that stops sending mid-body would otherwise hold its socket (and a partial file) for
  // ever: two silent minutes end it (long-polls wait at most maxWaitSeconds, 60 by default).
  server.setTimeout(Math.max(120, maxWait + 30) * 1000);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    closing = true;
    clearInterval(sweeper);
    await blobSweep;
    await data.close();
    throw error;
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | null = null;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    data,
    stats: () => ({ inflight: inflight.size, waiting: waiters.size, sweepingBlobs }),
    close: () => {
      closed ??= (async () => {
        closing = true;
        clearInterval(sweeper);
        const stopped = new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        });
        for (const wake of [...waiters]) wake();
        server.closeIdleConnections();
        const grace = new Promise<void>((resolve) => setTimeout(resolve, options.closeGraceMs ?? 5000).unref());
        await Promise.race([Promise.allSettled([...inflight]), grace]);
        for (const socket of sockets) socket.destroy();
        // A handler cut off mid-upload still finishes its cleanup; the database waits for it.
        await Promise.allSettled([...inflight]);
        await stopped;
        await blobSweep;
        await data.close();
      })();
      return closed;
    },
  };
}

/** Sets the response's {@link HEADERS.feed} to the span a write reports (before its answer is written). */
function feedTo(res: ServerResponse): (span: FeedSpan) => void {
  return (span) => {
    res.setHeader(HEADERS.feed, feedHeader(span));
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, error: CloudError): void {
  const body: CloudErrorBody = { error: { code: error.code, message: error.message, ...(Object.keys(error.details).length === 0 ? {} : { details: error.details }) } };
  json(res, error.status, body);
}

function isAbort(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED' || code === 'EPIPE';
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > JSON_LIMIT) throw new CloudError('too-large', `a JSON body may be at most ${JSON_LIMIT} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new CloudError('bad-request', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CloudError('bad-request', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Reads a body of exactly `size` bytes (its checked Content-Length) into memory. */
async function readBody(req: IncomingMessage, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  let got = 0;
  for await (const chunk of req) {
    const c = chunk as Buffer;
    if (got + c.length > size) throw new CloudError('too-large', `the body is longer than its Content-Length ${size}`);
    c.copy(bytes, got);
    got += c.length;
  }
  if (got !== size) throw new CloudError('incomplete', `received ${got} of ${size} bytes; send the whole body`);
  return bytes;
}

function optionalId(raw: unknown, what: string): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  return checkId(raw, what);
}

function intParam(raw: string | null, fallback: number): number {
  if (raw === null) return fallback;
  if (!/^\d{1,15}$/.test(raw)) throw new CloudError('bad-request', `${JSON.stringify(raw.slice(0, 20))} is not a whole number`);
  return Number(raw);
}

function checkSize(raw: unknown, max: number): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) throw new CloudError('bad-request', 'size must be a whole number of bytes');
  if (raw > max) throw new CloudError('too-large', `files may be at most ${max} bytes`);
  return raw;
}

function contentLength(req: IncomingMessage, max: number): number {
  const raw = req.headers['content-length'];
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) throw new CloudError('bad-request', 'send a Content-Length header with the body');
  const n = Number(raw);
  if (n > max) throw new CloudError('too-large', `this body may be at most ${max} bytes; use a resumable upload session for large files`);
  return n;
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) throw new CloudError('bad-request', 'only one byte range is supported: bytes=START-END');
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) throw new CloudError('bad-request', `range ${header} is outside the file (${size} bytes)`);
  return { start, end };
}

/** Counts and hashes bytes passing through (telling `flusher`); fails when more arrive than `limit`. */
function createCounter(limit: number, hash: Hash = createHash('sha256'), flusher?: { advance(bytes: number): void }): Transform & { bytes: number; hash: Hash } {
  const counter = new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      state.bytes += chunk.length;
      if (state.bytes > limit) {
        callback(new CloudError('too-large', `more bytes than the declared ${limit}`));
        return;
      }
      hash.update(chunk);
      flusher?.advance(chunk.length);
      callback(null, chunk);
    },
  });
  const state = Object.assign(counter, { bytes: 0, hash });
  return state;
}
