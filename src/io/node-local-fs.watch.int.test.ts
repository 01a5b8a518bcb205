import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalFs, ScanItem, WatchChange, WatchOptions } from './local-fs.js';
import { LocalFsError } from './local-fs.js';
import { createNodeLocalFs } from './node-local-fs.js';
import { scanNodeTree } from './node-scan.js';

/** Polls until `pred` holds; generous, and never a timing assertion. */
async function until(pred: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  for (let waited = 0; waited < limitMs; waited += 25) {
    if (pred()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('real watcher and disk (issue 5 integration cases)', () => {
  let base: string;
  let root: string;
  let fs: LocalFs;
  let sub: Subscription | null;
  let changes: WatchChange[];
  const known = new Map<string, string>();
  const at = (p: string): string => join(root, p);

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'foldsync-watch-'));
    root = join(base, 'root');
    mkdirSync(root);
    fs = createNodeLocalFs({ root });
    sub = null;
    changes = [];
    known.clear();
  });
  afterEach(async () => {
    sub?.unsubscribe();
    // @parcel/watcher unsubscribes asynchronously; removing the folder under it first makes it complain.
    await sleep(200);
    rmSync(base, { recursive: true, force: true });
  });

  const watch = async (options: WatchOptions = {}): Promise<void> => {
    sub = fs.watch({ debounceMs: 50, knownId: (p) => known.get(p), ...options }).subscribe((b) => {
      changes.push(...b.changes);
    });
    // @parcel/watcher subscribes asynchronously: give it time to start before acting.
    await sleep(300);
  };
  const entry = (path: string): boolean => changes.some((c) => c.type === 'entry' && c.path === path);
  const learn = async (path: string): Promise<string> => {
    const m = await fs.stat(path);
    if (m === null) throw new Error(`missing ${path}`);
    known.set(path, m.fileId);
    return m.fileId;
  };

  it('create, modify, delete', async () => {
    writeFileSync(at('existing.txt'), 'one');
    await watch();
    writeFileSync(at('created.txt'), 'new');
    await until(() => entry('created.txt'), 'create');
    writeFileSync(at('existing.txt'), 'modified!');
    await until(() => changes.some((c) => c.type === 'entry' && c.path === 'existing.txt' && c.meta.size === 9), 'modify');
    rmSync(at('created.txt'));
    await until(() => changes.some((c) => c.type === 'gone' && c.path === 'created.txt'), 'delete');
  });

  it('rename and move across folders are reported as moves of the same identity', async () => {
    mkdirSync(at('a'));
    mkdirSync(at('b'));
    writeFileSync(at('a/file.txt'), 'x');
    mkdirSync(at('a/sub'));
    writeFileSync(at('a/sub/inner.txt'), 'y');
    const fileId = await learn('a/file.txt');
    const subId = await learn('a/sub');
    await watch();
    renameSync(at('a/file.txt'), at('a/renamed.txt'));
    await until(() => changes.some((c) => c.type === 'moved' && c.from === 'a/file.txt' && c.to === 'a/renamed.txt' && c.meta.fileId === fileId), 'rename');
    known.set('a/renamed.txt', fileId);
    renameSync(at('a/renamed.txt'), at('b/moved.txt'));
    await until(() => changes.some((c) => c.type === 'moved' && c.from === 'a/renamed.txt' && c.to === 'b/moved.txt'), 'move across folders');
    renameSync(at('a/sub'), at('b/sub'));
    await until(() => changes.some((c) => c.type === 'moved' && c.from === 'a/sub' && c.to === 'b/sub' && c.meta.fileId === subId), 'folder move');
    expect(changes.some((c) => c.type === 'gone' && (c.path === 'a/file.txt' || c.path === 'a/sub'))).toBe(false);
  });

  it('a new folder with files created at once: every file is reported', async () => {
    await watch();
    for (let d = 0; d < 5; d++) {
      mkdirSync(at(`new${d}/deep`), { recursive: true });
      for (let i = 0; i < 40; i++) writeFileSync(at(`new${d}/deep/f${i}.txt`), `${d}-${i}`);
    }
    await until(() => changes.filter((c) => c.type === 'entry' && /^new\d\/deep\/f\d+\.txt$/.test(c.path)).length >= 200, 'all 200 files');
  });

  it('10,000 files created in a burst: none missed (reported, or covered by a rescan the watcher asks for)', async () => {
    mkdirSync(at('burst'));
    await watch();
    for (let i = 0; i < 10_000; i++) writeFileSync(at(`burst/f${i}.txt`), `${i}`);
    const seen = new Set<string>();
    let rescans = 0;
    const missing = (): number => {
      let n = 0;
      for (let i = 0; i < 10_000; i++) if (!seen.has(`burst/f${i}.txt`)) n++;
      return n;
    };
    // Acts as the consumer would: entries are taken as they come, a rescan is scanned.
    for (let waited = 0; waited < 40_000 && missing() > 0; waited += 50) {
      for (const c of changes.splice(0)) {
        if (c.type === 'entry') seen.add(c.path);
        if (c.type === 'rescan') {
          rescans++;
          for await (const b of fs.scan(c.under)) for (const it of b) seen.add(it.path);
        }
      }
      await sleep(50);
    }
    expect(missing()).toBe(0);
    // A burst this size always asks for a rescan, whether or not the kernel queue overflowed this time.
    expect(rescans).toBeGreaterThan(0);
  });

  it("never reports the engine's own temporary files, and reports the download itself", async () => {
    await watch();
    writeFileSync(at('.foldsync-partial-manual'), 'x');
    await fs.writeFile('downloaded.bin', new Uint8Array(100_000), null);
    await until(() => entry('downloaded.bin'), 'download');
    await sleep(200);
    expect(changes.some((c) => 'path' in c && c.path.startsWith('.foldsync-partial-'))).toBe(false);
  });

  it('symlinks are reported as skipped, never followed', async () => {
    mkdirSync(at('target'));
    writeFileSync(at('target/t.txt'), 'x');
    await watch();
    symlinkSync(at('target'), at('link'));
    symlinkSync('/etc', at('outside'));
    await until(() => changes.some((c) => c.type === 'skipped' && c.path === 'link' && c.reason === 'symlink'), 'link skipped');
    await until(() => changes.some((c) => c.type === 'skipped' && c.path === 'outside'), 'outside link skipped');
    const items: ScanItem[] = [];
    for await (const b of fs.scan('')) items.push(...b);
    expect(items.map((i) => i.path).sort()).toEqual(['link', 'outside', 'target', 'target/t.txt']);
  });

  it('a watcher failure (the task folder itself deleted) asks for a full rescan', async () => {
    await watch();
    rmSync(root, { recursive: true });
    await until(() => changes.some((c) => c.type === 'rescan' && c.under === ''), 'rescan');
  });

  it('a file that changes while it is hashed is reported as changing, then hashes once it settles', async () => {
    writeFileSync(at('big.bin'), Buffer.alloc(32 * 1024 * 1024, 7));
    const hashing = fs.hash('big.bin');
    setImmediate(() => {
      appendFileSync(at('big.bin'), 'more');
    });
    expect(await hashing).toMatchObject({ status: 'changing' });
    expect(await fs.hash('big.bin')).toMatchObject({ status: 'hashed', fresh: true });
  });

  it('a download onto a file the user edits during the download is refused; the edit survives and no temp file is left', async () => {
    writeFileSync(at('doc.txt'), 'original');
    const planned = await fs.stat('doc.txt');
    async function* slowDownload(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('cloud part 1 ');
      // The user saves the document while the download is still running.
      writeFileSync(at('doc.txt'), 'the user edit');
      await sleep(10);
      yield new TextEncoder().encode('cloud part 2');
    }
    const error = await fs.writeFile('doc.txt', slowDownload(), planned).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalFsError);
    expect((error as LocalFsError).code).toBe('changed-locally');
    const { stream } = await fs.read('doc.txt');
    let text = '';
    for await (const c of stream) text += String(c);
    expect(text).toBe('the user edit');
    const items: ScanItem[] = [];
    for await (const b of fs.scan('')) items.push(...b);
    expect(items.map((i) => i.path)).toEqual(['doc.txt']);
  });

  it('unreadable files and folders are reported as skipped, not thrown (run as an unprivileged user when root)', async () => {
    mkdirSync(at('open'));
    writeFileSync(at('open/ok.txt'), 'x');
    writeFileSync(at('secret.txt'), 'x');
    mkdirSync(at('locked'));
    writeFileSync(at('locked/hidden.txt'), 'x');
    chmodSync(at('secret.txt'), 0o000);
    chmodSync(at('locked'), 0o000);
    const isRoot = process.getuid?.() === 0;
    let items: { path: string; type: string; reason?: string }[];
    if (isRoot) {
      // Root reads mode-000 entries anyway, so the scan runs in a child process as `nobody`.
      chmodSync(base, 0o755);
      for (const p of [root, at('open'), at('open/ok.txt'), at('secret.txt'), at('locked')]) chownSync(p, 65534, 65534);
      const script = `import { scanNodeTree } from ${JSON.stringify(new URL('./node-scan.ts', import.meta.url).href)};
        const scan = async (worker) => { const out = []; for await (const b of scanNodeTree(${JSON.stringify(root)}, '', { worker })) out.push(...b); return out; };
        const out = await scan('never');
        if (JSON.stringify(await scan('always')) !== JSON.stringify(out)) throw new Error('the worker scan differs from the in-thread scan');
        console.log(JSON.stringify(out));`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: process.cwd(), env: { ...process.env, HOME: base } });
      expect(r.status, r.stderr).toBe(0);
      items = JSON.parse(r.stdout) as typeof items;
    } else {
      items = [];
      for await (const b of fs.scan('')) items.push(...b);
      const onWorker: ScanItem[] = [];
      for await (const b of scanNodeTree(root, '', { worker: 'always' })) onWorker.push(...b);
      expect(onWorker).toEqual(items);
    }
    const by = new Map(items.map((i) => [i.path, i]));
    expect(by.get('secret.txt')).toMatchObject({ type: 'skipped', reason: 'unreadable' });
    expect(by.get('locked')).toMatchObject({ type: 'skipped', reason: 'unreadable' });
    expect(by.get('open/ok.txt')).toMatchObject({ type: 'entry' });
    expect(by.has('locked/hidden.txt')).toBe(false);
  });
});
