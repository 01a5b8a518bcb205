/**
 * The portable export format, JSON Lines: a header line `{"format":"foldsync-event-log","version":1}`,
 * then one line per event in position order:
 * `{"position":1,"stream":"engine","streamVersion":1,"at":1767225600000,"type":"...","v":1,"data":{...}}`.
 * Events keep the version they were stored with (upcasting happens on read, wherever the log goes).
 * The writer is deterministic (no export time in the header, payloads re-serialised canonically),
 * so export, import, export gives identical bytes.
 */
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { EventLogError } from './errors.js';
import type { TransferSummary } from './event-log.js';
import { decodeEvent, parseData, type StoredRow } from './upcast.js';

/** The export format's name, in its header line. */
export const EXPORT_FORMAT = 'foldsync-event-log';
/** The export format's version, in its header line. */
export const EXPORT_FORMAT_VERSION = 1;

const HEADER = `${JSON.stringify({ format: EXPORT_FORMAT, version: EXPORT_FORMAT_VERSION })}\n`;
const EXPORT_PAGE = 5000;

/** One export line for a stored row; checks the row on the way, so a damaged log is never exported silently. */
function exportLine(row: StoredRow): string {
  const data = parseData(row);
  const canonical = JSON.stringify(data);
  decodeEvent(row.type, row.v, data, row.position);
  return `{"position":${row.position},"stream":${JSON.stringify(row.stream)},"streamVersion":${row.streamVersion},"at":${row.at},"type":${JSON.stringify(row.type)},"v":${row.v},"data":${canonical}}\n`;
}

/**
 * Writes every row `readRows` yields to `file` in the export format, through a temporary file
 * renamed into place, so that a failed export never leaves a truncated file under the real name.
 */
export async function writeExport(file: string, readRows: (from: number, limit: number) => Promise<readonly StoredRow[]>): Promise<TransferSummary> {
  const temp = `${file}.partial`;
  const handle = await open(temp, 'w');
  let events = 0;
  try {
    await handle.write(HEADER);
    let from = 1;
    for (;;) {
      const rows = await readRows(from, EXPORT_PAGE);
      const last = rows[rows.length - 1];
      if (last === undefined) break;
      let chunk = '';
      for (const row of rows) chunk += exportLine(row);
      await handle.write(chunk);
      events += rows.length;
      from = last.position + 1;
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, file);
  return { events };
}

/** Where an import writes: one all-or-nothing unit. */
export interface ImportSink {
  /** Writes checked rows, in position order, continuing from the previous call. */
  write(rows: readonly StoredRow[]): void;
}

function badLine(file: string, line: number, why: string, cause?: unknown): EventLogError {
  return new EventLogError(
    'import-corrupt',
    `${file} line ${line}: ${why}. The file is not a complete foldsync export; nothing was imported.`,
    { file, line },
    cause === undefined ? undefined : { cause },
  );
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 1;

/**
 * Reads and checks an export file, handing its rows to `sink` in batches. Checks the header, that
 * positions run 1, 2, 3, ... and each stream's versions likewise, and that every event decodes.
 * The caller makes the whole import one transaction and rolls it back when this throws.
 *
 * @throws EventLogError `import-corrupt` naming the first bad line.
 */
export async function readExport(file: string, sink: ImportSink): Promise<TransferSummary> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let batch: StoredRow[] = [];
  const versions = new Map<string, number>();
  try {
    for await (const text of lines) {
      lineNo += 1;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw badLine(file, lineNo, 'not valid JSON', error);
      }
      if (!isRecord(parsed)) throw badLine(file, lineNo, 'not a JSON object');
      if (lineNo === 1) {
        if (parsed['format'] !== EXPORT_FORMAT) throw badLine(file, lineNo, `the header does not name the format "${EXPORT_FORMAT}"`);
        if (parsed['version'] !== EXPORT_FORMAT_VERSION) throw badLine(file, lineNo, `format version ${String(parsed['version'])} is not one this foldsync reads (${EXPORT_FORMAT_VERSION})`);
        continue;
      }
      const { position, stream, streamVersion, at, type, v, data } = parsed;
      if (position !== lineNo - 1) throw badLine(file, lineNo, `expected position ${lineNo - 1}, found ${String(position)}`);
      if (typeof stream !== 'string' || stream === '') throw badLine(file, lineNo, 'field "stream" is missing or empty');
      const expectedVersion = (versions.get(stream) ?? 0) + 1;
      if (streamVersion !== expectedVersion) throw badLine(file, lineNo, `expected version ${expectedVersion} of stream ${stream}, found ${String(streamVersion)}`);
      // Any finite time is accepted: a virtual clock in a simulation may tick in fractions of a millisecond.
      if (typeof at !== 'number' || !Number.isFinite(at)) throw badLine(file, lineNo, 'field "at" is missing or not a number');
      if (typeof type !== 'string') throw badLine(file, lineNo, 'field "type" is missing');
      if (!isCount(v)) throw badLine(file, lineNo, 'field "v" is missing or not a positive integer');
      const canonical = JSON.stringify(data);
      try {
        decodeEvent(type, v, data, lineNo - 1);
      } catch (error) {
        throw badLine(file, lineNo, error instanceof Error ? error.message : String(error), error);
      }
      versions.set(stream, expectedVersion);
      batch.push({ position: lineNo - 1, stream, streamVersion: expectedVersion, at, type, v, data: canonical });
      if (batch.length >= EXPORT_PAGE) {
        sink.write(batch);
        batch = [];
      }
    }
  } finally {
    lines.close();
    input.destroy();
  }
  if (lineNo === 0) throw badLine(file, 1, 'the file is empty');
  if (batch.length > 0) sink.write(batch);
  return { events: Math.max(0, lineNo - 1) };
}
