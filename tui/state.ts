/**
 * The dashboard's view state and its pure reducer. A snapshot (repos, pipelines, recent
 * jobs) and the scheduler's events (live or replayed from the journal) fold into one
 * `ViewState`: jobs newest first with their progress, each recent job's datums and a
 * bounded log tail, the selection and the open panel. Memory stays bounded however long
 * the history: at most `maxJobs` job rows, details for the newest `maxDetailed` jobs,
 * `maxLogLines` log lines and `maxDatums` datums per job; `totalJobs` still counts all.
 * Jobs are kept in a `PersistentMap`, so a batch of events copies only what it touches, and
 * a history folded piece by piece gives the same view as folded at once.
 *
 * No Ink, no React, no I/O, no clock: times come from events and from the caller.
 */
import { isFinal, type JobRecord, type JobState } from "../lib/mod.ts";
import { rowsToDrop } from "./evict.ts";
import { PersistentMap } from "./persistent_map.ts";
import {
  type Action,
  type DamagedRecord,
  type DatumView,
  DEFAULT_LIMITS,
  type FeedItem,
  type JobProgress,
  type JobRequest,
  type JobView,
  type Limits,
  type LogView,
  type RepoView,
  type Snapshot,
  type ViewState,
} from "./view.ts";
import { selectedIndex } from "./select.ts";

/** The empty view. */
export function initialState(
  options: { limits?: Partial<Limits>; scheduler?: string } = {},
): ViewState {
  return {
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    loaded: false,
    reposAsOf: "",
    scheduler: options.scheduler ?? "starting",
    replay: null,
    repos: [],
    pipelines: [],
    metrics: [],
    cronTicks: new Map(),
    jobs: PersistentMap.empty(),
    order: [],
    totalJobs: 0,
    byState: {},
    latest: new Map(),
    selectedId: null,
    follow: true,
    panel: "none",
    message: null,
    request: null,
    damaged: new Map(),
  };
}

/** The next view. Never mutates `state`. */
export function reduce(state: ViewState, action: Action): ViewState {
  switch (action.kind) {
    case "snapshot":
      return applySnapshot(state, action.snapshot);
    case "feed":
      return action.items.length === 0 ? state : applyFeed(state, action.items);
    case "move":
      return move(state, action.delta);
    case "panel":
      return { ...state, panel: state.panel === action.panel ? "none" : action.panel };
    case "message":
      return {
        ...state,
        message: action.text === null ? null : { text: action.text, at: action.time },
      };
    case "request":
      return request(state, action.what, action.time);
  }
}

const NONE: readonly string[] = [];
const NONE_DATUMS: readonly DatumView[] = Object.freeze([]);
const NONE_LOGS: readonly LogView[] = Object.freeze([]);

type JobFields = Omit<JobView, "progress" | "datums" | "logs">;
type MutableJob = { -readonly [K in keyof JobFields]: JobFields[K] } & {
  progress: { -readonly [K in keyof JobProgress]: number };
  datums: DatumView[];
  logs: LogView[];
};

/** One batch of changes over a state: copies what it touches, once. */
class Draft {
  readonly base: ViewState;
  readonly working = new Map<string, MutableJob>();
  readonly created: string[] = [];
  #repos: RepoView[] | null = null;
  #cron: Map<string, string> | null = null;
  #byState: Partial<Record<JobState, number>> | null = null;
  #damaged: Map<string, DamagedRecord> | null = null;
  readonly #owned = new Set<unknown[]>();
  scheduler: string;
  replay: ViewState["replay"];
  totalJobs: number;

  constructor(base: ViewState) {
    this.base = base;
    this.scheduler = base.scheduler;
    this.replay = base.replay;
    this.totalJobs = base.totalJobs;
  }

  /** A mutable copy of a job, made on first touch in this batch. */
  job(id: string): MutableJob | undefined {
    const w = this.working.get(id);
    if (w) return w;
    const j = this.base.jobs.get(id);
    if (!j) return undefined;
    const copy = {
      ...j,
      progress: { ...j.progress },
      datums: j.datums as DatumView[],
      logs: j.logs as LogView[],
    };
    this.working.set(id, copy);
    return copy;
  }

