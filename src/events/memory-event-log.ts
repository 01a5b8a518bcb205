/**
 * The in-memory event log, for simulation and tests. It keeps rows encoded exactly as SQLite does
 * and decodes them on every read, so a simulation exercises the same codec, and no reader can
 * mutate another's events. Deterministic: time comes only from the injected Clock.
 */
import { Subject, throwError } from '../lib/rx.js';
import type { Clock } from '../io/clock.js';
import { StreamConflictError } from './errors.js';
import { DEFAULT_PAGE_SIZE, type AppendResult, type EventLog, type ExpectedVersion } from './event-log.js';
import { readExport, writeExport } from './export-file.js';
import { followLog } from './follow.js';
import { checkAppend, closedError, notEmpty, settle } from './store-support.js';
import type { FoldsyncEvent, StoredEvent } from './types.js';
import { decodeRow, encodeEvent, type StoredRow } from './upcast.js';

/** Options of {@link createMemoryEventLog}. */
export interface MemoryEventLogOptions {
  /** Stamps each appended batch. */
  readonly clock: Pick<Clock, 'now'>;
}

/** An {@link EventLog} in memory, with one extra for tests: `appendRawRow` stores a row as given. */
export interface MemoryEventLog extends EventLog {
  /** Appends a raw row at the next position without any check (to test how readers meet damage). */
  appendRawRow(row: Omit<StoredRow, 'position'>): void;
}

/**
 * Creates an empty in-memory {@link EventLog}.
 *
 * @example
 * const log = createMemoryEventLog({ clock: createVirtualClock() });
 */
export function createMemoryEventLog(options: MemoryEventLogOptions): MemoryEventLog {
  const { clock } = options;
  const rows: StoredRow[] = [];
  // Each stream's rows, in version order: index = streamVersion - 1.
  const streams = new Map<string, StoredRow[]>();
  const appended$ = new Subject<readonly StoredEvent[]>();
  let closed = false;
  let importing = false;

  const ensureOpen = (): void => {
    if (closed) throw closedError('memory');
    if (importing) throw new Error('assertion failed: the log is used while an import into it runs');
  };
  const page = (list: readonly StoredRow[], start: number, limit: number): readonly StoredRow[] =>
    list.slice(Math.max(0, start), Math.max(0, start) + Math.max(0, limit));
  const push = (row: StoredRow): void => {
    rows.push(row);
    let list = streams.get(row.stream);
    if (list === undefined) {
      list = [];
      streams.set(row.stream, list);
    }
    list.push(row);
  };

  const log: MemoryEventLog = {
    append: (stream: string, events: readonly FoldsyncEvent[], expected: ExpectedVersion): Promise<AppendResult> =>
      settle(() => {
        ensureOpen();
        checkAppend(stream, events, expected);
        const actual = streams.get(stream)?.length ?? 0;
        if (expected !== 'any' && expected !== actual) throw new StreamConflictError(stream, expected, actual);
        const at = clock.now();
        const firstPosition = rows.length + 1;
        // Encode everything before storing anything: a batch is all or nothing.
        const batch = events.map((event, i): StoredRow => ({ position: firstPosition + i, stream, streamVersion: actual + 1 + i, at, ...encodeEvent(event) }));
        for (const row of batch) push(row);
        if (appended$.observed) {
          appended$.next(events.map((event, i) => ({ position: firstPosition + i, stream, streamVersion: actual + 1 + i, at, event })));
        }
        return { streamVersion: actual + events.length, firstPosition, lastPosition: firstPosition + events.length - 1, at };
      }),
    read: (from = 1, limit = DEFAULT_PAGE_SIZE) =>
      settle(() => {
        ensureOpen();
        return page(rows, from - 1, limit).map(decodeRow);
      }),
    readStream: (stream, fromVersion = 1, limit = DEFAULT_PAGE_SIZE) =>
      settle(() => {
        ensureOpen();
        return page(streams.get(stream) ?? [], fromVersion - 1, limit).map(decodeRow);
      }),
    readRows: (from = 1, limit = DEFAULT_PAGE_SIZE) =>
      settle(() => {
        ensureOpen();
        return page(rows, from - 1, limit);
      }),
    scanRows: (from, to, fn) =>
      settle(() => {
        ensureOpen();
        for (let i = Math.max(from, 1) - 1; i < Math.min(to, rows.length); i++) fn(rows[i] as StoredRow);
      }),
    head: () =>
      settle(() => {
        ensureOpen();
        return rows.length;
      }),
    streamVersion: (stream) =>
      settle(() => {
        ensureOpen();
        return streams.get(stream)?.length ?? 0;
      }),
    subscribe: (from = 1) => (closed ? throwError(() => closedError('memory')) : followLog(from, (f, l) => log.read(f, l), appended$)),
    exportTo: async (file) => {
      ensureOpen();
      return writeExport(file, (from, limit) => log.readRows(from, limit));
    },
    importFrom: async (file) => {
      ensureOpen();
      if (rows.length > 0) throw notEmpty(file, rows.length);
      const staged: StoredRow[] = [];
      importing = true;
      try {
        const summary = await readExport(file, { write: (batch) => staged.push(...batch) });
        for (const row of staged) push(row);
        return summary;
      } finally {
        importing = false;
      }
    },
    close: () =>
      settle(() => {
        if (closed) return;
        closed = true;
        appended$.complete();
      }),
    appendRawRow: (row) => {
      push({ ...row, position: rows.length + 1 });
    },
  };
  return log;
}
