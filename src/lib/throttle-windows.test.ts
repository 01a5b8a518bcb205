import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from './model.js';
import { inWindow, limitsAt, parseHhmm } from './throttle-windows.js';

const at = (hh: number, mm: number): number => Date.UTC(2026, 10, 22, hh, mm);
const throttle = {
  ...DEFAULT_OPTIONS.throttle,
  uploadBps: 5_000_000,
  downloadBps: null,
  windows: [{ from: '09:00', to: '18:00', uploadBps: 1_000_000, downloadBps: 2_000_000 }],
};

describe('throttle time windows (SPEC.md section 4, beyond)', () => {
  it('"09:00-18:00 at 1 MB/s" applies inside the window, the base limits outside', () => {
    expect(limitsAt(throttle, at(9, 0))).toEqual({ uploadBps: 1_000_000, downloadBps: 2_000_000 });
    expect(limitsAt(throttle, at(17, 59))).toEqual({ uploadBps: 1_000_000, downloadBps: 2_000_000 });
    expect(limitsAt(throttle, at(18, 0))).toEqual({ uploadBps: 5_000_000, downloadBps: null });
    expect(limitsAt(throttle, at(8, 59))).toEqual({ uploadBps: 5_000_000, downloadBps: null });
  });

  it('uses the wall clock offset given', () => {
    // 08:30 UTC is 09:30 at UTC+1.
    expect(limitsAt(throttle, at(8, 30), 60).uploadBps).toBe(1_000_000);
    expect(limitsAt(throttle, at(8, 30), 0).uploadBps).toBe(5_000_000);
  });

  it('a window may wrap midnight', () => {
    const night = { from: '22:00', to: '06:00', uploadBps: null, downloadBps: null };
    expect(inWindow(night, 23 * 60)).toBe(true);
    expect(inWindow(night, 5 * 60 + 59)).toBe(true);
    expect(inWindow(night, 6 * 60)).toBe(false);
    expect(inWindow(night, 12 * 60)).toBe(false);
  });

  it('rejects malformed times', () => {
    expect(parseHhmm('9:00')).toBeNull();
    expect(parseHhmm('24:00')).toBeNull();
    expect(parseHhmm('23:59')).toBe(1439);
    expect(inWindow({ from: 'x', to: '10:00', uploadBps: 1, downloadBps: 1 }, 0)).toBe(false);
  });
});
