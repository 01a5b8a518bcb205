/**
 * Invariant: for every persisted projection, the state maintained incrementally — the log folded
 * in segments, each segment caught up by a freshly opened projection store that loads the state
 * its predecessor saved — equals the state rebuilt from zero by one fold of the whole log
 * (ADR 0070). Random logs (property-tests/event-arbitraries.ts) are cut at random checkpoints.
 * States are compared through each projection's `encode`, which covers every field it keeps.
 * A failure prints fast-check's seed and path; FOLDSYNC_DEEP=1 runs many more cases.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createProjectionStore } from '../src/actors/projection-store.js';
import { createMemoryEventLog } from '../src/events/memory-event-log.js';
import { readPages } from '../src/events/event-log.js';
import { ALL_PROJECTIONS } from '../src/projections/all.js';
import { foldEvents } from '../src/projections/projection.js';
import { taskSummariesProjection } from '../src/projections/task-summaries.js';
import { logArb } from './event-arbitraries.js';

const DEEP = process.env['FOLDSYNC_DEEP'] === '1';
const dir = mkdtempSync(join(tmpdir(), 'foldsync-proj-prop-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
let run = 0;

describe('persisted projections', () => {
  it('rebuilding from zero equals the incrementally maintained result, for any log cut at any checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 5 }), async (batches, cutsRaw) => {
        let now = Date.UTC(2026, 0, 1);
        const log = createMemoryEventLog({ clock: { now: () => now } });
        const file = join(dir, `views-${++run}.sqlite`);
        const cuts = new Set(cutsRaw.map((c) => Math.floor((c / 100) * batches.length)));
        for (let i = 0; i < batches.length; i++) {
          const b = batches[i]!;
          now += b.tick;
          await log.append(b.stream, b.events, 'any');
          if (cuts.has(i)) {
            const store = createProjectionStore({ file, projections: ALL_PROJECTIONS });
            await store.catchUp(log);
            store.close();
          }
        }
        const store = createProjectionStore({ file, projections: ALL_PROJECTIONS });
        await store.catchUp(log);
        for (const p of ALL_PROJECTIONS) {
          let fromZero = p.initial();
          for await (const page of readPages(log)) fromZero = foldEvents(p, fromZero, page);
          expect(store.checkpoints().find((c) => c.name === p.name)?.position).toBe(await log.head());
          expect(p.encode(store.state(p))).toEqual(p.encode(fromZero));
        }
        store.close();
        rmSync(file, { force: true });
      }),
      { numRuns: DEEP ? 1000 : 60 },
    );
  });

  it('a task summary counts as pending exactly the open actions on paths that are not failed, after every event (ADR 0074)', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, async (batches) => {
        const log = createMemoryEventLog({ clock: { now: () => 0 } });
        for (const b of batches) await log.append(b.stream, b.events, 'any');
        const p = taskSummariesProjection;
        let live = p.initial();
        // Saved and loaded after every event: the count is rebuilt from the saved open actions.
        let reloaded = p.initial();
        for await (const page of readPages(log)) {
          for (const e of page) {
            live = foldEvents(p, live, [e]);
            reloaded = p.decode(JSON.parse(JSON.stringify(p.encode(foldEvents(p, reloaded, [e])))));
            for (const state of [live, reloaded]) {
              for (const [taskId, w] of state.tasks) {
                let pending = 0;
                for (const info of w.open.values()) if (!w.failed.has(info.path)) pending += 1;
                expect({ taskId, pending: w.summary.filesPending }).toEqual({ taskId, pending });
              }
            }
          }
        }
      }),
      { numRuns: DEEP ? 1000 : 60 },
    );
  });
});
