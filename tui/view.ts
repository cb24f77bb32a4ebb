/**
 * The dashboard's view state, its parts and the actions that change it: the types the
 * reducer (`state.ts`), the selectors (`select.ts`) and the components share.
 */
import type { DatumState, JobRecord, JobState, TuskEvent } from "../lib/mod.ts";
import type { PersistentMap } from "./persistent_map.ts";

/** How much history the view keeps. */
export interface Limits {
  /** Job rows kept; older ones are dropped (they still count in `totalJobs`). */
  readonly maxJobs: number;
  /** Newest jobs whose datums and log tail are kept. */
  readonly maxDetailed: number;
  /** Log lines kept per job (the tail). */
  readonly maxLogLines: number;
  /** Datums kept per job. */
  readonly maxDatums: number;
}

/** The limits `tusk up` uses. */
export const DEFAULT_LIMITS: Limits = {
  maxJobs: 1_000,
  maxDetailed: 200,
  maxLogLines: 200,
  maxDatums: 1_000,
};

/** Datum counts of a job. */
export interface JobProgress {
  readonly total: number;
  readonly processed: number;
  readonly skipped: number;
  readonly failed: number;
}

/** One datum of a job, as the dashboard shows it. */
export interface DatumView {
  readonly id: string;
  readonly state: DatumState;
  readonly inputs: readonly string[];
  readonly durationMs: number;
  readonly message?: string;
}

/** One line of a job's log tail. */
export interface LogView {
  readonly time: string;
  readonly datum: string;
  readonly stream: "stdout" | "stderr";
  readonly line: string;
}

/** One job row and, for recent jobs, its details. */
export interface JobView {
  readonly id: string;
  readonly pipeline: string;
  readonly state: JobState;
  readonly reason?: string;
  readonly created: string;
  readonly started?: string;
  readonly finished?: string;
  readonly restart: number;
  readonly progress: JobProgress;
  readonly inputs: readonly string[];
  /** False once the job is too old to keep its datums and logs. */
  readonly detailed: boolean;
  readonly datums: readonly DatumView[];
  readonly logs: readonly LogView[];
  /** State events older than this are already reflected (the snapshot's time). */
  readonly asOf: string;
}

/** A repo row. */
export interface RepoView {
  readonly name: string;
  /** Size of the head of `master` in bytes; null until a snapshot says. */
  readonly size: number | null;
  readonly head: string | null;
  /** When the head of `master` was made (or last moved). */
  readonly headTime: string | null;
  readonly created: string;
}

/** One input of a pipeline, for the DAG. */
export interface PipelineInputView {
  readonly name: string;
  readonly repo: string;
  readonly kind: "pfs" | "cron";
  /** The cron spec (`@every 2s`, `*\/5 * * * *`) of a cron input. */
  readonly spec?: string;
  /** The cron input's start time (RFC 3339), when given. */
  readonly start?: string;
}

/** A pipeline node of the DAG. */
export interface PipelineNode {
  readonly name: string;
  readonly inputs: readonly PipelineInputView[];
  readonly paused: boolean;
}

/** A pipeline's headline metric over its output branch's last commits. */
export interface PipelineMetric {
  readonly pipeline: string;
  /** The metric's flattened name (`cv.accuracy`). */
  readonly metric: string;
  /** Its values, oldest first: the newest commit's is last. */
  readonly values: readonly number[];
}

/** What the dashboard loads once (and again after repos change) through lib/mod.ts. */
export interface Snapshot {
  /** When it was taken (RFC 3339). */
  readonly takenAt: string;
  readonly repos: readonly RepoView[];
  readonly pipelines: readonly PipelineNode[];
  /** Headline metrics of the pipelines whose last commits hold a metrics file. */
  readonly metrics?: readonly PipelineMetric[];
  /** Recent jobs, any order; omitted on a refresh of repos and pipelines. */
  readonly jobs?: readonly JobRecord[];
  /**
   * How many jobs the store holds: `totalJobs` is at least this, though the journal
   * replayed (its current segment) names only the recent ones.
   */
  readonly jobCount?: number;
  /** Job records met among the recent jobs that could not be read, set aside. */
  readonly damaged?: readonly DamagedRecord[];
}

