/**
 * The `foldsync cloud` and `foldsync remote` commands end to end: the built CLI (bin/foldsync.js)
 * in child processes, a server it starts on 127.0.0.1 port 0, and a user's session against it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'foldsync.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function foldsync(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, FOLDSYNC_CLOUD: '', FOLDSYNC_TOKEN: '', ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

function serve(data: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'cloud', 'serve', '--data', data, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1] !== undefined) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => {
      reject(new Error(`serve exited with ${String(code)} before listening: ${out}`));
    });
  });
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => {
      resolve(code);
    });
    child.kill(signal);
  });
}

// Each command is a fresh Node process: slow on a shared machine, hence the generous timeout.
describe('foldsync cloud and remote, end to end', { timeout: 180_000 }, () => {
  let dir: string;
  let data: string;
  let server: { child: ChildProcess; url: string } | null = null;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    // The CLI runs from dist/: build it as `npm test` would.
    await new Promise<void>((resolve, reject) => {
      execFile('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root }, (error) => {
        if (error === null) resolve();
        else reject(new Error(`build failed: ${error.message}`));
      });
    });
    dir = await mkdtemp(join(tmpdir(), 'foldsync-e2e-cloud-'));
    data = join(dir, 'cloud');
  }, 120_000);

  afterAll(async () => {
    if (server !== null) await stop(server.child, 'SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('administers a data folder: users, spaces, members, shares, transfers, quotas', async () => {
    for (const user of ['ada', 'bea']) {
      const r = await foldsync(['cloud', 'user', 'add', user, '--data', data]);
      expect(r.code, r.stderr).toBe(0);
      tokens[user] = r.stdout.trim();
      expect(tokens[user]).toMatch(/^fst_/);
    }
    expect((await foldsync(['cloud', 'user', 'add', 'ada', '--data', data])).stderr).toMatch(/already exists/);
    expect((await foldsync(['cloud', 'space', 'add', 'team', '--type', 'team', '--data', data])).code).toBe(0);
    expect((await foldsync(['cloud', 'member', 'add', 'team', 'bea', '--role', 'backer', '--data', data])).code).toBe(0);
    expect((await foldsync(['cloud', 'member', 'add', 'team', 'ada', '--role', 'synchronizer', '--data', data])).code).toBe(0);
    expect((await foldsync(['cloud', 'share', 'add', 'inbox', '--to', 'ada', '--data', data])).code).toBe(0);
    expect((await foldsync(['cloud', 'transfer', 'add', 'gift', '--to', 'bea', '--data', data])).code).toBe(0);
    expect((await foldsync(['cloud', 'quota', 'set', 'team', '1M', '--data', data])).code).toBe(0);
    const bad = await foldsync(['cloud', 'member', 'add', 'team', 'bea', '--role', 'boss', '--data', data]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/role must be one of/);
  });

  it('serves, and a user works on the cloud side with remote commands', async () => {
    server = await serve(data);
    const env = { FOLDSYNC_CLOUD: server.url, FOLDSYNC_TOKEN: tokens['ada'] ?? '' };
    const spaces = await foldsync(['remote', 'spaces', '--json'], env);
    expect((JSON.parse(spaces.stdout) as { name: string }[]).map((s) => s.name)).toEqual(['inbox', 'personal', 'team']);

    const local = join(dir, 'a.txt');
    await writeFile(local, 'first');
    expect((await foldsync(['remote', 'put', local, 'personal:/docs/a.txt'], env)).code).toBe(0);
    await writeFile(local, 'second');
    expect((await foldsync(['remote', 'put', local, 'personal:/docs/a.txt'], env)).code).toBe(0);
    expect((await foldsync(['remote', 'cat', 'personal:/docs/a.txt'], env)).stdout).toBe('second');

    const versions = JSON.parse((await foldsync(['remote', 'versions', 'personal:/docs/a.txt', '--json'], env)).stdout) as { id: string; current: boolean }[];
    expect(versions.map((v) => v.current)).toEqual([true, false]);
    const old = versions[1]?.id ?? '';
    expect((await foldsync(['remote', 'cat', 'personal:/docs/a.txt', '--version-id', old], env)).stdout).toBe('first');
    expect((await foldsync(['remote', 'restore', 'personal:/docs/a.txt', '--version-id', old], env)).code).toBe(0);
    expect((await foldsync(['remote', 'cat', 'personal:/docs/a.txt'], env)).stdout).toBe('first');

    expect((await foldsync(['remote', 'mkdir', 'personal:/empty/inner'], env)).code).toBe(0);
    expect((await foldsync(['remote', 'mv', 'personal:/docs', 'personal:/papers'], env)).code).toBe(0);
    expect((await foldsync(['remote', 'cp', 'personal:/papers/a.txt', 'personal:/copy.txt'], env)).code).toBe(0);
    const ls = await foldsync(['remote', 'ls', '-r', 'personal:/', '--json'], env);
    expect((JSON.parse(ls.stdout) as { path: string }[]).map((e) => e.path)).toEqual(['copy.txt', 'empty', 'empty/inner', 'papers', 'papers/a.txt']);

    expect((await foldsync(['remote', 'rm', 'personal:/papers'], env)).code).toBe(0);
    const bin = JSON.parse((await foldsync(['remote', 'bin', 'personal', '--json'], env)).stdout) as { id: string; path: string }[];
    expect(bin.map((b) => b.path)).toEqual(['papers']);
    expect((await foldsync(['remote', 'restore', 'personal', '--bin', bin[0]?.id ?? ''], env)).code).toBe(0);
    expect((await foldsync(['remote', 'cat', 'personal:/papers/a.txt'], env)).stdout).toBe('first');
    expect((await foldsync(['remote', 'rm', 'personal:/copy.txt'], env)).code).toBe(0);
    const binned = JSON.parse((await foldsync(['remote', 'bin', 'personal', '--json'], env)).stdout) as { id: string }[];
    expect((await foldsync(['remote', 'bin', 'personal', '--purge', binned[0]?.id ?? ''], env)).code).toBe(0);
    expect((await foldsync(['remote', 'bin', 'personal', '--json'], env)).stdout.trim()).toBe('[]');

    const changes = await foldsync(['remote', 'changes', 'personal'], env);
    expect(changes.stdout).toMatch(/move\tdocs -> papers/);

    const missing = await foldsync(['remote', 'cat', 'personal:/nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nothing at personal:\/nope/);
  });

  it('enforces roles and says what is wrong with a missing token or bad name', async () => {
    const url = server?.url ?? '';
    const bea = { FOLDSYNC_CLOUD: url, FOLDSYNC_TOKEN: tokens['bea'] ?? '' };
    const local = join(dir, 'b.txt');
    await writeFile(local, 'backup');
    const twoWay = await foldsync(['remote', 'put', local, 'team:/b.txt'], bea);
    expect(twoWay.code).toBe(1);
    expect(twoWay.stderr).toMatch(/Backer may only run upload/);
    expect((await foldsync(['remote', '--mode', 'upload', 'put', local, 'team:/b.txt'], bea)).code).toBe(0);
    expect((await foldsync(['remote', 'put', local, 'gift:/b.txt'], bea)).code).toBe(0);

    const noToken = await foldsync(['remote', 'ls', 'personal:/'], { FOLDSYNC_CLOUD: url });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/no token/);
    const wrong = await foldsync(['remote', '--cloud-url', url, '--token', 'fst_wrong', 'ls', 'personal:/']);
    expect(wrong.stderr).toMatch(/token is not valid/);
    const badName = await foldsync(['remote', 'mkdir', `personal:/${'x'.repeat(300)}`], { FOLDSYNC_CLOUD: url, FOLDSYNC_TOKEN: tokens['ada'] ?? '' });
    expect(badName.stderr).toMatch(/too-long/);
  });

  it('stops cleanly on SIGTERM and keeps every acknowledged write', async () => {
    if (server === null) throw new Error('no server');
    expect(await stop(server.child, 'SIGTERM')).toBe(0);
    server = await serve(data);
    const ls = await foldsync(['remote', 'ls', '-r', 'personal:/', '--json'], { FOLDSYNC_CLOUD: server.url, FOLDSYNC_TOKEN: tokens['ada'] ?? '' });
    expect((JSON.parse(ls.stdout) as { path: string }[]).map((e) => e.path)).toEqual(['empty', 'empty/inner', 'papers', 'papers/a.txt']);
    expect(await stop(server.child, 'SIGINT')).toBe(0);
    server = null;
    const badPort = await foldsync(['cloud', 'serve', '--data', join(dir, 'other'), '--port', '99999']);
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toMatch(/not a port/);
  });
});
