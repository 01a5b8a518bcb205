/**
 * The refusals of task creation (SPEC.md section 3) that need no disk and no network: the limit
 * on tasks per terminal, and nested cloud folders (beyond). The local folder's own checks (not a
 * folder, link, mount, other sync software, nested local folders, system folders, engine data
 * inside) run against the disk in src/io; the permission check asks the cloud. Pure.
 */
import type { CloudLocation } from '../events/types.js';
import type { Result } from '../lib/result.js';
import { fail, ok } from '../lib/result.js';

/** At most this many tasks on one terminal (SPEC.md section 5). */
export const MAX_TASKS_PER_TERMINAL = 10;

/** At most this many files on one terminal, all tasks together (SPEC.md section 5). */
export const MAX_FILES_PER_TERMINAL = 1_000_000;

/** Refusal codes decided here. */
export type CreationRefusal = 'too-many-tasks' | 'nested';

/** Normalises a cloud path to `/a/b` form (no trailing slash; `/` for the root). */
export function normalizeCloudPath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  return `/${parts.join('/')}`;
}

function cloudContains(outer: string, inner: string): boolean {
  return outer === '/' || inner === outer || inner.startsWith(`${outer}/`);
}

/** True when two cloud folders are the same, or one lies inside the other, on the same cloud and space. */
export function cloudFoldersOverlap(a: CloudLocation, b: CloudLocation): boolean {
  if (a.url !== b.url || a.space !== b.space) return false;
  const pa = normalizeCloudPath(a.path);
  const pb = normalizeCloudPath(b.path);
  return cloudContains(pa, pb) || cloudContains(pb, pa);
}

/** Checks the terminal-wide rules for a new task against the existing ones. */
export function checkNewTask(existing: readonly { readonly taskId: string; readonly cloud: CloudLocation }[], cloud: CloudLocation): Result<null, CreationRefusal> {
  if (existing.length >= MAX_TASKS_PER_TERMINAL) {
    return fail(
      'too-many-tasks',
      `This terminal already has ${existing.length} sync tasks, the most it can have (${MAX_TASKS_PER_TERMINAL}). Cancel a task you no longer need, then create this one.`,
    );
  }
  const clash = existing.find((t) => cloudFoldersOverlap(t.cloud, cloud));
  if (clash !== undefined) {
    return fail(
      'nested',
      `The cloud folder ${cloud.space}:${normalizeCloudPath(cloud.path)} is, contains, or lies inside ${clash.cloud.space}:${normalizeCloudPath(clash.cloud.path)}, which task ${clash.taskId} already syncs. Choose a cloud folder outside it.`,
    );
  }
  return ok(null);
}
