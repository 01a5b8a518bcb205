import { describe, expect, it } from 'vitest';
import type { FoldsyncEvent } from '../events/types.js';
import type { Action, CloudMeta, FileStatus, LocalMeta } from '../lib/model.js';
import { createEventList, upload } from './events.fixture.js';
import { fileStatusesOf, fileStatusProjection, type FileStatusRow } from './file-status.js';
import { createPathActivity } from './path-activity.js';
import { foldEvents } from './projection.js';

const lmeta = (size: number, fileId = `1:${size}`): LocalMeta => ({ kind: 'file', size, mtimeNs: '7', fileId });
const cmeta = (size: number, id = `c${size}`, version = '1'): CloudMeta => ({ kind: 'file', id, version, size });
const plan = (...actions: [string, Action][]): FoldsyncEvent => ({
  type: 'PlanMade', v: 2, planId: 'p', guard: null, now: 0, allowMassDelete: false, dirty: null, actions: actions.map(([actionId, action]) => ({ actionId, action })),
});
const localSeen = (path: string, meta: LocalMeta | null): FoldsyncEvent => ({ type: 'LocalChanged', v: 1, source: 'scan', changes: [{ path, meta }] });
const cloudSeen = (path: string, meta: CloudMeta | null): FoldsyncEvent => ({ type: 'CloudChanged', v: 1, source: 'list', cursor: null, changes: [{ path, meta }] });
/** Both sides hold `path` and it is recorded in sync. */
const inSync = (actionId: string, path: string, size: number): FoldsyncEvent[] => [
  plan([actionId, { op: 'link', path, local: lmeta(size), cloud: cmeta(size), rule: '3 same content' }]),
  { type: 'ActionSucceeded', v: 1, actionId, local: [], cloud: [], synced: [{ path, entry: { kind: 'file', size, fileId: `1:${size}`, mtimeNs: '7', cloudId: `c${size}`, cloudVersion: '1' } }] },
];

function statuses(events: FoldsyncEvent[], mode: 'two-way' | 'upload' = 'two-way'): FileStatusRow[] {
  const log = createEventList();
  log.created('t', 0, { mode });
  log.task('t', 1, ...events);
  const p = fileStatusProjection;
  return fileStatusesOf(foldEvents(p, p.initial(), log.events), 't');
}
const statusOf = (rows: FileStatusRow[], side: 'local' | 'cloud', path: string): FileStatus | undefined => rows.find((r) => r.side === side && r.path === path)?.status;

