/**
 * Running one job: plan its datums (`plan_job.ts`), skip those that succeeded before with
 * the same hash (reusing their output), run the rest in sandboxed stage processes — in
 * batches (`run_batch.ts`) or one by one with retries (`run_datum.ts`) — then merge every
 * datum's output into one output commit with provenance (`merge_outputs.ts`), or fail and
 * leave the output branch where it was.
 */
import { TuskError } from "../errors.ts";
import { preloadNativeHash } from "../store/hash.ts";
import { removeTree } from "../store/fs_util.ts";
import { type Datum, planDatums } from "../pipeline/datums.ts";
import type { JobRecord } from "../pipeline/jobs.ts";
import { type Pipeline, readBundle, runsHostProgram } from "../pipeline/pipelines.ts";
import type { HostProgram } from "../pipeline/program.ts";
import { currentProgram } from "../runner/host_program.ts";
import type { HostStage } from "../runner/host_stage.ts";
import { isFinal } from "../pipeline/states.ts";
import { validateStageEnv } from "../pipeline/env.ts";
import { inputLeaves } from "../pipeline/spec/input.ts";
import { JobWorkspace } from "../runner/workspace.ts";
import { systemClock } from "./clock.ts";
import { JobAbort } from "./job_abort.ts";
import { finishJob, type JobContext, nowText, setJobState } from "./job_state.ts";
import { commitOutputs, mergeOutputs } from "./merge_outputs.ts";
import { planJob, type PlannedDatum } from "./plan_job.ts";
import { runDatumBatch, type Unfinished } from "./run_batch.ts";
import { type DatumRunEnv, runDatum } from "./run_datum.ts";

/** How many times finishing a job (merging its outputs, committing) may be interrupted. */
export const FINISH_TRIES = 3;

/** How often, at most, a job's record is saved while its datums run one by one (ms). */
const SAVE_EVERY_MS = 250;

/** Jobs whose output commit is on their branch (their record may still say otherwise). */
const committed = new WeakSet<JobRecord>();

/** Options of `runJob()`. */
export interface RunJobOptions {
  /** Stops this job when it aborts: a stop was asked for (see `JobRequests`). */
  readonly stop?: AbortSignal;
}

/**
 * Run a job to a final state. A job found unfinished after a crash is passed in again:
 * datums that succeeded meanwhile are in the index and are skipped, and an output commit
 * that already landed is recognised, so no work is lost and nothing is committed twice.
 * A datum whose runs keep taking the process down fails once they reach `datumTries`.
 * Whatever goes wrong, the job ends in a final state saying why (it throws only when even
 * that cannot be saved), so one job never holds up the others.
 */
export async function runJob(
  ctx: JobContext,
  p: Pipeline,
  job: JobRecord,
  options: RunJobOptions = {},
): Promise<JobRecord> {
  if (isFinal(job.state)) return job;
  if (job.pipelineSeq !== p.createdSeq) {
    return await finishJob(
      ctx,
      job,
      "KILLED",
      `Pipeline "${p.name}" was deleted while this job was unfinished`,
    );
  }
  try {
    return await runSteps(ctx, p, job, options);
  } catch (err) {
    // The output commit landed and only its record failed: resuming will recognise it.
    if (committed.has(job)) throw err;
    await removeTree(workFolder(ctx, job)).catch(() => {});
    const text = err instanceof TuskError ? err.message : String(err);
    const why = text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
    return await finishJob(ctx, job, "FAILURE", `Job could not finish: ${why}`);
  }
}

/** The host folder of `job`'s run (see `JobWorkspace`). */
function workFolder(ctx: JobContext, job: JobRecord): string {
  return ctx.store.layout.work(job.id);
}

