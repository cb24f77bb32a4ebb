/**
 * A job's life as its record and the event stream tell it: created, moved from state to
 * state, finished. Each change is saved and announced, so the dashboard and `list job`
 * follow the same story.
 */
import type { Store } from "../store/store.ts";
import type { SandboxMode } from "../runner/sandbox.ts";
import type { Spawner } from "../runner/run_stage.ts";
import { type JobRecord, type JobStore, newJobId } from "../pipeline/jobs.ts";
import type { Pipeline } from "../pipeline/pipelines.ts";
import type { JobState } from "../pipeline/states.ts";
import type { Trigger } from "../pipeline/trigger.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { EventBus } from "./events.ts";

/** What running jobs needs from its surroundings. */
export interface JobContext {
  readonly store: Store;
  readonly jobs: JobStore;
  readonly bus: EventBus;
  /**
   * How stages are sandboxed, or its promise (the sandbox's trial still running): a job
   * waits for it only once planned, before it checks its program and starts its stages.
   */
  readonly sandbox: SandboxMode | Promise<SandboxMode>;
  /** Parallel datums when the spec says 0 (default: number of cores). */
  readonly cores: number;
  /** The most datums one batched process is given (default: `BATCH_DATUMS`). */
  readonly batchDatums?: number;
  /** The process is shutting down: every job is cut short and left to resume. */
  readonly signal?: AbortSignal;
  /** Memory cap of stages whose spec sets none (default: a quarter of RAM). */
  readonly defaultMemoryBytes?: number;
  /** The time of job records and the timers of jobTimeout (default: the system's clock). */
  readonly clock?: Clock;
  /** Starts stage processes (default: the real spawner). */
  readonly spawn?: Spawner;
  /**
   * Plan every job in full, never from the diff against the job before (`planFromDiff()`):
   * for tests that compare the two.
   */
  readonly planInFull?: boolean;
}

/** The time now on the context's clock, as an ISO string for a record. */
export function nowText(ctx: JobContext): string {
  return new Date((ctx.clock ?? systemClock).now()).toISOString();
}

/** Put `job` in `state` (saying why, if `reason` is given) and announce it. */
export function setJobState(
  ctx: JobContext,
  job: JobRecord,
  state: JobState,
  reason?: string,
): void {
  job.state = state;
  if (reason !== undefined) job.reason = reason;
  ctx.bus.emit("job:state", {
    job: job.id,
    pipeline: job.pipeline,
    state,
    ...(reason !== undefined ? { reason } : {}),
    progress: job.progress,
  });
}

/** Create the record of a new job (state CREATED) and announce it. */
export async function createJob(
  ctx: JobContext,
  p: Pipeline,
  t: Trigger,
  options: { rerunOf?: string; reprocess?: boolean } = {},
): Promise<JobRecord> {
  const now = new Date((ctx.clock ?? systemClock).now());
  const job: JobRecord = {
    id: newJobId(now),
    pipeline: p.name,
    ...(p.createdSeq !== undefined ? { pipelineSeq: p.createdSeq } : {}),
    version: p.version,
    specHash: p.specHash,
    codeHash: p.codeHash,
    inputs: t.inputs,
    trigger: t.trigger,
    state: "CREATED",
    created: now.toISOString(),
    restart: 0,
    progress: { total: 0, processed: 0, skipped: 0, failed: 0, recovered: 0 },
    datums: [],
    ...(options.rerunOf !== undefined ? { rerunOf: options.rerunOf } : {}),
    ...(options.reprocess ? { reprocess: true } : {}),
  };
  await ctx.jobs.save(job, { durable: true });
  ctx.bus.emit("job:created", {
    job: job.id,
    pipeline: p.name,
    version: p.version,
    inputs: t.inputs.map((i) => `${i.repo}@${i.commit ?? "-"}`),
  });
  return job;
}

/** End `job` in final state `state`, saying why: saved durably, announced, returned. */
export async function finishJob(
  ctx: JobContext,
  job: JobRecord,
  state: JobState,
  reason?: string,
): Promise<JobRecord> {
  job.finished = nowText(ctx);
  setJobState(ctx, job, state, reason);
  await ctx.jobs.save(job, { durable: true });
  // How far the datum index went: the next job, planned from this one, reads what follows.
  if (state === "SUCCESS") await ctx.jobs.markDatumIndex(job.pipeline, job.id).catch(() => {});
  // The noted runs matter only to a job that may resume.
  await ctx.jobs.clearAttempts(job.pipeline, job.id).catch(() => {});
  return job;
}
