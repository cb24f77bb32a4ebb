/**
 * Pachyderm's job and datum states, the one place they are spelled out: job records, the
 * scheduler's events and every verb read them from here.
 */

/** Pachyderm's job states. */
export type JobState =
  | "CREATED"
  | "STARTING"
  | "RUNNING"
  | "FINISHING"
  | "SUCCESS"
  | "FAILURE"
  | "KILLED"
  | "UNRUNNABLE";

/** Pachyderm's datum states. */
export type DatumState = "STARTING" | "SUCCESS" | "FAILED" | "SKIPPED" | "RECOVERED";

/** The states a job or a datum never leaves (a job leaves one only by being re-run). */
const FINAL: ReadonlySet<JobState | DatumState> = new Set([
  "SUCCESS",
  "FAILURE",
  "KILLED",
  "UNRUNNABLE",
  "FAILED",
  "SKIPPED",
  "RECOVERED",
]);

/** True for a state a job or a datum never leaves. */
export function isFinal(state: JobState | DatumState): boolean {
  return FINAL.has(state);
}