  /** A job, created from what an event knows when it is new. */
  jobOrNew(
    id: string,
    pipeline: string,
    time: string,
    inputs: readonly string[] = NONE,
  ): MutableJob {
    const existing = this.job(id);
    if (existing) return existing;
    const j: MutableJob = {
      id,
      pipeline,
      state: "CREATED",
      created: time,
      restart: 0,
      progress: { total: 0, processed: 0, skipped: 0, failed: 0 },
      inputs,
      detailed: true,
      datums: [],
      logs: [],
      asOf: time,
    };
    this.working.set(id, j);
    this.#owned.add(j.datums).add(j.logs);
    this.created.push(id);
    this.totalJobs++;
    this.count(j.state, 1);
    return j;
  }

  count(state: JobState, delta: number): void {
    this.#byState ??= { ...this.base.byState };
    this.#byState[state] = (this.#byState[state] ?? 0) + delta;
  }

  setState(j: MutableJob, state: JobState): void {
    if (j.state === state) return;
    this.count(j.state, -1);
    this.count(state, 1);
    j.state = state;
  }

  /** The job's datum list, copied on first change in this batch. */
  datums(j: MutableJob): DatumView[] {
    if (!this.#owned.has(j.datums)) {
      j.datums = [...j.datums];
      this.#owned.add(j.datums);
    }
    return j.datums;
  }

  /** The job's log tail, copied on first change in this batch. */
  logs(j: MutableJob): LogView[] {
    if (!this.#owned.has(j.logs)) {
      j.logs = [...j.logs];
      this.#owned.add(j.logs);
    }
    return j.logs;
  }

  get repos(): RepoView[] {
    return this.#repos ??= [...this.base.repos];
  }

  get cron(): Map<string, string> {
    return this.#cron ??= new Map(this.base.cronTicks);
  }

