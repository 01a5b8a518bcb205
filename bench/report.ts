/**
 * How every benchmark reports: a figure beside its anchor's figure from the same run, as a ratio,
 * printed as a table and appended to `bench/results/NAME.jsonl`.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One measured figure and its anchor. */
export interface Figure {
  readonly bench: string;
  readonly metric: string;
  readonly unit: string;
  readonly value: number;
  readonly anchor: string;
  readonly anchorValue: number;
  /** Free-form target, for the table ("≥ 0.6"). */
  readonly target?: string;
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Records figures: prints the table and appends one JSON object a figure to the bench's results file. */
export function report(figures: readonly Figure[]): void {
  if (figures.length === 0) return;
  mkdirSync(resultsDir, { recursive: true });
  const rows = figures.map((f) => {
    const ratio = f.anchorValue === 0 ? null : f.value / f.anchorValue;
    const line = { bench: f.bench, metric: f.metric, unit: f.unit, value: f.value, anchor: f.anchor, anchorValue: f.anchorValue, ratio, at: new Date().toISOString() };
    appendFileSync(join(resultsDir, `${f.bench}.jsonl`), `${JSON.stringify(line)}\n`);
    return [f.metric, `${fmt(f.value)} ${f.unit}`, f.anchor, `${fmt(f.anchorValue)} ${f.unit}`, ratio === null ? '-' : ratio.toFixed(2), f.target ?? ''];
  });
  const head = ['metric', 'foldsync', 'anchor', 'anchor figure', 'ratio', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(`\n${figures[0]?.bench ?? ''}`);
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
}

function fmt(n: number): string {
  if (Number.isInteger(n) || Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(4);
}

/** Resident memory in MB. */
export function rssMb(): number {
  return process.memoryUsage().rss / 1024 / 1024;
}

/** Runs `fn` and returns its duration in milliseconds. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