describe('file status per task, each status of SPEC.md section 6', () => {
  it('in-sync: both sides hold what the synced tree recorded', () => {
    const rows = statuses([localSeen('a.txt', lmeta(3)), cloudSeen('a.txt', cmeta(3)), ...inSync('x', 'a.txt', 3)]);
    expect(rows).toEqual([
      { path: 'a.txt', side: 'local', kind: 'file', size: 3, status: 'in-sync', reason: null },
      { path: 'a.txt', side: 'cloud', kind: 'file', size: 3, status: 'in-sync', reason: null },
    ]);
  });

  it('pending-upload: a planned upload, and a local change not planned yet', () => {
    const rows = statuses([localSeen('new.txt', lmeta(5)), localSeen('later.txt', lmeta(6)), plan(['u', upload('new.txt', 5)])]);
    expect(statusOf(rows, 'local', 'new.txt')).toBe('pending-upload');
    expect(statusOf(rows, 'local', 'later.txt')).toBe('pending-upload');
    expect(statusOf(rows, 'cloud', 'new.txt')).toBeUndefined();
  });

  it('pending-download: a planned download, and in two-way mode a cloud change not planned yet', () => {
    const rows = statuses([cloudSeen('d.txt', cmeta(4)), cloudSeen('e.txt', cmeta(8)), plan(['d', { op: 'download', path: 'd.txt', cloud: cmeta(4), expectLocal: null, rule: '2.1 create' }])]);
    expect(statusOf(rows, 'cloud', 'd.txt')).toBe('pending-download');
    expect(statusOf(rows, 'cloud', 'e.txt')).toBe('pending-download');
    expect(statusOf(rows, 'local', 'd.txt')).toBeUndefined();
  });

  it('ignored: a skipped local entry, and in upload mode a cloud change the engine leaves alone', () => {
    const rows = statuses([{ type: 'LocalSkipped', v: 1, path: 'link', reason: 'symlink', message: 'links are not synced' }, cloudSeen('theirs.txt', cmeta(2))], 'upload');
    expect(rows.find((r) => r.path === 'link')).toMatchObject({ side: 'local', status: 'ignored', reason: 'symlink' });
    expect(rows.find((r) => r.path === 'theirs.txt')).toMatchObject({ side: 'cloud', status: 'ignored', reason: 'upload-mode' });
  });

  it('transferring: an upload or download once started; failed when it fails, with its reason', () => {
    const events = [localSeen('big.iso', lmeta(900)), plan(['u', upload('big.iso', 900)]), { type: 'ActionStarted', v: 1, actionId: 'u' } as FoldsyncEvent];
    expect(statusOf(statuses(events), 'local', 'big.iso')).toBe('transferring');
    const failed = [...events, { type: 'ActionFailed', v: 1, actionId: 'u', reason: 'quota', message: 'full', transient: true, attempt: 1, nextRetryAt: 9 } as FoldsyncEvent];
    expect(statuses(failed).find((r) => r.path === 'big.iso')).toMatchObject({ side: 'local', status: 'failed', reason: 'quota' });
    const final = [...events, { type: 'ActionFailed', v: 1, actionId: 'u', reason: 'permission', message: 'no', transient: false, attempt: 1, nextRetryAt: null } as FoldsyncEvent];
    expect(statuses(final).find((r) => r.path === 'big.iso')).toMatchObject({ status: 'failed', reason: 'permission' });
    expect(statusOf(statuses([...final, ...inSync('again', 'big.iso', 900)]), 'local', 'big.iso')).not.toBe('failed');
  });

  it('failed: a name the other side cannot hold (reject), shown on the side it is on', () => {
    const rows = statuses([localSeen('con.txt', lmeta(1)), plan(['r', { op: 'reject', path: 'con.txt', side: 'local', reason: 'bad-name', message: 'rename it', rule: '5 bad-name' }])]);
    expect(rows).toEqual([{ path: 'con.txt', side: 'local', kind: 'file', size: 1, status: 'failed', reason: 'bad-name' }]);
  });

  it('conflict: a path being resolved by a conflict rename', () => {
    const rows = statuses([localSeen('doc.txt', lmeta(3)), cloudSeen('doc.txt', cmeta(4)), plan(['c', { op: 'conflict-rename', side: 'local', from: 'doc.txt', to: 'doc (conflict).txt', rule: '2.1 conflict keep-both' }]), plan(['d', { op: 'download', path: 'doc.txt', cloud: cmeta(4), expectLocal: lmeta(3), rule: '2.1 conflict keep-both' }])]);
    expect(statusOf(rows, 'local', 'doc.txt')).toBe('conflict');
    expect(statusOf(rows, 'local', 'doc (conflict).txt')).toBe('conflict');
  });

  it('filters by side and status; a cancelled task has no files', () => {
    const log = createEventList();
    log.created('t', 0);
    log.task('t', 1, localSeen('a', lmeta(1)), cloudSeen('b', cmeta(2)));
    const p = fileStatusProjection;
    const s = foldEvents(p, p.initial(), log.events);
    expect(fileStatusesOf(s, 't', { side: 'cloud' }).map((r) => r.path)).toEqual(['b']);
    expect(fileStatusesOf(s, 't', { status: 'pending-upload' }).map((r) => `${r.side}:${r.path}`)).toEqual(['local:a']);
    log.add('engine', 2, { type: 'TaskCancelled', v: 1, taskId: 't' });
    expect(fileStatusesOf(foldEvents(p, p.initial(), log.events), 't')).toEqual([]);
  });

  it('encodes and decodes to a state that folds on alike', () => {
    const log = createEventList();
    log.created('t', 0);
    log.task('t', 1, localSeen('a', lmeta(1)), cloudSeen('a', cmeta(1)), ...inSync('x', 'a', 1), localSeen('b', lmeta(2)), plan(['u', upload('b', 2)]));
    const p = fileStatusProjection;
    const s = foldEvents(p, p.initial(), log.events);
    const copy = p.decode(JSON.parse(JSON.stringify(p.encode(s))));
    expect(fileStatusesOf(copy, 't')).toEqual(fileStatusesOf(s, 't'));
  });
});

