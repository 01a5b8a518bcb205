/**
 * What both watchers share: raw events (from `@parcel/watcher` or the simulation) are debounced
 * on the injected Clock into batches, each path is checked against the disk after the batch
 * closes (the event type alone is not trusted: a create may be gone again, a delete may have been
 * replaced), a new folder is scanned at once (the native watcher can miss files created right
 * after their folder, DESIGN.md section 5), and a delete plus an appearance of the same identity
 * is reported as a move.
 */
import { Observable } from '../lib/rx.js';
import type { PathFilter } from '../lib/filters.js';
import { isTempName } from '../lib/filters.js';
import type { RelPath } from '../lib/names.js';
import { compareRelPaths, isAtOrBelow, parentOf } from '../lib/names.js';
import type { Clock } from './clock.js';
import type { ScanItem, WatchBatch, WatchChange, WatchOptions } from './local-fs.js';

/** A native event, relative to the root. `error`: the watcher failed and may have lost events. */
export type RawEvent =
  | { readonly type: 'create' | 'update' | 'delete'; readonly path: RelPath }
  | { readonly type: 'error' | 'overflow'; readonly message: string };

/** Where raw events come from: starts delivering on call, returns a teardown. */
export type RawSource = (emit: (events: readonly RawEvent[]) => void, fail: (error: unknown) => void) => () => void;

/** How the watcher looks at the disk once a batch closes. */
export interface WatchProbe {
  /** The current state of one path (never following links), or null when nothing is there. */
  item(path: RelPath, filter: PathFilter | undefined): ScanItem | null;
  /** Everything under a folder (for a new folder, whose contents the native watcher may miss). */
  scan(under: RelPath, filter: PathFilter | undefined): AsyncIterable<readonly ScanItem[]>;
}

const SEEN_LIMIT = 100_000;

/**
 * Pairs deletes with appearances of the same identity into moves. Pure: `gone` are the vanished
 * paths, `items` what exists now, `idOf` the identity last known at a path.
 */
export function pairMoves(gone: readonly RelPath[], items: readonly ScanItem[], idOf: (path: RelPath) => string | undefined): WatchChange[] {
  const byId = new Map<string, number>();
  items.forEach((it, i) => {
    if (it.type === 'entry' && idOf(it.path) !== it.meta.fileId) byId.set(it.meta.fileId, i);
  });
  const used = new Set<number>();
  const moved: WatchChange[] = [];
  const left: WatchChange[] = [];
  for (const path of gone) {
    const id = idOf(path);
    const at = id === undefined ? undefined : byId.get(id);
    const it = at === undefined ? undefined : items[at];
    if (at !== undefined && it !== undefined && it.type === 'entry' && !used.has(at)) {
      used.add(at);
      moved.push({ type: 'moved', from: path, to: it.path, meta: it.meta, mode: it.mode, ignored: it.ignored });
    } else {
      left.push({ type: 'gone', path });
    }
  }
  const rest = items.filter((_, i) => !used.has(i));
  return [...moved, ...left, ...rest];
}

/** The deepest folder holding every path (their common parent folder); '' when they share none. Pure. */
export function commonFolder(paths: readonly RelPath[]): RelPath {
  let common: string[] | null = null;
  for (const p of paths) {
    const segs = parentOf(p) === '' ? [] : parentOf(p).split('/');
    if (common === null) common = segs;
    else {
      let i = 0;
      while (i < common.length && i < segs.length && common[i] === segs[i]) i++;
      common = common.slice(0, i);
    }
    if (common.length === 0) return '';
  }
  return common === null ? '' : common.join('/');
}

/**
 * Builds the watcher Observable over a raw source. Emits one {@link WatchBatch} per debounced
 * batch with at least one change; errors of the source become `rescan` changes, not stream errors.
 */
