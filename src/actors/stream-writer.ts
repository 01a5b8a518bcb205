/**
 * The one writer of a stream (ADR 0004): appends batches in order with the expected stream
 * version, and hands each stored batch (with its log positions) to `onAppended` before the next
 * one goes out.
 */
import type { EventLog } from '../events/event-log.js';
import type { FoldsyncEvent, StoredEvent } from '../events/types.js';

/** Appends to one stream, in order. */
export interface StreamWriter {
  /** Appends `events` after everything written before; resolves once they are stored and folded. */
  write(events: readonly FoldsyncEvent[]): Promise<void>;
  /** Resolves when every write so far is stored. */
  settled(): Promise<void>;
  /** The stream's version after the last stored batch. */
  version(): number;
}

/** Creates the writer of `stream`, whose current version is `version`. */
export function createStreamWriter(log: EventLog, stream: string, version: number, onAppended: (stored: readonly StoredEvent[]) => void): StreamWriter {
  let current = version;
  let chain: Promise<void> = Promise.resolve();
  // Group commit: writes made while an append is in flight wait in one batch and are appended
  // together (one transaction, one fsync), in the order they were made.
  let open: { readonly events: FoldsyncEvent[]; done: Promise<void> } | null = null;
  return {
    write: (events) => {
      if (events.length === 0) return chain;
      if (open === null) {
        const batch: { readonly events: FoldsyncEvent[]; done: Promise<void> } = { events: [], done: chain };
        batch.done = chain.then(async () => {
          if (open === batch) open = null;
          const result = await log.append(stream, batch.events, current);
          current = result.streamVersion;
          const first = result.streamVersion - batch.events.length + 1;
          onAppended(batch.events.map((event, i) => ({ position: result.firstPosition + i, stream, streamVersion: first + i, at: result.at, event })));
        });
        chain = batch.done;
        open = batch;
      }
      open.events.push(...events);
      return open.done;
    },
    settled: () => chain,
    version: () => current,
  };
}
