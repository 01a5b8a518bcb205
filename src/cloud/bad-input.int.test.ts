/**
 * The bad input of issue 4, each a test, against the real server over HTTP on 127.0.0.1.
 */
import { readdir, readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { put, rejectsWith, sha } from '../../test/remote-drive-contract.js';
import { startServerFixture, type ServerFixture } from '../../test/cloud-fixture.js';
import { createHttpRemoteDrive } from '../io/http-remote-drive.js';
import { readAll } from '../io/remote-drive.js';
import { BATCH_LIMITS } from '../lib/cloud-api.js';
import { isFoldsyncError } from '../lib/errors.js';
import { startCloudServer } from './server.js';

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

async function call(fx: ServerFixture, method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, init: { token?: string | null; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  const token = init.token === undefined ? fx.tokens.get('ada') : init.token;
  const res = await request(`${fx.server.url}${path}`, {
    method,
    headers: { ...(token === null || token === undefined ? {} : { authorization: `Bearer ${token}` }), ...init.headers },
    body: init.body ?? null,
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
}

/** Sends the first `sent` bytes of a body announced as `length` bytes, then cuts the connection. */
function cutUpload(fx: ServerFixture, path: string, headers: Record<string, string>, length: number, sent: number | Buffer, method = 'PUT'): Promise<void> {
  return new Promise((resolve) => {
    const url = new URL(`${fx.server.url}${path}`);
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method,
      headers: { authorization: `Bearer ${fx.tokens.get('ada') ?? ''}`, 'content-length': String(length), ...headers },
    });
    req.on('error', () => {
      resolve();
    });
    req.on('close', () => {
      resolve();
    });
    req.write(typeof sent === 'number' ? Buffer.alloc(sent, 3) : sent, () => {
      // Give the bytes a moment on the wire, then pull the plug as a crashing client would.
      setTimeout(() => req.destroy(), 50);
    });
  });
}

/** Waits until `check` holds (polling); fails after many tries. Not a timing assertion: only a wait. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error('condition never held');
}

describe('bad input', () => {
  let fx: ServerFixture;
  beforeEach(async () => {
    fx = await startServerFixture();
    await fx.addUser('ada');
  });
  afterEach(async () => {
    await fx.close();
  });

  it('refuses a missing or wrong token with 401 unauthorized', async () => {
    const missing = await call(fx, 'GET', '/v1/spaces', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error?.code).toBe('unauthorized');
    const wrong = await call(fx, 'GET', '/v1/spaces', { token: 'fst_not-a-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.code).toBe('unauthorized');
    const basic = await call(fx, 'GET', '/v1/spaces', { token: null, headers: { authorization: 'Basic YWRhOmFkYQ==' } });
    expect(basic.body.error?.code).toBe('unauthorized');
    const drive = createHttpRemoteDrive({ baseUrl: fx.server.url, token: 'fst_wrong' });
    await rejectsWith(drive.spaces(), 'unauthorized');
    await drive.close();
  });

  it('refuses a plain member writing to a team space, and a Backer writing two-way', async () => {
    await fx.addUser('cy');
    await fx.addUser('bea');
    await fx.addSpace('team', 'team');
    await fx.setMember('team', 'cy', 'member');
    await fx.setMember('team', 'bea', 'backer');
    const body = 'x';
    const headers = { 'x-foldsync-sha256': sha(body), 'content-length': '1' };
    for (const [user, mode] of [['cy', 'upload'], ['cy', 'two-way'], ['bea', 'two-way']] as const) {
      const res = await call(fx, 'PUT', '/v1/spaces/team/content?path=x.txt', { token: fx.tokens.get(user) ?? null, headers: { ...headers, 'x-foldsync-mode': mode }, body });
      expect(res.status, `${user} ${mode}`).toBe(403);
      expect(res.body.error?.code).toBe('not-permitted');
    }
    const check = await call(fx, 'GET', '/v1/spaces/team/permission?mode=two-way', { token: fx.tokens.get('bea') ?? null });
    expect(check.body).toMatchObject({ allowed: false, role: 'backer' });
    const ok = await call(fx, 'PUT', '/v1/spaces/team/content?path=x.txt', { token: fx.tokens.get('bea') ?? null, headers: { ...headers, 'x-foldsync-mode': 'upload' }, body });
    expect(ok.status).toBe(200);
  });

  it('refuses path traversal in every parameter and never touches anything outside the data folder', async () => {
    const f = await put(fx.drive('ada'), 'personal', 'f.txt', 'f');
    const before = await readdir(join(fx.dataDir, '..'));
    const cases: [string, 'GET' | 'PUT' | 'POST' | 'DELETE', string, Record<string, string>?, string?][] = [
      ['space', 'GET', '/v1/spaces/..%2F..%2Fetc/items'],
      ['space dots', 'GET', '/v1/spaces/%2E%2E/items'],
      ['list path', 'GET', '/v1/spaces/personal/items?path=../..'],
      ['stat path', 'GET', '/v1/spaces/personal/stat?path=a/../../../etc/passwd'],
      ['item id', 'GET', '/v1/spaces/personal/items/..%2F..%2Fmeta.db/content'],
      ['version', 'GET', `/v1/spaces/personal/items/${f.id}/content?version=..%2F..%2Fmeta.db`],
      ['upload path', 'PUT', '/v1/spaces/personal/content?path=..%2Fescape', { 'x-foldsync-sha256': sha('x') }, 'x'],
      ['upload hash', 'PUT', '/v1/spaces/personal/content?path=ok', { 'x-foldsync-sha256': '../../../../etc/passwd' }, 'x'],
      ['upload id', 'PUT', '/v1/spaces/personal/content?id=..%2F..', { 'x-foldsync-sha256': sha('x') }, 'x'],
      ['mkdir', 'POST', '/v1/spaces/personal/folders', { 'content-type': 'application/json' }, JSON.stringify({ path: '../../outside' })],
      ['move to', 'POST', `/v1/spaces/personal/items/${f.id}/move`, {}, JSON.stringify({ to: '../../outside' })],
      ['copy to', 'POST', `/v1/spaces/personal/items/${f.id}/copy`, {}, JSON.stringify({ to: '/../outside' })],
      ['restore version', 'POST', `/v1/spaces/personal/items/${f.id}/restore`, {}, JSON.stringify({ version: '../x' })],
      ['session', 'POST', '/v1/spaces/personal/uploads', {}, JSON.stringify({ path: '..', size: 1, hash: sha('x') })],
      ['session id', 'GET', '/v1/spaces/personal/uploads/..%2F..%2Fmeta.db'],
      ['chunk id', 'PUT', '/v1/spaces/personal/uploads/..%2Fx?offset=0', {}, 'x'],
      ['bin id', 'POST', '/v1/spaces/personal/bin/..%2F..%2Fmeta.db/restore'],
      ['purge id', 'DELETE', '/v1/spaces/personal/bin/..%2F..'],
      ['cursor', 'GET', '/v1/spaces/personal/changes?cursor=../1'],
    ];
    for (const [what, method, path, headers, body] of cases) {
      const res = await call(fx, method, path, { headers: headers ?? {}, ...(body === undefined ? {} : { body }) });
      expect([400, 404], `${what}: ${JSON.stringify(res.body)}`).toContain(res.status);
      expect(['bad-name', 'bad-request', 'not-found'], what).toContain(res.body.error?.code);
    }
    expect(await readdir(join(fx.dataDir, '..'))).toEqual(before);
    expect((await fx.drive('ada').list('personal', '', { recursive: true })).map((e) => e.path)).toEqual(['f.txt']);
  });

  it('refuses a name over 255 bytes', async () => {
    const res = await call(fx, 'POST', '/v1/spaces/personal/folders', { body: JSON.stringify({ path: `ok/${'a'.repeat(256)}` }) });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('bad-name');
    expect((await call(fx, 'POST', '/v1/spaces/personal/folders', { body: JSON.stringify({ path: 'a'.repeat(255) }) })).status).toBe(200);
  });

  it('refuses a body whose SHA-256 does not match, leaving no blob and no temporary file', async () => {
    const res = await call(fx, 'PUT', '/v1/spaces/personal/content?path=x.txt', { headers: { 'x-foldsync-sha256': sha('other') }, body: 'actual' });
    expect(res.status).toBe(422);
    expect(res.body.error?.code).toBe('hash-mismatch');
    expect(await fx.drive('ada').stat('personal', 'x.txt')).toBeNull();
    expect(await readdir(join(fx.dataDir, 'tmp'))).toEqual([]);
    expect(await readdir(join(fx.dataDir, 'blobs'))).toEqual([]);
  });

  it('commits nothing when the connection is cut halfway through an upload', async () => {
    await cutUpload(fx, '/v1/spaces/personal/content?path=cut.bin', { 'x-foldsync-sha256': sha(Buffer.alloc(1 << 20, 3)) }, 1 << 20, 1 << 19);
    await until(async () => (await readdir(join(fx.dataDir, 'tmp'))).length === 0);
    expect(await fx.drive('ada').stat('personal', 'cut.bin')).toBeNull();
    expect(await readdir(join(fx.dataDir, 'blobs'))).toEqual([]);
  });

  it('refuses a malformed batched upload as a whole, committing nothing', async () => {
    const batch = (items: unknown, bytes: Buffer, manifestHeader?: string) => {
      const manifest = Buffer.from(JSON.stringify({ items }));
      return call(fx, 'POST', '/v1/spaces/personal/batch', {
        headers: { 'x-foldsync-manifest-bytes': manifestHeader ?? String(manifest.length) },
        body: Buffer.concat([manifest, bytes]),
      });
    };
    const one = { path: 'a.txt', size: 1, hash: sha('a') };
    expect((await call(fx, 'POST', '/v1/spaces/personal/batch', { body: 'x' })).body.error?.code).toBe('bad-request');
    expect((await batch([one], Buffer.from('a'), '2')).body.error?.code).toBe('bad-request');
    expect((await batch([one], Buffer.from('ab'))).body.error?.code).toBe('bad-request');
    expect((await batch({ not: 'a list' }, Buffer.alloc(0))).body.error?.code).toBe('bad-request');
    expect((await batch([{ ...one, size: -1 }], Buffer.from('a'))).body.error?.code).toBe('bad-request');
    expect((await batch(Array.from({ length: BATCH_LIMITS.maxItems + 1 }, () => ({ ...one, size: 0 })), Buffer.alloc(0))).body.error?.code).toBe('too-large');
    const big = Buffer.alloc(BATCH_LIMITS.maxItemBytes + 1);
    expect((await batch([{ path: 'big', size: big.length, hash: sha(big) }], big)).body.error?.code).toBe('too-large');
    expect((await fx.drive('ada').list('personal', '', { recursive: true })).length).toBe(0);
    const ok = await batch([one], Buffer.from('a'));
    expect(ok.status).toBe(200);
    expect((ok.body['results'] as { ok: boolean }[])[0]?.ok).toBe(true);
  });

  it('commits nothing of a batched upload whose connection is cut', async () => {
    const manifest = Buffer.from(JSON.stringify({ items: [{ path: 'one.txt', size: 3, hash: sha('one') }, { path: 'two.bin', size: 1 << 16, hash: sha(Buffer.alloc(1 << 16, 3)) }] }));
    await cutUpload(fx, '/v1/spaces/personal/batch', { 'x-foldsync-manifest-bytes': String(manifest.length) }, manifest.length + 3 + (1 << 16), Buffer.concat([manifest, Buffer.from('one'), Buffer.alloc(1000, 3)]), 'POST');
    await until(async () => fx.server.stats().inflight === 0);
    expect(await fx.drive('ada').list('personal', '', { recursive: true })).toEqual([]);
  });

  it('keeps what arrived of a cut resumable upload, which then continues and commits', async () => {
    const bytes = Buffer.alloc(1 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 256;
    const hash = sha(bytes);
    const session = await call(fx, 'POST', '/v1/spaces/personal/uploads', { body: JSON.stringify({ path: 'resume.bin', size: bytes.length, hash }) });
    expect(session.status).toBe(200);
    const id = String(session.body['id']);
    const url = `/v1/spaces/personal/uploads/${id}`;
    await new Promise<void>((resolve) => {
      const u = new URL(`${fx.server.url}${url}?offset=0`);
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'PUT', headers: { authorization: `Bearer ${fx.tokens.get('ada') ?? ''}`, 'content-length': String(bytes.length) } });
      req.on('error', () => { resolve(); });
      req.on('close', () => { resolve(); });
      req.write(bytes.subarray(0, 600_000), () => setTimeout(() => req.destroy(), 50));
    });
    // Wait until the server has finished with the cut request (a resend is then no longer "busy").
    let received = 0;
    await until(async () => {
      received = Number((await call(fx, 'GET', url)).body['received']);
      if (received === 0) return false;
      const res = await call(fx, 'PUT', `${url}?offset=${received}`, { body: bytes.subarray(received) });
      if (res.status === 409 && (res.body.error as { details?: { reason?: string } } | undefined)?.details?.reason === 'busy') return false;
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return true;
    });
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(600_000);
    expect(await fx.drive('ada').stat('personal', 'resume.bin')).toBeNull();
    const commit = await call(fx, 'POST', `${url}/commit`);
    expect(commit.status).toBe(200);
    expect(commit.body).toMatchObject({ path: 'resume.bin', size: bytes.length, hash });
    const drive = fx.drive('ada');
    expect(sha(await readAll(await drive.download('personal', String(commit.body['id']))))).toBe(hash);
  });

  it('resumes a client upload whose source fails halfway, from what the server holds', async () => {
    const bytes = Buffer.alloc(200 * 1024, 9);
    let failed = false;
    const drive = fx.drive('ada');
    const entry = await drive.upload(
      'personal',
      { path: 'flaky.bin' },
      (start, end) =>
        (async function* () {
          await Promise.resolve();
          if (!failed && start >= 64 * 1024) {
            failed = true;
            yield bytes.subarray(start, start + 1000);
            throw new Error('disk hiccup');
          }
          yield bytes.subarray(start, end);
        })(),
      { size: bytes.length, hash: sha(bytes), baseVersion: null },
    );
    expect(failed).toBe(true);
    expect(entry.hash).toBe(sha(bytes));
  });

  it('refuses a commit before all bytes arrived, and a chunk past the bytes received', async () => {
    const session = await call(fx, 'POST', '/v1/spaces/personal/uploads', { body: JSON.stringify({ path: 'p.bin', size: 10, hash: sha('0123456789') }) });
    const url = `/v1/spaces/personal/uploads/${String(session.body['id'])}`;
    expect((await call(fx, 'POST', `${url}/commit`)).body.error?.code).toBe('incomplete');
    expect((await call(fx, 'PUT', `${url}?offset=5`, { body: '56789' })).body.error?.code).toBe('incomplete');
    expect((await call(fx, 'PUT', `${url}?offset=0`, { body: '0123456789ABC' })).body.error?.code).toBe('too-large');
  });

  it('lets exactly one of two clients writing from the same version win', async () => {
    const a = fx.drive('ada');
    const b = fx.drive('ada');
    const v1 = await put(a, 'personal', 'same.txt', 'v1');
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => put(i % 2 === 0 ? a : b, 'personal', 'same.txt', `writer ${i}`, v1.version)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isFoldsyncError(r.reason, 'conflict')).toBe(true);
    expect(await a.versions('personal', v1.id)).toHaveLength(2);
  });

  it('answers a refused large upload with its error, not a broken connection', async () => {
    const drive = fx.drive('ada');
    const v1 = await put(drive, 'personal', 'big.bin', 'small first');
    const big = Buffer.alloc(8 * 1024 * 1024, 5);
    const oneShot = createHttpRemoteDrive({ baseUrl: fx.server.url, token: fx.tokens.get('ada') ?? '', attempts: 1 });
    await rejectsWith(oneShot.upload('personal', { path: 'big.bin' }, big, { size: big.length, hash: sha(big), baseVersion: 'v-stale' }), 'conflict');
    // The connection is still usable afterwards.
    expect((await oneShot.stat('personal', 'big.bin'))?.version).toBe(v1.version);
    await oneShot.close();
  });

  it('serves suffix ranges and refuses ranges outside the file', async () => {
    const f = await put(fx.drive('ada'), 'personal', 'r.txt', '0123456789');
    const suffix = await request(`${fx.server.url}/v1/spaces/personal/items/${f.id}/content`, { headers: { authorization: `Bearer ${fx.tokens.get('ada') ?? ''}`, range: 'bytes=-3' } });
    expect(suffix.statusCode).toBe(206);
    expect(suffix.headers['content-range']).toBe('bytes 7-9/10');
    expect(await suffix.body.text()).toBe('789');
    for (const range of ['bytes=10-', 'bytes=5-2', 'bytes=0-1,3-4', 'items=0-1']) {
      const res = await call(fx, 'GET', `/v1/spaces/personal/items/${f.id}/content`, { headers: { range } });
      expect(res.status, range).toBe(400);
      expect(res.body.error?.code).toBe('bad-request');
    }
  });

  it('ends a feed wait with an empty page when nothing changes', async () => {
    const d = fx.drive('ada');
    const cursor = await d.cursor('personal');
    expect(await d.changes('personal', cursor, { waitSeconds: 1 })).toEqual({ changes: [], cursor, more: false });
  });

  it('refuses an upload past the quota with a quota error', async () => {
    await fx.setQuota('personal:ada', 100);
    const res = await call(fx, 'PUT', '/v1/spaces/personal/content?path=q.bin', { headers: { 'x-foldsync-sha256': sha(Buffer.alloc(101)) }, body: Buffer.alloc(101) });
    expect(res.status).toBe(507);
    expect(res.body.error?.code).toBe('quota');
  });

  it('limits JSON bodies and demands a Content-Length for contents', async () => {
    const res = await call(fx, 'POST', '/v1/spaces/personal/folders', { body: JSON.stringify({ path: 'x', pad: 'y'.repeat(70_000) }) });
    expect(res.status).toBe(413);
    const chunked = await request(`${fx.server.url}/v1/spaces/personal/content?path=c.txt`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${fx.tokens.get('ada') ?? ''}`, 'x-foldsync-sha256': sha('x') },
      body: Readable.from([Buffer.from('x')]),
    });
    expect(chunked.statusCode).toBe(400);
    await chunked.body.dump();
  });
});

describe('the data folder at start', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foldsync-cloud-start-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a folder another server is using', async () => {
    const first = await startCloudServer({ dataDir: dir });
    try {
      await rejectsWith(startCloudServer({ dataDir: dir, busyTimeoutMs: 100 }), 'data-locked');
    } finally {
      await first.close();
    }
    const again = await startCloudServer({ dataDir: dir });
    await again.close();
  });

  it('releases the data folder when the port is taken', async () => {
    const other = await mkdtemp(join(tmpdir(), 'foldsync-cloud-port-'));
    const first = await startCloudServer({ dataDir: other });
    try {
      let error: unknown;
      await startCloudServer({ dataDir: dir, port: first.port }).catch((e: unknown) => {
        error = e;
      });
      expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
      const again = await startCloudServer({ dataDir: dir });
      await again.close();
    } finally {
      await first.close();
      await rm(other, { recursive: true, force: true });
    }
  });

  it('refuses a database another process holds locked, with a clear error', async () => {
    const first = await startCloudServer({ dataDir: dir });
    await first.close();
    const holder = new Database(join(dir, 'meta.db'));
    holder.exec('BEGIN EXCLUSIVE');
    try {
      let error: unknown;
      await startCloudServer({ dataDir: dir, busyTimeoutMs: 100 }).catch((e: unknown) => {
        error = e;
      });
      expect(isFoldsyncError(error, 'data-locked')).toBe(true);
      expect((error as Error).message).toMatch(/locked/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('checks the whole database at start after a crash, not after a clean stop (which leaves a mark the next start removes)', async () => {
    const first = await startCloudServer({ dataDir: dir });
    const { token } = await first.data.core.addUser('ada');
    const drive = createHttpRemoteDrive({ baseUrl: first.url, token });
    for (let i = 0; i < 200; i++) await drive.mkdir('personal', `folder-with-a-long-enough-name-${i}`);
    await drive.close();
    await first.close();
    expect((await readdir(dir)).includes('meta.clean')).toBe(true);
    const second = await startCloudServer({ dataDir: dir });
    // Running: a crash now must leave no mark behind.
    expect((await readdir(dir)).includes('meta.clean')).toBe(false);
    await second.close();
    // A crash (no mark) with a damaged page deep in the file: the full check at start finds it.
    await rm(join(dir, 'meta.clean'));
    const bytes = await readFile(join(dir, 'meta.db'));
    const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
    const pages = bytes.length / pageSize;
    expect(pages).toBeGreaterThan(4);
    for (let p = 2; p < pages; p++) bytes.fill(0xa5, p * pageSize + 8, p * pageSize + 64);
    await writeFile(join(dir, 'meta.db'), bytes);
    await rejectsWith(startCloudServer({ dataDir: dir }), 'data-corrupt');
  });

  it('refuses a corrupted database and leaves it as it was (no silent reset)', async () => {
    const first = await startCloudServer({ dataDir: dir });
    await first.data.core.addUser('ada');
    await first.close();
    const garbage = Buffer.alloc(8192, 0x5a);
    await writeFile(join(dir, 'meta.db'), garbage);
    await rm(join(dir, 'meta.db-wal'), { force: true });
    await rm(join(dir, 'meta.db-shm'), { force: true });
    await rejectsWith(startCloudServer({ dataDir: dir }), 'data-corrupt');
    expect(await readFile(join(dir, 'meta.db'))).toEqual(garbage);
  });

  it('drops abandoned upload sessions and stray partial files at start', async () => {
    const first = await startCloudServer({ dataDir: dir });
    const { token } = await first.data.core.addUser('ada');
    const open = async (url: string): Promise<string> => {
      const res = await request(`${url}/v1/spaces/personal/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ path: 'p.bin', size: 10, hash: sha('0123456789') }) });
      return ((await res.body.json()) as { id: string }).id;
    };
    const id = await open(first.url);
    await writeFile(join(dir, 'uploads', 'u-stray.part'), 'stray');
    await first.close();
    const kept = await startCloudServer({ dataDir: dir });
    expect(await readdir(join(dir, 'uploads'))).toEqual([`${id}.part`]);
    await kept.close();
    const expiring = await startCloudServer({ dataDir: dir, uploadTtlMs: 0 });
    expect(await readdir(join(dir, 'uploads'))).toEqual([]);
    const res = await request(`${expiring.url}/v1/spaces/personal/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
    await expiring.close();
  });

  it('keeps every acknowledged write across a close and restart, and ends waiting feed readers on close', async () => {
    const server = await startCloudServer({ dataDir: dir });
    const { token } = await server.data.core.addUser('ada');
    const drive = createHttpRemoteDrive({ baseUrl: server.url, token });
    const written = await put(drive, 'personal', 'kept.txt', 'kept');
    const waiting = drive.changes('personal', await drive.cursor('personal'), { waitSeconds: 60 });
    await until(async () => server.stats().waiting === 1);
    await server.close();
    expect((await waiting).changes).toEqual([]);
    await drive.close();
    const restarted = await startCloudServer({ dataDir: dir });
    const again = createHttpRemoteDrive({ baseUrl: restarted.url, token });
    expect(await again.stat('personal', 'kept.txt')).toEqual(written);
    expect((await readAll(await again.download('personal', written.id))).toString()).toBe('kept');
    await again.close();
    await restarted.close();
  });
});
