/**
 * Running one job: plan its datums (`plan_job.ts`), skip those that succeeded before with
 * the same hash (reusing their output), run the rest in sandboxed stage processes — in
 * batches (`run_batch.ts`) or one by one with retries (`run_datum.ts`) — then merge every
 * datum's output into one output commit with provenance (`merge_outputs.ts`), or fail and
 * leave the output branch where it was.
 */
import { TuskError } from "../errors.ts";
import { removeTree } from "../store/fs_util.ts";
import { type Datum, datumId, planDatums } from "../pipeline/datums.ts";
import type { DatumRecord, JobRecord } from "../pipeline/jobs.ts";
import { type Pipeline, readBundle, runsHostProgram } from "../pipeline/pipelines.ts";
import type { HostProgram } from "../pipeline/program.ts";
import { currentProgram } from "../runner/host_program.ts";
import { ProgramCache } from "../runner/program_cache.ts";
import type { HostStage } from "../runner/host_stage.ts";
import { machineMemoryBytes } from "../runner/detect.ts";
import { isFinal } from "../pipeline/states.ts";
import { validateStageEnv } from "../pipeline/env.ts";
import { inputLeaves } from "../pipeline/spec/input.ts";
import { JobWorkspace } from "../runner/workspace.ts";
import { prepareHostStages } from "../runner/run_stage.ts";
import { systemClock } from "./clock.ts";
import { JobAbort } from "./job_abort.ts";
import { finishJob, type JobContext, nowText, setJobState } from "./job_state.ts";
import { commitOutputs, mergeOutputs, spliceOutputs } from "./merge_outputs.ts";
import { type DiffPlan, planFromDiff } from "./plan_diff.ts";
import type { CommitInfo } from "../store/store.ts";
import { type JobPlan, planJob, type PlannedDatum, reusableEntries } from "./plan_job.ts";
import { runDatumBatch, type Unfinished } from "./run_batch.ts";
import { type DatumRunEnv, runDatum } from "./run_datum.ts";

/** How many times finishing a job (merging its outputs, committing) may be interrupted. */
export const FINISH_TRIES = 3;

/** How often, at most, a running job's record is saved (ms). */
const SAVE_EVERY_MS = 250;

/** The most time saving a running job's record may take, as a share of its run. */
const SAVE_SHARE = 0.05;

/**
 * The most datums one batched process is given (`datumBatching`). A job of more runs more
 * batches, `width` at a time: the batch's folders, its requests, the answers held until it
 * ends, and the output limits of its one process (`DEFAULT_LIMITS`) then stay the same size
 * whatever the job's.
 */
export const BATCH_DATUMS = 1000;

/** Jobs whose output commit is on their branch (their record may still say otherwise). */
const committed = new WeakSet<JobRecord>();

/** Options of `runJob()`. */
export interface RunJobOptions {
  /** Stops this job when it aborts: a stop was asked for (see `JobRequests`). */
  readonly stop?: AbortSignal;
}