/** A job record that cannot be read (empty, torn, not a job), skipped by scheduler and view. */
export interface DamagedRecord {
  readonly job: string;
  readonly pipeline: string;
  /** The record's file: removing it forgets that job alone. */
  readonly file: string;
}

/** A note about the scheduler itself (running here, attached, failed), sent by the feed. */
export interface SchedulerNotice {
  readonly type: "tui:scheduler";
  readonly time: string;
  readonly state: string;
}

/**
 * How far the feed has replayed the journal's history, sent with each replayed batch; the
 * last one of a replay has `done` set.
 */
export interface ReplayProgress {
  readonly type: "tui:replay";
  readonly time: string;
  /** Bytes of the journal replayed so far. */
  readonly read: number;
  /** Size of the journal (bytes) when last read. */
  readonly size: number;
  readonly done: boolean;
}

/** What a feed delivers: the scheduler's events, notices about the scheduler, replay progress. */
export type FeedItem = TuskEvent | SchedulerNotice | ReplayProgress;

/** Which panel is open under the jobs list. */
export type Panel = "none" | "inspect" | "logs";

/** Everything the dashboard shows. */
export interface ViewState {
  readonly limits: Limits;
  readonly loaded: boolean;
  /** Time of the last snapshot: repo events older than it are already in `repos`. */
  readonly reposAsOf: string;
  readonly scheduler: string;
  /** The journal's history being replayed (bytes read of its size), or null once it is. */
  readonly replay: { readonly read: number; readonly size: number } | null;
  readonly repos: readonly RepoView[];
  readonly pipelines: readonly PipelineNode[];
  /** Headline metric of each pipeline that has one, as the last snapshot found them. */
  readonly metrics: readonly PipelineMetric[];
  /** Last cron tick per `pipeline/input`. */
  readonly cronTicks: ReadonlyMap<string, string>;
  readonly jobs: PersistentMap<JobView>;
  /** Ids of kept jobs, oldest first (ids are time-ordered). */
  readonly order: readonly string[];
  /** Jobs seen in all, including rows dropped to bound memory. */
  readonly totalJobs: number;
  /** Kept jobs by state. */
  readonly byState: Readonly<Partial<Record<JobState, number>>>;
  /** Newest job per pipeline. */
  readonly latest: ReadonlyMap<string, string>;
  readonly selectedId: string | null;
  /** The selection follows the newest job (it is on the first row). */
  readonly follow: boolean;
  readonly panel: Panel;
  /** A line for the footer: the result of the last action, until it expires. */
  readonly message: FooterMessage | null;
  /** Damaged job records seen (in the snapshot or as `job:damaged`), by job id. */
  readonly damaged: ReadonlyMap<string, DamagedRecord>;
  /** The last action asked of a job (the app carries it out); `seq` tells requests apart. */
  readonly request: JobRequest | null;
}

/** The footer's line about the last action, and when it was set (ms since epoch). */
export interface FooterMessage {
  readonly text: string;
  readonly at: number;
}

/** How long the footer shows a message (ms). */
export const MESSAGE_MS = 5_000;

/** An action on a job that the dashboard asks its controls for. */
export interface JobRequest {
  readonly what: "rerun" | "stop";
  readonly job: string;
  readonly pipeline: string;
  readonly seq: number;
}

/** Everything that changes the view. */
export type Action =
  | { readonly kind: "snapshot"; readonly snapshot: Snapshot }
  | { readonly kind: "feed"; readonly items: readonly FeedItem[] }
  | { readonly kind: "move"; readonly delta: number }
  | { readonly kind: "panel"; readonly panel: Panel }
  | { readonly kind: "message"; readonly text: string | null; readonly time: number }
  | { readonly kind: "request"; readonly what: JobRequest["what"]; readonly time: number };
