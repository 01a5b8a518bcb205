import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from './engine.js';
import { embeddedWanted, prestartEmbedded, releasePrestarted, snapshotsWanted, startEmbedded, takePrestarted } from './embedded-start.js';

const dirs: string[] = [];
afterEach(async () => {
  await releasePrestarted();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'foldsync-prestart-'));
  dirs.push(d);
  return join(d, 'home');
}

describe('the embedded cloud started before foldsync loads (bin/foldsync.js)', () => {
  it('is wanted for run and sync with no cloud given, in the data folder the CLI would use', () => {
    const env = { FOLDSYNC_HOME: '/h' };
    expect(embeddedWanted(['node', 'foldsync', 'run', '--once'], env)).toBe('/h');
    expect(embeddedWanted(['node', 'foldsync', '--data', 'rel', 'sync', 'x'], env)).toBe(resolve('rel'));
    expect(embeddedWanted(['node', 'foldsync', 'run', '--data=/d'], env)).toBe('/d');
    expect(embeddedWanted(['node', 'foldsync', '--token', 'run', 'task', 'list'], env)).toBeNull();
    // A run reads its snapshots ahead, whatever its cloud; no other command does.
    expect(snapshotsWanted(['node', 'foldsync', 'run', '--once'], env)).toBe(join('/h', 'snapshots'));
    expect(snapshotsWanted(['node', 'foldsync', '--cloud-url', 'http://x', 'run', '--data=/d'], env)).toBe(join('/d', 'snapshots'));
    expect(snapshotsWanted(['node', 'foldsync', 'sync', 'run'], env)).toBeNull();
    expect(snapshotsWanted(['node', 'foldsync', 'run', '--help'], env)).toBeNull();
    expect(embeddedWanted(['node', 'foldsync', 'task', 'list'], env)).toBeNull();
    expect(embeddedWanted(['node', 'foldsync', 'run', '--cloud-url', 'http://x'], env)).toBeNull();
    expect(embeddedWanted(['node', 'foldsync', 'run', '--help'], env)).toBeNull();
    expect(embeddedWanted(['node', 'foldsync', 'run'], { ...env, FOLDSYNC_CLOUD: 'http://x' })).toBeNull();
  });

  it('the engine of that data folder takes it (no second server), with the credentials it made', async () => {
    const dir = dataDir();
    prestartEmbedded(dir);
    const engine = await createEngine({ dataDir: dir });
    try {
      expect(takePrestarted(dir)).toBeNull();
      const root = mkdtempSync(join(tmpdir(), 'foldsync-prestart-root-'));
      dirs.push(root);
      const task = await engine.createTask({ localRoot: root, cloud: 'personal:/p' });
      expect((await engine.syncOnce(task.taskId)).get(task.taskId)?.status).toBe('completed');
    } finally {
      await engine.close();
    }
  });

  it('one no engine took is closed by releasePrestarted, leaving the data folder free', async () => {
    const dir = dataDir();
    prestartEmbedded(dir);
    await releasePrestarted();
    const again = await startEmbedded(dir);
    await again.cloud.close();
  });
});
