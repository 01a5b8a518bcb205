/**
 * Realistic events for tests, simulations and benchmarks: the shapes and sizes the engine writes
 * most (a watcher batch is a LocalChanged with a few changes, about 200 bytes of JSON).
 */
import type { LocalChanged } from './types.js';

/**
 * A LocalChanged from the watcher with two changes (one file modified, one deleted), about 200
 * bytes as JSON; `i` varies the paths and identities, `tag` is appended to the first path (tests
 * use it to mark which batch an event belongs to).
 */
export function sampleLocalChanged(i: number, tag = ''): LocalChanged {
  return {
    type: 'LocalChanged',
    v: 1,
    source: 'watch',
    changes: [
      {
        path: `docs/reports/2026/q${i % 4}/file-${i}${tag}.txt`,
        meta: { kind: 'file', size: 1000 + i, mtimeNs: '1763780000123456789', fileId: `64769:${1000000 + i}` },
      },
      { path: `docs/tmp-${i}.txt`, meta: null },
    ],
  };
}
