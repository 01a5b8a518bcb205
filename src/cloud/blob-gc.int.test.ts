import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServerFixture, type ServerFixture } from '../../test/cloud-fixture.js';
import { put, sha } from '../../test/remote-drive-contract.js';
import { createHttpRemoteDrive } from '../io/http-remote-drive.js';
import { readAll } from '../io/remote-drive.js';
import { BATCH_LIMITS } from '../lib/cloud-api.js';
import { startCloudServer, type CloudServer } from './server.js';

async function blobFiles(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name).sort();
}

async function inlineBlobs(server: CloudServer): Promise<string[]> {
  return (await server.data.db.selectFrom('inline_blobs').select('hash').orderBy('hash').execute()).map((r) => r.hash);
}

/** Every stored content: blob files and contents kept inline in the database. */
async function stored(server: CloudServer, dataDir: string): Promise<string[]> {
  return [...(await blobFiles(dataDir)), ...(await inlineBlobs(server))].sort();
}

describe('blob garbage collection', () => {
  let fx: ServerFixture;
  beforeEach(async () => {
    fx = await startServerFixture();
    await fx.addUser('ada');
  });
  afterEach(async () => {
    await fx.close();
  });

  it('keeps a blob while any version refers to it, and removes it after the last purge', async () => {
    const d = fx.drive('ada');
    const a = await put(d, 'personal', 'a.txt', 'shared content');
    const b = await d.copy('personal', a.id, 'b.txt');
    expect(await stored(fx.server, fx.dataDir)).toEqual([sha('shared content')]);
    await d.purge('personal', (await d.delete('personal', a.id, null)).id);
    expect(await stored(fx.server, fx.dataDir)).toEqual([sha('shared content')]);
    await d.purge('personal', (await d.delete('personal', b.id, null)).id);
    expect(await stored(fx.server, fx.dataDir)).toEqual([]);
    expect((await d.spaces())[0]?.used).toBe(0);
  });

  it('removes the blobs of versions past retention, never the current one', async () => {
    const d = fx.drive('ada');
    let e = await put(d, 'personal', 'v.txt', 'v1');
    for (const text of ['v2', 'v3', 'v4', 'v5']) e = await put(d, 'personal', 'v.txt', text, e.version);
    expect(await stored(fx.server, fx.dataDir)).toEqual([sha('v3'), sha('v4'), sha('v5')].sort());
    const versions = await d.versions('personal', e.id);
    expect(versions.map((v) => v.hash)).toEqual([sha('v5'), sha('v4'), sha('v3')]);
    expect(versions[0]?.current).toBe(true);
    expect((await d.spaces())[0]?.used).toBe(6);
  });

  it('stores no blob for an upload refused as a conflict', async () => {
    const d = fx.drive('ada');
    const v1 = await put(d, 'personal', 'c.txt', 'one');
    await put(d, 'personal', 'c.txt', 'two', v1.version);
    await expect(put(d, 'personal', 'c.txt', 'three', v1.version)).rejects.toThrow();
    expect(await stored(fx.server, fx.dataDir)).toEqual([sha('one'), sha('two')].sort());
  });

  it('keeps small contents in the database and large ones as blob files, and collects both', async () => {
    const d = fx.drive('ada');
    const big = (n: number): Buffer => Buffer.alloc(BATCH_LIMITS.maxItemBytes + 1, n);
    let e = await put(d, 'personal', 'big.bin', big(1));
    e = await put(d, 'personal', 'big.bin', 'small now', e.version);
    expect(await blobFiles(fx.dataDir)).toEqual([sha(big(1))]);
    expect(await inlineBlobs(fx.server)).toEqual([sha('small now')]);
    for (const n of [2, 3]) e = await put(d, 'personal', 'big.bin', big(n), e.version);
    // Three versions kept: the first (a file) is gone, the small one stays inline.
    expect(await blobFiles(fx.dataDir)).toEqual([sha(big(2)), sha(big(3))].sort());
    e = await put(d, 'personal', 'big.bin', big(4), e.version);
    expect(await inlineBlobs(fx.server)).toEqual([]);
    expect((await readAll(await d.download('personal', e.id))).equals(big(4))).toBe(true);
  });
});

describe('blob sweep at start', () => {
  it('after a clean stop the inline contents are not swept (nothing is left behind but by a crash)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'foldsync-cloud-sweep-'));
    try {
      const first = await startCloudServer({ dataDir: dir });
      await first.data.db.insertInto('inline_blobs').values({ hash: sha('orphan inline'), data: Buffer.from('orphan inline') }).execute();
      expect(first.data.cleanStart).toBe(false);
      await first.close();
      const second = await startCloudServer({ dataDir: dir });
      expect(second.data.cleanStart).toBe(true);
      expect(await inlineBlobs(second)).toEqual([sha('orphan inline')]);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('removes blobs no version refers to (left by a crash) and keeps the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'foldsync-cloud-sweep-'));
    try {
      const first = await startCloudServer({ dataDir: dir });
      const { token } = await first.data.core.addUser('ada');
      const d = createHttpRemoteDrive({ baseUrl: first.url, token });
      await put(d, 'personal', 'kept.txt', 'kept');
      await d.close();
      await first.close();
      const big = Buffer.alloc(BATCH_LIMITS.maxItemBytes + 1, 7);
      const reopened = await startCloudServer({ dataDir: dir });
      const d2 = createHttpRemoteDrive({ baseUrl: reopened.url, token });
      await put(d2, 'personal', 'big.bin', big);
      await d2.close();
      // A crash between a commit and its garbage collection leaves an inline content no version uses.
      await reopened.data.db.insertInto('inline_blobs').values({ hash: sha('orphan inline'), data: Buffer.from('orphan inline') }).execute();
      await reopened.close();
      // ... and no clean-stop mark, which the crash would not have written.
      await rm(join(dir, 'meta.clean'));
      const stray = sha('orphan');
      await mkdir(join(dir, 'blobs', stray.slice(0, 2), stray.slice(2, 4)), { recursive: true });
      await writeFile(join(dir, 'blobs', stray.slice(0, 2), stray.slice(2, 4), stray), 'orphan');
      expect(await blobFiles(dir)).toEqual([sha(big), stray].sort());
      const second = await startCloudServer({ dataDir: dir });
      for (let i = 0; i < 500 && second.stats().sweepingBlobs; i++) await sleep(20);
      expect(await blobFiles(dir)).toEqual([sha(big)]);
      expect(await inlineBlobs(second)).toEqual([sha('kept')]);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
