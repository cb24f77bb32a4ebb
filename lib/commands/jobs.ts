/**
 * Job verbs: list, inspect and stop jobs; their datums and logs; re-run a job or restart its
 * failed datums. Each returns data.
 */
import { InvalidArgumentError, NotFoundError, RerunRefusedError } from "../errors.ts";
import type { Store } from "../store/store.ts";
import { type DamagedJob, type JobRecord, JobStore, parseJobRef } from "../pipeline/jobs.ts";
import { isFinal } from "../pipeline/states.ts";
import { pipelineOf, pipelinesOf } from "../pipeline/pipelines.ts";
import { currentTrigger } from "../pipeline/trigger.ts";

/**
 * Options of the listings that read job records. With `onDamaged`, a damaged record is
 * skipped and handed to it (its error names the file and the remedy); without it, the
 * record's IntegrityError fails the listing.
 */
export interface JobListingOptions {
  readonly onDamaged?: (damaged: DamagedJob) => void;
}

/** The newest readable job of `pipeline`, with damaged records as `options` says. */
export async function newestJob(
  jobs: JobStore,
  pipeline: string,
  options: JobListingOptions,
): Promise<JobRecord | null> {
  if (!options.onDamaged) return await jobs.latest(pipeline);
  const { jobs: [newest], damaged } = await jobs.scan({ pipeline, limit: 1 });
  damaged.forEach(options.onDamaged);
  return newest ?? null;
}

/**
 * The newest readable job of `pipeline`, as the scheduler sees it: a damaged record newer
 * than it is skipped (the scheduler reports it), as if it had been removed.
 */
export async function newestReadable(jobs: JobStore, pipeline: string): Promise<JobRecord | null> {
  return (await jobs.scan({ pipeline, limit: 1 })).jobs[0] ?? null;
}

/** Jobs newest first (see `JobListingOptions` for damaged records). */
export async function listJobs(
  store: Store,
  options: { pipeline?: string; limit?: number } & JobListingOptions = {},
): Promise<JobRecord[]> {
  if (options.pipeline) await pipelineOf(await store.state(), options.pipeline);
  const jobs = new JobStore(store);
  const { onDamaged, ...which } = options;
  if (!onDamaged) return await jobs.list(which);
  const scan = await jobs.scan(which);
  scan.damaged.forEach(onDamaged);
  return scan.jobs;
}

/**
 * Jobs newest first, read as they are consumed (memory bounded however many jobs): what
 * `list job` without `-n` prints as it reads. Damaged records as `JobListingOptions` says.
 */
export async function streamJobs(
  store: Store,
  options: { pipeline?: string } & JobListingOptions = {},
): Promise<AsyncGenerator<JobRecord>> {
  if (options.pipeline) await pipelineOf(await store.state(), options.pipeline);
  const { onDamaged, pipeline } = options;
  return new JobStore(store).records({
    ...(pipeline ? { pipeline } : {}),
    ...(onDamaged ? { onDamaged } : {}),
  });
}

/**
 * How many jobs the store holds, of every pipeline: read from the job indexes' sizes, not
 * by reading records, so it costs the same for 10 jobs as for 100,000.
 */
export async function countJobs(store: Store): Promise<number> {
  const jobs = new JobStore(store);
  let n = 0;
  for (const p of await jobs.pipelines()) n += await jobs.count(p);
  return n;
}

/** One job: its id or a unique prefix of at least 4 hex digits, optionally `pipeline@` first. */
export async function inspectJob(store: Store, id: string): Promise<JobRecord> {
  const ref = parseJobRef(id);
  return await new JobStore(store).load(ref.id, ref.pipeline);
}

/** Ask a running job to stop: its runner kills running datums and marks it KILLED. */
export async function stopJob(store: Store, id: string): Promise<JobRecord> {
  const job = await inspectJob(store, id);
  if (isFinal(job.state)) return job;
  await new JobStore(store).requestStop(job);
  return job;
}

/** The datums of a job. */
export async function listDatums(store: Store, jobId: string): Promise<JobRecord["datums"]> {
  return (await inspectJob(store, jobId)).datums;
}

/** One datum, with the job and pipeline it belongs to. */
export type DatumView = JobRecord["datums"][number] & { job: string; pipeline: string };

/** One datum of a job, by its id or a prefix of it that names one datum. */
export async function inspectDatum(
  store: Store,
  jobId: string,
  datumId: string,
): Promise<DatumView> {
  const job = await inspectJob(store, jobId);
  const view = (d: JobRecord["datums"][number]) => ({ job: job.id, pipeline: job.pipeline, ...d });
  const exact = job.datums.find((d) => d.id === datumId);
  if (exact) return view(exact);
  const found = job.datums.filter((d) => d.id.startsWith(datumId));
  if (found.length === 1) return view(found[0]!);
  if (found.length === 0) {
    throw new NotFoundError(`Cannot find datum "${datumId}" in job ${job.id}`, {
      datum: datumId,
      job: job.id,
    });
  }
  throw new InvalidArgumentError(
    `Datum "${datumId}" is ambiguous: it begins ${found.length} datum ids of job ${job.id}; give more of it`,
    { datum: datumId, job: job.id, matches: found.length },
  );
}

/** One log line of a datum. */
export interface LogLine {
  readonly job: string;
  readonly pipeline: string;
  readonly datum: string;
  readonly attempt: number;
  readonly stream: "stdout" | "stderr";
  readonly line: string;
}

