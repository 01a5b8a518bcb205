import { describe, expect, it } from 'vitest';
import type { CloudMeta, LocalMeta, SyncedEntry } from '../lib/model.js';
import { HashColumn, PackedStrings, PrefixPool, sortRelPaths } from './columns.js';
import { createTrees } from './trees.js';
import { compareRelPaths } from '../lib/names.js';

const file = (fileId: string, mtimeNs = '1', size = 1, hash?: string): LocalMeta => (hash === undefined ? { kind: 'file', size, mtimeNs, fileId } : { kind: 'file', size, mtimeNs, fileId, hash });
const dir = (fileId: string): LocalMeta => ({ kind: 'dir', size: 0, mtimeNs: '1', fileId });
const item = (id: string, version = '1', size = 1): CloudMeta => ({ kind: 'file', id, version, size });

describe('columns', () => {
  it('packed strings: equals agrees with comparing the decoded string, for every pair', () => {
    const col = new PackedStrings(new PrefixPool());
    const values = ['f-123', 'f-0123', 'f-12', 'g-123', '2049:1234567', '1700000000123456789', '1700000000123456788', '007', '7', '0', '', 'abc', 'x'.repeat(300), 'v1.2', '12345678901234567890123', 'é9', 'f-12a'];
    values.forEach((v, i) => {
      col.set(i, v);
    });
    values.forEach((_, i) => {
      for (const probe of [...values, undefined]) expect(col.equals(i, probe), `${String(col.get(i))} vs ${String(probe)}`).toBe(col.get(i) === probe);
    });
    expect(col.equals(values.length + 5, undefined)).toBe(true);
    expect(col.equals(values.length + 5, 'f-1')).toBe(false);
  });

  it('packed strings round-trip every string, packed or not', () => {
    const col = new PackedStrings(new PrefixPool());
    const values = ['f-123', '2049:1234567', '1700000000123456789', '007', '0', '', 'abc', 'x'.repeat(300), 'v1.2', '12345678901234567890123', 'é9'];
    values.forEach((v, i) => {
      col.set(i, v);
    });
    values.forEach((v, i) => {
      expect(col.get(i)).toBe(v);
    });
    col.set(3, undefined);
    expect(col.get(3)).toBeUndefined();
    expect(col.has(3)).toBe(false);
    expect(col.get(100_000)).toBeUndefined();
  });

  it('hashes: SHA-256 hex packs to bytes, anything else overflows, both round-trip', () => {
    const col = new HashColumn();
    const sha = 'ab'.repeat(32);
    col.set(70_000, sha);
    col.set(1, 'h:short');
    col.set(2, 'AB'.repeat(32));
    expect(col.get(70_000)).toBe(sha);
    expect(col.get(1)).toBe('h:short');
    expect(col.get(2)).toBe('AB'.repeat(32));
    expect(col.get(3)).toBeUndefined();
  });

  it('sortRelPaths sorts like compareRelPaths (segment by segment)', () => {
    const paths = ['a b', 'a/b', 'a', 'a.b/c', 'a/b/c', 'b', 'a-b', ''];
    expect(sortRelPaths([...paths])).toEqual([...paths].sort(compareRelPaths));
  });
});

describe('trees (folds of events)', () => {
  it('folds LocalChanged, CloudChanged and ActionSucceeded into the local, cloud and synced trees', () => {
    const t = createTrees();
    t.apply({ type: 'LocalChanged', v: 1, source: 'scan', changes: [{ path: 'd', meta: dir('1:1') }, { path: 'd/a', meta: file('1:2') }] });
    t.apply({ type: 'CloudChanged', v: 1, source: 'list', cursor: null, changes: [{ path: 'd/a', meta: item('c1') }] });
    const entry: SyncedEntry = { kind: 'file', size: 1, fileId: '1:2', mtimeNs: '1', cloudId: 'c1', cloudVersion: '1' };
    t.apply({ type: 'ActionSucceeded', v: 1, actionId: 'x', local: [], cloud: [{ path: 'd', meta: { kind: 'dir', id: 'c0', version: '0', size: 0 } }], synced: [{ path: 'd/a', entry }] });
    expect(t.local('d/a')).toEqual(file('1:2'));
    expect(t.cloud('d/a')).toEqual(item('c1'));
    expect(t.synced('d/a')).toEqual(entry);
    expect(t.children('local', 'd')).toEqual(['d/a']);
    expect(t.count('local')).toBe(2);
    expect(t.syncedFileCount()).toBe(1);
  });

  it('marks changed paths dirty; the planner consumes them; repeating a known state marks nothing', () => {
    const t = createTrees();
    t.applyLocal([{ path: 'a', meta: file('1:1') }]);
    expect(t.takeDirty()).toEqual(['a']);
    expect(t.takeDirty()).toEqual([]);
    t.applyLocal([{ path: 'a', meta: file('1:1') }]);
    expect(t.dirty()).toEqual([]);
    t.applyLocal([{ path: 'a', meta: file('1:1', '2') }]);
    expect(t.dirty()).toEqual(['a']);
  });

  it('a removed folder takes its subtree with it on that side (and marks it dirty)', () => {
    const t = createTrees();
    t.applyLocal([{ path: 'd', meta: dir('1:1') }, { path: 'd/e', meta: dir('1:2') }, { path: 'd/e/f', meta: file('1:3') }, { path: 'x', meta: file('1:4') }]);
    t.takeDirty();
    t.applyLocal([{ path: 'd', meta: null }]);
    expect(t.paths('local')).toEqual(['x']);
    expect(new Set(t.takeDirty())).toEqual(new Set(['d', 'd/e', 'd/e/f']));
  });

  it('a synced entry equal to both sides is shared, and survives a later change on either side', () => {
    const t = createTrees();
    t.applyLocal([{ path: 'a', meta: file('1:1', '5', 3, 'h1') }]);
    t.applyCloud([{ path: 'a', meta: { ...item('c1', '7', 3), hash: 'h1' } }]);
    const entry: SyncedEntry = { kind: 'file', size: 3, hash: 'h1', fileId: '1:1', mtimeNs: '5', cloudId: 'c1', cloudVersion: '7' };
    t.applySynced([{ path: 'a', entry }]);
    expect(t.inSync('a')).toBe(true);
    t.applyLocal([{ path: 'a', meta: file('1:1', '6', 4, 'h2') }]);
    expect(t.synced('a')).toEqual(entry);
    expect(t.inSync('a')).toBe(false);
    t.applyCloud([{ path: 'a', meta: null }]);
    expect(t.synced('a')).toEqual(entry);
    t.applySynced([{ path: 'a', entry: null }]);
    expect(t.synced('a')).toBeUndefined();
    expect(t.syncedFileCount()).toBe(0);
  });

  it('finds a cloud item by id wherever it moved', () => {
    const t = createTrees();
    t.applyCloud([{ path: 'a', meta: item('c1') }]);
    expect(t.cloudPathOfId('c1')).toBe('a');
    t.applyCloud([{ path: 'a', meta: null }, { path: 'b/c', meta: item('c1') }]);
    expect(t.cloudPathOfId('c1')).toBe('b/c');
    expect(t.cloudPathOfId('nope')).toBeUndefined();
  });
});