export function createWatchStream(source: RawSource, probe: WatchProbe, clock: Clock, options: WatchOptions = {}): Observable<WatchBatch> {
  const debounceMs = options.debounceMs ?? 100;
  const maxWaitMs = options.maxWaitMs ?? 1_000;
  const burstEvents = options.burstRescanEvents ?? 4_096;
  return new Observable<WatchBatch>((subscriber) => {
    // Identities the watcher itself reported, so that a later delete of them pairs into a move
    // even without the consumer's tree. Bounded: past the limit it starts over.
    const seen = new Map<RelPath, string>();
    let pending = new Map<RelPath, RawEvent['type']>();
    let rawCount = 0;
    let problems: RawEvent[] = [];
    let firstAt: number | null = null;
    let cancelTimer: (() => void) | null = null;
    let chain: Promise<void> = Promise.resolve();
    let closed = false;

    const idOf = (path: RelPath): string | undefined => seen.get(path) ?? options.knownId?.(path);

    const probeBatch = async (paths: Map<RelPath, RawEvent['type']>, errs: readonly RawEvent[], count: number): Promise<void> => {
      const rescans: WatchChange[] = errs.map((e) => ({
        type: 'rescan',
        under: '',
        reason: e.type === 'overflow' ? 'overflow' : 'error',
        message: 'message' in e ? e.message : '',
      }));
      if (count >= burstEvents && errs.length === 0) {
        rescans.push({
          type: 'rescan',
          under: commonFolder([...paths.keys()]),
          reason: 'overflow',
          message: `A burst of ${count} events: the native watcher may have dropped some (it does not report an inotify overflow).`,
        });
      }
      const gone: RelPath[] = [];
      const items = new Map<RelPath, ScanItem>();
      const newDirs: RelPath[] = [];
      for (const [path, type] of [...paths].sort((a, b) => compareRelPaths(a[0], b[0]))) {
        if (path === '') continue;
        const it = probe.item(path, options.filter);
        if (it === null) {
          gone.push(path);
          continue;
        }
        items.set(path, it);
        // A folder that appeared (created, or moved in) may already hold files the native watcher
        // never reported; a folder whose identity is unknown here is treated the same way.
        if (it.type === 'entry' && it.meta.kind === 'dir' && (type === 'create' || idOf(path) !== it.meta.fileId)) {
          if (!(options.filter?.prunes(path) ?? false)) newDirs.push(path);
        }
      }
      for (const dir of newDirs) {
        if (newDirs.some((d) => d !== dir && isAtOrBelow(dir, d))) continue;
        for await (const batch of probe.scan(dir, options.filter)) {
          for (const it of batch) items.set(it.path, it);
        }
      }
      const sorted = [...items.values()].sort((a, b) => compareRelPaths(a.path, b.path));
      const changes = [...rescans, ...pairMoves(gone, sorted, idOf)];
      if (seen.size > SEEN_LIMIT) seen.clear();
      for (const c of changes) {
        if (c.type === 'entry') seen.set(c.path, c.meta.fileId);
        else if (c.type === 'gone') seen.delete(c.path);
        else if (c.type === 'moved') {
          seen.delete(c.from);
          seen.set(c.to, c.meta.fileId);
        }
      }
      if (changes.length > 0 && !closed) subscriber.next({ changes });
    };

    const flush = (): void => {
      cancelTimer = null;
      firstAt = null;
      const paths = pending;
      const errs = problems;
      const count = rawCount;
      pending = new Map();
      problems = [];
      rawCount = 0;
      chain = chain.then(() => probeBatch(paths, errs, count)).catch((error: unknown) => {
        // Probing failed as a whole (the root vanished mid-batch): the consumer must rescan.
        if (!closed) subscriber.next({ changes: [{ type: 'rescan', under: '', reason: 'error', message: String(error) }] });
      });
    };

    const schedule = (): void => {
      const now = clock.now();
      firstAt ??= now;
      cancelTimer?.();
      const wait = Math.max(0, Math.min(debounceMs, firstAt + maxWaitMs - now));
      cancelTimer = clock.setTimeout(flush, wait);
    };

    const teardown = source(
      (events) => {
        if (closed) return;
        let any = false;
        rawCount += events.length;
        for (const e of events) {
          if (!('path' in e)) {
            problems.push(e);
            any = true;
          } else if (!isTempName(e.path)) {
            // Create then update is still a create; create then delete stays a create (probed as gone).
            pending.set(e.path, e.type === 'create' || pending.get(e.path) !== 'create' ? e.type : 'create');
            any = true;
          }
        }
        if (any) schedule();
      },
      (error) => {
        if (!closed) subscriber.error(error);
      },
    );
    return () => {
      closed = true;
      cancelTimer?.();
      teardown();
    };
  });
}
