/** Helpers for rendering dashboard frames with ink-testing-library. */

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g;

/** A frame without escape codes. */
export function plain(frame: string | undefined): string {
  return (frame ?? "").replace(ANSI, "");
}

/** Wait until `check()` is true (polling every 10 ms), or fail after `timeoutMs`. */
export async function until(
  check: () => boolean,
  what: string,
  timeoutMs = 3000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Key sequences as a terminal sends them. */
export const KEY = {
  up: "\u001B[A",
  down: "\u001B[B",
  enter: "\r",
  escape: "\u001B",
} as const;
