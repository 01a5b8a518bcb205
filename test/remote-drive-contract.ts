/**
 * The RemoteDrive contract: one suite that every implementation passes, the simulated drive (unit
 * tier) and the HTTP drive against the real server (integration tier). Fixtures keep 3 versions
 * per file and send files over 64 KiB through resumable sessions, so both paths are exercised.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SpaceRole } from '../src/lib/cloud-api.js';
import { isFoldsyncError } from '../src/lib/errors.js';
import type { SpaceType, SyncMode } from '../src/lib/model.js';
import { readAll, type FeedSpan, type RemoteDrive, type UploadItem, type UploadItemResult } from '../src/io/remote-drive.js';
import { BATCH_LIMITS } from '../src/lib/cloud-api.js';

/** What the suite needs from an implementation. */
export interface ContractFixture {
  addUser(name: string): Promise<void>;
  drive(user: string, mode?: SyncMode): RemoteDrive;
  addSpace(name: string, type: Exclude<SpaceType, 'personal'>, recipient?: { user: string; role: SpaceRole }): Promise<void>;
  setMember(space: string, user: string, role: SpaceRole): Promise<void>;
  setQuota(space: string, quota: number | null): Promise<void>;
  close(): Promise<void>;
}

/** SHA-256 hex of bytes. */
export function sha(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Uploads `text` to `path` as a new file (or a new version of `base`). */
export async function put(drive: RemoteDrive, space: string, path: string, text: string | Uint8Array, base: string | null = null) {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  return drive.upload(space, { path }, bytes, { size: bytes.length, hash: sha(bytes), baseVersion: base });
}

/** Expects `p` to reject with a FoldsyncError of `code`. */
export async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  expect(error, `expected a ${code} error`).toBeDefined();
  if (!isFoldsyncError(error)) throw error;
  expect(error.code).toBe(code);
}

