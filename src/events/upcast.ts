/**
 * The event codec: turns an event into a stored row's `type`, `v` and JSON `data`, and a stored row
 * back into a typed {@link FoldsyncEvent}, checking its required fields and upcasting old shapes
 * to the current one. Pure (no IO, no clock), and cheap on purpose: it runs once per event on
 * every fold of the log, so the checks are hand-written predicates, not a schema library.
 */
import type { EventType, FoldsyncEvent, StoredEvent } from './types.js';
import { EventLogError } from './errors.js';

/** An event as a store keeps it: the envelope, and the payload as JSON text without `type` and `v`. */
export interface StoredRow {
  readonly position: number;
  readonly stream: string;
  readonly streamVersion: number;
  readonly at: number;
  readonly type: string;
  readonly v: number;
  /** JSON of the event without its `type` and `v` (those are columns of their own). */
  readonly data: string;
}

/** An event split into what a store writes. */
export interface EncodedEvent {
  readonly type: EventType;
  readonly v: number;
  readonly data: string;
}

type Payload = Record<string, unknown>;
type Check = (value: unknown) => boolean;

const isObject = (x: unknown): x is Payload => typeof x === 'object' && x !== null && !Array.isArray(x);
const str: Check = (x) => typeof x === 'string';
const strOrNull: Check = (x) => x === null || typeof x === 'string';
const int: Check = (x) => Number.isInteger(x);
const num: Check = (x) => typeof x === 'number' && Number.isFinite(x);
const numOrNull: Check = (x) => x === null || num(x);
const bool: Check = (x) => typeof x === 'boolean';
const obj: Check = isObject;
const objOrNull: Check = (x) => x === null || isObject(x);
const oneOf =
  (...values: readonly string[]): Check =>
  (x) =>
    typeof x === 'string' && values.includes(x);
const arrayOf =
  (item: Check): Check =>
  (x) => {
    if (!Array.isArray(x)) return false;
    for (const element of x as readonly unknown[]) if (!item(element)) return false;
    return true;
  };
const shape =
  (fields: Fields): Check =>
  (x) =>
    isObject(x) && firstBadField(x, fields) === null;

// A LocalChange, CloudChange or SyncedChange: a path, and the new state or null for "gone".
const change = (stateKey: string): Check => shape([['path', str], [stateKey, objOrNull]]);
const localOrCloudChanges = arrayOf(change('meta'));

type Fields = readonly (readonly [string, Check])[];

/** How to read one stored version of one event type. */
interface VersionSpec {
  readonly fields: Fields;
  /** Turns a checked payload of this version into the next version's payload; absent on the current one. */
  readonly upcast?: (payload: Payload) => Payload;
}

const taskId: Fields = [['taskId', str]];
const spaceTypes = oneOf('personal', 'team', 'received-share', 'received-transfer');
const modes = oneOf('two-way', 'upload');

/** TaskCreated v1 kept the cloud folder as `space:/path`; v2 splits it into a {@link CloudLocation}. */
function taskCreatedV1toV2(p: Payload): Payload {
  const cloudPath = p['cloudPath'] as string;
  const colon = cloudPath.indexOf(':');
  const space = cloudPath.slice(0, colon);
  const path = cloudPath.slice(colon + 1);
  return {
    taskId: p['taskId'],
    localRoot: p['localRoot'],
    localRootId: null,
    cloud: { url: null, space, spaceType: space === 'personal' ? 'personal' : 'team', path: path === '' ? '/' : path },
    mode: p['mode'],
    options: p['options'],
  };
}

const taskCommand: readonly VersionSpec[] = [{ fields: taskId }];

// PlanMade v2 adds what the planner read besides the log (ADR 0072); a v1 plan upcasts with those unknown (null).
const planFields: Fields = [
  ['planId', str],
  ['actions', arrayOf(shape([['actionId', str], ['action', shape([['op', str]])]]))],
  ['guard', objOrNull],
];

