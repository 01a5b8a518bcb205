/**
 * The `EventLog` interface: the one way the engine, projections and replay write and read events.
 * Two stores implement it and pass one contract suite (`event-log.contract.ts`): SQLite for real
 * terminals, memory for simulation.
 */
import type { Observable } from 'rxjs';
import type { FoldsyncEvent, StoredEvent } from './types.js';
import type { StoredRow } from './upcast.js';

/**
 * What an append expects of its stream: its exact current version (`0`: the stream must not exist
 * yet), or `'any'` to append whatever the version is.
 */
export type ExpectedVersion = number | 'any';

/** Where an appended batch landed. Every event of one batch gets the same `at`. */
export interface AppendResult {
  /** The stream's version after the batch: the `streamVersion` of its last event. */
  readonly streamVersion: number;
  /** Log position of the batch's first event. */
  readonly firstPosition: number;
  /** Log position of the batch's last event; the log's head after the append. */
  readonly lastPosition: number;
  /** When the batch was appended, from the log's Clock. */
  readonly at: number;
}

/** How many events an export wrote or an import read. */
export interface TransferSummary {
  readonly events: number;
}

/** The number of events a read returns when no `limit` is given. */
export const DEFAULT_PAGE_SIZE = 1000;

/**
 * An append-only log of {@link FoldsyncEvent}s in streams (`engine`, `task:<id>`). Positions run
 * 1, 2, 3, ... over the whole log without gaps; each stream's versions likewise. A batch is atomic:
 * after a crash the log holds all of it or none of it. One process owns a log for writing; a
 * second writer is refused with `log-locked` or, if it slips in between batches, sees conflicts.
 *
 * Reads return events upcast to their current shape; a stored event that cannot be read fails
 * the read with an {@link EventLogError} naming its position, never skipped.
 *
 * @example
 * const log = createMemoryEventLog({ clock });
 * const { streamVersion } = await log.append('engine', [{ type: 'TerminalInitialized', v: 1, terminalId: 't1', terminalName: 'laptop' }], 0);
 * for await (const page of readPages(log)) for (const e of page) state = evolve(state, e.event);
 */
export interface EventLog {
  /**
   * Appends a batch to `stream`, all or nothing, stamping every event with the Clock's `now()`.
   * @param expected the stream's version the caller based the batch on (`0`: new stream), or `'any'`.
   * @throws StreamConflictError when `expected` is stale; nothing is written.
   */
  append(stream: string, events: readonly FoldsyncEvent[], expected: ExpectedVersion): Promise<AppendResult>;

  /** Events of the whole log with `position >= from` (default 1), in order, at most `limit` (default {@link DEFAULT_PAGE_SIZE}). */
  read(from?: number, limit?: number): Promise<readonly StoredEvent[]>;

  /** Events of one stream with `streamVersion >= fromVersion` (default 1), in order, at most `limit`. */
  readStream(stream: string, fromVersion?: number, limit?: number): Promise<readonly StoredEvent[]>;

  /** Rows as stored, not decoded or upcast (for export and inspection tools), like {@link EventLog.read}. */
  readRows(from?: number, limit?: number): Promise<readonly StoredRow[]>;

  /**
   * Calls `fn` with every row with `from <= position <= to`, in order, as stored (like
   * {@link EventLog.readRows}), one at a time, through one object that the next row overwrites:
   * `fn` copies what it keeps. A whole-log fold's read (ADR 0074): no object per row, no page of
   * rows kept. Resolves once `fn` has seen the last row; rejects with the first error of the read
   * or of `fn`, after which `fn` is not called again.
   */
  scanRows(from: number, to: number, fn: (row: StoredRow) => void): Promise<void>;

  /** The position of the last event; 0 for an empty log. */
  head(): Promise<number>;

  /** A stream's current version; 0 when it has no events. */
  streamVersion(stream: string): Promise<number>;

  /**
   * Every event with `position >= from` (default 1): first the history, then each event as it is
   * appended, in position order, with no gap and no duplicate. Completes when the log closes; errors
   * with an {@link EventLogError} on an unreadable event.
   */
  subscribe(from?: number): Observable<StoredEvent>;

  /**
   * Writes the whole log to a portable JSON Lines file: a header line, then one line per event
   * (`position`, `stream`, `streamVersion`, `at`, `type`, `v`, `data`) as stored, old versions kept.
   * Deterministic: the same log always gives the same bytes.
   */
  exportTo(file: string): Promise<TransferSummary>;

  /**
   * Reads an export file into this log, all or nothing, keeping positions, times and versions.
   * @throws EventLogError `import-not-empty` when the log holds events; `import-corrupt` naming the bad line.
   */
  importFrom(file: string): Promise<TransferSummary>;

  /** Completes every subscription and releases the store; later calls fail with `log-closed`. Idempotent. */
  close(): Promise<void>;
}

/**
 * Reads a log (or, with `stream`, one stream) page by page from `from`, until its current end.
 *
 * @example
 * for await (const page of readPages(log, { pageSize: 5000 })) for (const e of page) fold(e);
 */
export async function* readPages(
  log: Pick<EventLog, 'read' | 'readStream'>,
  options: { readonly from?: number; readonly stream?: string; readonly pageSize?: number } = {},
): AsyncGenerator<readonly StoredEvent[], void, undefined> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  let from = options.from ?? 1;
  for (;;) {
    const page = options.stream === undefined ? await log.read(from, pageSize) : await log.readStream(options.stream, from, pageSize);
    const last = page[page.length - 1];
    if (last === undefined) return;
    yield page;
    from = (options.stream === undefined ? last.position : last.streamVersion) + 1;
  }
}
