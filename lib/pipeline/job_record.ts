/**
 * A job's record: the job and its datums, its JSON text in pieces (the single form, as a
 * remote carries it and as stores before the datum log kept it) and recognised when read, and job ids (new ones, and the
 * references users give), what a listing of records gives (damaged ones set aside); and the
 * other records kept beside it, a re-run request and a datum index entry. Pure: the folder
 * and its files are `jobs.ts`'s.
 */
import { type IntegrityError, InvalidArgumentError } from "../errors.ts";
import type { Hash } from "../store/hash.ts";
import { checkRepoName } from "../store/names.ts";
import type { HostProgram } from "./program.ts";
import type { DatumState, JobState } from "./states.ts";

/** One datum of a job. */
export interface DatumRecord {
  /** Short id (first 32 hex of the datum key). */
  readonly id: string;
  readonly hash: Hash;
  state: DatumState;
  readonly inputs: readonly { name: string; repo: string; commit: string; path: string }[];
  tries: number;
  durationMs: number;
  exitCode: number | null;
  message?: string;
  /** Blob holding the datum's logs (JSON: stdout, stderr, exit code, duration, tries). */
  logs?: Hash;
  /** Tree of the datum's out folder, and its size. */
  outputTree?: Hash;
  outputSize?: number;
  /** The job whose output is reused (SKIPPED datums). */
  reusedFrom?: string;
}

/** A job: one run of a pipeline version over one set of input commits. */
export interface JobRecord {
  readonly id: string;
  readonly pipeline: string;
  /**
   * The `createdSeq` of the pipeline the job belongs to: a pipeline deleted and created
   * again under the same name is another pipeline, with jobs of its own.
   */
  readonly pipelineSeq?: number;
  readonly version: number;
  readonly specHash: Hash;
  readonly codeHash: Hash;
  readonly inputs: readonly { name: string; repo: string; branch: string; commit: string | null }[];
  /** Hash of the pipeline version and input commits: one job per distinct value. */
  readonly trigger: Hash;
  state: JobState;
  reason?: string;
  readonly created: string;
  started?: string;
  finished?: string;
  restart: number;
  progress: {
    total: number;
    processed: number;
    skipped: number;
    failed: number;
    recovered: number;
  };
  outputCommit?: string;
  datums: DatumRecord[];
  /** The finished job this one re-runs (the dashboard's `r`), on the same inputs. */
  readonly rerunOf?: string;
  /** Run every datum again, even those that succeeded before with the same hash. */
  readonly reprocess?: boolean;
  /** For a stage that is a host program: the program that ran, as found when the job began. */
  program?: HostProgram;
}

/**
 * A job record that cannot be read (empty, torn, not a job): `scan()` sets it aside rather
 * than failing the whole listing. `error` names its file and says what to do.
 */
export interface DamagedJob {
  readonly pipeline: string;
  readonly id: string;
  /** The record's file, absolute. */
  readonly file: string;
  readonly error: IntegrityError;
}

/** What `scan()` found: the readable records, newest first, and the damaged ones. */
export interface JobScan {
  readonly jobs: JobRecord[];
  readonly damaged: DamagedJob[];
}

/** A request to re-run a finished job, waiting for the scheduler. */
export interface RerunRequest {
  /** Run every datum again (else datums that succeeded before are reused). */
  readonly reprocess: boolean;
}

/** What another process may ask of a job: stop it, or re-run it. */
export type RequestKind = "stop" | "rerun";

/** A datum index entry: a datum hash that succeeded and where its output is. */
export interface DatumIndexEntry {
  readonly hash: Hash;
  readonly tree: Hash;
  readonly size: number;
  readonly job: string;
  readonly version: number;
  /** The `createdSeq` of the pipeline that ran the datum (see `JobRecord.pipelineSeq`). */
  readonly pipelineSeq?: number;
}

/** The fewest hex digits a job id prefix must have. */
export const MIN_JOB_PREFIX = 4;

/** A job reference as a user gives it: an id or id prefix, optionally `pipeline@` first. */
export interface JobRef {
  /** All 32 hex digits of a job id, or a prefix of at least `MIN_JOB_PREFIX`. */
  readonly id: string;
  readonly pipeline?: string;
}

/**
 * Parse `<id>` or `<pipeline>@<id>`, where `<id>` is a job id or a prefix of it of at least
 * `MIN_JOB_PREFIX` hex digits. Anything else (an empty id, `0`, `../../state`) is refused,
 * so a job reference never names a file outside the job records, nor an arbitrary job.
 */
export function parseJobRef(text: string): JobRef {
  const at = text.indexOf("@");
  const id = at < 0 ? text : text.slice(at + 1);
  const pipeline = at < 0 ? undefined : text.slice(0, at);
  if (pipeline !== undefined) checkRepoName(pipeline);
  if (!/^[0-9a-f]*$/.test(id) || id.length < MIN_JOB_PREFIX || id.length > 32) {
    throw new InvalidArgumentError(
      `Invalid job id ${JSON.stringify(id)}: give the job's id (32 hex digits, as "tusk list ` +
        `job" shows it) or a unique prefix of at least ${MIN_JOB_PREFIX}`,
      { job: text },
    );
  }
  return pipeline === undefined ? { id } : { id, pipeline };
}

/** A new job id: 32 hex, time-ordered (12 hex of milliseconds, 20 random). */
export function newJobId(now: Date): string {
  const t = now.getTime().toString(16).padStart(12, "0").slice(-12);
  const r = crypto.getRandomValues(new Uint8Array(10));
  return t + [...r].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** How many datum records one piece of a job record's JSON text holds. */
export const DATUMS_PER_PIECE = 1000;

/**
 * The JSON text of `job`, in pieces: what `JSON.stringify(job)` gives (with `datums` last),
 * without ever holding all its datums' text at once.
 */
export function* recordPieces(job: JobRecord): Generator<string> {
  const { datums, ...rest } = job;
  const head = JSON.stringify(rest);
  yield head === "{}" ? '{"datums":[' : `${head.slice(0, -1)},"datums":[`;
  for (let i = 0; i < datums.length; i += DATUMS_PER_PIECE) {
    const text = JSON.stringify(datums.slice(i, i + DATUMS_PER_PIECE));
    yield i === 0 ? text.slice(1, -1) : `,${text.slice(1, -1)}`;
  }
  yield "]}";
}

/** True when `value` has the fields every reader of a job record relies on. */
export function isJobRecord(value: unknown): value is JobRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  return typeof r.id === "string" && typeof r.pipeline === "string" &&
    typeof r.state === "string" && typeof r.trigger === "string" &&
    typeof r.created === "string" && Array.isArray(r.inputs) && Array.isArray(r.datums) &&
    typeof r.progress === "object" && r.progress !== null && r.datums.every(isDatumRecord);
}

/**
 * True when `value` has the fields every reader of a datum's record relies on: its id, hash
 * and state, its inputs (objects) and tries.
 */
export function isDatumRecord(value: unknown): value is DatumRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const d = value as Record<string, unknown>;
  return typeof d.id === "string" && typeof d.hash === "string" &&
    typeof d.state === "string" && typeof d.tries === "number" && Array.isArray(d.inputs) &&
    d.inputs.every((i) => typeof i === "object" && i !== null);
}
