/**
 * Compact columnar storage for the three trees (ADR 0010): one shared path table with a
 * parent/child index, and typed-array columns that pack the strings a meta carries (ids,
 * versions, mtimes, SHA-256 hashes) so that 1,000,000 entries per tree fit the memory budget.
 * Pure data structures: no IO.
 */

import type { SnapshotReader, SnapshotWriter } from '../lib/snapshot-codec.js';
import { SnapshotFormatError } from '../lib/snapshot-codec.js';

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

type TypedArrayKind = Uint8Array<ArrayBuffer> | Uint16Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>;

/**
 * A growable typed column stored in fixed chunks of 65,536 slots: growing never copies, so a
 * 1,000,000-slot column never holds two copies of itself (doubling arrays did, and the freed
 * halves stayed in the process's resident memory).
 */
class Chunked<A extends TypedArrayKind> {
  private readonly chunks: A[] = [];

  constructor(
    private readonly make: (n: number) => A,
    private readonly width = 1,
    private readonly empty = 0,
  ) {}

  /** The chunk holding `slot`, created on first write. */
  chunkFor(slot: number): A {
    const at = slot >>> CHUNK_BITS;
    let c = this.chunks[at];
    if (c === undefined) {
      c = this.make(CHUNK * this.width);
      if (this.empty !== 0) c.fill(this.empty);
      // Chunks never written stay holes: a column only some entries use costs only what they use.
      this.chunks[at] = c;
    }
    return c;
  }

  /** The chunk holding `slot`, or undefined when never written. */
  chunkAt(slot: number): A | undefined {
    return this.chunks[slot >>> CHUNK_BITS];
  }

  get(slot: number): number {
    const c = this.chunks[slot >>> CHUNK_BITS];
    return c === undefined ? this.empty : (c[slot & MASK] as number);
  }

  set(slot: number, value: number): void {
    this.chunkFor(slot)[slot & MASK] = value;
  }

  /** Writes every chunk (holes stay holes), only as far as the table's `slots` reach. */
  save(w: SnapshotWriter, slots: number): void {
    const used = Math.min(this.chunks.length, Math.ceil(slots / CHUNK));
    w.number(used);
    for (let i = 0; i < used; i++) {
      const c = this.chunks[i];
      w.number(c === undefined ? 0 : 1);
      if (c !== undefined) w.array(c.subarray(0, Math.min(CHUNK, slots - i * CHUNK) * this.width));
    }
  }

  /** Reads what {@link save} wrote into this empty column. */
  load(r: SnapshotReader, slots: number): void {
    if (this.chunks.length !== 0) throw new Error('load needs an empty column');
    const n = r.number();
    if (n > Math.ceil(slots / CHUNK)) throw new SnapshotFormatError('snapshot column is longer than its path table');
    const type = this.make(0).constructor as unknown as { readonly BYTES_PER_ELEMENT: number; new (buffer: ArrayBuffer, byteOffset: number, length: number): A };
    for (let i = 0; i < n; i++) {
      if (r.number() === 0) continue;
      const length = Math.min(CHUNK, slots - i * CHUNK) * this.width;
      // A whole chunk may stay where the snapshot holds it (when the reader was given the bytes).
      const whole = length === CHUNK * this.width ? r.viewOf(type, length) : null;
      if (whole !== null) {
        this.chunks[i] = whole;
        continue;
      }
      r.arrayInto(this.chunkFor(i * CHUNK).subarray(0, length));
    }
  }
}

/** Writes a map of slot numbers to JSON values as one JSON array of pairs. */
export function saveSlotMap(w: SnapshotWriter, map: ReadonlyMap<number, unknown>): void {
  w.json([...map]);
}

