/**
 * {@link RemoteDrive} over HTTP with undici: a keep-alive connection pool, streamed bodies,
 * timeouts, and retries with backoff only where repeating is safe: reads, idempotent folder
 * creation, upload chunks (resumed from what the server holds), and uploads whose outcome can
 * be checked (the target either holds our hash or it does not).
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type Dispatcher } from './undici-pool.js';
import type { BatchManifestItem, BatchResult, ChangeBatch, CloudErrorBody, CloudErrorCode, FeedSpan, PermissionVerdict, RemoteEntry, RemoteSpace, RemoteVersion, BinEntry, UploadSession } from '../lib/cloud-api.js';
import { BATCH_LIMITS, HEADERS, parseFeedHeader } from '../lib/cloud-api.js';
import type { SyncMode } from '../lib/model.js';
import type { RelPath } from '../lib/names.js';
import {
  openBody,
  RemoteError,
  type ChangesOptions,
  type DownloadOptions,
  type OnFeed,
  type RemoteDrive,
  type RemoteTarget,
  type UploadBody,
  type UploadItem,
  type UploadItemResult,
  type UploadOptions,
} from './remote-drive.js';

/** Options of {@link createHttpRemoteDrive}. */
export interface HttpRemoteDriveOptions {
  /** The server, e.g. `http://127.0.0.1:8420`. */
  readonly baseUrl: string;
  /** The user's bearer token. */
  readonly token: string;
  /** The task mode writes are made in (default `two-way`). */
  readonly mode?: SyncMode;
  /** Connections kept to the server (default 8). */
  readonly connections?: number;
  /** Time to wait for response headers, ms (default 30 s; long-polls add their wait). */
  readonly headersTimeoutMs?: number;
  /** Longest silence inside a body, ms (default 60 s). */
  readonly bodyTimeoutMs?: number;
  /** Attempts for a request that is safe to repeat (default 4). */
  readonly attempts?: number;
  /** First retry delay, doubled each time (default 200 ms). */
  readonly backoffMs?: number;
  /** Files larger than this go through resumable sessions (default 64 MiB). */
  readonly resumableThreshold?: number;
  /**
   * Bytes per resumable chunk (default 256 MiB). A cut chunk loses nothing (the server keeps what
   * arrived), so chunks can be large; each one costs an fsync and a round trip.
   */
  readonly chunkSize?: number;
}

const RETRY_STATUS = new Set([502, 503, 504]);