/**
 * Every version of every type a log may hold, index = version - 1. The mapped type makes the
 * compiler insist that each current event type has an entry.
 */
const SPECS: { readonly [K in EventType]: readonly VersionSpec[] } = {
  TerminalInitialized: [{ fields: [['terminalId', str], ['terminalName', str]] }],
  TaskCreated: [
    {
      fields: [...taskId, ['localRoot', str], ['cloudPath', (x) => typeof x === 'string' && x.indexOf(':') > 0], ['mode', modes], ['options', obj]],
      upcast: taskCreatedV1toV2,
    },
    {
      fields: [
        ...taskId,
        ['localRoot', str],
        ['localRootId', strOrNull],
        ['cloud', shape([['url', strOrNull], ['space', str], ['spaceType', spaceTypes], ['path', str]])],
        ['mode', modes],
        ['options', obj],
      ],
    },
  ],
  TaskCreationRefused: [{ fields: [['localRoot', str], ['cloud', str], ['reason', str], ['message', str]] }],
  TaskConfigured: [{ fields: [...taskId, ['options', obj]] }],
  TaskPaused: taskCommand,
  TaskResumed: taskCommand,
  TaskCancelled: taskCommand,
  SyncRequested: taskCommand,
  RetryRequested: taskCommand,
  TaskStatusChanged: [
    { fields: [['status', oneOf('scanning', 'synchronizing', 'completed', 'paused', 'failed')], ['reason', strOrNull], ['message', strOrNull]] },
  ],
  LocalScanStarted: [{ fields: [['scanId', str], ['under', str]] }],
  LocalScanCompleted: [{ fields: [['scanId', str], ['files', int], ['dirs', int], ['bytes', num]] }],
  LocalChanged: [{ fields: [['source', oneOf('scan', 'watch')], ['changes', localOrCloudChanges]] }],
  LocalSkipped: [{ fields: [['path', str], ['reason', oneOf('symlink', 'unreadable', 'changing', 'special')], ['message', str]] }],
  CloudChanged: [{ fields: [['source', oneOf('list', 'feed')], ['cursor', strOrNull], ['changes', localOrCloudChanges]] }],
  PlanMade: [
    { fields: planFields, upcast: (p) => ({ ...p, now: null, allowMassDelete: null, dirty: null }) },
    { fields: [...planFields, ['now', numOrNull], ['allowMassDelete', (x) => x === null || typeof x === 'boolean'], ['dirty', (x) => x === null || arrayOf(str)(x)]] },
  ],
  ActionStarted: [{ fields: [['actionId', str]] }],
  ActionSucceeded: [
    { fields: [['actionId', str], ['local', localOrCloudChanges], ['cloud', localOrCloudChanges], ['synced', arrayOf(change('entry'))]] },
  ],
  ActionFailed: [
    {
      fields: [['actionId', str], ['reason', str], ['message', str], ['transient', bool], ['attempt', int], ['nextRetryAt', numOrNull]],
    },
  ],
  ActionAbandoned: [{ fields: [['actionId', str], ['why', str]] }],
};

// A Map, not the object, for lookups: a stored type such as "constructor" must not find a prototype member.
// Each entry keeps its type's name as the one string the code uses for it: a decoded event carries
// that string, not the copy read from the store, so the folds' comparisons of `type` with literals
// compare one string with itself instead of character by character (ADR 0074).
const BY_TYPE: ReadonlyMap<string, { readonly type: EventType; readonly versions: readonly VersionSpec[] }> = new Map(
  Object.entries(SPECS).map(([type, versions]) => [type, { type: type as EventType, versions }]),
);

/** The current schema version of each event type: what {@link encodeEvent} writes and decoding upcasts to. */
export const CURRENT_VERSIONS: { readonly [K in EventType]: number } = Object.fromEntries(
  Object.entries(SPECS).map(([type, versions]) => [type, versions.length]),
) as { readonly [K in EventType]: number };

