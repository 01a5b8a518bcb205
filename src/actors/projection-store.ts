/**
 * Persisted projections (ADR 0070): each projection's state, saved in a SQLite file beside the
 * event log (`views.sqlite`) with its checkpoint (the log position it has folded up to), its
 * version, and a fingerprint of the event at the checkpoint. Brought up to date by folding only the
 * events after the checkpoint (`catchUp`, on read) or as they are appended (`follow`); rebuilt from
 * zero when the projection's version changed or the log is not the one the checkpoint was taken on.
 * The file is a cache: deleting it costs one rebuild, never data.
 */
import Database from 'better-sqlite3';
import type { Subscription } from 'rxjs';
import type { EventLog } from '../events/event-log.js';
import type { EventType, StoredEvent } from '../events/types.js';
import { decodeRow } from '../events/upcast.js';
import { FoldsyncError } from '../lib/errors.js';
import type { AnyPersistedProjection, PersistedProjection } from '../projections/projection.js';

/** The schema of the views file; a file of another schema is dropped and rebuilt (it is a cache). */
// 2: `view` stored before `state` (ADR 0074).
const SCHEMA_VERSION = 2;

/** Where a projection's saved state stands. */
export interface Checkpoint {
  readonly name: string;
  readonly version: number;
  /** The last log position folded in; 0 before any event. */
  readonly position: number;
}

/** Options of {@link createProjectionStore}. */
export interface ProjectionStoreOptions {
  /** The SQLite file, created when missing; `:memory:` keeps nothing. */
  readonly file: string;
  readonly projections: readonly AnyPersistedProjection[];
}

/** The persisted projections of one event log. */
export interface ProjectionStore {
  /** Folds every event after each projection's checkpoint, up to the log's head, and saves. Returns the head. */
  catchUp(log: EventLog): Promise<number>;
  /**
   * Folds events as the log appends them (and any it missed first), saving every `saveEvery`
   * events (default 10,000) and on {@link ProjectionStore.save}. Unsubscribe to stop.
   */
  follow(log: EventLog, saveEvery?: number): Promise<Subscription>;
  /** Folds one event into every projection that has not seen it (positions must come in order). */
  apply(event: StoredEvent): void;
  /** The current state of `projection` (loaded from the file, or initial, on first use). */
  state<S>(projection: PersistedProjection<S>): S;
  /** Each projection's checkpoint in memory. */
  checkpoints(): Checkpoint[];
  /**
   * The saved view of `name` if its checkpoint is at `position` and its version current: a query
   * that needs no fold and no state decoding. Null otherwise.
   */
  savedView(name: string, position: number): unknown;
  /** Writes every changed state and checkpoint, in one transaction. */
  save(): void;
  close(): void;
}

interface Slot {
  readonly p: AnyPersistedProjection;
  state: unknown;
  position: number;
  /** `${at}:${stream}:${streamVersion}` of the event at `position`: tells this log from another. */
  mark: string;
  /**
   * The event at `position` when it was folded here: its mark is built from it when needed (on
   * save and on checking the log), not at every event. Null when `mark` is current.
   */
  last: StoredEvent | null;
  dirty: boolean;
}

type Row = { name: string; version: number; position: number; mark: string; state: string };

const markOf = (e: StoredEvent): string => `${e.at}:${e.stream}:${e.streamVersion}`;

/**
 * Opens (creating when missing) the projection store in `file`. States load lazily, on first use.
 *
 * @example
 * const store = createProjectionStore({ file: join(dataDir, 'views.sqlite'), projections: [taskSummariesProjection] });
 * await store.catchUp(log);
 * const rows = querySyncDetails(summariesOf(store.state(taskSummariesProjection)));
 */