/** Logs of datums, filtered by job, pipeline and datum. */
export async function logs(
  store: Store,
  options: { job?: string; pipeline?: string; datum?: string },
): Promise<LogLine[]> {
  const jobs = new JobStore(store);
  let list: JobRecord[];
  if (options.job) list = [await inspectJob(store, options.job)];
  else {
    if (options.pipeline) await pipelineOf(await store.state(), options.pipeline);
    list = (await jobs.list(options.pipeline ? { pipeline: options.pipeline } : {})).reverse();
  }
  const out: LogLine[] = [];
  let datumFound = !options.datum;
  for (const job of list) {
    for (const d of job.datums) {
      if (options.datum && !d.id.startsWith(options.datum)) continue;
      datumFound = true;
      if (!d.logs) continue;
      const rec = JSON.parse(new TextDecoder().decode(await store.objects.read(d.logs))) as {
        attempts: { attempt: number; stdout: string; stderr: string }[];
      };
      for (const a of rec.attempts) {
        for (const stream of ["stdout", "stderr"] as const) {
          for (const line of a[stream].split("\n")) {
            if (line === "") continue;
            out.push({
              job: job.id,
              pipeline: job.pipeline,
              datum: d.id,
              attempt: a.attempt,
              stream,
              line,
            });
          }
        }
      }
    }
  }
  if (!datumFound) {
    throw new NotFoundError(`Cannot find datum "${options.datum}"`, { datum: options.datum });
  }
  return out;
}

/** Re-run a job's failed datums: a new run of the same job's inputs (`restart datum`). */
export async function restartDatum(
  store: Store,
  jobId: string,
  datum?: string,
): Promise<JobRecord> {
  const job = await inspectJob(store, jobId);
  if (datum && !job.datums.some((d) => d.id.startsWith(datum))) {
    throw new NotFoundError(`Cannot find datum "${datum}" in job ${job.id}`, {
      datum,
      job: job.id,
    });
  }
  if (!isFinal(job.state)) {
    throw new InvalidArgumentError(`Job ${job.id} is still ${job.state}: wait for it to finish`, {
      job: job.id,
    });
  }
  const latest = await new JobStore(store).latest(job.pipeline);
  if (latest?.id !== job.id) {
    // Re-running an older job would commit output of old inputs over the current output.
    throw new InvalidArgumentError(
      `Job ${job.id} is not the newest job of pipeline "${job.pipeline}": only ${latest?.id} can be re-run`,
      { job: job.id, latest: latest?.id },
    );
  }
  job.state = "CREATED";
  job.restart++;
  delete job.finished;
  delete job.reason;
  await new JobStore(store).save(job, { durable: true });
  return job;
}

/** What `rerunJob()` asked for. */
export interface RerunView {
  /** The finished job that will be re-run. */
  readonly job: JobRecord;
  /** Every datum runs again (a job that succeeded); else those that succeeded are reused. */
  readonly reprocess: boolean;
}

/**
 * Ask the scheduler to re-run a finished job as a new job of its pipeline on the same input
 * commits, as Pachyderm's `rerun pipeline`: after a success every datum runs again
 * (`--reprocess`); after a failure the datums that succeeded are reused and the rest run
 * again. The old job's record is left as it is. Refused, saying why, when the job is still
 * running, its pipeline was deleted or is stopped, or it is not the newest job of its
 * pipeline on the current inputs. `ref` is `[pipeline@]id` (an id or unique prefix).
 */
export async function rerunJob(store: Store, ref: string): Promise<RerunView> {
  const { pipeline: named } = parseJobRef(ref);
  const state = await store.state();
  if (named !== undefined && !(await pipelinesOf(state)).some((p) => p.name === named)) {
    throw new NotFoundError(`Pipeline "${named}" was deleted: its jobs cannot be re-run`, {
      pipeline: named,
    });
  }
  const job = await inspectJob(store, ref);
  const id = job.id.slice(0, 12);
  const p = (await pipelinesOf(state)).find((x) => x.name === job.pipeline);
  if (!p) {
    throw new NotFoundError(`Pipeline "${job.pipeline}" was deleted: its jobs cannot be re-run`, {
      pipeline: job.pipeline,
    });
  }
  const refuse = (why: string): never => {
    throw new RerunRefusedError(`Cannot re-run job ${id}: ${why}`, { job: job.id });
  };
  if (!isFinal(job.state)) refuse(`it is still ${job.state} (wait for it, or stop it first)`);
  if (p.stopped) {
    refuse(`pipeline "${p.name}" is stopped (start it with "tusk start pipeline ${p.name}")`);
  }
  const jobs = new JobStore(store);
  const latest = await newestReadable(jobs, p.name);
  if (latest?.id !== job.id) {
    refuse(`job ${latest?.id.slice(0, 12)} of pipeline "${p.name}" is newer (re-run that one)`);
  }
  if (currentTrigger(state, p)?.trigger !== job.trigger) {
    refuse(`the inputs or spec of "${p.name}" changed since it ran (a new job runs on them)`);
  }
  if (await jobs.rerunRequested(job)) refuse("a re-run of it is already waiting to start");
  const reprocess = job.state === "SUCCESS";
  await jobs.requestRerun(job, { reprocess });
  return { job, reprocess };
}
