/** Which job rows the dashboard gives up when it holds more than it keeps (`maxJobs`). */
import { isFinal, type JobState } from "../lib/mod.ts";

/**
 * The `count` jobs of `order` (oldest first) whose rows go: the oldest finished ones, so that
 * a job still running keeps its row (and its next event finds it, rather than counting it as
 * a new job) however many jobs start after it; the oldest running ones only when more than
 * the rows kept are running.
 */
export function rowsToDrop(
  order: readonly string[],
  count: number,
  jobOf: (id: string) => { readonly state: JobState } | undefined,
): string[] {
  const finished: string[] = [];
  const running: string[] = [];
  for (const id of order) {
    if (finished.length === count) break;
    const j = jobOf(id);
    (j === undefined || isFinal(j.state) ? finished : running).push(id);
  }
  if (finished.length === count) return finished;
  // More running jobs than rows: the oldest of them go too.
  return [...finished, ...running.slice(0, count - finished.length)];
}