  /** Note a damaged job record (once per job). */
  damaged(record: DamagedRecord): void {
    if ((this.#damaged ?? this.base.damaged).has(record.job)) return;
    this.#damaged ??= new Map(this.base.damaged);
    this.#damaged.set(record.job, record);
  }

  finish(extra: Partial<ViewState> = {}): ViewState {
    const base = this.base;
    const { maxJobs, maxDetailed } = base.limits;
    let order = base.order;
    // Jobs changed in this batch; the map itself is copied only where they are.
    const changed = new Map<string, JobView>(this.working);
    const removed: string[] = [];
    const jobOf = (id: string) => changed.get(id) ?? base.jobs.get(id);
    let byState = this.#byState ?? base.byState;
    let latest = base.latest;
    if (this.created.length) {
      const fresh = [...this.created].sort();
      const last = order[order.length - 1];
      const appended = last === undefined || fresh[0]! > last;
      order = appended ? order.concat(fresh) : [...order, ...fresh].sort();
      const l = new Map(latest);
      for (const id of fresh) {
        const p = jobOf(id)!.pipeline;
        const cur = l.get(p);
        if (cur === undefined || cur < id) l.set(p, id);
      }
      latest = l;
      if (order.length > maxJobs) {
        const dropped = rowsToDrop(order, order.length - maxJobs, jobOf);
        const gone = new Set(dropped);
        order = order.filter((id) => !gone.has(id));
        const counts = { ...byState };
        for (const id of dropped) {
          const j = jobOf(id);
          if (j) counts[j.state] = (counts[j.state] ?? 0) - 1;
          changed.delete(id);
          removed.push(id);
        }
        byState = counts;
      }
      // Jobs that fell out of the newest `maxDetailed` give up their datums and logs: when
      // the new jobs are the newest, only the rows just below the boundary can have changed.
      const boundary = order.length - maxDetailed;
      if (boundary > 0) {
        const from = appended ? Math.max(0, boundary - fresh.length) : 0;
        for (let i = from; i < boundary; i++) {
          const id = order[i]!;
          const j = jobOf(id);
          if (j?.detailed) {
            changed.set(id, { ...j, detailed: false, datums: NONE_DATUMS, logs: NONE_LOGS });
          }
        }
      }
    }
    const jobs = changed.size || removed.length ? base.jobs.with(changed, removed) : base.jobs;
    let selectedId = base.selectedId;
    let follow = base.follow;
    const newest = order[order.length - 1] ?? null;
    if (follow || selectedId === null) {
      selectedId = newest;
      follow = true;
    } else if (!jobs.has(selectedId)) {
      selectedId = order[0] ?? null;
      follow = selectedId === newest;
    }
    return {
      ...base,
      scheduler: this.scheduler,
      replay: this.replay,
      repos: this.#repos ?? base.repos,
      cronTicks: this.#cron ?? base.cronTicks,
      damaged: this.#damaged ?? base.damaged,
      jobs,
      order,
      totalJobs: this.totalJobs,
      byState,
      latest,
      selectedId,
      follow,
      ...extra,
    };
  }
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** Drop one datum to make room: the oldest finished one that did not fail, else the oldest. */
function dropDatum(list: DatumView[]): void {
  const i = list.findIndex((d) => isFinal(d.state) && d.state !== "FAILED");
  list.splice(i >= 0 ? i : 0, 1);
}

function applyFeed(state: ViewState, items: readonly FeedItem[]): ViewState {
  const d = new Draft(state);
  const { maxLogLines, maxDatums } = state.limits;
  for (const e of items) {
    switch (e.type) {
      case "tui:scheduler":
        d.scheduler = e.state;
        break;
      case "tui:replay":
        d.replay = e.done ? null : { read: e.read, size: e.size };
        break;
      case "job:created":
        d.jobOrNew(e.job, e.pipeline, e.time, e.inputs);
        break;
      case "job:state": {
        const j = d.jobOrNew(e.job, e.pipeline, e.time);
        if (e.time < j.asOf) break;
        const wasFinal = isFinal(j.state);
        const final = isFinal(e.state);
        if (wasFinal && !final) {
          // A re-run (`restart datum`): the job starts over.
          delete j.finished;
          delete j.reason;
          j.started = e.time;
          if (e.state === "STARTING") j.restart++;
          if (j.detailed) j.datums = [];
        }
        d.setState(j, e.state);
        if (e.state === "STARTING" && j.started === undefined) j.started = e.time;
        if (e.state === "RUNNING") j.started ??= e.time;
        if (final) {
          j.finished = e.time;
          j.started ??= e.time;
        }
        if (e.reason !== undefined) j.reason = e.reason;
        const p = j.progress;
        p.total = e.progress.total;
        p.processed = e.progress.processed;
        p.skipped = e.progress.skipped;
        p.failed = e.progress.failed;
        break;
      }
      case "datum:started": {
        const j = d.jobOrNew(e.job, e.pipeline, e.time);
        if (!j.detailed || e.time < j.asOf) break;
        const list = d.datums(j);
        const at = list.findIndex((x) => x.id === e.datum);
        if (at >= 0) {
          list[at] = { id: e.datum, state: "STARTING", inputs: e.inputs, durationMs: 0 };
        } else {
          list.push({ id: e.datum, state: "STARTING", inputs: e.inputs, durationMs: 0 });
          if (list.length > maxDatums) dropDatum(list);
        }
        break;
      }
      case "datum:finished": {
        const j = d.jobOrNew(e.job, e.pipeline, e.time);
        if (!j.detailed || e.time < j.asOf) break;
        const list = d.datums(j);
        const at = list.findIndex((x) => x.id === e.datum);
        const prev = at >= 0 ? list[at]! : undefined;
        if (prev && isFinal(prev.state)) break;
        const next: DatumView = {
          id: e.datum,
          state: e.state,
          inputs: prev?.inputs ?? [],
          durationMs: e.durationMs,
          ...(e.message ? { message: e.message } : {}),
        };
        if (at >= 0) list[at] = next;
        else {
          list.push(next);
          if (list.length > maxDatums) dropDatum(list);
        }
        if (!isFinal(j.state)) {
          const p = j.progress;
          if (e.state === "SUCCESS") p.processed++;
          else if (e.state === "SKIPPED") p.skipped++;
          else if (e.state === "FAILED") p.failed++;
        }
        break;
      }
      case "stage:log": {
        const j = d.jobOrNew(e.job, e.pipeline, e.time);
        if (!j.detailed) break;
        pushBounded(
          d.logs(j),
          { time: e.time, datum: e.datum, stream: e.stream, line: e.line },
          maxLogLines,
        );
        break;
      }
      case "commit:created":
      case "branch:moved": {
        if (e.branch !== "master" || e.time < state.reposAsOf) break;
        const head = e.type === "commit:created" ? e.commit : e.to;
        const repos = d.repos;
        const at = repos.findIndex((r) => r.name === e.repo);
        if (at >= 0) {
          const r = repos[at]!;
          if (r.head !== head) repos[at] = { ...r, head, headTime: e.time, size: null };
        } else {
          repos.unshift({ name: e.repo, size: null, head, headTime: e.time, created: e.time });
        }
        break;
      }
      case "cron:tick":
        d.cron.set(`${e.pipeline}/${e.input}`, e.tick);
        break;
      case "job:damaged":
        d.damaged({ job: e.job, pipeline: e.pipeline, file: e.file });
        break;
    }
  }
  return d.finish();
}

function datumOf(r: JobRecord["datums"][number]): DatumView {
  return {
    id: r.id,
    state: r.state,
    inputs: r.inputs.map((i) => `${i.name}:${i.path}`),
    durationMs: r.durationMs,
    ...(r.message ? { message: r.message } : {}),
  };
}

/** At most `max` datums of a record, failed ones first, then the latest. */
function keepDatums(records: JobRecord["datums"], max: number): DatumView[] {
  if (records.length <= max) return records.map(datumOf);
  const failed = records.filter((r) => r.state === "FAILED").slice(0, max);
  const rest = records.filter((r) => r.state !== "FAILED");
  const keep = new Set([
    ...failed,
    ...rest.slice(Math.max(0, rest.length - (max - failed.length))),
  ]);
  return records.filter((r) => keep.has(r)).map(datumOf);
}

function applySnapshot(state: ViewState, s: Snapshot): ViewState {
  const d = new Draft(state);
  for (const r of s.damaged ?? []) d.damaged(r);
  for (const r of s.jobs ?? []) {
    const existing = d.job(r.id);
    const asOf = s.takenAt;
    const j = existing ?? d.jobOrNew(r.id, r.pipeline, r.created);
    if (existing && existing.asOf > asOf) continue;
    d.setState(j, r.state);
    j.created = r.created;
    if (r.started !== undefined) j.started = r.started;
    if (r.finished !== undefined) j.finished = r.finished;
    if (r.reason !== undefined) j.reason = r.reason;
    j.restart = r.restart;
    j.progress = {
      total: r.progress.total,
      processed: r.progress.processed,
      skipped: r.progress.skipped,
      failed: r.progress.failed,
    };
    j.inputs = r.inputs.map((i) => `${i.repo}@${i.commit ?? "-"}`);
    // A finished job's record is complete; a running one's is only as fresh as its last
    // save, so its own events are replayed over it.
    j.asOf = isFinal(r.state) ? asOf : r.created;
    if (j.detailed) {
      j.datums = keepDatums(r.datums, state.limits.maxDatums);
    }
  }
  if (s.jobCount !== undefined) d.totalJobs = Math.max(d.totalJobs, s.jobCount);
  return d.finish({
    loaded: true,
    reposAsOf: s.takenAt,
    repos: s.repos,
    pipelines: s.pipelines,
    metrics: s.metrics ?? state.metrics,
  });
}

/**
 * Ask for an action on the selected job (in order with the moves before it), or say at once
 * why it cannot be done: a finished job cannot be stopped, a running one not re-run.
 */
function request(state: ViewState, what: JobRequest["what"], time: number): ViewState {
  const job = state.selectedId === null ? undefined : state.jobs.get(state.selectedId);
  if (!job) return state;
  const id = job.id.slice(0, 12);
  if (what === "stop" && isFinal(job.state)) {
    return { ...state, message: { text: `Job ${id} has already finished`, at: time } };
  }
  if (what === "rerun" && !isFinal(job.state)) {
    const text = `Job ${id} is still ${job.state}: r re-runs a finished job (s stops this one)`;
    return { ...state, message: { text, at: time } };
  }
  const seq = (state.request?.seq ?? 0) + 1;
  return { ...state, request: { what, job: job.id, pipeline: job.pipeline, seq } };
}

function move(state: ViewState, delta: number): ViewState {
  const n = state.order.length;
  if (n === 0 || delta === 0) return state;
  const cur = selectedIndex(state);
  const next = Math.max(0, Math.min(n - 1, (cur < 0 ? 0 : cur) + delta));
  const id = state.order[n - 1 - next]!;
  if (id === state.selectedId && state.follow === (next === 0)) return state;
  return { ...state, selectedId: id, follow: next === 0 };
}