/** Registers the contract suite for one implementation. */
export function describeRemoteDriveContract(name: string, makeFixture: () => Promise<ContractFixture>): void {
  describe(`RemoteDrive contract: ${name}`, () => {
    let fx: ContractFixture;
    let ada: RemoteDrive;
    const P = 'personal';

    beforeEach(async () => {
      fx = await makeFixture();
      await fx.addUser('ada');
      ada = fx.drive('ada');
    });
    afterEach(async () => {
      await fx.close();
    });

    it('lists the personal space and an empty root', async () => {
      const spaces = await ada.spaces();
      expect(spaces).toEqual([{ name: 'personal', type: 'personal', role: 'owner', quota: null, used: 0 }]);
      expect(await ada.list(P, '')).toEqual([]);
    });

    it('uploads a new file, stats it, downloads it whole and by range', async () => {
      const entry = await put(ada, P, 'docs/a.txt', 'hello world');
      expect(entry).toMatchObject({ kind: 'file', path: 'docs/a.txt', name: 'a.txt', size: 11, hash: sha('hello world') });
      expect(await ada.stat(P, 'docs/a.txt')).toEqual(entry);
      expect(await ada.statById(P, entry.id)).toEqual(entry);
      expect((await ada.stat(P, 'docs'))?.kind).toBe('dir');
      expect((await readAll(await ada.download(P, entry.id))).toString()).toBe('hello world');
      expect((await readAll(await ada.download(P, entry.id, { start: 6 }))).toString()).toBe('world');
      expect((await readAll(await ada.download(P, entry.id, { start: 0, end: 4 }))).toString()).toBe('hello');
      expect(await ada.stat(P, 'nope')).toBeNull();
    });

    it('uploads an empty file', async () => {
      const entry = await put(ada, P, 'empty', '');
      expect(entry.size).toBe(0);
      expect((await readAll(await ada.download(P, entry.id))).length).toBe(0);
    });

    it('uploads a large file through a resumable session', async () => {
      const big = Buffer.alloc(300 * 1024, 7);
      for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
      const entry = await put(ada, P, 'big.bin', big);
      expect(entry.hash).toBe(sha(big));
      expect(sha(await readAll(await ada.download(P, entry.id)))).toBe(sha(big));
    });

    it('makes a new version conditional on the base version; a stale base is a conflict', async () => {
      const v1 = await put(ada, P, 'a.txt', 'one');
      const v2 = await put(ada, P, 'a.txt', 'two', v1.version);
      expect(v2.id).toBe(v1.id);
      expect(v2.version).not.toBe(v1.version);
      await rejectsWith(put(ada, P, 'a.txt', 'three', v1.version), 'conflict');
      await rejectsWith(put(ada, P, 'a.txt', 'three', null), 'conflict');
      await rejectsWith(ada.upload(P, { id: v1.id }, Buffer.from('x'), { size: 1, hash: sha('x'), baseVersion: v1.version }), 'conflict');
      expect((await readAll(await ada.download(P, v1.id))).toString()).toBe('two');
      const v3 = await ada.upload(P, { id: v1.id }, Buffer.from('x'), { size: 1, hash: sha('x'), baseVersion: v2.version });
      expect(v3.path).toBe('a.txt');
    });

    it('treats re-uploading the current content as done (a retry is harmless)', async () => {
      const v1 = await put(ada, P, 'a.txt', 'same');
      const again = await put(ada, P, 'a.txt', 'same', null);
      expect(again).toEqual(v1);
      expect(await ada.versions(P, v1.id)).toHaveLength(1);
    });

    it('lets exactly one of two writers from the same version win', async () => {
      const bob = fx.drive('ada');
      const v1 = await put(ada, P, 'race.txt', 'base');
      const results = await Promise.allSettled([put(ada, P, 'race.txt', 'from ada', v1.version), put(bob, P, 'race.txt', 'from bob', v1.version)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected');
      expect(lost?.status === 'rejected' && isFoldsyncError(lost.reason, 'conflict')).toBe(true);
      await bob.close();
    });

    it('keeps versions, downloads an old one, restores it as a new version, retains the newest 3', async () => {
      let e = await put(ada, P, 'v.txt', 'v1');
      const first = e.version;
      for (const text of ['v2', 'v3']) e = await put(ada, P, 'v.txt', text, e.version);
      let versions = await ada.versions(P, e.id);
      expect(versions.map((v) => v.current)).toEqual([true, false, false]);
      expect((await readAll(await ada.download(P, e.id, { version: first }))).toString()).toBe('v1');
      e = await ada.restoreVersion(P, e.id, first, { ifVersion: e.version });
      expect((await readAll(await ada.download(P, e.id))).toString()).toBe('v1');
      versions = await ada.versions(P, e.id);
      expect(versions).toHaveLength(3);
      expect(versions[0]).toMatchObject({ id: e.version, current: true, hash: sha('v1') });
      await rejectsWith(ada.restoreVersion(P, e.id, first, { ifVersion: first }), 'conflict');
    });

    it('creates folders with their parents, idempotently, and lists shallow or deep', async () => {
      const c = await ada.mkdir(P, 'a/b/c');
      expect(await ada.mkdir(P, 'a/b/c')).toEqual(c);
      await put(ada, P, 'a/f.txt', 'f');
      expect((await ada.list(P, 'a')).map((x) => x.path)).toEqual(['a/b', 'a/f.txt']);
      expect((await ada.list(P, '', { recursive: true })).map((x) => x.path)).toEqual(['a', 'a/b', 'a/b/c', 'a/f.txt']);
      await rejectsWith(ada.mkdir(P, 'a/f.txt/x'), 'conflict');
      await rejectsWith(ada.list(P, 'missing'), 'not-found');
    });

    it('moves and renames by id; a folder takes its contents; ids survive', async () => {
      const f = await put(ada, P, 'a/x/f.txt', 'f');
      const a = await ada.stat(P, 'a');
      const moved = await ada.move(P, a!.id, 'b/renamed');
      expect(moved).toMatchObject({ id: a!.id, path: 'b/renamed', name: 'renamed' });
      expect(await ada.stat(P, 'b/renamed/x/f.txt')).toMatchObject({ id: f.id, version: f.version });
      expect(await ada.stat(P, 'a/x/f.txt')).toBeNull();
      await put(ada, P, 'other.txt', 'o');
      await rejectsWith(ada.move(P, f.id, 'other.txt'), 'conflict');
      await rejectsWith(ada.move(P, a!.id, 'b/renamed/x/inside'), 'bad-request');
      await rejectsWith(ada.move(P, f.id, 'c.txt', { ifVersion: 'v-stale' }), 'conflict');
      expect((await ada.move(P, f.id, 'c.txt', { ifVersion: f.version })).path).toBe('c.txt');
    });

    it('copies a file and a folder as new items with the same contents', async () => {
      const f = await put(ada, P, 'd/f.txt', 'copy me');
      const copy = await ada.copy(P, f.id, 'g.txt');
      expect(copy.id).not.toBe(f.id);
      expect(copy.hash).toBe(f.hash);
      const d = await ada.stat(P, 'd');
      await ada.copy(P, d!.id, 'e');
      const inner = await ada.stat(P, 'e/f.txt');
      expect(inner?.hash).toBe(f.hash);
      expect(inner?.id).not.toBe(f.id);
      expect((await readAll(await ada.download(P, inner!.id))).toString()).toBe('copy me');
      await rejectsWith(ada.copy(P, f.id, 'g.txt'), 'conflict');
    });

    it('deletes to the recycle bin (conditional on version), restores, suffixes a taken path, purges', async () => {
      const f = await put(ada, P, 'dir/f.txt', 'bin me');
      await rejectsWith(ada.delete(P, f.id, 'v-stale'), 'conflict');
      const entry = await ada.delete(P, f.id, f.version);
      expect(entry).toMatchObject({ itemId: f.id, kind: 'file', path: 'dir/f.txt', size: 6 });
      expect(await ada.stat(P, 'dir/f.txt')).toBeNull();
      expect(await ada.statById(P, f.id)).toBeNull();
      expect((await ada.bin(P)).map((b) => b.id)).toEqual([entry.id]);
      const restored = await ada.restoreFromBin(P, entry.id);
      expect(restored).toMatchObject({ id: f.id, path: 'dir/f.txt', version: f.version });
      expect(await ada.bin(P)).toEqual([]);

      const again = await ada.delete(P, f.id, null);
      await put(ada, P, 'dir/f.txt', 'squatter');
      expect((await ada.restoreFromBin(P, again.id)).path).toBe('dir/f (restored).txt');

      const dir = await ada.stat(P, 'dir');
      const binned = await ada.delete(P, dir!.id, '0');
      expect(binned.size).toBe(6 + 8);
      expect(await ada.list(P, '')).toEqual([]);
      await ada.purge(P, binned.id);
      expect(await ada.bin(P)).toEqual([]);
      await rejectsWith(ada.restoreFromBin(P, binned.id), 'not-found');
      expect((await ada.spaces())[0]?.used).toBe(0);
    });

    it('restores a file whose folder was deleted by recreating the folder', async () => {
      const f = await put(ada, P, 'gone/f.txt', 'f');
      const fileBin = await ada.delete(P, f.id, f.version);
      const dir = await ada.stat(P, 'gone');
      await ada.delete(P, dir!.id, null);
      const back = await ada.restoreFromBin(P, fileBin.id);
      expect(back.path).toBe('gone/f.txt');
      expect((await ada.stat(P, 'gone'))?.kind).toBe('dir');
    });

    it('reports every change in the feed with enough to rebuild the tree', async () => {
      const start = await ada.cursor(P);
      const f = await put(ada, P, 'a/f.txt', 'one');
      const v2 = await put(ada, P, 'a/f.txt', 'two', f.version);
      const a = await ada.stat(P, 'a');
      await ada.move(P, a!.id, 'b');
      await ada.delete(P, f.id, null);
      const batch = await ada.changes(P, start);
      expect(batch.more).toBe(false);
      const rows = batch.changes.map((c) => [c.op, c.kind, c.path, c.fromPath ?? null, c.deleted]);
      expect(rows).toEqual([
        ['create', 'dir', 'a', null, false],
        ['create', 'file', 'a/f.txt', null, false],
        ['update', 'file', 'a/f.txt', null, false],
        ['move', 'dir', 'b', 'a', false],
        ['move', 'file', 'b/f.txt', 'a/f.txt', false],
        ['delete', 'file', 'b/f.txt', null, true],
      ]);
      expect(batch.changes[2]).toMatchObject({ id: f.id, version: v2.version, size: 3, hash: sha('two') });
      const cursors = batch.changes.map((c) => Number(c.cursor));
      expect([...cursors].sort((x, y) => x - y)).toEqual(cursors);
      expect(batch.cursor).toBe(batch.changes.at(-1)?.cursor);
      expect((await ada.changes(P, batch.cursor)).changes).toEqual([]);
      const paged = await ada.changes(P, start, { limit: 2 });
      expect(paged.changes).toHaveLength(2);
      expect(paged.more).toBe(true);
    });

    it('tells each write where its changes are in the feed, and only when it changed something (ADR 0100)', async () => {
      const spans: (FeedSpan | null)[] = [];
      const catcher = () => {
        const at = spans.length;
        spans.push(null);
        return { onFeed: (span: FeedSpan) => (spans[at] = span) };
      };
      const start = Number(await ada.cursor(P));
      const body = (t: string) => ({ bytes: Buffer.from(t), opts: { size: Buffer.byteLength(t), hash: sha(t) } });
      const one = body('one');
      const f = await ada.upload(P, { path: 'a/b/f.txt' }, one.bytes, { ...one.opts, baseVersion: null, ...catcher() }); // a, a/b, the file
      await ada.upload(P, { path: 'a/b/f.txt' }, one.bytes, { ...one.opts, baseVersion: null, ...catcher() }); // the same bytes: nothing
      const two = body('two');
      await ada.upload(P, { id: f.id }, two.bytes, { ...two.opts, baseVersion: f.version, ...catcher() });
      await ada.mkdir(P, 'a/b', catcher()); // there already: nothing
      await ada.mkdir(P, 'c', catcher());
      const a = await ada.stat(P, 'a');
      await ada.move(P, a!.id, 'c/a', catcher()); // a, a/b, a/b/f.txt
      await ada.move(P, f.id, 'c/g.txt', catcher());
      const big = Buffer.alloc(70 * 1024, 7);
      await ada.upload(P, { path: 'big.bin' }, big, { size: big.length, hash: sha(big), baseVersion: null, ...catcher() });
      const bin = await ada.delete(P, f.id, null, catcher());
      const s = start;
      expect(spans).toEqual([
        { first: s + 1, last: s + 3 },
        null,
        { first: s + 4, last: s + 4 },
        null,
        { first: s + 5, last: s + 5 },
        { first: s + 6, last: s + 8 },
        { first: s + 9, last: s + 9 },
        { first: s + 10, last: s + 10 },
        { first: s + 11, last: s + 11 },
      ]);
      const feed = await ada.changes(P, String(start));
      expect(feed.changes.map((c) => Number(c.cursor))).toEqual(Array.from({ length: 11 }, (_, i) => s + 1 + i));
      // A one-change write's feed entry is the item as the write answered it.
      expect(feed.changes[3]).toMatchObject({ op: 'update', id: f.id, path: 'a/b/f.txt', size: 3, hash: sha('two') });
      expect(feed.changes[8]).toMatchObject({ op: 'move', id: f.id, path: 'c/g.txt', fromPath: 'c/a/b/f.txt' });
      expect(feed.changes[10]).toMatchObject({ op: 'delete', id: bin.itemId, path: 'c/g.txt', deleted: true });
      if (ada.uploadMany !== undefined) {
        const x = Buffer.from('x');
        const results = await ada.uploadMany(P, [
          { target: { path: 'm/x.txt' }, body: x, hash: sha(x), baseVersion: null },
          { target: { path: 'm/x.txt' }, body: x, hash: sha('other'), baseVersion: null },
          { target: { path: 'm/y.txt' }, body: x, hash: sha(x), baseVersion: null },
        ]);
        expect(results.map((r) => (r.ok ? (r.feed ?? null) : r.error.code))).toEqual([{ first: s + 12, last: s + 13 }, 'hash-mismatch', { first: s + 14, last: s + 14 }]);
      }
    });

    it('wakes a waiting feed reader when a change lands', async () => {
      const cursor = await ada.cursor(P);
      const waiting = ada.changes(P, cursor, { waitSeconds: 30 });
      await put(ada, P, 'late.txt', 'x');
      const batch = await waiting;
      expect(batch.changes.map((c) => c.path)).toEqual(['late.txt']);
    });

    it('refuses an upload past the quota and commits nothing', async () => {
      await fx.setQuota('personal:ada', 10);
      await put(ada, P, 'small', '12345');
      await rejectsWith(put(ada, P, 'big', '123456'), 'quota');
      expect(await ada.stat(P, 'big')).toBeNull();
      expect((await ada.spaces())[0]?.used).toBe(5);
      const big = Buffer.alloc(100 * 1024, 1);
      await rejectsWith(put(ada, P, 'huge', big), 'quota');
    });

    it('refuses a body whose SHA-256 does not match and commits nothing', async () => {
      await rejectsWith(ada.upload(P, { path: 'x.txt' }, Buffer.from('real'), { size: 4, hash: sha('fake'), baseVersion: null }), 'hash-mismatch');
      expect(await ada.stat(P, 'x.txt')).toBeNull();
      const big = Buffer.alloc(100 * 1024, 2);
      await rejectsWith(ada.upload(P, { path: 'y.bin' }, big, { size: big.length, hash: sha('fake'), baseVersion: null }), 'hash-mismatch');
      expect(await ada.stat(P, 'y.bin')).toBeNull();
    });

    it('refuses bad names in every path parameter', async () => {
      const long = 'é'.repeat(128) + '.txt';
      await rejectsWith(put(ada, P, long, 'x'), 'bad-name');
      await rejectsWith(put(ada, P, '../escape.txt', 'x'), 'bad-name');
      await rejectsWith(put(ada, P, 'a/./b', 'x'), 'bad-name');
      await rejectsWith(put(ada, P, 'nul\u0000.txt', 'x'), 'bad-name');
      await rejectsWith(put(ada, P, 'cafe\u0301.txt', 'x'), 'bad-name');
      await rejectsWith(ada.mkdir(P, 'a/../../b'), 'bad-name');
      await rejectsWith(ada.list(P, '..'), 'bad-name');
      const f = await put(ada, P, 'ok.txt', 'x');
      await rejectsWith(ada.move(P, f.id, '../../etc/passwd'), 'bad-name');
      await rejectsWith(ada.copy(P, f.id, 'a/' + 'x'.repeat(256)), 'bad-name');
      expect((await ada.list(P, '', { recursive: true })).map((e) => e.path)).toEqual(['ok.txt']);
    });

    it('enforces the role table of SPEC section 3 on writes and answers the permission check', async () => {
      await fx.addUser('bea');
      await fx.addUser('cy');
      await fx.addUser('dee');
      await fx.addSpace('team', 'team');
      await fx.setMember('team', 'ada', 'synchronizer');
      await fx.setMember('team', 'bea', 'backer');
      await fx.setMember('team', 'cy', 'member');
      await put(ada, 'team', 'shared.txt', 'from ada');

      const beaTwoWay = fx.drive('bea', 'two-way');
      const beaUpload = fx.drive('bea', 'upload');
      const cy = fx.drive('cy', 'upload');
      const dee = fx.drive('dee');
      expect(await beaTwoWay.checkPermission('team', 'two-way')).toMatchObject({ allowed: false, role: 'backer' });
      expect(await beaTwoWay.checkPermission('team', 'upload')).toEqual({ allowed: true, role: 'backer' });
      expect(await cy.checkPermission('team', 'upload')).toMatchObject({ allowed: false, role: 'member' });
      expect(await ada.checkPermission('team', 'two-way')).toEqual({ allowed: true, role: 'synchronizer' });
      expect(await ada.checkPermission(P, 'two-way')).toEqual({ allowed: true, role: 'owner' });

      await rejectsWith(put(beaTwoWay, 'team', 'b.txt', 'x'), 'not-permitted');
      await rejectsWith(beaTwoWay.mkdir('team', 'dir'), 'not-permitted');
      expect((await put(beaUpload, 'team', 'b.txt', 'x')).path).toBe('b.txt');
      await rejectsWith(put(cy, 'team', 'c.txt', 'x'), 'not-permitted');
      const shared = await cy.stat('team', 'shared.txt');
      expect(shared?.path).toBe('shared.txt');
      await rejectsWith(cy.delete('team', shared!.id, null), 'not-permitted');
      await rejectsWith(dee.list('team', ''), 'not-found');
      await rejectsWith(dee.stat('personal:ada', ''), 'not-found');

      await fx.addSpace('gift', 'received-transfer', { user: 'dee', role: 'owner' });
      expect(await dee.checkPermission('gift', 'two-way')).toEqual({ allowed: true, role: 'owner' });
      await put(dee, 'gift', 'mine.txt', 'x');
      await fx.addSpace('shared-in', 'received-share', { user: 'dee', role: 'backer' });
      await rejectsWith(put(dee, 'shared-in', 'x.txt', 'x'), 'not-permitted');
      await Promise.all([beaTwoWay.close(), beaUpload.close(), cy.close(), dee.close()]);
    });

    it('reports a missing item as not found', async () => {
      await rejectsWith(ada.download(P, 'i-missing'), 'not-found');
      await rejectsWith(ada.versions(P, 'i-missing'), 'not-found');
      await rejectsWith(ada.move(P, 'i-missing', 'x'), 'not-found');
    });

    describe('uploadMany (optional)', () => {
      const item = (path: string, text: string | Buffer, baseVersion: string | null = null): UploadItem => {
        const body = typeof text === 'string' ? Buffer.from(text) : text;
        return { target: { path }, body, hash: sha(body), baseVersion };
      };
      const many = (drive: RemoteDrive, space: string, items: UploadItem[]) => {
        if (drive.uploadMany === undefined) throw new Error('this drive has no uploadMany');
        return drive.uploadMany(space, items);
      };

      it('commits each file on its own: one refused file neither fails nor rolls back the others', async () => {
        const old = await put(ada, P, 'old.txt', 'v1');
        const taken = await put(ada, P, 'taken.txt', 'here first');
        const before = await ada.cursor(P);
        const usedBefore = (await ada.spaces()).find((s) => s.name === P)?.used ?? -1;
        const results = await many(ada, P, [
          item('docs/a.txt', 'alpha'),
          item('old.txt', 'v2', old.version),
          item('taken.txt', 'clash'),
          { ...item('bad-hash.txt', 'real'), hash: sha('fake') },
          item('../escape.txt', 'x'),
          item('old-base.txt', 'y', 'v-no-such-version'),
          item('docs/b.txt', ''),
        ]);
        expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'ok', 'conflict', 'hash-mismatch', 'bad-name', 'conflict', 'ok']);
        const [a, updated, clash, , , , b] = results;
        expect(a).toMatchObject({ ok: true, entry: { path: 'docs/a.txt', size: 5, hash: sha('alpha') } });
        expect(updated).toMatchObject({ ok: true, entry: { id: old.id, hash: sha('v2') } });
        expect(clash?.ok === false && clash.error.details['reason']).toBe('path-taken');
        expect(b).toMatchObject({ ok: true, entry: { path: 'docs/b.txt', size: 0 } });
        expect((await readAll(await ada.download(P, old.id))).toString()).toBe('v2');
        expect((await readAll(await ada.download(P, (await ada.stat(P, 'docs/a.txt'))!.id))).toString()).toBe('alpha');
        expect((await ada.stat(P, 'taken.txt'))?.version).toBe(taken.version);
        expect(await ada.stat(P, 'bad-hash.txt')).toBeNull();
        expect(await ada.stat(P, 'old-base.txt')).toBeNull();
        const feed = await ada.changes(P, before);
        expect(feed.changes.map((c) => `${c.op} ${c.path}`).sort()).toEqual(['create docs', 'create docs/a.txt', 'create docs/b.txt', 'update old.txt']);
        // The refused files left no trace in the space's usage or its feed: the next change is
        // numbered right after the last one committed.
        expect((await ada.spaces()).find((s) => s.name === P)?.used).toBe(usedBefore + 'alpha'.length + 'v2'.length);
        await put(ada, P, 'after.txt', 'z');
        const next = await ada.changes(P, feed.cursor);
        expect(next.changes.map((c) => c.path)).toEqual(['after.txt']);
        expect((await ada.changes(P, before)).changes).toHaveLength(5);
      });

      it('is safe to repeat: a batch whose answer was lost gives the same entries again, no new versions', async () => {
        const items = [item('r/one.txt', 'one'), item('r/two.txt', 'two')];
        const first = await many(ada, P, items);
        const again = await many(ada, P, items);
        const entries = (rs: UploadItemResult[]) => rs.map((r) => (r.ok ? r.entry : r));
        expect(entries(again)).toEqual(entries(first));
        // The repeat changed nothing, so it names no place in the feed (ADR 0100).
        expect(first.map((r) => r.ok && r.feed !== undefined)).toEqual([true, true]);
        expect(again.map((r) => r.ok && r.feed === undefined)).toEqual([true, true]);
        const one = first[0]?.ok === true ? first[0].entry : null;
        expect((await ada.versions(P, one!.id)).length).toBe(1);
      });

      it('uploads a file too large for a batch on its own, in the same call and order', async () => {
        const big = Buffer.alloc(BATCH_LIMITS.maxItemBytes + 1, 5);
        const results = await many(ada, P, [item('s.txt', 'small'), item('big.bin', big), item('t.txt', 'tiny')]);
        expect(results.map((r) => (r.ok ? r.entry.path : r.error.code))).toEqual(['s.txt', 'big.bin', 't.txt']);
        const entry = results[1]?.ok === true ? results[1].entry : null;
        expect((await readAll(await ada.download(P, entry!.id))).equals(big)).toBe(true);
      });

      it('splits a call over the batch limits and keeps every result in order', async () => {
        const items = Array.from({ length: BATCH_LIMITS.maxItems + 5 }, (_, i) => item(`n/${i}.txt`, `file ${i}`));
        const results = await many(ada, P, items);
        expect(results.every((r, i) => r.ok && r.entry.path === `n/${i}.txt`)).toBe(true);
        expect((await ada.list(P, 'n')).length).toBe(items.length);
      });

      it('rejects the whole call when the role may not write, committing nothing', async () => {
        await fx.addUser('cy');
        await fx.addSpace('team', 'team');
        await fx.setMember('team', 'cy', 'member');
        const cy = fx.drive('cy', 'upload');
        await rejectsWith(many(cy, 'team', [item('a.txt', 'a')]), 'not-permitted');
        expect(await cy.stat('team', 'a.txt')).toBeNull();
        await cy.close();
      });
    });
  });
}