/** Reads what {@link saveSlotMap} wrote into `map`, checking each value with `valid`. */
export function loadSlotMap<T>(r: SnapshotReader, map: Map<number, T>, valid: (v: unknown) => v is T): void {
  const pairs = r.json();
  if (!Array.isArray(pairs)) throw new SnapshotFormatError('snapshot map is not an array');
  for (const pair of pairs as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || !Number.isSafeInteger(pair[0]) || !valid(pair[1])) throw new SnapshotFormatError('snapshot map holds a bad entry');
    map.set(pair[0] as number, pair[1]);
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';

const u8 = (n: number): Uint8Array<ArrayBuffer> => new Uint8Array(n);
const u16 = (n: number): Uint16Array<ArrayBuffer> => new Uint16Array(n);
const i32 = (n: number): Int32Array<ArrayBuffer> => new Int32Array(n);
const f64 = (n: number): Float64Array<ArrayBuffer> => new Float64Array(n);

const NO_HINT: readonly number[] = [];

/**
 * Every path any tree of a task has held, each with a slot number shared by the three trees,
 * and a first-child/next-sibling index so that a folder's children can be walked without a
 * sorted structure. Slots are never reused (ADR 0010: churn leaves dead slots until a rebuild).
 */
export class PathTable {
  private readonly index = new Map<string, number>();
  private readonly paths: string[] = [];
  private readonly parent = new Chunked(i32, 1, -1);
  private readonly firstChild = new Chunked(i32, 1, -1);
  private readonly nextSibling = new Chunked(i32, 1, -1);

  constructor() {
    this.index.set('', 0);
    this.paths.push('');
  }

  /** Number of slots (the root included). */
  get size(): number {
    return this.paths.length;
  }

  // The last path found: the planner asks for one path's sync state and then its entries, and each
  // lookup in a table of 1,000,000 paths costs cache misses. Slots never move, so a hit stays valid.
  private lastPath = '';
  private lastSlot = 0;

  // The slots whose paths are expected next, in order: the dirty paths just handed to the planner,
  // which asks for each in turn (ADR 0011). A hit costs one read of `paths` instead of a lookup in
  // a table of up to 1,000,000 paths; the first miss drops the hint.
  private expected: readonly number[] = NO_HINT;
  private expectedAt = 0;

  /** Tells the table that the paths of `slots` will be asked for next, in this order (a hint only). */
  expect(slots: readonly number[]): void {
    this.expected = slots;
    this.expectedAt = 0;
  }

  /** The slot of `path`, or undefined if no tree ever held it. */
  slotOf(path: string): number | undefined {
    if (path === this.lastPath) return this.lastSlot;
    // The slot expected next: the hint's while it lasts, else the one after the last found (a
    // rescan meets the paths in the order a first scan interned them, and a task rebuilt from its
    // log interns them in that order again: ADR 0030). One comparison before a lookup in a table
    // of up to 1,000,000 paths. Both cases run the same operations (the choice is between two
    // numbers), so code compiled while one of them served is not thrown away when the other does
    // (ADR 0011, fifth round).
    const hint = this.expected[this.expectedAt];
    const next = this.lastSlot + 1;
    const guess = hint === undefined ? next : hint;
    if (this.paths[guess] === path) {
      this.expectedAt += hint === undefined ? 0 : 1;
      this.lastPath = path;
      this.lastSlot = guess;
      return guess;
    }
    // Not asked in that order after all: the hint would only cost every later lookup.
    this.expected = hint === undefined ? this.expected : NO_HINT;
    const slot = this.index.get(path);
    if (slot !== undefined) {
      this.lastPath = path;
      this.lastSlot = slot;
    }
    return slot;
  }

  /** The path of a slot. */
  pathOf(slot: number): string {
    return this.paths[slot] as string;
  }

  /** The slot of `path`, created (with its ancestors) when new. */
  intern(path: string): number {
    // An outcome names one path for several trees (cloud, then synced): the last path found first.
    if (path === this.lastPath) return this.lastSlot;
    const known = this.index.get(path);
    if (known !== undefined) {
      this.lastPath = path;
      this.lastSlot = known;
      return known;
    }
    const cut = path.lastIndexOf('/');
    const parentSlot = cut < 0 ? 0 : this.intern(path.slice(0, cut));
    const slot = this.paths.length;
    this.paths.push(path);
    this.index.set(path, slot);
    this.parent.set(slot, parentSlot);
    this.nextSibling.set(slot, this.firstChild.get(parentSlot));
    this.firstChild.set(parentSlot, slot);
    return slot;
  }

  /** Calls `fn` for every child slot of `slot` (any tree's), in no particular order. */
  forEachChild(slot: number, fn: (child: number) => void): void {
    for (let c = this.firstChild.get(slot); c >= 0; c = this.nextSibling.get(c)) fn(c);
  }

  /** Writes the table: its paths (NUL-separated: no name holds NUL) and its parent/child index. */
  save(w: SnapshotWriter): void {
    w.section('paths');
    w.number(this.paths.length);
    w.string(this.paths.slice(1).join('\u0000'));
    this.parent.save(w, this.paths.length);
    this.firstChild.save(w, this.paths.length);
    this.nextSibling.save(w, this.paths.length);
  }

  /** Reads what {@link save} wrote into this new table (slots keep their numbers). */
  load(r: SnapshotReader): void {
    if (this.paths.length !== 1) throw new Error('load needs a new table');
    r.section('paths');
    const n = r.number();
    const joined = r.string();
    const paths = n === 1 ? [] : joined.split('\u0000');
    if (paths.length !== n - 1) throw new SnapshotFormatError(`snapshot path table holds ${String(paths.length + 1)} paths where ${String(n)} were announced`);
    // One map operation per path (a restore of 100,000 paths spends most of its table time here);
    // a path held twice shows as a map smaller than the list.
    for (const p of paths) {
      this.index.set(p, this.paths.length);
      this.paths.push(p);
    }
    if (this.index.size !== this.paths.length) throw new SnapshotFormatError('snapshot path table holds a path twice');
    this.parent.load(r, n);
    this.firstChild.load(r, n);
    this.nextSibling.load(r, n);
  }
}

/** Shared pool of string prefixes for {@link PackedStrings}; one per task so columns compare by number. */
export class PrefixPool {
  private readonly index = new Map<string, number>();
  private readonly list: string[] = [];
  /** Prefix numbers fit 16 bits with 0 and 1 reserved. */
  static readonly LIMIT = 65_000;

  /** How many prefixes the pool holds. */
  get size(): number {
    return this.list.length;
  }

  /** The number of `prefix`, or -1 when the pool is full. */
  idOf(prefix: string): number {
    const known = this.index.get(prefix);
    if (known !== undefined) return known;
    if (this.list.length >= PrefixPool.LIMIT) return -1;
    const id = this.list.length;
    this.list.push(prefix);
    this.index.set(prefix, id);
    return id;
  }

  /** The prefix of a number. */
  prefix(id: number): string {
    return this.list[id] as string;
  }

  save(w: SnapshotWriter): void {
    w.section('prefixes');
    w.json(this.list);
  }

  /** Reads what {@link save} wrote into this empty pool (prefixes keep their numbers). */
  load(r: SnapshotReader): void {
    if (this.list.length !== 0) throw new Error('load needs an empty pool');
    r.section('prefixes');
    const list = r.json();
    if (!Array.isArray(list) || !list.every(isString) || list.length > PrefixPool.LIMIT) throw new SnapshotFormatError('snapshot prefix pool is not a list of strings');
    for (const p of list) {
      if (this.index.has(p)) throw new SnapshotFormatError('snapshot prefix pool holds a prefix twice');
      this.index.set(p, this.list.length);
      this.list.push(p);
    }
  }
}

const ABSENT = 0;
const OVERFLOW = 1;
const MAX_DIGITS = 15;
/** Trailing lowercase hex characters a packed string keeps as nibbles (16 bytes a slot). */
const MAX_NIBBLES = 32;
/** Set in `width` when the tail is hex nibbles (the low bits count them) rather than decimal digits. */
const HEX_TAIL = 0x80;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

const HEX = '0123456789abcdef';
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE[HEX.charCodeAt(i)] = i;
const HEX_CODES = new Uint8Array(16).map((_, i) => HEX.charCodeAt(i));
const HEX_OUT: number[] = new Array<number>(64).fill(0);

/** One reused array of character codes per length, for {@link String.fromCharCode}. */
const TAIL_OUT: number[][] = Array.from({ length: MAX_NIBBLES + 1 }, (_, n) => new Array<number>(n).fill(0));

/**
 * A column of optional strings, stored as (shared prefix number, tail, tail length). The tail is
 * either trailing decimal digits as a number (ids like `f-123`, `2049:1234567`, 19-digit
 * nanosecond mtimes: 11 bytes a slot) or, when the trailing run holds a letter, up to 32
 * lowercase hex characters as nibbles (ids like `i-018f3a…`, 16 bytes more, only in the chunks
 * that use them): such ids are mostly random, and as digits their prefixes would be unique, fill
 * the prefix pool and spill every later id into the overflow map. Anything else (or a full prefix
 * pool) goes to a small overflow map, so every string round-trips exactly.
 */
export class PackedStrings {
  private readonly pre = new Chunked(u16);
  private readonly width = new Chunked(u8);
  private readonly num = new Chunked(f64);
  private readonly hex = new Chunked(u8, MAX_NIBBLES / 2);
  private readonly overflow = new Map<number, string>();

  // The prefix this column stored last and its number: a column's values mostly share one prefix
  // (every mtime, every `dev:` of one device), so the usual write slices no prefix string and looks
  // nothing up (ADR 0074). Numbers never change once given, so a remembered one stays right.
  private lastPrefix = '';
  private lastId = -1;

  constructor(private readonly pool: PrefixPool) {}

  /** Stores `value` (or clears the slot when undefined). */
  set(slot: number, value: string | undefined): void {
    this.overflow.delete(slot);
    if (value === undefined) {
      if (this.pre.chunkAt(slot) !== undefined) this.pre.set(slot, ABSENT);
      return;
    }
    const len = value.length;
    // The trailing hex run, and whether it holds a letter (else it is all digits, packed as before).
    let h = len;
    let letter = false;
    while (h > 0 && len - h < MAX_NIBBLES) {
      const code = value.charCodeAt(h - 1);
      if (code >= 97 && code <= 102) letter = true;
      else if (!isDigit(code)) break;
      h--;
    }
    if (letter) {
      const id = this.prefixId(value, h);
      if (id >= 0) {
        this.pre.set(slot, id + 2);
        this.width.set(slot, HEX_TAIL | (len - h));
        const chunk = this.hex.chunkFor(slot);
        const at = (slot & MASK) * (MAX_NIBBLES / 2);
        chunk.fill(0, at, at + MAX_NIBBLES / 2);
        for (let k = 0; k < len - h; k++) chunk[at + (k >> 1)] = (chunk[at + (k >> 1)] as number) | ((HEX_VALUE[value.charCodeAt(h + k)] as number) << (k & 1 ? 0 : 4));
        return;
      }
    } else {
      // The trailing digits (at most MAX_DIGITS) and their value, read from the right: every partial
      // sum is an integer below 10^15, so this is exactly Number() of those digits.
      let i = len;
      let n = 0;
      for (let scale = 1; i > 0 && len - i < MAX_DIGITS; scale *= 10) {
        const code = value.charCodeAt(i - 1);
        if (!isDigit(code)) break;
        n += (code - 48) * scale;
        i--;
      }
      const id = this.prefixId(value, i);
      if (id >= 0) {
        this.pre.set(slot, id + 2);
        this.width.set(slot, len - i);
        this.num.set(slot, n);
        return;
      }
    }
    this.pre.set(slot, OVERFLOW);
    this.overflow.set(slot, value);
  }

  /** The pool number of `value`'s first `end` characters (-1: the pool is full), remembering the last one. */
  private prefixId(value: string, end: number): number {
    if (this.lastId >= 0 && end === this.lastPrefix.length && value.startsWith(this.lastPrefix)) return this.lastId;
    const prefix = value.slice(0, end);
    const id = this.pool.idOf(prefix);
    if (id >= 0) {
      this.lastPrefix = prefix;
      this.lastId = id;
    }
    return id;
  }

  /** The string at `slot`, or undefined. */
  get(slot: number): string | undefined {
    const p = this.pre.get(slot);
    if (p === ABSENT) return undefined;
    if (p === OVERFLOW) return this.overflow.get(slot);
    const w = this.width.get(slot);
    const prefix = this.pool.prefix(p - 2);
    if ((w & HEX_TAIL) !== 0) {
      const n = w & ~HEX_TAIL;
      const out = TAIL_OUT[n] as number[];
      const chunk = this.hex.chunkFor(slot);
      const at = (slot & MASK) * (MAX_NIBBLES / 2);
      for (let k = 0; k < n; k++) out[k] = HEX_CODES[((chunk[at + (k >> 1)] as number) >> (k & 1 ? 0 : 4)) & 15] as number;
      return prefix + String.fromCharCode.apply(null, out);
    }
    return w === 0 ? prefix : prefix + String(this.num.get(slot)).padStart(w, '0');
  }

  /** True when `slot` holds a value. */
  has(slot: number): boolean {
    return this.pre.get(slot) !== ABSENT;
  }

  /** True when the string at `slot` is `value` (both absent counts), without building the stored string. */
  equals(slot: number, value: string | undefined): boolean {
    const p = this.pre.get(slot);
    if (p === ABSENT) return value === undefined;
    if (value === undefined) return false;
    if (p === OVERFLOW) return this.overflow.get(slot) === value;
    const prefix = this.pool.prefix(p - 2);
    const w = this.width.get(slot);
    if ((w & HEX_TAIL) !== 0) {
      const n = w & ~HEX_TAIL;
      if (value.length !== prefix.length + n || !value.startsWith(prefix)) return false;
      const chunk = this.hex.chunkFor(slot);
      const at = (slot & MASK) * (MAX_NIBBLES / 2);
      for (let k = 0; k < n; k++) {
        const code = value.charCodeAt(prefix.length + k);
        if (code >= 128 || (HEX_VALUE[code] as number) !== (((chunk[at + (k >> 1)] as number) >> (k & 1 ? 0 : 4)) & 15)) return false;
      }
      return true;
    }
    if (value.length !== prefix.length + w || !value.startsWith(prefix)) return false;
    let n = 0;
    for (let i = prefix.length; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (!isDigit(code)) return false;
      n = n * 10 + (code - 48);
    }
    return n === this.num.get(slot);
  }

  /** True when this column at `slot` holds the same string as `other` at `slot` (same pool), without decoding. */
  sameAs(other: PackedStrings, slot: number): boolean {
    const p = this.pre.get(slot);
    const q = other.pre.get(slot);
    if (p !== q) return p === OVERFLOW || q === OVERFLOW ? this.get(slot) === other.get(slot) : false;
    if (p === ABSENT) return true;
    if (p === OVERFLOW) return this.overflow.get(slot) === other.overflow.get(slot);
    const w = this.width.get(slot);
    if (w !== other.width.get(slot)) return false;
    if ((w & HEX_TAIL) === 0) return this.num.get(slot) === other.num.get(slot);
    // Both tails are zero-filled past their nibbles.
    const a = this.hex.chunkFor(slot);
    const b = other.hex.chunkFor(slot);
    const at = (slot & MASK) * (MAX_NIBBLES / 2);
    for (let k = 0; k < MAX_NIBBLES / 2; k++) if (a[at + k] !== b[at + k]) return false;
    return true;
  }

  save(w: SnapshotWriter, slots: number): void {
    w.section('packed');
    this.pre.save(w, slots);
    this.width.save(w, slots);
    this.num.save(w, slots);
    this.hex.save(w, slots);
    saveSlotMap(w, this.overflow);
  }

  /** Reads what {@link save} wrote into this empty column (its pool loaded first). */
  load(r: SnapshotReader, slots: number): void {
    r.section('packed');
    this.pre.load(r, slots);
    this.width.load(r, slots);
    this.num.load(r, slots);
    this.hex.load(r, slots);
    loadSlotMap(r, this.overflow, isString);
  }
}

/**
 * A column of optional SHA-256 hashes: lowercase 64-hex values are kept as 32 raw bytes; any other
 * string goes to an overflow map (tests use short fake hashes).
 */
export class HashColumn {
  private readonly tag = new Chunked(u8);
  private readonly bytes = new Chunked(u8, 32);
  private readonly overflow = new Map<number, string>();

  /** Stores `value` (or clears the slot when undefined). */
  set(slot: number, value: string | undefined): void {
    this.overflow.delete(slot);
    if (value === undefined) {
      if (this.tag.chunkAt(slot) !== undefined) this.tag.set(slot, 0);
      return;
    }
    if (value.length === 64) {
      let ok = true;
      const chunk = this.bytes.chunkFor(slot);
      const at = (slot & MASK) * 32;
      for (let i = 0; i < 32; i++) {
        const hi = HEX_VALUE[value.charCodeAt(2 * i)] ?? -1;
        const lo = HEX_VALUE[value.charCodeAt(2 * i + 1)] ?? -1;
        if (hi < 0 || lo < 0) {
          ok = false;
          break;
        }
        chunk[at + i] = (hi << 4) | lo;
      }
      if (ok) {
        this.tag.set(slot, 1);
        return;
      }
    }
    this.tag.set(slot, 2);
    this.overflow.set(slot, value);
  }

  /** True when `slot` holds a hash (without decoding it). */
  has(slot: number): boolean {
    return this.tag.get(slot) !== 0;
  }

  /** True when the hash at `slot` is `value` (both absent counts), compared in place: no string is built. */
  equals(slot: number, value: string | undefined): boolean {
    const t = this.tag.get(slot);
    if (t === 0) return value === undefined;
    if (value === undefined) return false;
    if (t === 2) return this.overflow.get(slot) === value;
    // Stored as bytes: what `get` would give is 64 lowercase hex digits.
    if (value.length !== 64) return false;
    const chunk = this.bytes.chunkAt(slot);
    if (chunk === undefined) return false;
    const at = (slot & MASK) * 32;
    for (let i = 0; i < 32; i++) {
      const hi = HEX_VALUE[value.charCodeAt(2 * i)] ?? -1;
      const lo = HEX_VALUE[value.charCodeAt(2 * i + 1)] ?? -1;
      if (hi < 0 || lo < 0 || chunk[at + i] !== ((hi << 4) | lo)) return false;
    }
    return true;
  }

  /** The hash at `slot`, or undefined. */
  get(slot: number): string | undefined {
    const t = this.tag.get(slot);
    if (t === 0) return undefined;
    if (t === 2) return this.overflow.get(slot);
    // Character codes gathered in one reused array and made into a string by one call: a flat
    // string, not a 32-piece rope that every later comparison would have to flatten; about half the
    // time of a TextDecoder call per hash (the planner decodes two per changed path).
    const chunk = this.bytes.chunkAt(slot);
    if (chunk === undefined) return undefined;
    const at = (slot & MASK) * 32;
    for (let i = 0; i < 32; i++) {
      const b = chunk[at + i] as number;
      HEX_OUT[2 * i] = HEX_CODES[b >> 4] as number;
      HEX_OUT[2 * i + 1] = HEX_CODES[b & 15] as number;
    }
    return String.fromCharCode.apply(null, HEX_OUT);
  }

  save(w: SnapshotWriter, slots: number): void {
    w.section('hashes');
    this.tag.save(w, slots);
    this.bytes.save(w, slots);
    saveSlotMap(w, this.overflow);
  }

  /** Reads what {@link save} wrote into this empty column. */
  load(r: SnapshotReader, slots: number): void {
    r.section('hashes');
    this.tag.load(r, slots);
    this.bytes.load(r, slots);
    loadSlotMap(r, this.overflow, isString);
  }
}

/** A growable column of numbers (sizes). */
export class NumberColumn {
  private readonly data = new Chunked(f64);

  /** Stores a number. */
  set(slot: number, value: number): void {
    this.data.set(slot, value);
  }

  /** The number at `slot` (0 when never set). */
  get(slot: number): number {
    return this.data.get(slot);
  }

  save(w: SnapshotWriter, slots: number): void {
    w.section('numbers');
    this.data.save(w, slots);
  }

  load(r: SnapshotReader, slots: number): void {
    r.section('numbers');
    this.data.load(r, slots);
  }
}

/** A growable column of small codes (entry kinds: 0 absent, 1 file, 2 folder). */
export class CodeColumn {
  private readonly data = new Chunked(u8);

  /** Stores a code. */
  set(slot: number, value: number): void {
    this.data.set(slot, value);
  }

  /** The code at `slot` (0 when never set). */
  get(slot: number): number {
    return this.data.get(slot);
  }

  save(w: SnapshotWriter, slots: number): void {
    w.section('codes');
    this.data.save(w, slots);
  }

  load(r: SnapshotReader, slots: number): void {
    r.section('codes');
    this.data.load(r, slots);
  }
}

/**
 * Compares two RelPaths in the order of `compareRelPaths` (segment by segment) without building
 * anything: code-unit order with '/' counted as NUL, which no name holds. Only the sign counts.
 */
export function compareSegments(x: string, y: string): number {
  if (x === y) return 0;
  const n = x.length < y.length ? x.length : y.length;
  for (let i = 0; i < n; i++) {
    const a = x.charCodeAt(i);
    const b = y.charCodeAt(i);
    if (a !== b) {
      const ma = a === 47 ? 0 : a;
      const mb = b === 47 ? 0 : b;
      if (ma !== mb) return ma - mb;
    }
  }
  return x.length - y.length;
}

/**
 * Sorts `list` in place by the RelPath `key` gives each element, in the order of `compareRelPaths`.
 * Plain code-unit order is that order unless, where two paths first differ, a '/' meets a lower
 * code unit (' ', '-', '.': 'a.b' against 'a/b'). So: one native sort by code units, then one pass
 * checking each neighbouring pair in segment order; only when a pair is out of order are keys
 * with '/' mapped to NUL built and sorted again (the same order, the old way). No key strings in
 * the common case: they were most of a 10,000-path plan's sorting garbage (ADR 0011).
 */
export function sortByRelPath<T>(list: T[], key: (x: T) => string): T[] {
  if (list.length < 2) return list;
  list.sort((x, y) => {
    const a = key(x);
    const b = key(y);
    // Both comparisons run for every pair, so a sorted list (a full plan's) and an unsorted one
    // run the same compiled code (ADR 0011, fifth round).
    const lt = a < b;
    const gt = a > b;
    return lt ? -1 : gt ? 1 : 0;
  });
  let ordered = true;
  for (let i = 1; i < list.length && ordered; i++) ordered = compareSegments(key(list[i - 1] as T), key(list[i] as T)) <= 0;
  if (ordered) return list;
  const keyed = list.map((x) => {
    const p = key(x);
    return [p.includes('/') ? p.replaceAll('/', '\u0000') : p, x] as const;
  });
  keyed.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  for (let i = 0; i < keyed.length; i++) list[i] = (keyed[i] as readonly [string, T])[1];
  return list;
}

const itself = (p: string): string => p;

/** Sorts RelPaths in place in the order of `compareRelPaths` (segment by segment), fast (see {@link sortByRelPath}). */
export function sortRelPaths(paths: string[]): string[] {
  return sortByRelPath(paths, itself);
}
