/**
 * The store's event journal as commands read it: where it is, and the stage log lines
 * journaled from now on (`tusk logs --follow`).
 */
import { journalEnd, readJournal, type TuskEvent } from "../scheduler/events.ts";
import type { Store } from "../store/store.ts";
import { inspectJob } from "./jobs.ts";

/** One stage log line as the journal holds it. */
export type StageLogEvent = Extract<TuskEvent, { type: "stage:log" }>;

/** The path of the store's event journal: every scheduler's events, one JSON line each. */
export function journalPath(store: Store): string {
  return store.layout.events;
}

/** Which log lines `followLogs()` gives: those of a job, a pipeline, a datum (by id prefix). */
export interface LogFilter {
  readonly job?: string;
  readonly pipeline?: string;
  readonly datum?: string;
}

/** Options of `followLogs()`. */
export interface FollowLogsOptions {
  /** How often the journal is read again, in milliseconds (default 100). */
  readonly pollMs?: number;
  /** Stops following. */
  readonly signal?: AbortSignal;
}

/**
 * The stage log lines journaled from now on, as they come, until `signal` aborts; those
 * journaled before this resolves are not among them. A job is named by its id or a prefix
 * of it; a later job sharing that prefix is not that job.
 */
export async function followLogs(
  store: Store,
  filter: LogFilter,
  options: FollowLogsOptions = {},
): Promise<AsyncGenerator<StageLogEvent>> {
  const jobId = filter.job ? (await inspectJob(store, filter.job)).id : undefined;
  const journal = journalPath(store);
  // Where the journal ends now; read on from there across rotations.
  let offset = await journalEnd(journal);
  return (async function* () {
    while (!options.signal?.aborted) {
      const r = await readJournal(journal, offset);
      offset = r.offset;
      for (const e of r.events) {
        if (e.type !== "stage:log") continue;
        if (jobId !== undefined && e.job !== jobId) continue;
        if (filter.pipeline && e.pipeline !== filter.pipeline) continue;
        if (filter.datum && !e.datum.startsWith(filter.datum)) continue;
        yield e;
      }
      // An older segment read (a rotation came): on at once.
      if (!r.more) await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    }
  })();
}