async function runSteps(
  ctx: JobContext,
  p: Pipeline,
  job: JobRecord,
  options: RunJobOptions,
): Promise<JobRecord> {
  // A job hashes every datum's inputs and outputs: worth the native hash from the start.
  await preloadNativeHash();
  const { store, jobs } = ctx;
  const resumed = job.state !== "CREATED";
  if (resumed) job.restart++;
  // A new job, or one re-run by `restart datum`, tries every datum afresh.
  else await jobs.clearAttempts(p.name, job.id);
  job.started ??= nowText(ctx);
  setJobState(ctx, job, "STARTING");
  const state = await store.state();

  // A crash after the output commit but before the record was saved: finish the record.
  const outHead = state.repos[p.name]?.branches[p.parsed.outputBranch]?.head ?? null;
  if (outHead) {
    const head = await store.readCommit(outHead);
    if (head.provenance?.job === job.id) {
      committed.add(job);
      job.outputCommit = outHead;
      return await finishJob(ctx, job, "SUCCESS");
    }
  }

  let datums: Datum[];
  try {
    const commits = new Map(job.inputs.map((i) => [i.name, { repo: i.repo, commit: i.commit }]));
    datums = await planDatums(store, p.parsed.input, commits, {
      salt: p.parsed.salt,
      codeHash: p.codeHash,
    });
  } catch (err) {
    return await finishJob(ctx, job, "UNRUNNABLE", `Cannot plan datums: ${(err as Error).message}`);
  }
  try {
    // A spec stored before an env name was refused: its stages can never run.
    validateStageEnv(p.parsed.transform.env);
  } catch (err) {
    return await finishJob(ctx, job, "UNRUNNABLE", (err as Error).message);
  }
  let programs: { program: HostProgram; errProgram: HostProgram | undefined } | undefined;
  if (runsHostProgram(p)) {
    if (ctx.sandbox !== "bwrap") {
      return await finishJob(
        ctx,
        job,
        "UNRUNNABLE",
        `Pipeline "${p.name}" runs the host program "${p.parsed.program}", which runs only inside the OS sandbox (bubblewrap), never under Deno's permissions alone; this run uses --sandbox deno (or bwrap does not work here: see "tusk doctor")`,
      );
    }
    try {
      programs = {
        program: await currentProgram(p.program!),
        errProgram: p.errProgram ? await currentProgram(p.errProgram) : undefined,
      };
    } catch (err) {
      if (!(err instanceof TuskError)) throw err;
      return await finishJob(ctx, job, "UNRUNNABLE", err.message);
    }
    job.program = programs.program;
  }
  const attempts = resumed ? await jobs.attempts(p.name, job.id) : new Map<string, number>();
  const plan = planJob(p, job, datums, await jobs.datumIndexOf(p), attempts);
  job.progress = {
    total: datums.length,
    processed: 0,
    skipped: plan.skipped,
    failed: 0,
    recovered: 0,
  };
  job.datums = plan.records;
  setJobState(ctx, job, "RUNNING");
  await jobs.save(job);

  const spec = p.parsed;
  const work = await JobWorkspace.create(workFolder(ctx, job), {
    stage: programs ? undefined : await readBundle(store, p),
    errStage: !programs && p.errCodeHash && (spec.transform.errCmd?.length ?? 0) > 2
      ? await store.objects.readVerified(p.errCodeHash)
      : undefined,
  });
  let host: HostStage | undefined;
  let errHost: HostStage | undefined;
  if (programs) {
    // The code snapshot, laid out once for the job: every datum's /code.
    const { codeDir, etcDir } = await work.code(store, p.codeHash);
    const at = { codeDir, etcDir, workingDir: spec.transform.workingDir };
    host = { ...at, program: programs.program.path };
    if (programs.errProgram) errHost = { ...at, program: programs.errProgram.path };
  }
  const abort = new JobAbort([ctx.signal, options.stop]);
  const clock = ctx.clock ?? systemClock;
  const jobTimer = spec.jobTimeoutMs
    ? clock.setTimeout(() => abort.timeout(), spec.jobTimeoutMs)
    : undefined;
  const env: DatumRunEnv = {
    ctx,
    pipeline: p,
    job,
    work,
    emptyFiles: new Set(
      inputLeaves(spec.input, "pfs").filter((i) => i.emptyFiles).map((i) => i.name),
    ),
    stdin: spec.transform.stdin.length
      ? new TextEncoder().encode(spec.transform.stdin.join("\n") + "\n")
      : undefined,
    abort,
    attempts,
    host,
    errHost,
  };
  try {
    await runDatums(env, plan.toRun, plan.interrupted);
  } finally {
    clock.clearTimeout(jobTimer);
    abort.dispose();
    await work.remove();
  }
  if (abort.broken) throw abort.broken.error;

  if (abort.signal.aborted) {
    const stopped = abort.stopped;
    return await finishJob(
      ctx,
      job,
      stopped ? "KILLED" : "FAILURE",
      stopped ? "Job was stopped" : `Job exceeded its jobTimeout of ${spec.jobTimeoutMs} ms`,
    );
  }
  if (job.progress.failed > 0) {
    const first = job.datums.find((d) => d.state === "FAILED");
    return await finishJob(
      ctx,
      job,
      "FAILURE",
      `${job.progress.failed} datum(s) failed; datum ${first?.id}: ${first?.message ?? ""}`,
    );
  }

  return await commitJob(ctx, p, job, attempts);
}

/**
 * Finish a job whose datums all ended well: merge their outputs and commit them to the
 * output branch (at most `FINISH_TRIES` times, should finishing keep being interrupted).
 */
