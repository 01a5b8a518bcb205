/**
 * Crash safety of the SQLite event log: a process killed (SIGKILL) at random moments while it
 * appends large batches leaves a log that opens cleanly and holds whole batches only, with
 * positions and stream versions still gap-free.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../io/clock.js';
import { readPages } from './event-log.js';
import { createSqliteEventLog } from './sqlite-event-log.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const child = join(root, 'test/fixtures/event-log-crash-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'foldsync-crash-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the appender, waits until its first batch is in, lets it run `ms` more, then kills it. */
async function appendThenKill(file: string, round: number, ms: number): Promise<void> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, file, String(round)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((done) => proc.on('exit', () => { done(); }));
  await new Promise<void>((ready, failed) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) ready();
    });
    proc.on('exit', (code) => { failed(new Error(`appender exited (${String(code)}) before its first batch: ${stderr}`)); });
  });
  await new Promise((wait) => setTimeout(wait, ms));
  proc.kill('SIGKILL');
  await exited;
}

interface Marker {
  batch: string;
  index: number;
  size: number;
}

function markerOf(path: string): Marker {
  const match = /#([^#]+)#(\d+)#(\d+)\.txt$/.exec(path);
  if (match === null) throw new Error(`no batch marker in ${path}`);
  return { batch: match[1] as string, index: Number(match[2]), size: Number(match[3]) };
}

/** Opens the log and checks every rule; returns the number of events. */
async function checkLog(file: string): Promise<number> {
  const log = await createSqliteEventLog({ file, clock: createVirtualClock() });
  try {
    const versions = new Map<string, number>();
    const seenBatches = new Set<string>();
    let expectedPosition = 1;
    let open: (Marker & { stream: string; at: number }) | null = null;
    // Plain comparisons, not expect() per event: a log holds tens of thousands of events here.
    const fail = (why: string, position: number): never => {
      throw new Error(`position ${position}: ${why}`);
    };
    for await (const page of readPages(log, { pageSize: 5000 })) {
      for (const e of page) {
        if (e.position !== expectedPosition) fail(`expected position ${expectedPosition}`, e.position);
        expectedPosition += 1;
        const version = (versions.get(e.stream) ?? 0) + 1;
        if (e.streamVersion !== version) fail(`expected version ${version} of ${e.stream}, found ${e.streamVersion}`, e.position);
        versions.set(e.stream, version);
        if (e.event.type !== 'LocalChanged') return fail(`unexpected ${e.event.type}`, e.position);
        const m = markerOf(e.event.changes[0]?.path ?? '');
        if (open === null) {
          if (m.index !== 0) fail(`batch ${m.batch} starts at index ${m.index}, not 0`, e.position);
          if (seenBatches.has(m.batch)) fail(`batch ${m.batch} appears twice`, e.position);
          seenBatches.add(m.batch);
          open = { ...m, stream: e.stream, at: e.at };
        } else {
          if (m.batch !== open.batch || m.index !== open.index + 1) fail(`batch ${open.batch} is cut short at index ${open.index} of ${open.size}`, e.position);
          if (e.stream !== open.stream || e.at !== open.at) fail(`batch ${open.batch} changes stream or time`, e.position);
          open.index = m.index;
        }
        if (open.index === open.size - 1) open = null;
      }
    }
    expect(open, 'the last batch is whole').toBeNull();
    expect(await log.head()).toBe(expectedPosition - 1);
    return expectedPosition - 1;
  } finally {
    await log.close();
  }
}

describe('sqlite event log crash safety', () => {
  it('keeps whole batches only when the appending process is killed at random moments', async () => {
    const file = join(dir, 'events.db');
    let before = 0;
    for (let round = 0; round < 4; round++) {
      await appendThenKill(file, round, 20 + Math.floor(Math.random() * 400));
      const after = await checkLog(file);
      // The appender got at least its first batch in each round, and nothing was lost.
      expect(after).toBeGreaterThan(before);
      before = after;
    }
  });
});
