/**
 * What the dashboard reads off its view state: the selected job, a window of the job list,
 * the footer's message, what the clock changes on screen, a job's elapsed time and rate.
 * Pure: times come from the caller.
 */
import { isFinal, type JobState } from "../lib/mod.ts";
import { shortAge } from "./format.ts";
import type { DamagedRecord, FeedItem, JobView, ViewState } from "./view.ts";
import { MESSAGE_MS } from "./view.ts";

/** Position of `id` in the sorted `order`, or -1. */
export function indexOfId(order: readonly string[], id: string): number {
  let lo = 0;
  let hi = order.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = order[mid]!;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Index of the selected job in the newest-first list, or -1. */
export function selectedIndex(state: ViewState): number {
  if (state.selectedId === null) return -1;
  const at = indexOfId(state.order, state.selectedId);
  return at < 0 ? -1 : state.order.length - 1 - at;
}

/**
 * The footer's message at `now`: the last action's, until it is `MESSAGE_MS` old; then, while
 * damaged job records were seen, what to do about them; else null.
 */
export function footerMessage(state: ViewState, now: number): string | null {
  const m = state.message;
  if (m !== null && now - m.at < MESSAGE_MS) return m.text;
  return damagedNotice(state.damaged);
}

/** What the footer says of damaged job records: which file to remove, or where to look. */
function damagedNotice(damaged: ReadonlyMap<string, DamagedRecord>): string | null {
  if (damaged.size === 0) return null;
  if (damaged.size > 1) {
    return `Skipped ${damaged.size} damaged job records: "tusk doctor" names their files`;
  }
  const [d] = damaged.values();
  return `Skipped the damaged record of job ${d!.job.slice(0, 12)} of "${d!.pipeline}": ` +
    `remove "${d!.file}" to forget that job`;
}

/** The part of the screen `clockFace()` looks at: the job list's window, and cron countdowns. */
export interface ClockWindow {
  /** First row of the job list shown, and how many rows it has. */
  readonly start: number;
  readonly rows: number;
  /** A cron input's countdown is shown (it changes every second). */
  readonly cron: boolean;
}

/**
 * What the screen shows that changes with the clock alone, as a key: equal keys at two times
 * mean the same screen at both. A running job's time (in the list or the open panel) and a
 * cron countdown change every second, so with either shown the key is the time itself;
 * otherwise it is the repos' ages and the footer's message. The app redraws on its clock only
 * when the key changes: a redraw costs Ink a whole frame, idle or not.
 */
export function clockFace(state: ViewState, now: number, window: ClockWindow): string {
  const ticking = (j: JobView | undefined) => j !== undefined && !!j.started && !j.finished;
  if (window.cron || ticking(selectedJob(state))) return String(now);
  const n = state.order.length;
  for (let i = window.start; i < Math.min(n, window.start + window.rows); i++) {
    if (ticking(state.jobs.get(state.order[n - 1 - i]!))) return String(now);
  }
  let face = footerMessage(state, now) ?? "";
  for (const r of state.repos) face += `\n${shortAge(r.headTime, now)}`;
  return face;
}

/** The selected job, if any. */
export function selectedJob(state: ViewState): JobView | undefined {
  return state.selectedId === null ? undefined : state.jobs.get(state.selectedId);
}

/** Jobs `start .. start+count` of the newest-first list. */
export function jobsWindow(state: ViewState, start: number, count: number): JobView[] {
  const out: JobView[] = [];
  const n = state.order.length;
  for (let i = start; i < Math.min(n, start + count); i++) {
    const j = state.jobs.get(state.order[n - 1 - i]!);
    if (j) out.push(j);
  }
  return out;
}

/**
 * First row of a list window of `height` rows that keeps `selected` visible, moving as
 * little as possible from `previous`.
 */
export function windowStart(
  previous: number,
  selected: number,
  height: number,
  total: number,
): number {
  if (height <= 0 || total <= height) return 0;
  let start = Math.max(0, Math.min(previous, total - height));
  if (selected >= 0 && selected < start) start = selected;
  if (selected >= start + height) start = selected - height + 1;
  return start;
}

/** Milliseconds a job has run (until it finished, or until `now`). */
export function elapsedMs(job: JobView, now: number): number {
  if (!job.started) return 0;
  const end = job.finished ? Date.parse(job.finished) : now;
  return Math.max(0, end - Date.parse(job.started));
}

/** Datums per second the job has worked through (processed and failed; skipped are free). */
export function ratePerSecond(job: JobView, now: number): number {
  const ms = elapsedMs(job, now);
  const done = job.progress.processed + job.progress.failed;
  return ms > 0 ? (done * 1000) / ms : 0;
}

/** Kept jobs not yet in a final state. */
export function activeJobs(state: ViewState): number {
  let n = 0;
  for (const [s, c] of Object.entries(state.byState)) if (!isFinal(s as JobState)) n += c;
  return n;
}

/**
 * True when the batch changed repos or named a pipeline the snapshot does not know, after
 * the snapshot was taken.
 */
export function wantsRefresh(state: ViewState, items: readonly FeedItem[]): boolean {
  const known = new Set(state.pipelines.map((p) => p.name));
  // What happened before the last snapshot (a replayed history) is already in it.
  return items.some((e) =>
    e.time >= state.reposAsOf &&
    (e.type === "branch:moved" || e.type === "commit:created" ||
      (e.type === "job:created" && !known.has(e.pipeline)))
  );
}
