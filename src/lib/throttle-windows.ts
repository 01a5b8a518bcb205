/**
 * Which transfer limits apply at a moment (SPEC.md section 4, "throttle", with time windows).
 * Pure: the caller passes the time and the UTC offset of the user's wall clock.
 */
import type { TaskOptions, ThrottleWindow } from './model.js';

/** Upload and download limits in bytes per second; null is unlimited. */
export interface RateLimits {
  readonly uploadBps: number | null;
  readonly downloadBps: number | null;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes since midnight of `HH:MM`, or null when malformed. */
export function parseHhmm(text: string): number | null {
  const m = HHMM.exec(text);
  if (m === null) return null;
  return Number(m[1]) * 60 + Number(m[2]);
}

/** True when minute-of-day `minute` falls in `window` (from inclusive, to exclusive; wraps midnight when to <= from). */
export function inWindow(window: ThrottleWindow, minute: number): boolean {
  const from = parseHhmm(window.from);
  const to = parseHhmm(window.to);
  if (from === null || to === null) return false;
  if (from < to) return minute >= from && minute < to;
  return minute >= from || minute < to;
}

/**
 * The limits in force at `nowMs`: those of the first window containing the local time of day,
 * else the task's base limits.
 */
export function limitsAt(throttle: TaskOptions['throttle'], nowMs: number, utcOffsetMinutes = 0): RateLimits {
  const minute = (((Math.floor(nowMs / 60_000) + utcOffsetMinutes) % 1440) + 1440) % 1440;
  const window = throttle.windows.find((w) => inWindow(w, minute));
  if (window !== undefined) return { uploadBps: window.uploadBps, downloadBps: window.downloadBps };
  return { uploadBps: throttle.uploadBps, downloadBps: throttle.downloadBps };
}
