import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServerFixture, type ServerFixture } from '../../test/cloud-fixture.js';
import { put, sha } from '../../test/remote-drive-contract.js';
import { createHttpRemoteDrive } from '../io/http-remote-drive.js';
import { startCloudServer } from './server.js';

async function blobs(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name).sort();
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
    expect(await blobs(fx.dataDir)).toEqual([sha('shared content')]);
    await d.purge('personal', (await d.delete('personal', a.id, null)).id);
    expect(await blobs(fx.dataDir)).toEqual([sha('shared content')]);
    await d.purge('personal', (await d.delete('personal', b.id, null)).id);
    expect(await blobs(fx.dataDir)).toEqual([]);
    expect((await d.spaces())[0]?.used).toBe(0);
  });

  it('removes the blobs of versions past retention, never the current one', async () => {
    const d = fx.drive('ada');
    let e = await put(d, 'personal', 'v.txt', 'v1');
    for (const text of ['v2', 'v3', 'v4', 'v5']) e = await put(d, 'personal', 'v.txt', text, e.version);
    expect(await blobs(fx.dataDir)).toEqual([sha('v3'), sha('v4'), sha('v5')].sort());
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
    expect(await blobs(fx.dataDir)).toEqual([sha('one'), sha('two')].sort());
  });
});

describe('blob sweep at start', () => {
  it('removes blobs no version refers to (left by a crash) and keeps the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'foldsync-cloud-sweep-'));
    try {
      const first = await startCloudServer({ dataDir: dir });
      const { token } = await first.data.core.addUser('ada');
      const d = createHttpRemoteDrive({ baseUrl: first.url, token });
      await put(d, 'personal', 'kept.txt', 'kept');
      await d.close();
      await first.close();
      const stray = sha('orphan');
      await mkdir(join(dir, 'blobs', stray.slice(0, 2), stray.slice(2, 4)), { recursive: true });
      await writeFile(join(dir, 'blobs', stray.slice(0, 2), stray.slice(2, 4), stray), 'orphan');
      expect(await blobs(dir)).toEqual([sha('kept'), stray].sort());
      const second = await startCloudServer({ dataDir: dir });
      for (let i = 0; i < 500 && second.stats().sweepingBlobs; i++) await sleep(20);
      expect(await blobs(dir)).toEqual([sha('kept')]);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
