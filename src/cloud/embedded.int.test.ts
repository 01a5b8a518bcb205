/**
 * The embedded cloud in its worker thread (ADR 0097): it serves, it makes the user it is asked
 * for, it stops, and a start that fails gives the same typed errors as `startCloudServer`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFoldsyncError } from '../lib/errors.js';
import { createHttpRemoteDrive } from '../io/http-remote-drive.js';
import { startEmbeddedCloud } from './embedded.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'foldsync-embedded-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the embedded cloud in its own thread', () => {
  it('serves the user it made, keeps what it was given across a restart, and stops', async () => {
    const cloud = await startEmbeddedCloud({ dataDir: dir, addUser: 'local' });
    expect(cloud.token).toMatch(/^fst_/);
    const drive = createHttpRemoteDrive({ baseUrl: cloud.url, token: cloud.token ?? '' });
    await drive.mkdir('personal', 'Docs');
    await drive.close();
    await cloud.close();
    await cloud.close();
    // Stopped: nothing listens there any more.
    const gone = createHttpRemoteDrive({ baseUrl: cloud.url, token: cloud.token ?? '', attempts: 1, headersTimeoutMs: 1000 });
    await expect(gone.spaces()).rejects.toThrow();
    await gone.close();
    const again = await startEmbeddedCloud({ dataDir: dir, addUser: null });
    expect(again.token).toBeNull();
    const back = createHttpRemoteDrive({ baseUrl: again.url, token: cloud.token ?? '' });
    expect((await back.stat('personal', 'Docs'))?.kind).toBe('dir');
    await back.close();
    await again.close();
  });

  it('a second server on the same data folder is refused with data-locked', async () => {
    const first = await startEmbeddedCloud({ dataDir: dir, addUser: null });
    const error: unknown = await startEmbeddedCloud({ dataDir: dir, addUser: null }).catch((e: unknown) => e);
    expect(isFoldsyncError(error, 'data-locked')).toBe(true);
    await first.close();
  });

  it('a damaged metadata database is refused with data-corrupt', async () => {
    writeFileSync(join(dir, 'meta.db'), 'this is not a database, it is a text file of some length '.repeat(100));
    const error: unknown = await startEmbeddedCloud({ dataDir: dir, addUser: null }).catch((e: unknown) => e);
    expect(isFoldsyncError(error, 'data-corrupt')).toBe(true);
    expect((error as Error).message).toMatch(/meta\.db/);
  });
});