/**
 * Run a job to a final state — unless the process running it shuts down first (the
 * scheduler's `signal`): the job is then returned unfinished, to resume, and the runs the
 * shutdown ended count no try. A job found unfinished after a crash is passed in again:
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

  const attempts = resumed ? await jobs.attempts(p.name, job.id) : new Map<string, number>();
  const diff = ctx.planInFull ? null : await planFromDiff(store, jobs, p, job, attempts);
  let datums: Datum[] = [];
  if (!diff) {
    try {
      const commits = new Map(
        job.inputs.map((i) => [i.name, { repo: i.repo, commit: i.commit }]),
      );
      datums = await planDatums(store, p.parsed.input, commits, {
        salt: p.parsed.salt,
        codeHash: p.codeHash,
      });
    } catch (err) {
      const why = `Cannot plan datums: ${(err as Error).message}`;
      return await finishJob(ctx, job, "UNRUNNABLE", why);
    }
  }
  try {
    // A spec stored before an env name was refused: its stages can never run.
    validateStageEnv(p.parsed.transform.env);
  } catch (err) {
    return await finishJob(ctx, job, "UNRUNNABLE", (err as Error).message);
  }
  // The sandbox's trial may have run beside the lease and the planning: its verdict now.
  const mode = await ctx.sandbox;
  let programs: { program: HostProgram; errProgram: HostProgram | undefined } | undefined;
  if (runsHostProgram(p)) {
    if (mode !== "bwrap") {
      return await finishJob(
        ctx,
        job,
        "UNRUNNABLE",
        `Pipeline "${p.name}" runs the host program "${p.parsed.program}", which runs only inside the OS sandbox (bubblewrap), never under Deno's permissions alone; this run uses --sandbox deno (or bwrap does not work here: see "tusk doctor")`,
      );
    }
    try {
      const cache = ProgramCache.of(store.layout);
      programs = {
        program: await currentProgram(p.program!, { cache }),
        errProgram: p.errProgram ? await currentProgram(p.errProgram, { cache }) : undefined,
      };
    } catch (err) {
      if (!(err instanceof TuskError)) throw err;
      return await finishJob(ctx, job, "UNRUNNABLE", err.message);
    }
    job.program = programs.program;
  }
  // An entry whose output is gone is a cache miss: that datum runs again.
  const plan: JobPlan | DiffPlan = diff ??
    planJob(
      p,
      job,
      datums,
      await reusableEntries(store, datums, await jobs.datumIndexOf(p)),
      attempts,
    );
  if (plan.toRun.length + plan.interrupted.length > 0) {
    // Each looked up (or made) by a subprocess: started now, they run while the record is
    // saved and the workspace made, instead of before the first stage starts.
    if (programs) prepareHostStages();
    else machineMemoryBytes().catch(() => {});
  }
  job.progress = {
    total: plan.records.length,
    processed: 0,
    skipped: plan.skipped,
    failed: 0,
    recovered: 0,
  };
  job.datums = plan.records;
  // The datums to run are held by the plan alone, and let go as they end.
  datums = [];
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
  const abort = new JobAbort({ stop: options.stop, shutdown: ctx.signal });
  const clock = ctx.clock ?? systemClock;
  const jobTimer = spec.jobTimeoutMs
    ? clock.setTimeout(() => abort.timeout(), spec.jobTimeoutMs)
    : undefined;
  const env: DatumRunEnv = {
    ctx,
    mode,
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
    await runDatums(env, plan.toRun.splice(0), plan.interrupted.splice(0));
    return await endOfRun(env) ?? await commitJob(env, plan);
  } finally {
    clock.clearTimeout(jobTimer);
    abort.dispose();
    await work.remove();
  }
}

/**
 * How a job's run ended when not every datum ended well: the job in its final state saying
 * why (stopped, timed out, datums failed), or left unfinished to resume when the process
 * running it is shutting down. Null when all went well; throws the error a run threw.
 */