describe('file status, saved column by column, every path once (ADR 0074)', () => {
  it('round-trips every entry of the three trees: hashes, folders, synced entries shared with both sides and not', () => {
    const hashed = (size: number): LocalMeta => ({ ...lmeta(size), hash: `h${size}` });
    const log = createEventList();
    log.created('t', 0);
    log.task(
      't',
      1,
      localSeen('dir', { kind: 'dir', size: 0, mtimeNs: '1', fileId: '1:9' }),
      cloudSeen('dir', { kind: 'dir', id: 'd1', version: '0', size: 0 }),
      localSeen('dir/h.bin', hashed(5)),
      cloudSeen('dir/h.bin', { ...cmeta(5), hash: 'h5' }),
      localSeen('changed.txt', lmeta(6)),
      cloudSeen('changed.txt', cmeta(6)),
      localSeen('cloud-only-record', lmeta(8)),
    );
    log.task('t', 2, {
      type: 'ActionSucceeded',
      v: 1,
      actionId: 'x',
      local: [],
      cloud: [],
      synced: [
        // What both sides amount to (saved as a mark, derived again on load).
        { path: 'dir', entry: { kind: 'dir', size: 0, fileId: '1:9', mtimeNs: '1', cloudId: 'd1', cloudVersion: '0' } },
        { path: 'dir/h.bin', entry: { kind: 'file', size: 5, fileId: '1:5', mtimeNs: '7', cloudId: 'c5', cloudVersion: '1', hash: 'h5' } },
        { path: 'changed.txt', entry: { kind: 'file', size: 6, fileId: '1:6', mtimeNs: '7', cloudId: 'c6', cloudVersion: '1' } },
        // Not what the sides amount to: saved whole.
        { path: 'cloud-only-record', entry: { kind: 'file', size: 8 } },
      ],
    });
    // After the sync, the local side changed: the saved synced entry no longer matches both sides.
    log.task('t', 3, localSeen('changed.txt', { ...lmeta(6), mtimeNs: '8' }));
    const p = fileStatusProjection;
    const s = foldEvents(p, p.initial(), log.events);
    type Saved = { paths: { cut: number[]; rest: string[] }; local: { kind: string }; cloud: { kind: string }; synced: { kind: string; entry: unknown[] } };
    const json = JSON.parse(JSON.stringify(p.encode(s))) as [string, Saved][];
    const saved = json[0]?.[1];
    // Every path once, in canonical order, front-coded; a character per path and tree.
    expect(saved?.paths).toEqual({ cut: [0, 1, 0, 3], rest: ['changed.txt', 'loud-only-record', 'dir', '/h.bin'] });
    expect([saved?.local.kind, saved?.cloud.kind, saved?.synced.kind]).toEqual(['ffdf', 'f-df', 'ffdf']);
    expect(saved?.synced.entry.map((x) => x === 0)).toEqual([false, false, true, true]);
    const copy = p.decode(json);
    const a = s.tasks.get('t');
    const b = copy.tasks.get('t');
    for (const tree of ['local', 'cloud', 'synced'] as const) {
      expect(b?.trees.paths(tree)).toEqual(a?.trees.paths(tree));
      for (const path of a?.trees.paths(tree) ?? []) expect(b?.trees[tree](path)).toEqual(a?.trees[tree](path));
    }
    expect(b?.trees.local('dir/h.bin')).toEqual(hashed(5));
    expect(fileStatusesOf(copy, 't')).toEqual(fileStatusesOf(s, 't'));
    expect(p.encode(copy)).toEqual(p.encode(s));
  });
});

describe('activity timeline of a path', () => {
  it('tells what was observed, decided under which rule, started and done, and when', () => {
    const log = createEventList();
    log.created('t', 0);
    log.task('t', 10, localSeen('a.txt', lmeta(5)), localSeen('other', lmeta(1)));
    log.task('t', 20, plan(['u', upload('a.txt', 5)], ['o', upload('other', 1)]));
    log.task('t', 30, { type: 'ActionStarted', v: 1, actionId: 'u' });
    log.task('t', 40, { type: 'ActionSucceeded', v: 1, actionId: 'u', local: [], cloud: [{ path: 'a.txt', meta: cmeta(5) }], synced: [{ path: 'a.txt', entry: { kind: 'file', size: 5 } }] });
    const story = createPathActivity('t', 'a.txt');
    for (const e of log.events) story.apply(e);
    expect(story.entries.map((x) => [x.at, x.what, x.rule])).toEqual([
      [10, 'observed', null],
      [20, 'decided', 'test'],
      [30, 'started', null],
      [40, 'done', null],
    ]);
    expect(story.entries[3]?.detail).toBe('succeeded; in sync');
  });
});
