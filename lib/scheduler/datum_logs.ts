/**
 * What a datum's log object keeps of its runs' output. Each stream of each run is already
 * capped as it is captured (`DEFAULT_LIMITS.maxLogBytes`); the object, which holds every
 * run of the datum (`datumTries`, a batch's try, `errCmd`), is capped as a whole: the last
 * run is kept first, then the ones before it, stderr before stdout, and what does not fit
 * is cut with a marker.
 */
import { cutStored, storedBytes } from "../runner/log_size.ts";

/** One run of a datum's stage (or its errCmd), as the datum's logs keep it. */
export type AttemptLog = Readonly<Record<string, unknown>>;

/** The most a datum's log object keeps of its runs' stdout and stderr (bytes as stored). */
export const DATUM_LOG_BYTES = 2 * 1024 ** 2;

/** Ends a stream of a run that was cut to keep the datum's logs within `DATUM_LOG_BYTES`. */
export const DATUM_LOG_MARKER =
  "[… truncated: a datum keeps at most 2 MiB of logs, its last run first]";

/**
 * `attempts` with their output cut to `maxBytes` (default `DATUM_LOG_BYTES`) in all, as
 * stored, the markers left out of the count. Runs within the cap are returned unchanged.
 */
export function capDatumLogs(
  attempts: readonly AttemptLog[],
  options: { maxBytes?: number } = {},
): AttemptLog[] {
  let room = options.maxBytes ?? DATUM_LOG_BYTES;
  const out = [...attempts];
  for (let i = out.length - 1; i >= 0; i--) {
    const a = { ...out[i] };
    let cut = false;
    for (const stream of ["stderr", "stdout"] as const) {
      const text = a[stream];
      if (typeof text !== "string" || text === "") continue;
      const bytes = storedBytes(text);
      if (bytes <= room) {
        room -= bytes;
        continue;
      }
      const fit = cutStored(text, room);
      room -= fit.bytes;
      a[stream] = fit.text === ""
        ? DATUM_LOG_MARKER
        : `${fit.text}${fit.text.endsWith("\n") ? "" : "\n"}${DATUM_LOG_MARKER}`;
      cut = true;
    }
    if (cut) out[i] = a;
  }
  return out;
}
