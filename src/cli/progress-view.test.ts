import { PassThrough } from 'node:stream';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { TaskProgress } from '../actors/task-runner.js';
import { formatBytes, progressLine, startProgressView } from './progress-view.js';

const p = (over: Partial<TaskProgress> = {}): TaskProgress => ({
  taskId: 't1',
  status: 'synchronizing',
  planned: 40,
  done: 12,
  bytesTotal: 12_000_000,
  bytesDone: 3_100_000,
  speedBps: 1_200_000,
  failedFiles: 0,
  ...over,
});

/** A stream that records what is written, as a terminal (`tty`) or a pipe. */
function sink(tty: boolean): { out: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const s = new PassThrough();
  s.on('data', (c: Buffer) => chunks.push(c.toString()));
  Object.assign(s, { isTTY: tty, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { out: s as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('progress view', () => {
  it('formats bytes in decimal units and a task as a plain line', () => {
    expect(formatBytes(820)).toBe('820 B');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(progressLine('docs', p())).toBe('docs: synchronizing, 12/40 actions, 3.1 MB of 12.0 MB, 1.2 MB/s');
    expect(progressLine('docs', p({ status: 'completed', planned: 0, done: 0, bytesTotal: 0, bytesDone: 0, speedBps: 0, failedFiles: 2 }))).toBe('docs: completed, 2 files failed');
  });

  it('piped: a plain line per task when it changed, none when nothing did; log lines pass through', async () => {
    const progress$ = new Subject<TaskProgress>();
    const { out, text } = sink(false);
    const view = startProgressView({ progress$, out, nameOf: () => 'docs', everyMs: 10 });
    progress$.next(p());
    await tick(40);
    progress$.next(p());
    await tick(40);
    view.log('docs: completed');
    progress$.next(p({ done: 40, status: 'completed' }));
    await tick(40);
    view.stop();
    expect(text().split('\n').filter((l) => l !== '')).toEqual([
      'docs: synchronizing, 12/40 actions, 3.1 MB of 12.0 MB, 1.2 MB/s',
      'docs: completed',
      'docs: completed, 40/40 actions, 3.1 MB of 12.0 MB, 1.2 MB/s',
    ]);
  });

  it('on a terminal: a bar per task with its name, counts and bytes', async () => {
    const progress$ = new Subject<TaskProgress>();
    const { out, text } = sink(true);
    const view = startProgressView({ progress$, out, nameOf: (id) => (id === 't1' ? 'docs' : 'photos'), everyMs: 10 });
    progress$.next(p());
    progress$.next(p({ taskId: 't2', planned: 3, done: 1, bytesTotal: 0, bytesDone: 0, speedBps: 0 }));
    await tick(60);
    view.stop();
    const shown = text();
    expect(shown).toContain('docs');
    expect(shown).toContain('12/40');
    expect(shown).toContain('3.1 MB/12.0 MB');
    expect(shown).toContain('photos');
    expect(shown).toContain('1/3');
  });
});
