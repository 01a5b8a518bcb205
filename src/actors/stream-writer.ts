/**
 * The one writer of a stream (ADR 0004): appends batches in order with the expected stream
 * version, and hands each stored batch to `onAppended` before the next one goes out.
 */
import type { EventLog } from '../events/event-log.js';
import type { FoldsyncEvent } from '../events/types.js';

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
export function createStreamWriter(log: EventLog, stream: string, version: number, onAppended: (events: readonly FoldsyncEvent[]) => void): StreamWriter {
  let current = version;
  let chain: Promise<void> = Promise.resolve();
  return {
    write: (events) => {
      if (events.length === 0) return chain;
      chain = chain.then(async () => {
        const result = await log.append(stream, events, current);
        current = result.streamVersion;
        onAppended(events);
      });
      return chain;
    },
    settled: () => chain,
    version: () => current,
  };
}
