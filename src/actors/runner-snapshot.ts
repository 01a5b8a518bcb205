/**
 * A task runner's fold of its stream, written down at a stream version so that the next runner of
 * the task starts from it and folds only the events after it (ADR 0012). A snapshot is a cache of
 * the log, never a source of truth: one that does not match this build, this task or this log is
 * not used, and the stream is folded from its start as before. Pure: no IO.
 */
import type { Action } from '../lib/model.js';
import { VERSION } from '../version.js';
import { SnapshotFormatError, SnapshotReader, type SnapshotWriter } from '../lib/snapshot-codec.js';
import { restoreTrees, type Trees } from '../reconcile/trees.js';

/** Changes whenever what a runner snapshot holds, or how, changes. */
export const RUNNER_SNAPSHOT_FORMAT = 2;

/** The last event a fold took in: the snapshot is checked against the log at this point. */
export interface FoldedTo {
  readonly streamVersion: number;
  readonly position: number;
  readonly at: number;
}

/** Everything a runner folds from its stream. */
export interface RunnerFold {
  readonly trees: Trees;
  readonly foldedTo: FoldedTo;
  readonly cursor: string | null;
  readonly cloudRootId: string | null;
  readonly held: { readonly reason: string; readonly position: number } | null;
  readonly open: ReadonlyMap<string, { readonly action: Action; readonly attempts: number }>;
  readonly failuresOf: ReadonlyMap<string, number>;
  readonly failedActions: ReadonlyMap<string, { readonly action: Action; readonly nextRetryAt?: number | null }>;
}

interface Header {
  readonly format: number;
  readonly build: string;
  readonly taskId: string;
  readonly foldedTo: FoldedTo;
}

/** Writes `fold` of task `taskId`. */
export function writeRunnerSnapshot(w: SnapshotWriter, taskId: string, fold: RunnerFold): void {
  w.section('runner');
  const header: Header = { format: RUNNER_SNAPSHOT_FORMAT, build: VERSION, taskId, foldedTo: fold.foldedTo };
  w.json(header);
  fold.trees.save(w);
  w.section('runner-state');
  w.json({
    cursor: fold.cursor,
    cloudRootId: fold.cloudRootId,
    held: fold.held,
    open: [...fold.open],
    failuresOf: [...fold.failuresOf],
    failedActions: [...fold.failedActions],
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isPairs = (v: unknown): v is [unknown, unknown][] => Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string');
const isAction = (v: unknown): v is Action => isObject(v) && typeof v['op'] === 'string';

/**
 * Reads a runner snapshot of task `taskId`; with `given`, the bytes are the fold's from now on
 * (its trees may keep parts of them in place: the caller must not use them again).
 * @throws SnapshotFormatError when it was written by another build or layout, for another task, or is damaged.
 */
export function readRunnerSnapshot(bytes: Uint8Array<ArrayBuffer>, taskId: string, given = false): RunnerFold {
  const r = new SnapshotReader(bytes, given);
  r.section('runner');
  const header = r.json();
  if (!isObject(header) || header['format'] !== RUNNER_SNAPSHOT_FORMAT || header['build'] !== VERSION) throw new SnapshotFormatError('the snapshot was written by another build of foldsync');
  if (header['taskId'] !== taskId) throw new SnapshotFormatError('the snapshot is of another task');
  const to = header['foldedTo'];
  if (!isObject(to) || !Number.isSafeInteger(to['streamVersion']) || !Number.isSafeInteger(to['position']) || typeof to['at'] !== 'number') {
    throw new SnapshotFormatError('the snapshot does not say where its fold ends');
  }
  const foldedTo: FoldedTo = { streamVersion: to['streamVersion'] as number, position: to['position'] as number, at: to['at'] };
  const trees = restoreTrees(r);
  r.section('runner-state');
  const state = r.json();
  r.end();
  if (!isObject(state) || !isNullableString(state['cursor']) || !isNullableString(state['cloudRootId'])) throw new SnapshotFormatError('the snapshot state is damaged');
  const held = state['held'];
  if (held !== null && !(isObject(held) && typeof held['reason'] === 'string' && Number.isSafeInteger(held['position']))) throw new SnapshotFormatError('the snapshot state is damaged');
  const { open, failuresOf, failedActions } = state;
  if (!isPairs(open) || !isPairs(failuresOf) || !isPairs(failedActions)) throw new SnapshotFormatError('the snapshot state is damaged');
  const openMap = new Map<string, { action: Action; attempts: number }>();
  for (const [id, o] of open) {
    if (!isObject(o) || !isAction(o['action']) || !Number.isSafeInteger(o['attempts'])) throw new SnapshotFormatError('the snapshot holds a damaged open action');
    openMap.set(id as string, { action: o['action'], attempts: o['attempts'] as number });
  }
  const failures = new Map<string, number>();
  for (const [k, n] of failuresOf) {
    if (!Number.isSafeInteger(n)) throw new SnapshotFormatError('the snapshot holds a damaged failure count');
    failures.set(k as string, n as number);
  }
  const failed = new Map<string, { action: Action; nextRetryAt?: number | null }>();
  for (const [id, f] of failedActions) {
    if (!isObject(f) || !isAction(f['action'])) throw new SnapshotFormatError('the snapshot holds a damaged failed action');
    const next = f['nextRetryAt'];
    if (next !== undefined && next !== null && typeof next !== 'number') throw new SnapshotFormatError('the snapshot holds a damaged failed action');
    failed.set(id as string, next === undefined ? { action: f['action'] } : { action: f['action'], nextRetryAt: next });
  }
  return {
    trees,
    foldedTo,
    cursor: state['cursor'],
    cloudRootId: state['cloudRootId'],
    held: held === null ? null : { reason: held['reason'] as string, position: held['position'] as number },
    open: openMap,
    failuresOf: failures,
    failedActions: failed,
  };
}
