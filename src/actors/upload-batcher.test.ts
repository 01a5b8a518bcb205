import { describe, expect, it } from 'vitest';
import { RemoteError, type RemoteEntry, type UploadItem, type UploadItemResult } from '../io/remote-drive.js';
import { BATCH_MAX_ITEMS, createUploadBatcher } from './upload-batcher.js';
import { createTransferPool } from './transfer-limits.js';

const entryOf = (item: UploadItem): RemoteEntry => ({ id: 'path' in item.target ? item.target.path : item.target.id, kind: 'file', path: 'path' in item.target ? item.target.path : '', version: 'v1', size: item.body.length, hash: item.hash, modifiedAt: 0 }) as RemoteEntry;
const item = (path: string): UploadItem => ({ target: { path }, body: new Uint8Array([1, 2, 3]), hash: 'h', baseVersion: null });

describe('upload batcher', () => {
  it('gathers the uploads handed over together into one request, and splits at the batch size', async () => {
    const batches: number[] = [];
    const upload = createUploadBatcher(
      (_space, items) => {
        batches.push(items.length);
        return Promise.resolve(items.map((i): UploadItemResult => ({ ok: true, entry: entryOf(i) })));
      },
      'personal',
      createTransferPool(2),
    );
    const entries = await Promise.all(Array.from({ length: BATCH_MAX_ITEMS + 6 }, (_, i) => upload(item(`f${i}`))));
    expect(batches).toEqual([BATCH_MAX_ITEMS, 6]);
    expect(entries.map((e) => e.path)).toEqual(Array.from({ length: BATCH_MAX_ITEMS + 6 }, (_, i) => `f${i}`));
  });

  it('while a batch is in flight and the pool is full, later files gather into one batch instead of queueing one by one', async () => {
    const batches: string[][] = [];
    const answers: (() => void)[] = [];
    const upload = createUploadBatcher(
      (_space, items) => {
        batches.push(items.map((i) => ('path' in i.target ? i.target.path : '')));
        return new Promise((resolve) => answers.push(() => { resolve(items.map((i): UploadItemResult => ({ ok: true, entry: entryOf(i) }))); }));
      },
      'personal',
      createTransferPool(1),
    );
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const all = [upload(item('first'))];
    await turn();
    // Each of these arrives in a turn of its own, while the first batch holds the only place.
    for (let i = 0; i < 5; i++) {
      all.push(upload(item(`later${i}`)));
      await turn();
    }
    expect(batches).toEqual([['first']]);
    answers.shift()?.();
    await turn();
    await turn();
    expect(batches).toEqual([['first'], ['later0', 'later1', 'later2', 'later3', 'later4']]);
    answers.shift()?.();
    expect((await Promise.all(all)).map((e) => e.path)).toEqual(['first', 'later0', 'later1', 'later2', 'later3', 'later4']);
  });

  it('a lone file goes at once when nothing of ours is in flight, even if the pool is busy with other transfers', async () => {
    const pool = createTransferPool(1);
    let releaseOther: () => void = () => undefined;
    const other = pool.run(() => new Promise<void>((resolve) => (releaseOther = resolve)));
    const sent: number[] = [];
    const upload = createUploadBatcher(
      (_space, items) => {
        sent.push(items.length);
        return Promise.resolve(items.map((i): UploadItemResult => ({ ok: true, entry: entryOf(i) })));
      },
      'personal',
      pool,
    );
    const done = upload(item('a'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(pool.waiting).toBe(1);
    releaseOther();
    await other;
    expect((await done).path).toBe('a');
    expect(sent).toEqual([1]);
  });

  it('each file gets its own outcome: one refused file does not fail the others', async () => {
    const upload = createUploadBatcher(
      (_space, items) =>
        Promise.resolve(items.map((i): UploadItemResult => ('path' in i.target && i.target.path === 'bad' ? { ok: false, error: new RemoteError('conflict', 'stale version') } : { ok: true, entry: entryOf(i) }))),
      'personal',
      createTransferPool(1),
    );
    const [a, bad, c] = await Promise.allSettled([upload(item('a')), upload(item('bad')), upload(item('c'))]);
    expect(a.status).toBe('fulfilled');
    expect(c.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'conflict' } });
  });

  it('a request that fails as a whole fails every file in it', async () => {
    const upload = createUploadBatcher(() => Promise.reject(new RemoteError('network', 'connection reset')), 'personal', createTransferPool(1));
    const results = await Promise.allSettled([upload(item('a')), upload(item('b'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('an adapter that answers something else than a list fails each file, never the process', async () => {
    const upload = createUploadBatcher(() => Promise.resolve({ nonsense: true } as unknown as UploadItemResult[]), 'personal', createTransferPool(1));
    const results = await Promise.allSettled([upload(item('a')), upload(item('b'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