function firstBadField(payload: Payload, fields: Fields): string | null {
  for (const [name, check] of fields) if (!check(payload[name])) return name;
  return null;
}

function where(position: number, type: string, v: number): string {
  return `stored event at position ${position} (${type} v${v})`;
}

/**
 * Splits an event into what a store writes: its type, version and payload JSON.
 *
 * @example
 * encodeEvent({ type: 'ActionStarted', v: 1, actionId: 'act-1' }); // { type: 'ActionStarted', v: 1, data: '{"actionId":"act-1"}' }
 */
export function encodeEvent(event: FoldsyncEvent): EncodedEvent {
  const { type, v, ...payload } = event;
  return { type, v, data: JSON.stringify(payload) };
}

/**
 * Checks a parsed payload of a stored `type`/`v` and upcasts it to the current shape. Takes
 * ownership of `payload` (it may become the returned event). `position` only goes into errors.
 *
 * @throws EventLogError `unknown-event-type`, `unknown-event-version` or `corrupt-event`, naming `position`.
 */
export function decodeEvent(type: string, v: number, payload: unknown, position: number): FoldsyncEvent {
  const known = BY_TYPE.get(type);
  if (known === undefined) {
    throw new EventLogError(
      'unknown-event-type',
      `${where(position, type, v)} has a type this foldsync does not know: the log was written by a newer foldsync, or is damaged. Upgrade foldsync, or restore the log from an export.`,
      { position, type, v },
    );
  }
  const versions = known.versions;
  let spec = Number.isInteger(v) && v >= 1 ? versions[v - 1] : undefined;
  if (spec === undefined) {
    throw new EventLogError(
      'unknown-event-version',
      `${where(position, type, v)} has a version this foldsync does not know (it reads ${type} up to v${versions.length}): the log was written by a newer foldsync, or is damaged. Upgrade foldsync, or restore the log from an export.`,
      { position, type, v },
    );
  }
  if (!isObject(payload)) throw corrupt(position, type, v, 'its payload is not a JSON object');
  let current: Payload = payload;
  let version = v;
  for (;;) {
    const bad = firstBadField(current, spec.fields);
    if (bad !== null) throw corrupt(position, type, version, `field "${bad}" is missing or not valid`, version === v ? undefined : v);
    if (spec.upcast === undefined) break;
    current = spec.upcast(current);
    version += 1;
    spec = versions[version - 1];
    if (spec === undefined) throw new Error(`assertion failed: ${type} v${version - 1} upcasts to a version that does not exist`);
  }
  // Mutating the freshly parsed object, rather than spreading it into a new one, keeps decoding cheap.
  current['type'] = known.type;
  current['v'] = version;
  return current as unknown as FoldsyncEvent;
}

function corrupt(position: number, type: string, v: number, why: string, storedV?: number, cause?: unknown): EventLogError {
  return new EventLogError(
    'corrupt-event',
    `${where(position, type, storedV ?? v)} is corrupt: ${why}${storedV === undefined ? '' : ` (after upcasting to v${v})`}. The log is damaged; restore it from an export or a backup.`,
    { position, type, v: storedV ?? v },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Parses a stored row's JSON payload.
 *
 * @throws EventLogError `corrupt-event` naming the row's position when `data` is not JSON.
 */
export function parseData(row: Pick<StoredRow, 'position' | 'type' | 'v' | 'data'>): unknown {
  try {
    return JSON.parse(row.data);
  } catch (error) {
    throw corrupt(row.position, row.type, row.v, 'its payload is not valid JSON', undefined, error);
  }
}

/**
 * Turns a stored row into a typed, current-shape {@link StoredEvent}.
 *
 * @throws EventLogError when the row cannot be read; the error names its position.
 */
export function decodeRow(row: StoredRow): StoredEvent {
  return {
    position: row.position,
    stream: row.stream,
    streamVersion: row.streamVersion,
    at: row.at,
    event: decodeEvent(row.type, row.v, parseData(row), row.position),
  };
}