async function commitJob(
  ctx: JobContext,
  p: Pipeline,
  job: JobRecord,
  attempts: ReadonlyMap<string, number>,
): Promise<JobRecord> {
  const { store, jobs } = ctx;
  setJobState(ctx, job, "FINISHING");
  await jobs.save(job);
  const finishes = attempts.get("finish") ?? 0;
  if (finishes >= FINISH_TRIES) {
    return await finishJob(
      ctx,
      job,
      "FAILURE",
      `Finishing the job was interrupted ${finishes} times (the process stopped during it): giving up`,
    );
  }
  await jobs.noteAttempts(p.name, job.id, ["finish"]);
  const merged = await mergeOutputs(store, job.datums);
  if ("conflict" in merged) return await finishJob(ctx, job, "FAILURE", merged.conflict);
  const commit = await commitOutputs(store, p, job, merged.edits);
  committed.add(job);
  job.outputCommit = commit.id;
  ctx.bus.emit("commit:created", {
    repo: p.name,
    branch: p.parsed.outputBranch,
    commit: commit.id,
    origin: "pipeline",
  });
  return await finishJob(ctx, job, "SUCCESS");
}

/**
 * Run the datums of a job, `width` at a time (the spec's parallelism, or the cores): those
 * to run in batches first when the spec batches, then one by one the interrupted ones and
 * those a batch did not finish. Every run settles before this returns, so none is left
 * running behind a failure; the first error a run throws aborts the others (`abort.fail`).
 */
async function runDatums(
  env: DatumRunEnv,
  toRun: readonly PlannedDatum[],
  interrupted: readonly PlannedDatum[],
): Promise<void> {
  const spec = env.pipeline.parsed;
  const width = Math.max(1, spec.parallelism || env.ctx.cores);
  const guard = async <T>(run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (err) {
      env.abort.fail(err);
      return undefined;
    }
  };
  let queue: Unfinished[] = [...interrupted, ...toRun].map((planned) => ({ planned, logs: [] }));
  if (spec.datumBatching && toRun.length > 0) {
    const chunks: PlannedDatum[][] = Array.from(
      { length: Math.min(width, toRun.length) },
      () => [],
    );
    toRun.forEach((d, i) => chunks[i % chunks.length]!.push(d));
    const outcomes = await Promise.all(chunks.map((c, n) =>
      guard(async () => {
        const outcome = await runDatumBatch(env, c, n);
        await recordEnded(env, outcome.done);
        return outcome.retry;
      })
    ));
    queue = [
      ...interrupted.map((planned) => ({ planned, logs: [] })),
      ...outcomes.flatMap((r) => r ?? []),
    ];
  }
  let next = 0;
  let savedAt = 0;
  const clock = env.ctx.clock ?? systemClock;
  await Promise.all(Array.from({ length: Math.min(width, queue.length) }, async () => {
    while (next < queue.length && !env.abort.signal.aborted) {
      const { planned, logs } = queue[next++]!;
      await guard(async () => {
        await runDatum(env, planned, logs);
        await recordEnded(env, [planned]);
        // The record is saved now and then, so `list job` shows progress.
        const now = clock.now();
        if (now - savedAt > SAVE_EVERY_MS) {
          savedAt = now;
          await saveProgress(env);
        }
      });
    }
  }));
}

/**
 * Record datums that ended: the index entries of those that succeeded (fsynced at once, so
 * a job resumed after a crash skips them), the job's counts, and one `datum:finished` each.
 */
async function recordEnded(env: DatumRunEnv, ended: readonly PlannedDatum[]): Promise<void> {
  const { ctx, pipeline: p, job } = env;
  const seq = p.createdSeq !== undefined ? { pipelineSeq: p.createdSeq } : {};
  await ctx.jobs.appendDatums(
    p.name,
    ended.filter(({ rec }) => rec.state === "SUCCESS").map(({ datum, rec }) => ({
      hash: datum.hash,
      tree: rec.outputTree!,
      size: rec.outputSize ?? 0,
      job: job.id,
      version: p.version,
      ...seq,
    })),
  );
  for (const { rec } of ended) {
    if (rec.state === "SUCCESS") job.progress.processed++;
    else if (rec.state === "RECOVERED") job.progress.recovered++;
    else job.progress.failed++;
    ctx.bus.emit("datum:finished", {
      job: job.id,
      pipeline: p.name,
      datum: rec.id,
      state: rec.state,
      durationMs: rec.durationMs,
      ...(rec.message ? { message: rec.message } : {}),
    });
  }
}

/** Save the job's record as it is and announce its progress. */
async function saveProgress(env: DatumRunEnv): Promise<void> {
  const { ctx, job } = env;
  await ctx.jobs.save(job);
  ctx.bus.emit("job:state", {
    job: job.id,
    pipeline: job.pipeline,
    state: job.state,
    progress: job.progress,
  });
}
