import { describe, expect, it } from 'vitest';
import type { ChangeEntry } from '../lib/cloud-api.js';
import type { CloudMeta } from '../lib/model.js';
import { foldFeed } from './feed.js';

let seq = 0;
const entry = (e: Partial<ChangeEntry> & Pick<ChangeEntry, 'op' | 'id' | 'path'>, hashed = true): ChangeEntry => {
  const base: ChangeEntry = { cursor: String(++seq), kind: 'file', version: 'v1', size: 1, hash: 'h1', deleted: false, at: 0, ...e };
  if (hashed) return base;
  const { hash: _drop, ...rest } = base;
  return rest;
};
const file = (id: string, version = 'v1', hash = 'h1'): CloudMeta => ({ kind: 'file', id, version, size: 1, hash });
const treeOf = (m: Record<string, CloudMeta>) => (p: string) => m[p];

describe('foldFeed', () => {
  it('a created file under the task folder becomes a change with its path relative to the folder', () => {
    const out = foldFeed([entry({ op: 'create', id: 'a', path: 'Docs/x.txt' })], 'Docs', treeOf({}));
    expect(out).toEqual({ changes: [{ path: 'x.txt', meta: file('a') }], rootTouched: false });
  });

  it('entries outside the task folder, and the folder itself, are not changes', () => {
    const out = foldFeed(
      [entry({ op: 'create', id: 'a', path: 'Other/x.txt' }), entry({ op: 'update', id: 'r', kind: 'dir', path: 'Docs' }), entry({ op: 'create', id: 'b', path: 'Docsx/y' })],
      'Docs',
      treeOf({}),
    );
    expect(out.changes).toEqual([]);
  });

  it('an entry that matches what the tree already holds (the engine recorded its own upload) is no change', () => {
    const out = foldFeed([entry({ op: 'update', id: 'a', path: 'x', version: 'v2', hash: 'h2' })], '', treeOf({ x: file('a', 'v2', 'h2') }));
    expect(out.changes).toEqual([]);
  });

  it('entries apply in order: an older version followed by the newer one ends at the newer one', () => {
    const out = foldFeed(
      [entry({ op: 'update', id: 'a', path: 'x', version: 'v2', hash: 'h2' }), entry({ op: 'update', id: 'a', path: 'x', version: 'v3', hash: 'h3' })],
      '',
      treeOf({ x: file('a', 'v3', 'h3') }),
    );
    expect(out.changes).toEqual([]);
  });

  it('a move within the folder clears the old path and sets the new one (a moved folder reports its subtree)', () => {
    const out = foldFeed(
      [
        entry({ op: 'move', id: 'd', kind: 'dir', path: 'b', fromPath: 'a', size: 0 }, false),
        entry({ op: 'move', id: 'f', path: 'b/f', fromPath: 'a/f' }),
      ],
      '',
      treeOf({ a: { kind: 'dir', id: 'd', version: 'v1', size: 0 }, 'a/f': file('f') }),
    );
    expect(out.changes).toEqual([
      { path: 'a', meta: null },
      { path: 'a/f', meta: null },
      { path: 'b', meta: { kind: 'dir', id: 'd', version: 'v1', size: 0 } },
      { path: 'b/f', meta: file('f') },
    ]);
  });

  it('a move out of the folder is a delete; a move into it is a create', () => {
    const out = foldFeed(
      [entry({ op: 'move', id: 'a', path: 'Out/x', fromPath: 'In/x' }), entry({ op: 'move', id: 'b', path: 'In/y', fromPath: 'Out/y' })],
      'In',
      treeOf({ x: file('a') }),
    );
    expect(out.changes).toEqual([
      { path: 'x', meta: null },
      { path: 'y', meta: file('b') },
    ]);
  });

  it('a delete of an item no longer at that path (another item took it since) leaves the newer item alone', () => {
    const out = foldFeed([entry({ op: 'delete', id: 'old', path: 'x', deleted: true })], '', treeOf({ x: file('new') }));
    expect(out.changes).toEqual([]);
  });

  it('delete then a new item at the same path ends with the new item', () => {
    const out = foldFeed([entry({ op: 'delete', id: 'a', path: 'x', deleted: true }), entry({ op: 'create', id: 'b', path: 'x' })], '', treeOf({ x: file('a') }));
    expect(out.changes).toEqual([{ path: 'x', meta: file('b') }]);
  });

  it('the task folder itself moved or deleted, or a folder above it, is reported so the caller lists instead', () => {
    const t = treeOf({});
    expect(foldFeed([entry({ op: 'delete', id: 'r', kind: 'dir', path: 'A/Docs', deleted: true })], 'A/Docs', t).rootTouched).toBe(true);
    expect(foldFeed([entry({ op: 'move', id: 'r', kind: 'dir', path: 'B', fromPath: 'A' })], 'A/Docs', t).rootTouched).toBe(true);
    expect(foldFeed([entry({ op: 'update', id: 'r', kind: 'dir', path: 'A' })], 'A/Docs', t).rootTouched).toBe(false);
    expect(foldFeed([entry({ op: 'delete', id: 'x', path: 'A/Docsy', deleted: true })], 'A/Docs', t).rootTouched).toBe(false);
  });

  it('a path no local folder can hold (.., empty segments) never enters the tree', () => {
    const out = foldFeed([entry({ op: 'create', id: 'a', path: 'Docs/../../etc/passwd' }), entry({ op: 'create', id: 'b', path: 'Docs/a//b' })], 'Docs', treeOf({}));
    expect(out.changes).toEqual([]);
  });
});
