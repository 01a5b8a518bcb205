/**
 * Durability of acknowledged writes: a server process killed (SIGKILL) while uploads of every
 * kind are in flight (one-request small files kept inline, batched uploads, a blob file) leaves
 * a data folder that opens cleanly and holds every upload the server answered, byte for byte.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { put, sha } from '../../test/remote-drive-contract.js';
import { createHttpRemoteDrive } from '../io/http-remote-drive.js';
import { readAll, type RemoteDrive, type UploadItem } from '../io/remote-drive.js';
import { BATCH_LIMITS } from '../lib/cloud-api.js';
import { openCloudData } from './open-data.js';
import { startCloudServer } from './server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const child = join(root, 'test/fixtures/cloud-server-child.ts');

it('keeps every acknowledged upload when the server process is killed mid-stream', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'foldsync-cloud-crash-'));
  try {
    const data = await openCloudData({ dataDir: dir });
    const { token } = await data.core.addUser('ada');
    await data.close();
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((done) => proc.once('exit', () => { done(); }));
    const { url } = JSON.parse(await new Promise<string>((ready) => createInterface({ input: proc.stdout }).once('line', ready))) as { url: string };
    const drive: RemoteDrive = createHttpRemoteDrive({ baseUrl: url, token, attempts: 1 });
    const acked = new Map<string, Buffer>();
    const content = (name: string, size = 700): Buffer => Buffer.alloc(size, name);
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        try {
          if (n % 5 === 4) {
            const items: UploadItem[] = Array.from({ length: 20 }, (_, k) => {
              const body = content(`b${w}-${n}-${k}`);
              return { target: { path: `batch/${w}/${n}/${k}.txt` }, body, hash: sha(body), baseVersion: null };
            });
            const results = await drive.uploadMany!('personal', items);
            results.forEach((r, k) => {
              if (r.ok) acked.set(r.entry.path, items[k]!.body as Buffer);
            });
          } else {
            const path = `single/${w}/${n}.txt`;
            const body = n === 2 ? content(path, BATCH_LIMITS.maxItemBytes + 10) : content(path);
            const entry = await put(drive, 'personal', path, body);
            acked.set(entry.path, body);
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 5));
    proc.kill('SIGKILL');
    await exited;
    stop = true;
    await Promise.all(workers);
    await drive.close();

    const server = await startCloudServer({ dataDir: dir });
    const d = createHttpRemoteDrive({ baseUrl: server.url, token });
    try {
      const stored = new Map((await d.list('personal', '', { recursive: true })).map((e) => [e.path, e]));
      const missing = [...acked.keys()].filter((p) => stored.get(p)?.hash !== sha(acked.get(p)!));
      expect(missing).toEqual([]);
      for (const [path, body] of acked) {
        expect((await readAll(await d.download('personal', stored.get(path)!.id))).equals(body)).toBe(true);
      }
    } finally {
      await d.close();
      await server.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
