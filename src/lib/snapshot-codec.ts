/**
 * A small binary codec for snapshots of folded state (ADR 0012): named sections of numbers,
 * strings, JSON and raw typed-array bytes. Every section is read back by name and the reader
 * checks each name and length, so a snapshot written by a different layout fails to load
 * (`SnapshotFormatError`) instead of loading wrong. Pure: no IO.
 */

/** A snapshot that cannot be read back with this layout (other layout, truncated, damaged). */
export class SnapshotFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotFormatError';
  }
}

type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Writes a snapshot as a sequence of byte pieces: to `sink` as they are made (which must consume
 * each at once: typed arrays are handed over without a copy), or else collected for
 * {@link SnapshotWriter.bytes} (typed-array contents copied).
 */
export class SnapshotWriter {
  private readonly pieces: Bytes[] = [];

  constructor(private readonly sink?: (piece: Uint8Array) => void) {}

  private push(piece: Bytes): void {
    if (this.sink === undefined) this.pieces.push(piece);
    else this.sink(piece);
  }

  /** A section marker: the reader checks it is at the same name. */
  section(name: string): void {
    this.string(`#${name}`);
  }

  /** A non-negative integer below 2^53. */
  number(n: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, n, true);
    this.push(b);
  }

  string(s: string): void {
    const b = encoder.encode(s);
    this.number(b.byteLength);
    this.push(b);
  }

  json(value: unknown): void {
    this.string(JSON.stringify(value));
  }

  /** Raw bytes of a typed array. */
  array(a: ArrayBufferView<ArrayBuffer>): void {
    this.number(a.byteLength);
    this.push(this.sink === undefined ? new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)) : new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  /** The pieces written so far as one array. */
  bytes(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.pieces.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of this.pieces) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}

/** Reads what a {@link SnapshotWriter} wrote, in the same order. */
export class SnapshotReader {
  private at = 0;
  private readonly view: DataView;

  /**
   * @param given true when the caller hands `data` over to what is restored from it (it will not
   *   read or keep the bytes itself): arrays may then be kept as views of them ({@link viewOf}).
   */
  constructor(
    private readonly data: Bytes,
    private readonly given = false,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.data.byteLength) throw new SnapshotFormatError(`snapshot truncated at byte ${String(this.at)}`);
  }

  section(name: string): void {
    const got = this.string();
    if (got !== `#${name}`) throw new SnapshotFormatError(`snapshot section "${got}" where "#${name}" was expected`);
  }

  number(): number {
    this.need(8);
    const n = this.view.getFloat64(this.at, true);
    this.at += 8;
    if (!Number.isSafeInteger(n) || n < 0) throw new SnapshotFormatError(`snapshot holds a bad length or count at byte ${String(this.at - 8)}`);
    return n;
  }

  string(): string {
    const n = this.number();
    this.need(n);
    let s: string;
    try {
      s = decoder.decode(this.data.subarray(this.at, this.at + n));
    } catch {
      throw new SnapshotFormatError(`snapshot holds bad UTF-8 at byte ${String(this.at)}`);
    }
    this.at += n;
    return s;
  }

  json(): unknown {
    const text = this.string();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new SnapshotFormatError('snapshot holds bad JSON');
    }
  }

  /** Copies the next typed array's bytes into `into`, which must have exactly its length. */
  arrayInto(into: ArrayBufferView): void {
    const n = this.number();
    if (n !== into.byteLength) throw new SnapshotFormatError(`snapshot array of ${String(n)} bytes where ${String(into.byteLength)} were expected`);
    this.need(n);
    new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(this.data.subarray(this.at, this.at + n));
    this.at += n;
  }

  /**
   * The next typed array as a view of the snapshot's own bytes, when they were given, it holds
   * exactly `length` elements of `type` and starts where such an array may; else null, and nothing
   * is read (read it with {@link arrayInto}). A view is written to by its new owner: no copy, and
   * none of the page faults of new memory (some 90 ms of restoring a 100,000-file task here).
   */
  viewOf<A>(type: { readonly BYTES_PER_ELEMENT: number; new (buffer: ArrayBuffer, byteOffset: number, length: number): A }, length: number): A | null {
    if (!this.given || this.at + 8 > this.data.byteLength) return null;
    const n = this.view.getFloat64(this.at, true);
    const start = this.data.byteOffset + this.at + 8;
    if (n !== length * type.BYTES_PER_ELEMENT || this.at + 8 + n > this.data.byteLength || start % type.BYTES_PER_ELEMENT !== 0) return null;
    this.at += 8 + n;
    return new type(this.data.buffer, start, length);
  }

  /** Fails unless every byte was read. */
  end(): void {
    if (this.at !== this.data.byteLength) throw new SnapshotFormatError(`snapshot has ${String(this.data.byteLength - this.at)} bytes past its end`);
  }
}
