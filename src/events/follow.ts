/**
 * Replay-then-live subscriptions, shared by both stores. The store reports each appended batch on
 * `appended$`; a subscriber delivers events only in position order from its own cursor, reading
 * the store whenever the live batch does not start exactly at that cursor. So an append racing a
 * replay can neither open a gap (the reader reads from the cursor) nor duplicate an event
 * (anything below the cursor is dropped).
 */
import { Observable } from '../lib/rx.js';
import type { StoredEvent } from './types.js';

/** How many events a catching-up subscriber reads at a time. */
const CATCH_UP_PAGE = 1000;

/**
 * Builds the Observable of {@link EventLog.subscribe}.
 * @param read reads events with `position >= from`, at most `limit`, in order.
 * @param appended$ every batch the store appends, after it is durable; completes when the store closes.
 */
export function followLog(
  from: number,
  read: (from: number, limit: number) => Promise<readonly StoredEvent[]>,
  appended$: Observable<readonly StoredEvent[]>,
): Observable<StoredEvent> {
  return new Observable<StoredEvent>((subscriber) => {
    let next = Math.max(1, from);
    let draining = false;
    let again = false;
    // Functions, not the values read inline: delivering may close the subscriber, and a live batch
    // may set `again` during an await, which the compiler's narrowing cannot know.
    const stopped = (): boolean => subscriber.closed;
    const wokenAgain = (): boolean => again;

    // The cursor moves before each delivery, so that a subscriber that appends from inside its
    // callback sees a consistent cursor in the live handler it re-enters.
    const deliver = (event: StoredEvent): void => {
      if (event.position < next) return;
      next = event.position + 1;
      subscriber.next(event);
    };

    const drain = async (): Promise<void> => {
      if (draining) {
        again = true;
        return;
      }
      draining = true;
      try {
        do {
          again = false;
          for (;;) {
            const page = await read(next, CATCH_UP_PAGE);
            if (stopped() || page.length === 0) break;
            for (const event of page) {
              deliver(event);
              if (stopped()) return;
            }
          }
        } while (wokenAgain() && !stopped());
      } catch (error) {
        subscriber.error(error);
      } finally {
        draining = false;
      }
    };

    const live = appended$.subscribe({
      next: (batch) => {
        const first = batch[0];
        const last = batch[batch.length - 1];
        if (first === undefined || last === undefined || last.position < next) return;
        if (!draining && first.position === next) {
          for (const event of batch) {
            deliver(event);
            if (stopped()) return;
          }
        } else {
          void drain();
        }
      },
      complete: () => {
        subscriber.complete();
      },
    });
    void drain();
    return () => {
      live.unsubscribe();
    };
  });
}