export function createProjectionStore(options: ProjectionStoreOptions): ProjectionStore {
  const names = new Set<string>();
  for (const p of options.projections) {
    if (names.has(p.name)) throw new Error(`assertion failed: two projections named ${p.name}`);
    names.add(p.name);
  }
  let db: Database.Database;
  try {
    db = new Database(options.file);
    // Large pages for large values: a saved state is one value of up to tens of MB, written as a
    // chain of overflow pages; 64 KiB pages make that chain 16 times shorter (ADR 0074). Takes
    // effect on a new file only (before WAL mode is set); an older file keeps its page size.
    db.pragma('page_size = 65536');
    db.pragma('journal_mode = WAL');
    // A cache (ADR 0070): a power cut may lose the last save, never the file's consistency.
    db.pragma('synchronous = NORMAL');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== SCHEMA_VERSION) {
      db.exec('DROP TABLE IF EXISTS projections');
      // `view` before `state`: a query reads the small view without walking the state's overflow pages.
      db.exec('CREATE TABLE projections (name TEXT PRIMARY KEY, version INTEGER NOT NULL, position INTEGER NOT NULL, mark TEXT NOT NULL, view TEXT, state TEXT NOT NULL)');
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
  } catch (error) {
    throw new FoldsyncError('views-unreadable', `The saved views ${options.file} cannot be opened (${String(error)}). Delete the file; foldsync rebuilds it from the event log.`, { file: options.file }, { cause: error });
  }
  const getRow = db.prepare('SELECT name, version, position, mark, state FROM projections WHERE name = ?');
  const getView = db.prepare('SELECT version, position, view FROM projections WHERE name = ?');
  const upsert = db.prepare(
    'INSERT INTO projections (name, version, position, mark, state, view) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET version = excluded.version, position = excluded.position, mark = excluded.mark, state = excluded.state, view = excluded.view',
  );
  const slots = new Map<string, Slot>();

  const slotOf = (p: AnyPersistedProjection): Slot => {
    let slot = slots.get(p.name);
    if (slot !== undefined) return slot;
    const row = getRow.get(p.name) as Row | undefined;
    slot =
      row !== undefined && row.version === p.version
        ? { p, state: p.decode(JSON.parse(row.state)), position: row.position, mark: row.mark, last: null, dirty: false }
        : { p, state: p.initial(), position: 0, mark: '', last: null, dirty: row !== undefined };
    slots.set(p.name, slot);
    return slot;
  };
  const all = (): Slot[] => options.projections.map(slotOf);
  const reset = (slot: Slot): void => {
    slot.state = slot.p.initial();
    slot.position = 0;
    slot.mark = '';
    slot.last = null;
    slot.dirty = true;
  };
  const markOfSlot = (slot: Slot): string => {
    if (slot.last !== null) {
      slot.mark = markOf(slot.last);
      slot.last = null;
    }
    return slot.mark;
  };
  /**
   * Folds `e` into `slot` unless it has seen it. A fold that throws leaves the slot at the last
   * event folded in.
   */
  const applyOne = (slot: Slot, e: StoredEvent): void => {
    if (e.position <= slot.position) return;
    if (e.position !== slot.position + 1) throw new Error(`assertion failed: projection ${slot.p.name} at ${slot.position} was handed position ${e.position}`);
    if (slot.p.handles.has(e.event.type)) slot.state = slot.p.apply(slot.state, e);
    slot.position = e.position;
    slot.last = e;
    slot.dirty = true;
  };
  /** Moves `slot`'s checkpoint to `e` if it is behind it (its state has folded everything up to `e`). */
  const advance = (slot: Slot, e: StoredEvent): void => {
    if (e.position <= slot.position) return;
    slot.position = e.position;
    slot.last = e;
    slot.dirty = true;
  };
  const apply = (e: StoredEvent): void => {
    for (const slot of all()) applyOne(slot, e);
  };
  const save = (): void => {
    const changed = all().filter((s) => s.dirty);
    if (changed.length === 0) return;
    db.transaction(() => {
      for (const s of changed) {
        const view = s.p.view === undefined ? null : JSON.stringify(s.p.view(s.state));
        upsert.run(s.p.name, s.p.version, s.position, markOfSlot(s), JSON.stringify(s.p.encode(s.state)), view);
        s.dirty = false;
      }
    })();
  };
  /** Resets every checkpoint that is not on this log (beyond its head, or another event at its position). */
  const checkLog = async (log: EventLog): Promise<number> => {
    const head = await log.head();
    for (const slot of all()) {
      if (slot.position === 0) continue;
      if (slot.position > head) {
        reset(slot);
        continue;
      }
      const [at] = await log.read(slot.position, 1);
      if (at === undefined || markOf(at) !== markOfSlot(slot)) reset(slot);
    }
    return head;
  };

  return {
    catchUp: async (log) => {
      const head = await checkLog(log);
      const slots = all();
      const from = Math.min(...slots.map((s) => s.position)) + 1;
      // Per event type, the projections that fold it (ADR 0074, fourth pass): an event is handed
      // to those only, and a slot's checkpoint moves once at the end of the scan, not at every event.
      const folders = new Map<string, Slot[]>();
      const foldersOf = (type: string): Slot[] => {
        let list = folders.get(type);
        if (list === undefined) {
          list = slots.filter((s) => s.p.handles.has(type as EventType));
          folders.set(type, list);
        }
        return list;
      };
      /** The last event folded into every slot that had not seen it. */
      let done: StoredEvent | null = null;
      let expected = from;
      try {
        // Each row is decoded (`decodeRow`: the checks of `EventLog.read`) and folded into every
        // projection that has not seen it before the next is read: an event is decoded once and
        // dropped at once, so no page of rows or events is ever alive together (it was: young-
        // generation collections copied and promoted it, ADR 0074). A corrupt row fails with its
        // position, after the rows before it were folded (in memory: nothing is saved).
        await log.scanRows(from, head, (row) => {
          const e = decodeRow(row);
          if (e.position !== expected) throw new Error(`assertion failed: the log handed position ${e.position} where ${expected} was next`);
          const list = foldersOf(e.event.type);
          for (let i = 0; i < list.length; i++) {
            const slot = list[i] as Slot;
            if (e.position <= slot.position) continue;
            try {
              slot.state = slot.p.apply(slot.state, e);
            } catch (error) {
              // The projections before this one have folded `e`: their checkpoints say so.
              for (let j = 0; j < i; j++) advance(list[j] as Slot, e);
              throw error;
            }
          }
          done = e;
          expected += 1;
        });
      } finally {
        // Every slot behind the last event folded is now at it (a fold that threw leaves its slot,
        // and those after it, at the event before).
        const last = done as StoredEvent | null;
        if (last !== null) for (const slot of slots) advance(slot, last);
      }
      save();
      return head;
    },
    follow: async (log, saveEvery = 10_000) => {
      await checkLog(log);
      let unsaved = 0;
      const from = Math.min(...all().map((x) => x.position)) + 1;
      return log.subscribe(from).subscribe({
        next: (e) => {
          apply(e);
          unsaved += 1;
          if (unsaved >= saveEvery) {
            unsaved = 0;
            save();
          }
        },
      });
    },
    apply,
    state: <S>(p: PersistedProjection<S>): S => {
      if (!names.has(p.name)) throw new Error(`assertion failed: projection ${p.name} is not in this store`);
      return slotOf(p).state as S;
    },
    checkpoints: () => all().map((s) => ({ name: s.p.name, version: s.p.version, position: s.position })),
    savedView: (name, position) => {
      const p = options.projections.find((x) => x.name === name);
      const row = getView.get(name) as { version: number; position: number; view: string | null } | undefined;
      if (p === undefined || row === undefined || row.version !== p.version || row.position !== position || row.view === null) return null;
      return JSON.parse(row.view) as unknown;
    },
    save,
    close: () => {
      db.close();
    },
  };
}
