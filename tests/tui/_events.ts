/**
 * Synthetic scheduler events for dashboard tests and benchmarks: whole job histories
 * (created, started, datums with a log line each, a final state) with sortable ids.
 */
import type { JobState, TuskEvent } from "../../lib/mod.ts";

/** A 32-hex job id that sorts by `n` (like real ids, which start with the time). */
export function jobId(n: number): string {
  return n.toString(16).padStart(12, "0") + "ab".repeat(10);
}

/** A 32-hex datum id. */
export function datumId(job: number, n: number): string {
  return (job * 1000 + n).toString(16).padStart(8, "0") + "cd".repeat(12);
}

/** ISO time `ms` after a fixed origin. */
export function at(ms: number): string {
  return new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
}

/** Options of `jobEvents()`. */
export interface JobEventsOptions {
  readonly pipeline?: string;
  /** Start time, ms after the origin. */
  readonly t0?: number;
  readonly datums?: number;
  /** How many of the datums fail (the last ones). */
  readonly failed?: number;
  /** Stop before the final state (the job is still running). */
  readonly running?: boolean;
  /** Datums to finish when `running` (default: half). */
  readonly finishedDatums?: number;
}

/** The events of one job, numbered `n`. */
export function jobEvents(n: number, options: JobEventsOptions = {}): TuskEvent[] {
  const job = jobId(n);
  const pipeline = options.pipeline ?? "upper";
  const t0 = options.t0 ?? n * 1000;
  const total = options.datums ?? 2;
  const failedN = options.failed ?? 0;
  const finishing = options.running ? (options.finishedDatums ?? Math.floor(total / 2)) : total;
  const ev: TuskEvent[] = [];
  let t = t0;
  const progress = { total: 0, processed: 0, skipped: 0, failed: 0, recovered: 0 };
  /** A `job:state` event with the progress so far. */
  const state = (name: JobState, reason?: string) =>
    ev.push({
      type: "job:state",
      time: at(t++),
      job,
      pipeline,
      state: name,
      ...(reason !== undefined ? { reason } : {}),
      progress: { ...progress },
    });
  ev.push({
    type: "job:created",
    time: at(t++),
    job,
    pipeline,
    version: 1,
    inputs: ["data@c0ffee"],
  });
  state("STARTING");
  progress.total = total;
  state("RUNNING");
  for (let i = 0; i < finishing; i++) {
    const datum = datumId(n, i);
    const fails = i >= total - failedN;
    ev.push({
      type: "datum:started",
      time: at(t++),
      job,
      pipeline,
      datum,
      inputs: [`data:/f${i}`],
    });
    ev.push({
      type: "stage:log",
      time: at(t++),
      job,
      pipeline,
      datum,
      stream: fails ? "stderr" : "stdout",
      line: fails ? `error: bad input f${i}` : `upper f${i} (6 bytes)`,
    });
    if (fails) progress.failed++;
    else progress.processed++;
    ev.push({
      type: "datum:finished",
      time: at(t++),
      job,
      pipeline,
      datum,
      state: fails ? "FAILED" : "SUCCESS",
      durationMs: 120,
      ...(fails ? { message: `Stage exited with code 1` } : {}),
    });
  }
  if (options.running) {
    state("RUNNING");
    return ev;
  }
  if (progress.failed) {
    state(
      "FAILURE",
      `${progress.failed} datum(s) failed; datum ${
        datumId(n, total - 1)
      }: Stage exited with code 1`,
    );
  } else {
    state("FINISHING");
    state("SUCCESS");
  }
  return ev;
}

/** Events of `count` finished jobs, numbered from 1. */
export function history(count: number, options: JobEventsOptions = {}): TuskEvent[] {
  const out: TuskEvent[] = [];
  for (let n = 1; n <= count; n++) {
    for (const e of jobEvents(n, { ...options, t0: n * 1000 })) out.push(e);
  }
  return out;
}
