/**
 * The scheduler's time: what the clock says and when timers fire. It comes in through the
 * scheduler's options (the system's by default), so tests run cron ticks, re-scans and job
 * timeouts on a fake clock in milliseconds rather than waiting real seconds.
 */

/** What a clock's `setTimeout()` gives back: its `clearTimeout()` takes it. */
export type TimerId = unknown;

/** Time and timers, as the scheduler reads and sets them. */
export interface Clock {
  /** The time now, in milliseconds since the epoch. */
  now(): number;
  /** Call `fn` once, `ms` milliseconds from now; returns the id that cancels it. */
  setTimeout(fn: () => void, ms: number): TimerId;
  /** Cancel a call `setTimeout()` set up; nothing happens for one that ran, or `undefined`. */
  clearTimeout(id: TimerId): void;
}

/** The system's clock: `Date.now()` and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout> | undefined),
};

/** A promise that resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
