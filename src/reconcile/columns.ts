/**
 * Compact columnar storage for the three trees (ADR 0010): one shared path table with a
 * parent/child index, and typed-array columns that pack the strings a meta carries (ids,
 * versions, mtimes, SHA-256 hashes) so that 1,000,000 entries per tree fit the memory budget.
 * Pure data structures: no IO.
 */

const INITIAL_CAPACITY = 1024;

function growU8(a: Uint8Array<ArrayBuffer>, n: number): Uint8Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const b = new Uint8Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}
function growU16(a: Uint16Array<ArrayBuffer>, n: number): Uint16Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const b = new Uint16Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}
function growI32(a: Int32Array<ArrayBuffer>, n: number, fill: number): Int32Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const b = new Int32Array(Math.max(n, a.length * 2)).fill(fill);
  b.set(a);
  return b;
}
function growF64(a: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const b = new Float64Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

/**
 * Every path any tree of a task has held, each with a slot number shared by the three trees,
 * and a first-child/next-sibling index so that a folder's children can be walked without a
 * sorted structure. Slots are never reused (ADR 0010: churn leaves dead slots until a rebuild).
 */
export class PathTable {
  private readonly index = new Map<string, number>();
  private readonly paths: string[] = [];
  private parent = new Int32Array(INITIAL_CAPACITY).fill(-1);
  private firstChild = new Int32Array(INITIAL_CAPACITY).fill(-1);
  private nextSibling = new Int32Array(INITIAL_CAPACITY).fill(-1);

  constructor() {
    this.index.set('', 0);
    this.paths.push('');
  }

  /** Number of slots (the root included). */
  get size(): number {
    return this.paths.length;
  }

  /** The slot of `path`, or undefined if no tree ever held it. */
  slotOf(path: string): number | undefined {
    return this.index.get(path);
  }

  /** The path of a slot. */
  pathOf(slot: number): string {
    return this.paths[slot] as string;
  }

  /** The slot of `path`, created (with its ancestors) when new. */
  intern(path: string): number {
    const known = this.index.get(path);
    if (known !== undefined) return known;
    const cut = path.lastIndexOf('/');
    const parentSlot = cut < 0 ? 0 : this.intern(path.slice(0, cut));
    const slot = this.paths.length;
    const n = slot + 1;
    this.parent = growI32(this.parent, n, -1);
    this.firstChild = growI32(this.firstChild, n, -1);
    this.nextSibling = growI32(this.nextSibling, n, -1);
    this.paths.push(path);
    this.index.set(path, slot);
    this.parent[slot] = parentSlot;
    this.nextSibling[slot] = this.firstChild[parentSlot] as number;
    this.firstChild[parentSlot] = slot;
    return slot;
  }

  /** Calls `fn` for every child slot of `slot` (any tree's), in no particular order. */
  forEachChild(slot: number, fn: (child: number) => void): void {
    for (let c = this.firstChild[slot] as number; c >= 0; c = this.nextSibling[c] as number) fn(c);
  }

  /** Capacity hint used by the columns. */
  get capacity(): number {
    return this.parent.length;
  }
}

/** Shared pool of string prefixes for {@link PackedStrings}; one per task so columns compare by number. */
export class PrefixPool {
  private readonly index = new Map<string, number>();
  private readonly list: string[] = [];
  /** Prefix numbers fit 16 bits with 0 and 1 reserved. */
  static readonly LIMIT = 65_000;

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
}

const ABSENT = 0;
const OVERFLOW = 1;
const MAX_DIGITS = 15;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * A column of optional strings, stored as (shared prefix number, trailing digits as a number,
 * digit count). Ids like `f-123`, `2049:1234567` and 19-digit nanosecond mtimes pack into 11
 * bytes; anything else (or a full prefix pool) goes to a small overflow map, so every string
 * round-trips exactly.
 */
export class PackedStrings {
  private pre = new Uint16Array(INITIAL_CAPACITY);
  private width = new Uint8Array(INITIAL_CAPACITY);
  private num = new Float64Array(INITIAL_CAPACITY);
  private readonly overflow = new Map<number, string>();

  constructor(private readonly pool: PrefixPool) {}

  /** Stores `value` (or clears the slot when undefined). */
  set(slot: number, value: string | undefined): void {
    const n = slot + 1;
    this.pre = growU16(this.pre, n);
    this.width = growU8(this.width, n);
    this.num = growF64(this.num, n);
    this.overflow.delete(slot);
    if (value === undefined) {
      this.pre[slot] = ABSENT;
      return;
    }
    let i = value.length;
    while (i > 0 && value.length - i < MAX_DIGITS && isDigit(value.charCodeAt(i - 1))) i--;
    const id = this.pool.idOf(value.slice(0, i));
    if (id < 0) {
      this.pre[slot] = OVERFLOW;
      this.overflow.set(slot, value);
      return;
    }
    this.pre[slot] = id + 2;
    this.width[slot] = value.length - i;
    this.num[slot] = i === value.length ? 0 : Number(value.slice(i));
  }

  /** The string at `slot`, or undefined. */
  get(slot: number): string | undefined {
    const p = this.pre[slot];
    if (p === undefined || p === ABSENT) return undefined;
    if (p === OVERFLOW) return this.overflow.get(slot);
    const w = this.width[slot] as number;
    const prefix = this.pool.prefix(p - 2);
    return w === 0 ? prefix : prefix + String(this.num[slot]).padStart(w, '0');
  }

  /** True when `slot` holds a value. */
  has(slot: number): boolean {
    const p = this.pre[slot];
    return p !== undefined && p !== ABSENT;
  }
}

const HEX = '0123456789abcdef';
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE[HEX.charCodeAt(i)] = i;

/**
 * A column of optional SHA-256 hashes: lowercase 64-hex values are kept as 32 raw bytes; any other
 * string goes to an overflow map (tests use short fake hashes).
 */
export class HashColumn {
  private tag = new Uint8Array(INITIAL_CAPACITY);
  private bytes = new Uint8Array(INITIAL_CAPACITY * 32);
  private readonly overflow = new Map<number, string>();

  /** Stores `value` (or clears the slot when undefined). */
  set(slot: number, value: string | undefined): void {
    this.tag = growU8(this.tag, slot + 1);
    this.bytes = growU8(this.bytes, (slot + 1) * 32);
    this.overflow.delete(slot);
    if (value === undefined) {
      this.tag[slot] = 0;
      return;
    }
    if (value.length === 64) {
      let ok = true;
      const at = slot * 32;
      for (let i = 0; i < 32; i++) {
        const hi = HEX_VALUE[value.charCodeAt(2 * i)] ?? -1;
        const lo = HEX_VALUE[value.charCodeAt(2 * i + 1)] ?? -1;
        if (hi < 0 || lo < 0) {
          ok = false;
          break;
        }
        this.bytes[at + i] = (hi << 4) | lo;
      }
      if (ok) {
        this.tag[slot] = 1;
        return;
      }
    }
    this.tag[slot] = 2;
    this.overflow.set(slot, value);
  }

  /** The hash at `slot`, or undefined. */
  get(slot: number): string | undefined {
    const t = this.tag[slot];
    if (t === undefined || t === 0) return undefined;
    if (t === 2) return this.overflow.get(slot);
    let out = '';
    const at = slot * 32;
    for (let i = 0; i < 32; i++) {
      const b = this.bytes[at + i] as number;
      out += HEX.charAt(b >> 4) + HEX.charAt(b & 15);
    }
    return out;
  }
}

/** A growable column of numbers (sizes). */
export class NumberColumn {
  private data = new Float64Array(INITIAL_CAPACITY);

  /** Stores a number. */
  set(slot: number, value: number): void {
    this.data = growF64(this.data, slot + 1);
    this.data[slot] = value;
  }

  /** The number at `slot` (0 when never set). */
  get(slot: number): number {
    return this.data[slot] ?? 0;
  }
}

/** A growable column of small codes (entry kinds: 0 absent, 1 file, 2 folder). */
export class CodeColumn {
  private data = new Uint8Array(INITIAL_CAPACITY);

  /** Stores a code. */
  set(slot: number, value: number): void {
    this.data = growU8(this.data, slot + 1);
    this.data[slot] = value;
  }

  /** The code at `slot` (0 when never set). */
  get(slot: number): number {
    return this.data[slot] ?? 0;
  }
}