/** Creates an HTTP {@link RemoteDrive}. Close it to release its connections. */
export function createHttpRemoteDrive(options: HttpRemoteDriveOptions): RemoteDrive {
  const origin = new URL(options.baseUrl);
  const prefix = origin.pathname.replace(/\/+$/, '');
  const pool = new Pool(origin.origin, {
    connections: options.connections ?? 8,
    keepAliveTimeout: 30_000,
    headersTimeout: options.headersTimeoutMs ?? 30_000,
    bodyTimeout: options.bodyTimeoutMs ?? 60_000,
  });
  const mode = options.mode ?? 'two-way';
  const attempts = Math.max(1, options.attempts ?? 4);
  const backoff = options.backoffMs ?? 200;
  const threshold = options.resumableThreshold ?? 64 * 1024 * 1024;
  const chunkSize = Math.max(1, options.chunkSize ?? 256 * 1024 * 1024);
  const headersTimeout = options.headersTimeoutMs ?? 30_000;
  let closed: Promise<void> | undefined;

  const sp = (space: string): string => `${prefix}/v1/spaces/${encodeURIComponent(space)}`;
  const qs = (params: Record<string, string | number | undefined>): string => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    const text = q.toString();
    return text === '' ? '' : `?${text}`;
  };

  interface Req {
    readonly method: Dispatcher.HttpMethod;
    readonly path: string;
    readonly headers?: Record<string, string>;
    readonly body?: string | Readable | null;
    readonly signal?: AbortSignal | undefined;
    readonly headersTimeout?: number;
  }

  async function send(req: Req): Promise<Dispatcher.ResponseData> {
    let response: Dispatcher.ResponseData;
    try {
      response = await pool.request({
        method: req.method,
        path: req.path,
        headers: { authorization: `Bearer ${options.token}`, [HEADERS.mode]: mode, ...req.headers },
        body: req.body ?? null,
        signal: req.signal ?? null,
        headersTimeout: req.headersTimeout ?? headersTimeout,
      });
    } catch (error) {
      if (req.signal?.aborted === true) throw error;
      throw new RemoteError('network', `cannot reach the cloud at ${origin.origin}: ${(error as Error).message}`, {}, { cause: error });
    }
    if (response.statusCode >= 400) throw await errorOf(response);
    return response;
  }

  async function errorOf(response: Dispatcher.ResponseData): Promise<RemoteError> {
    const text = await response.body.text().catch(() => '');
    try {
      const parsed = JSON.parse(text) as CloudErrorBody;
      return new RemoteError(parsed.error.code, parsed.error.message, { status: response.statusCode, ...(parsed.error.details ?? {}) });
    } catch {
      const code: CloudErrorCode = response.statusCode === 503 ? 'unavailable' : response.statusCode >= 500 ? 'server' : 'bad-request';
      return new RemoteError(code, `the cloud answered HTTP ${response.statusCode}: ${text.slice(0, 200)}`, { status: response.statusCode });
    }
  }

  const retryable = (error: unknown): boolean =>
    error instanceof RemoteError && (error.code === 'network' || error.code === 'unavailable' || RETRY_STATUS.has(Number(error.details['status'])));

  /** Repeats `fn` on network failures with exponential backoff; only for requests safe to repeat. */
  async function retrying<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (attempt >= attempts || !retryable(error) || signal?.aborted === true) throw error;
        await sleep(backoff * 2 ** (attempt - 1), undefined, signal === undefined ? {} : { signal });
      }
    }
  }

  async function getJson<T>(path: string, extra: Partial<Req> = {}): Promise<T> {
    return retrying(async () => (await (await send({ method: 'GET', path, ...extra })).body.json()) as T, extra.signal);
  }

  async function sendJson<T>(method: Dispatcher.HttpMethod, path: string, body?: unknown, onFeed?: OnFeed): Promise<T> {
    const response = await send({
      method,
      path,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const value = (await response.body.json()) as T;
    tellFeed(response, onFeed);
    return value;
  }

  /** Tells `onFeed` the span a write's answer names (ADR 0100), once the answer is read whole. */
  function tellFeed(response: Dispatcher.ResponseData, onFeed: OnFeed | undefined): void {
    if (onFeed === undefined) return;
    const span = parseFeedHeader(response.headers[HEADERS.feed]);
    if (span !== null) onFeed(span);
  }

  const orNull = async <T>(p: Promise<T>): Promise<T | null> => {
    try {
      return await p;
    } catch (error) {
      // A missing item is an answer; a missing space is an error.
      if (error instanceof RemoteError && error.code === 'not-found' && error.details['scope'] !== 'space') return null;
      throw error;
    }
  };

  const stat = (space: string, path: RelPath): Promise<RemoteEntry | null> => orNull(getJson<RemoteEntry>(`${sp(space)}/stat${qs({ path })}`));
  const statById = (space: string, id: string): Promise<RemoteEntry | null> => orNull(getJson<RemoteEntry>(`${sp(space)}/items/${encodeURIComponent(id)}`));

  /** After a lost answer: did our upload land? The target holds our hash exactly when it did. */
  async function landed(space: string, target: RemoteTarget, hash: string): Promise<RemoteEntry | null> {
    const entry = 'id' in target ? await statById(space, target.id) : await stat(space, target.path);
    return entry?.hash === hash ? entry : null;
  }

  async function simpleUpload(space: string, target: RemoteTarget, body: UploadBody, opts: UploadOptions): Promise<RemoteEntry> {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await send({
          method: 'PUT',
          path: `${sp(space)}/content${qs('id' in target ? { id: target.id } : { path: target.path })}`,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(opts.size),
            [HEADERS.sha256]: opts.hash,
            ...(opts.baseVersion === null ? {} : { [HEADERS.baseVersion]: opts.baseVersion }),
          },
          body: Readable.from(openBody(body, 0, opts.size)),
          signal: opts.signal,
        });
        const entry = (await response.body.json()) as RemoteEntry;
        tellFeed(response, opts.onFeed);
        return entry;
      } catch (error) {
        if (attempt >= attempts || !retryable(error) || opts.signal?.aborted === true) throw error;
        await sleep(backoff * 2 ** (attempt - 1));
        const done = await landed(space, target, opts.hash).catch(() => null);
        if (done !== null) return done;
      }
    }
  }

  async function resumableUpload(space: string, target: RemoteTarget, body: UploadBody, opts: UploadOptions): Promise<RemoteEntry> {
    const session = await sendJson<UploadSession>('POST', `${sp(space)}/uploads`, {
      ...('id' in target ? { id: target.id } : { path: target.path }),
      size: opts.size,
      hash: opts.hash,
      baseVersion: opts.baseVersion,
    });
    const url = `${sp(space)}/uploads/${encodeURIComponent(session.id)}`;
    let received = 0;
    let failures = 0;
    let busyWaits = 0;
    while (received < opts.size) {
      const end = Math.min(opts.size, received + chunkSize);
      try {
        const response = await send({
          method: 'PUT',
          path: `${url}${qs({ offset: received })}`,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - received) },
          body: Readable.from(openBody(body, received, end)),
          signal: opts.signal,
        });
        received = ((await response.body.json()) as UploadSession).received;
        failures = 0;
      } catch (error) {
        // "busy": the server is still finishing our previous, cut chunk. That is not a failure,
        // only a wait, so it gets its own, more patient budget.
        const busy = error instanceof RemoteError && error.code === 'conflict' && error.details['reason'] === 'busy';
        if (busy) busyWaits += 1;
        else failures += 1;
        if (failures >= attempts || busyWaits > 50 || (!retryable(error) && !busy) || opts.signal?.aborted === true) throw error;
        await sleep(Math.min(2000, backoff * 2 ** ((busy ? busyWaits : failures) - 1)));
        // Continue from what the server holds, not from what we think we sent.
        received = (await getJson<UploadSession>(url, { signal: opts.signal })).received;
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await sendJson<RemoteEntry>('POST', `${url}/commit`, undefined, opts.onFeed);
      } catch (error) {
        if (attempt >= attempts || !retryable(error)) throw error;
        await sleep(backoff * 2 ** (attempt - 1));
        const done = await landed(space, target, opts.hash).catch(() => null);
        if (done !== null) return done;
      }
    }
  }

  /**
   * One batch request. Safe to repeat: a file whose write landed already holds our hash, which the
   * server answers with its current entry instead of a new version or a conflict.
   */
  async function batch(space: string, items: readonly UploadItem[], signal: AbortSignal | undefined): Promise<UploadItemResult[]> {
    const manifest = Buffer.from(
      JSON.stringify({
        items: items.map((i): BatchManifestItem => ({ ...('id' in i.target ? { id: i.target.id } : { path: i.target.path }), size: i.body.length, hash: i.hash, baseVersion: i.baseVersion })),
      }),
    );
    const length = manifest.length + items.reduce((n, i) => n + i.body.length, 0);
    const answer = await retrying(async () => {
      const response = await send({
        method: 'POST',
        path: `${sp(space)}/batch`,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(length), [HEADERS.manifestBytes]: String(manifest.length) },
        body: Readable.from([manifest, ...items.map((i) => i.body)]),
        signal,
      });
      return (await response.body.json()) as BatchResult;
    }, signal);
    if (answer.results.length !== items.length) throw new RemoteError('server', `the cloud answered ${answer.results.length} results for a batch of ${items.length} files`);
    return answer.results.map((r): UploadItemResult =>
      r.ok
        ? r.feed === undefined
          ? { ok: true, entry: r.entry }
          : { ok: true, entry: r.entry, feed: r.feed }
        : { ok: false, error: new RemoteError(r.error.code, r.error.message, r.error.details ?? {}) },
    );
  }

  async function uploadMany(space: string, items: readonly UploadItem[], opts: { readonly signal?: AbortSignal } = {}): Promise<UploadItemResult[]> {
    const results = new Array<UploadItemResult | undefined>(items.length);
    // Batches of small files (by count and by bytes), in order; larger files one by one.
    const groups: number[][] = [];
    const singles: number[] = [];
    let group: number[] = [];
    let bytes = 0;
    let manifestBytes = 0;
    items.forEach((item, i) => {
      if (item.body.length > BATCH_LIMITS.maxItemBytes) {
        singles.push(i);
        return;
      }
      // The item's manifest entry, generously: its target and version as JSON plus the fixed fields.
      const entry = Buffer.byteLength(JSON.stringify([item.target, item.baseVersion])) + 128;
      const full =
        group.length >= BATCH_LIMITS.maxItems ||
        manifestBytes + entry > BATCH_LIMITS.maxManifestBytes - 64 ||
        bytes + manifestBytes + entry + item.body.length > BATCH_LIMITS.maxBodyBytes - 64;
      if (group.length > 0 && full) {
        groups.push(group);
        group = [];
        bytes = 0;
        manifestBytes = 0;
      }
      group.push(i);
      bytes += item.body.length;
      manifestBytes += entry;
    });
    if (group.length > 0) groups.push(group);
    for (const g of groups) {
      const answers = await batch(space, g.map((i) => items[i] as UploadItem), opts.signal);
      g.forEach((i, k) => (results[i] = answers[k]));
    }
    for (const i of singles) {
      const item = items[i] as UploadItem;
      try {
        const got: { feed?: FeedSpan } = {};
        const entry = await (item.body.length > threshold ? resumableUpload : simpleUpload)(space, item.target, item.body, {
          size: item.body.length,
          hash: item.hash,
          baseVersion: item.baseVersion,
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
          onFeed: (span) => (got.feed = span),
        });
        results[i] = got.feed === undefined ? { ok: true, entry } : { ok: true, entry, feed: got.feed };
      } catch (error) {
        // Failures of the whole cloud (network, token, role) end the call as they would a batch.
        if (!(error instanceof RemoteError) || error.code === 'network' || error.code === 'unauthorized' || error.code === 'not-permitted' || error.code === 'unavailable') throw error;
        results[i] = { ok: false, error };
      }
    }
    return results.map((r) => {
      if (r === undefined) throw new Error('assertion failed: every item has a result');
      return r;
    });
  }

  return {
    mode,
    uploadMany,
    spaces: async () => (await getJson<{ spaces: RemoteSpace[] }>(`${prefix}/v1/spaces`)).spaces,
    checkPermission: (space, m = mode) => getJson<PermissionVerdict>(`${sp(space)}/permission${qs({ mode: m })}`),
    stat,
    statById,
    list: async (space, path, opts = {}) =>
      (await getJson<{ entries: RemoteEntry[] }>(`${sp(space)}/items${qs({ path, recursive: opts.recursive === true ? 1 : undefined })}`)).entries,
    cursor: async (space) => (await getJson<{ cursor: string }>(`${sp(space)}/cursor`)).cursor,
    changes: (space: string, cursor: string, opts: ChangesOptions = {}) =>
      getJson<ChangeBatch>(`${sp(space)}/changes${qs({ cursor, wait: opts.waitSeconds, limit: opts.limit })}`, {
        signal: opts.signal,
        headersTimeout: headersTimeout + (opts.waitSeconds ?? 0) * 1000,
      }),
    upload: (space, target, body, opts) => (opts.size > threshold ? resumableUpload(space, target, body, opts) : simpleUpload(space, target, body, opts)),
    download: async (space: string, id: string, opts: DownloadOptions = {}) => {
      const range = opts.start === undefined && opts.end === undefined ? {} : { range: `bytes=${opts.start ?? 0}-${opts.end ?? ''}` };
      const response = await retrying(
        () => send({ method: 'GET', path: `${sp(space)}/items/${encodeURIComponent(id)}/content${qs({ version: opts.version })}`, headers: range, signal: opts.signal }),
        opts.signal,
      );
      return response.body;
    },
    mkdir: (space, path, opts = {}) => retrying(() => sendJson<RemoteEntry>('POST', `${sp(space)}/folders`, { path }, opts.onFeed)),
    move: (space, id, to, opts = {}) => sendJson<RemoteEntry>('POST', `${sp(space)}/items/${encodeURIComponent(id)}/move`, { to, ifVersion: opts.ifVersion }, opts.onFeed),
    copy: (space, id, to) => sendJson<RemoteEntry>('POST', `${sp(space)}/items/${encodeURIComponent(id)}/copy`, { to }),
    delete: (space, id, version, opts = {}) => sendJson<BinEntry>('DELETE', `${sp(space)}/items/${encodeURIComponent(id)}${qs({ ifVersion: version ?? undefined })}`, undefined, opts.onFeed),
    versions: async (space, id) => (await getJson<{ versions: RemoteVersion[] }>(`${sp(space)}/items/${encodeURIComponent(id)}/versions`)).versions,
    restoreVersion: (space, id, versionId, opts = {}) =>
      sendJson<RemoteEntry>('POST', `${sp(space)}/items/${encodeURIComponent(id)}/restore`, { version: versionId, ifVersion: opts.ifVersion }),
    bin: async (space) => (await getJson<{ entries: BinEntry[] }>(`${sp(space)}/bin`)).entries,
    restoreFromBin: (space, binId) => sendJson<RemoteEntry>('POST', `${sp(space)}/bin/${encodeURIComponent(binId)}/restore`),
    purge: async (space, binId) => {
      await sendJson('DELETE', `${sp(space)}/bin/${encodeURIComponent(binId)}`);
    },
    close: () => (closed ??= pool.close()),
  };
}
