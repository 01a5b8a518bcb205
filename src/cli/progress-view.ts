/**
 * Live progress for `foldsync run` and `foldsync sync`: one bar per task on a terminal (cli-progress,
 * ADR 0006), plain lines when the output is piped (at most one per task a second, and only when
 * something changed), so logs stay readable.
 */
import cliProgress from 'cli-progress';
import type { Observable } from 'rxjs';
import type { TaskProgress } from '../actors/task-runner.js';

/** Where the view draws, and how it names a task. */
export interface ProgressViewOptions {
  readonly progress$: Observable<TaskProgress>;
  readonly out: NodeJS.WriteStream;
  readonly nameOf: (taskId: string) => string;
  /** Redraw period, ms (default: 200 on a terminal, 1,000 piped). */
  readonly everyMs?: number;
}

/** A running view: `log` prints a line without breaking the bars; `stop` draws the last state and ends. */
export interface ProgressView {
  log(line: string): void;
  stop(): void;
}

/** "1.5 MB", "820 B": decimal units, as the limits are given. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return u === 0 ? `${String(v)} ${units[0] ?? 'B'}` : `${v.toFixed(1)} ${units[u] ?? ''}`;
}

/** One task's progress as a plain line. */
export function progressLine(name: string, p: TaskProgress): string {
  const files = p.planned > 0 ? `, ${String(p.done)}/${String(p.planned)} actions` : '';
  const bytes = p.bytesTotal > 0 ? `, ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}` : '';
  const speed = p.speedBps > 0 ? `, ${formatBytes(p.speedBps)}/s` : '';
  const failed = p.failedFiles > 0 ? `, ${String(p.failedFiles)} files failed` : '';
  return `${name}: ${p.status}${files}${bytes}${speed}${failed}`;
}

/** Starts drawing `progress$` on `out`. */
export function startProgressView(options: ProgressViewOptions): ProgressView {
  const { out, nameOf } = options;
  const latest = new Map<string, TaskProgress>();
  const sub = options.progress$.subscribe((p) => latest.set(p.taskId, p));
  if (!out.isTTY) {
    const shown = new Map<string, string>();
    const draw = (): void => {
      for (const [id, p] of latest) {
        const line = progressLine(nameOf(id), p);
        if (shown.get(id) === line) continue;
        shown.set(id, line);
        out.write(`${line}\n`);
      }
    };
    const timer = setInterval(draw, options.everyMs ?? 1000);
    return {
      log: (line) => {
        out.write(line.endsWith('\n') ? line : `${line}\n`);
      },
      stop: () => {
        clearInterval(timer);
        sub.unsubscribe();
      },
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream: out,
      format: '{name} |{bar}| {status} {value}/{total} {bytes} {speed}',
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const draw = (): void => {
    for (const [id, p] of latest) {
      const payload = {
        name: nameOf(id),
        status: p.status,
        bytes: p.bytesTotal > 0 ? `${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}` : '',
        speed: p.speedBps > 0 ? `${formatBytes(p.speedBps)}/s` : '',
      };
      let bar = bars.get(id);
      if (bar === undefined) {
        bar = multi.create(Math.max(1, p.planned), p.done, payload);
        bars.set(id, bar);
      }
      bar.setTotal(Math.max(1, p.planned));
      bar.update(p.planned === 0 ? (p.status === 'completed' ? 1 : 0) : p.done, payload);
    }
  };
  const timer = setInterval(draw, options.everyMs ?? 200);
  return {
    log: (line) => {
      multi.log(line.endsWith('\n') ? line : `${line}\n`);
    },
    stop: () => {
      clearInterval(timer);
      draw();
      multi.stop();
      sub.unsubscribe();
    },
  };
}
