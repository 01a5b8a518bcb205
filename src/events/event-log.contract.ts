/**
 * The contract every {@link EventLog} store passes: run from `memory-event-log.test.ts` and
 * `sqlite-event-log.int.test.ts`. Each test states one rule of the interface and fails when a
 * store breaks it. Not part of the package build (test-only: it imports vitest).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../io/clock.js';
import { isFoldsyncError } from '../lib/errors.js';
import { StreamConflictError } from './errors.js';
import { readPages, type EventLog } from './event-log.js';
import { sampleLocalChanged } from './sample-events.js';
import type { FoldsyncEvent, StoredEvent } from './types.js';
import type { StoredRow } from './upcast.js';

/** Opens a fresh, empty store for one test; `dir` is a temporary folder the test owns. */
export type EventLogFactory = (clock: VirtualClock, dir: string) => Promise<EventLog>;

const started = (actionId: string): FoldsyncEvent => ({ type: 'ActionStarted', v: 1, actionId });

/** Resolves to the error `promise` rejects with; rejects if `promise` resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Runs the {@link EventLog} contract against the store `open` creates. */
export function describeEventLogContract(name: string, open: EventLogFactory): void {
  describe(`EventLog contract: ${name}`, () => {
    let dir: string;
    let clock: VirtualClock;
    const logs: EventLog[] = [];
    const fresh = async (): Promise<EventLog> => {
      const log = await open(clock, mkdtempSync(join(dir, 'log-')));
      logs.push(log);
      return log;
    };

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'foldsync-contract-'));
      clock = createVirtualClock(Date.UTC(2026, 0, 1));
    });
    afterEach(async () => {
      for (const log of logs.splice(0)) await log.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('starts empty', async () => {
      const log = await fresh();
      expect(await log.head()).toBe(0);
      expect(await log.read()).toEqual([]);
      expect(await log.streamVersion('engine')).toBe(0);
      expect(await log.readStream('engine')).toEqual([]);
    });

    it('appends a batch to a new stream and reads it back with its envelope and the clock time', async () => {
      const log = await fresh();
      clock.advance(1234);
      const events = [sampleLocalChanged(1), started('act-1')];
      const result = await log.append('task:a', events, 0);
      expect(result).toEqual({ streamVersion: 2, firstPosition: 1, lastPosition: 2, at: clock.now() });
      expect(await log.read()).toEqual([
        { position: 1, stream: 'task:a', streamVersion: 1, at: clock.now(), event: events[0] },
        { position: 2, stream: 'task:a', streamVersion: 2, at: clock.now(), event: events[1] },
      ]);
      expect(await log.head()).toBe(2);
      expect(await log.streamVersion('task:a')).toBe(2);
    });

    it('numbers positions over the whole log and versions per stream, without gaps', async () => {
      const log = await fresh();
      await log.append('task:a', [started('1'), started('2')], 0);
      clock.advance(10);
      await log.append('task:b', [started('3')], 0);
      clock.advance(10);
      await log.append('task:a', [started('4')], 2);
      const all = await log.read();
      expect(all.map((e) => [e.position, e.stream, e.streamVersion])).toEqual([
        [1, 'task:a', 1],
        [2, 'task:a', 2],
        [3, 'task:b', 1],
        [4, 'task:a', 3],
      ]);
      expect(all.map((e) => e.at - Date.UTC(2026, 0, 1))).toEqual([0, 0, 10, 20]);
      expect((await log.readStream('task:a')).map((e) => e.position)).toEqual([1, 2, 4]);
      expect((await log.readStream('task:b')).map((e) => e.streamVersion)).toEqual([1]);
    });

    it('refuses a stale expected version with a typed conflict and writes nothing', async () => {
      const log = await fresh();
      await log.append('task:a', [started('1'), started('2')], 0);
      await log.append('task:b', [started('3')], 0);
      for (const stale of [0, 1, 3]) {
        const error = await rejection(log.append('task:a', [started('x'), started('y')], stale));
        expect(error).toBeInstanceOf(StreamConflictError);
        expect(isFoldsyncError(error, 'stream-conflict')).toBe(true);
        expect((error as StreamConflictError).details).toEqual({ stream: 'task:a', expected: stale, actual: 2 });
      }
      expect(await log.head()).toBe(3);
      expect(await log.streamVersion('task:a')).toBe(2);
      expect((await log.read()).map((e) => (e.event as { actionId: string }).actionId)).toEqual(['1', '2', '3']);
      // The next append still lands right after the last one: the refusals left no hole.
      expect(await log.append('task:a', [started('4')], 2)).toMatchObject({ firstPosition: 4, streamVersion: 3 });
    });

    it("appends whatever the stream's version with 'any'", async () => {
      const log = await fresh();
      expect(await log.append('engine', [started('1')], 'any')).toMatchObject({ streamVersion: 1, firstPosition: 1 });
      expect(await log.append('engine', [started('2')], 'any')).toMatchObject({ streamVersion: 2, firstPosition: 2 });
    });

    it('reads pages from a position and a stream version, with a limit', async () => {
      const log = await fresh();
      for (let b = 0; b < 5; b++) {
        await log.append(b % 2 === 0 ? 'task:even' : 'task:odd', Array.from({ length: 3 }, (_, i) => sampleLocalChanged(b * 3 + i)), 'any');
      }
      expect((await log.read(4, 5)).map((e) => e.position)).toEqual([4, 5, 6, 7, 8]);
      expect((await log.read(14, 100)).map((e) => e.position)).toEqual([14, 15]);
      expect(await log.read(16)).toEqual([]);
      expect((await log.readStream('task:even', 4, 3)).map((e) => e.position)).toEqual([7, 8, 9]);
      const paged: number[] = [];
      for await (const page of readPages(log, { pageSize: 4 })) {
        expect(page.length).toBeLessThanOrEqual(4);
        paged.push(...page.map((e) => e.position));
      }
      expect(paged).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      const odd: number[] = [];
      for await (const page of readPages(log, { stream: 'task:odd', pageSize: 2 })) odd.push(...page.map((e) => e.streamVersion));
      expect(odd).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('scans rows from a position to a position, in order, as readRows gives them', async () => {
      const log = await fresh();
      for (let b = 0; b < 5; b++) {
        await log.append(b % 2 === 0 ? 'task:even' : 'task:odd', Array.from({ length: 3 }, (_, i) => sampleLocalChanged(b * 3 + i)), 'any');
      }
      const scan = async (from: number, to: number): Promise<StoredRow[]> => {
        const seen: StoredRow[] = [];
        // The row object may be reused for the next row: copy it.
        await log.scanRows(from, to, (row) => seen.push({ ...row }));
        return seen;
      };
      expect(await scan(1, 15)).toEqual(await log.readRows(1, 100));
      expect(await scan(4, 8)).toEqual(await log.readRows(4, 5));
      expect((await scan(14, 100)).map((r) => r.position)).toEqual([14, 15]);
      expect(await scan(16, 20)).toEqual([]);
      expect(await scan(5, 4)).toEqual([]);
    });

    it('stops a scan at the first error of its callback, and rejects with it', async () => {
      const log = await fresh();
      await log.append('task:a', Array.from({ length: 10 }, (_, i) => sampleLocalChanged(i)), 0);
      const seen: number[] = [];
      const error = await rejection(
        log.scanRows(1, 10, (row) => {
          seen.push(row.position);
          if (row.position === 4) throw new Error('stop here');
        }),
      );
      expect((error as Error).message).toBe('stop here');
      expect(seen).toEqual([1, 2, 3, 4]);
    });

    it('gives each reader its own copy of an event', async () => {
      const log = await fresh();
      await log.append('task:a', [sampleLocalChanged(1)], 0);
      const [first] = await log.read();
      (first?.event as unknown as { source: string }).source = 'scan';
      expect((await log.read())[0]?.event).toEqual(sampleLocalChanged(1));
    });

    it('subscribes: replays history from a position, then follows live appends, without gap or duplicate', async () => {
      const log = await fresh();
      for (let b = 0; b < 3; b++) await log.append('task:a', [started(`h${b}a`), started(`h${b}b`)], 'any');
      const total = 2 + 3 * 2 + 1200;
      const seen = firstValueFrom(log.subscribe(3).pipe(take(total - 2), toArray()));
      // Appends race the replay: fired before it has read anything, without waiting in between,
      // in batches larger than the replay's page.
      const appending = [log.append('task:b', [started('r1'), started('r2')], 'any')];
      appending.push(log.append('task:a', Array.from({ length: 1200 }, (_, i) => started(`big${i}`)), 'any'));
      await Promise.all(appending);
      await log.append('task:b', [started('l1'), started('l2'), started('l3'), started('l4'), started('l5'), started('l6')], 'any');
      const positions = (await seen).map((e) => e.position);
      expect(positions).toEqual(Array.from({ length: total - 2 }, (_, i) => i + 3));
    });

    for (const start of ['during replay', 'once live'] as const) {
      it(`subscribes: a subscriber that appends from its callback sees its own appends once, in order (${start})`, async () => {
        const log = await fresh();
        const seed = (): Promise<unknown> => log.append('task:a', [started('seed1'), started('seed2')], 0);
        if (start === 'during replay') await seed();
        const seen: StoredEvent[] = [];
        const done = new Promise<void>((resolve, reject) => {
          const subscription = log.subscribe().subscribe({
            next: (e) => {
              seen.push(e);
              if (e.position < 20) void log.append('task:a', [started(`echo${e.position}a`), started(`echo${e.position}b`)], 'any').catch(reject);
              if (seen.length === 40) {
                subscription.unsubscribe();
                resolve();
              }
            },
            error: reject,
          });
        });
        if (start === 'once live') {
          // Let the (empty) replay finish, so that the first batch arrives on the live path.
          await new Promise((resolve) => setTimeout(resolve, 10));
          await seed();
        }
        await done;
        expect(seen.map((e) => e.position)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      });
    }

    it('subscribes: completes when the log closes', async () => {
      const log = await fresh();
      await log.append('engine', [started('1')], 0);
      const seen: number[] = [];
      let completed = false;
      await new Promise<void>((resolve, reject) => {
        log.subscribe().subscribe({
          next: (e) => {
            seen.push(e.position);
            resolve();
          },
          error: reject,
          complete: () => {
            completed = true;
          },
        });
      });
      expect(completed).toBe(false);
      await log.close();
      expect(completed).toBe(true);
      expect(seen).toEqual([1]);
    });

    it('exports to JSON Lines and imports back: same events, and export-import-export gives identical bytes', async () => {
      const log = await fresh();
      await log.append('engine', [{ type: 'TerminalInitialized', v: 1, terminalId: 't-1', terminalName: 'laptop "ünïcode" \u2028' }], 0);
      clock.advance(5);
      await log.append('task:a', [sampleLocalChanged(1), sampleLocalChanged(2)], 0);
      await log.append('task:b', [started('x')], 0);
      const first = join(dir, 'first.jsonl');
      expect(await log.exportTo(first)).toEqual({ events: 4 });
      const lines = readFileSync(first, 'utf8').split('\n');
      expect(lines[0]).toBe('{"format":"foldsync-event-log","version":1}');
      expect(JSON.parse(lines[2] ?? '')).toEqual({ position: 2, stream: 'task:a', streamVersion: 1, at: clock.now(), type: 'LocalChanged', v: 1, data: { source: 'watch', changes: sampleLocalChanged(1).changes } });
      expect(lines).toHaveLength(6);

      const copy = await fresh();
      expect(await copy.importFrom(first)).toEqual({ events: 4 });
      expect(await copy.read()).toEqual(await log.read());
      expect(await copy.streamVersion('task:a')).toBe(2);
      const second = join(dir, 'second.jsonl');
      await copy.exportTo(second);
      expect(readFileSync(second)).toEqual(readFileSync(first));
      // The copy goes on where the original stopped.
      expect(await copy.append('task:a', [started('y')], 2)).toMatchObject({ firstPosition: 5, streamVersion: 3 });
    });

    it('round-trips fractional clock times through export and import', async () => {
      const log = await fresh();
      clock.advance(0.25);
      await log.append('engine', [started('1')], 0);
      const file = join(dir, 'fractional.jsonl');
      await log.exportTo(file);
      const copy = await fresh();
      await copy.importFrom(file);
      expect((await copy.read())[0]?.at).toBe(Date.UTC(2026, 0, 1) + 0.25);
    });

    it('refuses to import into a log that holds events, and changes nothing', async () => {
      const log = await fresh();
      await log.append('engine', [started('1')], 0);
      const file = join(dir, 'export.jsonl');
      await log.exportTo(file);
      const error = await rejection(log.importFrom(file));
      expect(isFoldsyncError(error, 'import-not-empty')).toBe(true);
      expect(await log.head()).toBe(1);
    });

    it('refuses a corrupt import file naming the bad line, and imports nothing', async () => {
      const log = await fresh();
      await log.append('task:a', [started('1'), started('2'), started('3')], 0);
      const file = join(dir, 'export.jsonl');
      await log.exportTo(file);
      const good = readFileSync(file, 'utf8').split('\n');
      const cases: readonly [string, (lines: string[]) => void, number][] = [
        ['a line that is not JSON', (l) => (l[3] = '{"position":3,'), 4],
        ['a position out of order', (l) => (l[2] = (l[2] ?? '').replace('"position":2', '"position":7')), 3],
        ['a stream version out of order', (l) => (l[3] = (l[3] ?? '').replace('"streamVersion":3', '"streamVersion":9')), 4],
        ['an unknown event type', (l) => (l[1] = (l[1] ?? '').replace('ActionStarted', 'ActionStartled')), 2],
        ['a payload missing a field', (l) => (l[3] = (l[3] ?? '').replace('"actionId"', '"actionID"')), 4],
        ['a wrong header', (l) => (l[0] = '{"format":"something-else","version":1}'), 1],
      ];
      for (const [what, damage, line] of cases) {
        const lines = [...good];
        damage(lines);
        const bad = join(dir, 'bad.jsonl');
        writeFileSync(bad, lines.join('\n'));
        const target = await fresh();
        const error = await rejection(target.importFrom(bad));
        expect(isFoldsyncError(error, 'import-corrupt'), what).toBe(true);
        expect((error as { details: { line: number } }).details.line, what).toBe(line);
        expect((error as Error).message, what).toContain(`line ${line}`);
        expect(await target.head(), what).toBe(0);
      }
    });

    it('imports all or nothing: a bad line after thousands of good ones leaves the log empty', async () => {
      const log = await fresh();
      for (let b = 0; b < 7; b++) await log.append(`task:${b % 2}`, Array.from({ length: 1000 }, (_, i) => sampleLocalChanged(b * 1000 + i)), 'any');
      const file = join(dir, 'big.jsonl');
      await log.exportTo(file);
      const lines = readFileSync(file, 'utf8').split('\n');
      lines[6500] = (lines[6500] ?? '').replace('"source":"watch"', '"source":"telepathy"');
      writeFileSync(file, lines.join('\n'));
      const target = await fresh();
      const error = await rejection(target.importFrom(file));
      expect((error as { details: { line: number } }).details.line).toBe(6501);
      expect(await target.head()).toBe(0);
      expect(await target.read()).toEqual([]);
      // And the log is still usable afterwards.
      expect(await target.append('task:0', [started('1')], 0)).toMatchObject({ firstPosition: 1 });
    });

    it('fails every call after close with log-closed; close is idempotent', async () => {
      const log = await fresh();
      await log.append('engine', [started('1')], 0);
      await log.close();
      await log.close();
      expect(isFoldsyncError(await rejection(log.append('engine', [started('2')], 'any')), 'log-closed')).toBe(true);
      expect(isFoldsyncError(await rejection(log.read()), 'log-closed')).toBe(true);
      expect(isFoldsyncError(await rejection(log.head()), 'log-closed')).toBe(true);
      expect(isFoldsyncError(await rejection(log.scanRows(1, 1, () => undefined)), 'log-closed')).toBe(true);
      expect(isFoldsyncError(await rejection(firstValueFrom(log.subscribe())), 'log-closed')).toBe(true);
    });
  });
}
