/**
 * The activity timeline of one path of one task (SPEC.md section 7, ADR 0071): what was observed
 * on each side, what was decided and under which SPEC rule, what was started and how it ended, and
 * when. A fold over the task's stream; not persisted (it is history that grows with the log, read
 * for one path at a time by `foldsync task activity` and `foldsync replay --path`). Pure.
 */
import { actionPath } from '../lib/actions.js';
import type { Action } from '../lib/model.js';
import type { StoredEvent } from '../events/types.js';
import { taskStream } from '../events/types.js';

/** One step of a path's story. */
export interface PathActivity {
  readonly position: number;
  readonly at: number;
  readonly what: 'observed' | 'skipped' | 'decided' | 'started' | 'done' | 'failed' | 'abandoned';
  /** The side observed or changed; null for decisions that touch no side. */
  readonly side: 'local' | 'cloud' | null;
  /** A one-line account: the metadata seen, the action and its rule, the outcome. */
  readonly detail: string;
  /** The SPEC rule a decision follows. */
  readonly rule: string | null;
  readonly actionId: string | null;
}

const touches = (a: Action, path: string): boolean =>
  actionPath(a) === path || ((a.op === 'cloud-move' || a.op === 'local-move' || a.op === 'conflict-rename') && a.from === path) || (a.op === 'upload' && a.source === path);

function describeAction(a: Action): string {
  switch (a.op) {
    case 'cloud-move':
    case 'local-move':
    case 'conflict-rename':
      return `${a.op} ${a.from} -> ${a.to}`;
    case 'reject':
      return `reject ${a.path} (${a.reason}: ${a.message})`;
    case 'upload':
      return `upload ${a.source ?? a.path} -> ${a.path} (${a.local.size} bytes${a.cloudId === null ? '' : `, new version of ${a.cloudId}@${a.baseVersion ?? '?'}`})`;
    case 'download':
      return `download ${a.path} (${a.cloud.size} bytes, ${a.cloud.id}@${a.cloud.version})`;
    default:
      return `${a.op} ${a.path}`;
  }
}

const metaText = (m: { kind: string; size: number } | null): string => (m === null ? 'gone' : `${m.kind}, ${m.size} bytes`);

/** Creates an accumulator of one path's story: feed it events in log order, read `entries`. */
export function createPathActivity(taskId: string, path: string): { apply(e: StoredEvent): void; readonly entries: PathActivity[] } {
  const stream = taskStream(taskId);
  const entries: PathActivity[] = [];
  const mine = new Set<string>();
  const add = (e: StoredEvent, what: PathActivity['what'], side: PathActivity['side'], detail: string, rule: string | null = null, actionId: string | null = null): void => {
    entries.push({ position: e.position, at: e.at, what, side, detail, rule, actionId });
  };
  return {
    entries,
    apply: (e) => {
      if (e.stream !== stream) return;
      const ev = e.event;
      switch (ev.type) {
        case 'LocalChanged':
          for (const c of ev.changes) if (c.path === path) add(e, 'observed', 'local', `${ev.source}: ${metaText(c.meta)}`);
          break;
        case 'CloudChanged':
          for (const c of ev.changes) if (c.path === path) add(e, 'observed', 'cloud', `${ev.source}: ${metaText(c.meta)}${c.meta === null ? '' : ` (${c.meta.id}@${c.meta.version})`}`);
          break;
        case 'LocalSkipped':
          if (ev.path === path) add(e, 'skipped', 'local', `${ev.reason}: ${ev.message}`);
          break;
        case 'PlanMade':
          for (const { actionId, action } of ev.actions) {
            if (!touches(action, path)) continue;
            mine.add(actionId);
            add(e, 'decided', null, describeAction(action), action.rule, actionId);
          }
          break;
        case 'ActionStarted':
          if (mine.has(ev.actionId)) add(e, 'started', null, 'transfer started', null, ev.actionId);
          break;
        case 'ActionSucceeded':
          if (mine.has(ev.actionId)) {
            mine.delete(ev.actionId);
            const synced = ev.synced.find((c) => c.path === path);
            add(e, 'done', null, synced === undefined ? 'succeeded' : synced.entry === null ? 'succeeded; no longer tracked' : 'succeeded; in sync', null, ev.actionId);
          }
          break;
        case 'ActionFailed':
          if (mine.has(ev.actionId)) {
            if (!ev.transient) mine.delete(ev.actionId);
            add(e, 'failed', null, `${ev.reason}: ${ev.message} (attempt ${ev.attempt}${ev.transient ? ', retried' : ''})`, null, ev.actionId);
          }
          break;
        case 'ActionAbandoned':
          if (mine.delete(ev.actionId)) add(e, 'abandoned', null, ev.why, null, ev.actionId);
          break;
        default:
          break;
      }
    },
  };
}
