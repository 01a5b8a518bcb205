/**
 * A projection: a pure fold of stored events into a view, with a name and a version. When the
 * version changes the view is rebuilt from the first event; otherwise it is kept up to date from its
 * checkpoint. Rebuilding from zero must always equal the incrementally maintained result.
 */
import type { EventType, FoldsyncEvent, StoredEvent } from '../events/types.js';

/** A named, versioned fold of events into a state `S`. */
export interface Projection<S> {
  readonly name: string;
  /** Bump when `apply` or the state's shape changes: the view is then rebuilt from zero. */
  readonly version: number;
  /** The event types `apply` looks at; others are skipped without calling it. */
  readonly handles: ReadonlySet<EventType>;
  /** The state before any event. */
  initial(): S;
  /** The state after `event`. May mutate and return `state` (folds over a million events must not copy). */
  apply(state: S, event: StoredEvent): S;
}

/** Folds `events` into `state` with `projection`, skipping event types it does not handle. */
export function foldEvents<S>(projection: Projection<S>, state: S, events: Iterable<StoredEvent>): S {
  let s = state;
  for (const e of events) {
    if (projection.handles.has(e.event.type)) s = projection.apply(s, e);
  }
  return s;
}

/** Narrows a stored event to one type. */
export function isEvent<T extends EventType>(e: StoredEvent, type: T): e is StoredEvent<Extract<FoldsyncEvent, { type: T }>> {
  return e.event.type === type;
}

// The last stream asked about and its task id: a log's events come in runs of one stream, and each
// projection asks for every event (a cache of a pure function, so the function stays pure).
let lastStream = '';
let lastTaskId: string | null = null;

/** The task id of a `task:<id>` stream, or null for other streams. */
export function taskIdOfStream(stream: string): string | null {
  if (stream !== lastStream) {
    lastTaskId = stream.startsWith('task:') ? stream.slice('task:'.length) : null;
    lastStream = stream;
  }
  return lastTaskId;
}

/**
 * A projection whose state can be saved and loaded (ADR 0070): `encode` turns the state into a
 * JSON value, `decode` back; `decode(encode(s))` folds on exactly like `s`. `view`, when given, is
 * the small part a query reads (stored beside the state, so a query need not decode the state).
 */
export interface PersistedProjection<S> extends Projection<S> {
  encode(state: S): unknown;
  decode(json: unknown): S;
  view?(state: S): unknown;
}

/**
 * Any persisted projection, its state opaque: a store holds several of different state types
 * (the methods are bivariant in `S`, so each `PersistedProjection<S>` is one of these).
 */
export type AnyPersistedProjection = PersistedProjection<unknown>;
