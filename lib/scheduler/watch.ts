/**
 * The scheduler's file watcher: how it sees, without polling, what other processes do to
 * the store — commits (the ledger moves) and requests (a stop or re-run file appears). It
 * comes in through the scheduler's options (`Deno.watchFs` by default), so tests feed it
 * events of their own.
 */

/** One file-system event: what happened, and to which paths. */
export interface WatchEvent {
  readonly kind: string;
  readonly paths: readonly string[];
}

/** A running watcher: its events, until it is closed. */
export interface Watcher extends AsyncIterable<WatchEvent> {
  close(): void;
}

/** Starts watching `path` (and below it, when `recursive`). */
export type Watch = (path: string, options: { recursive: boolean }) => Watcher;

/** The system's watcher: `Deno.watchFs()`. */
export const watchFs: Watch = (path, options) => Deno.watchFs(path, options);

/**
 * Call `onEvent` for every event of `watcher` until it is closed; never throws (a watcher
 * that fails simply ends: the scheduler's re-scans still see what it would have).
 */
export function follow(watcher: Watcher, onEvent: (event: WatchEvent) => void): Promise<void> {
  return (async () => {
    try {
      for await (const event of watcher) onEvent(event);
    } catch { /* closed, or failed */ }
  })();
}

/** Close `watcher`, if it is still open. */
export function closeWatcher(watcher: Watcher): void {
  try {
    watcher.close();
  } catch { /* closed */ }
}