async function endOfRun(env: DatumRunEnv): Promise<JobRecord | null> {
  const { ctx, job, abort } = env;
  if (abort.broken) throw abort.broken.error;
  if (abort.interrupted) {
    // No verdict: the next scheduler resumes the job, reusing the datums that ended.
    await saveProgress(env);
    return job;
  }
  if (abort.signal.aborted) {
    const stopped = abort.stopped;
    return await finishJob(
      ctx,
      job,
      stopped ? "KILLED" : "FAILURE",
      stopped
        ? "Job was stopped"
        : `Job exceeded its jobTimeout of ${env.pipeline.parsed.jobTimeoutMs} ms`,
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
  return null;
}

/**
 * Finish a job whose datums all ended well: merge their outputs and commit them to the
 * output branch (at most `FINISH_TRIES` times, should finishing keep being interrupted). A
 * skipped datum whose reused output turns out to be gone runs again first.
 */
async function commitJob(env: DatumRunEnv, plan: JobPlan | DiffPlan): Promise<JobRecord> {
  const { ctx, pipeline: p, job, attempts } = env;
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
  if ("baseTree" in plan) {
    // Planned from the job before: its output, less what left and plus what came.
    const spliced = await spliceOutputs(store, plan.baseTree, plan.leaving, plan.arriving);
    if (spliced) {
      const base = { tree: plan.baseTree, size: plan.baseSize };
      return await landOutput(env, await commitOutputs(store, p, job, spliced.edits, { base }));
    }
  }
  let merged = await mergeOutputs(store, job.datums);
  if ("missing" in merged) {
    await rerunMissing(env, merged.missing);
    const ended = await endOfRun(env);
    if (ended) return ended;
    merged = await mergeOutputs(store, job.datums);
  }
  if ("missing" in merged) {
    const ids = merged.missing.map((d) => d.id).join(", ");
    return await finishJob(ctx, job, "FAILURE", `Cannot read the output of datum(s) ${ids}`);
  }
  if ("conflict" in merged) return await finishJob(ctx, job, "FAILURE", merged.conflict);
  return await landOutput(env, await commitOutputs(store, p, job, merged.edits));
}

/** Finish `job` whose output `commit` has landed on its branch. */
async function landOutput(env: DatumRunEnv, commit: CommitInfo): Promise<JobRecord> {
  const { ctx, pipeline: p, job } = env;
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
 * Run again the skipped datums `missing`, whose reused output the store no longer holds
 * whole (a gc or damage took part of it): they run as datums of this job's own.
 */
async function rerunMissing(env: DatumRunEnv, missing: readonly DatumRecord[]): Promise<void> {
  const { ctx, job, pipeline: p } = env;
  // Their datums are planned again (a job holds no datum's files once it has run or skipped).
  const byId = new Map(missing.map((rec) => [rec.id, rec]));
  const commits = new Map(job.inputs.map((i) => [i.name, { repo: i.repo, commit: i.commit }]));
  const datums = await planDatums(ctx.store, p.parsed.input, commits, {
    salt: p.parsed.salt,
    codeHash: p.codeHash,
  });
  const again: PlannedDatum[] = [];
  for (const datum of datums) {
    const rec = byId.get(datumId(datum));
    if (rec) again.push({ datum, rec });
  }
  for (const { rec } of again) {
    rec.state = "STARTING";
    delete rec.outputTree;
    delete rec.outputSize;
    delete rec.reusedFrom;
    job.progress.skipped--;
  }
  setJobState(ctx, job, "RUNNING");
  await ctx.jobs.save(job);
  await runDatums(env, again, []);
  setJobState(ctx, job, "FINISHING");
}

/**
 * Run the datums of a job, `width` at a time (the spec's parallelism, or the cores): those
 * to run in batches first when the spec batches, then one by one the interrupted ones and
 * those a batch did not finish. Batches hold at most `BATCH_DATUMS` datums each, taken in
 * order by `width` workers, so that a batch's folders, requests, answers and output limits
 * stay the same size whatever the job's. Every run settles before this returns, so none is
 * left running behind a failure; the first error a run throws aborts the others
 * (`abort.fail`).
 */
async function runDatums(
  env: DatumRunEnv,
  toRun: PlannedDatum[],
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
  const saver = new ProgressSaver(env);
  let queue: (Unfinished | null)[];
  if (spec.datumBatching && toRun.length > 0) {
    // Each batch is let go once it has run: a job holds only the datums still to run.
    const chunks: (PlannedDatum[] | null)[] = batchesOf(
      toRun.splice(0),
      width,
      env.ctx.batchDatums ?? BATCH_DATUMS,
    );
    const retry: Unfinished[] = [];
    let nextChunk = 0;
    await Promise.all(Array.from({ length: Math.min(width, chunks.length) }, async () => {
      while (nextChunk < chunks.length && !env.abort.signal.aborted) {
        const n = nextChunk++;
        const chunk = chunks[n]!;
        chunks[n] = null;
        await guard(async () => {
          const outcome = await runDatumBatch(env, chunk, n);
          recordEnded(env, outcome.done);
          retry.push(...outcome.retry);
          await saver.maybeSave();
        });
      }
    }));
    // Chunks no worker took (the job was stopped or failed) are simply not run.
    queue = [...interrupted.map((planned) => ({ planned, logs: [] })), ...retry];
  } else {
    queue = [...interrupted, ...toRun.splice(0)].map((planned) => ({ planned, logs: [] }));
  }
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, queue.length) }, async () => {
    while (next < queue.length && !env.abort.signal.aborted) {
      const { planned, logs } = queue[next]!;
      queue[next++] = null;
      await guard(async () => {
        if (!await runDatum(env, planned, logs)) return;
        recordEnded(env, [planned]);
        await saver.maybeSave();
      });
    }
  }));
}

/**
 * `datums` cut into batches of consecutive datums, in order: as many as `width` workers can
 * share (a small job still uses every worker), each of at most `most`.
 */
export function batchesOf<T>(datums: readonly T[], width: number, most: number): T[][] {
  const size = Math.max(1, Math.min(most, Math.ceil(datums.length / Math.max(1, width))));
  const out: T[][] = [];
  for (let i = 0; i < datums.length; i += size) out.push(datums.slice(i, i + size));
  return out;
}

/**
 * Saves a running job's record now and then, so `list job` shows progress: at most every
 * `SAVE_EVERY_MS`, and never more often than `SAVE_SHARE` of the time allows (a record of
 * many datums takes a while to write: saving it after every datum or batch would make a
 * job's cost grow with the square of its datums).
 */
class ProgressSaver {
  readonly #env: DatumRunEnv;
  readonly #clock;
  #savedAt = 0;
  #gapMs = SAVE_EVERY_MS;
  #saving = false;

  constructor(env: DatumRunEnv) {
    this.#env = env;
    this.#clock = env.ctx.clock ?? systemClock;
  }

  async maybeSave(): Promise<void> {
    const now = this.#clock.now();
    if (this.#saving || now - this.#savedAt <= this.#gapMs) return;
    this.#saving = true;
    const t0 = performance.now();
    try {
      await saveProgress(this.#env);
    } finally {
      this.#saving = false;
      this.#savedAt = this.#clock.now();
      this.#gapMs = Math.max(SAVE_EVERY_MS, (performance.now() - t0) / SAVE_SHARE);
    }
  }
}

/**
 * Record datums that ended (their index entries were appended as their outputs were
 * stored): the job's counts, and one `datum:finished` each.
 */
function recordEnded(env: DatumRunEnv, ended: readonly PlannedDatum[]): void {
  const { ctx, pipeline: p, job } = env;
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
