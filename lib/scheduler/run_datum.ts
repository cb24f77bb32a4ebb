/**
 * Running one datum of a job in its own sandboxed process: up to `datumTries` runs, then the
 * spec's `errCmd` for a datum that failed them all, then its outputs and logs into the
 * store. What every datum of the job shares comes in as one `DatumRunEnv`; the datum's
 * record says how it went.
 */
import { IntegrityError } from "../errors.ts";
import { removeTree } from "../store/fs_util.ts";
import { datumFolders } from "../pipeline/datums.ts";
import type { DatumIndexEntry, DatumRecord, JobRecord } from "../pipeline/jobs.ts";
import type { Pipeline } from "../pipeline/pipelines.ts";
import { failureText, runStage, type StageResult } from "../runner/run_stage.ts";
import type { HostStage } from "../runner/host_stage.ts";
import type { SandboxMode } from "../runner/sandbox.ts";
import { runStageBatch } from "../runner/batch.ts";
import {
  ingestOutputs,
  type JobWorkspace,
  prepareBatchDatum,
  prepareWorkspace,
} from "../runner/workspace.ts";
import type { JobAbort } from "./job_abort.ts";
import type { JobContext } from "./job_state.ts";
import type { PlannedDatum } from "./plan_job.ts";
import { type AttemptLog, capDatumLogs } from "./datum_logs.ts";

/** What every datum run of one job shares; fixed for the job's run. */
export interface DatumRunEnv {
  readonly ctx: JobContext;
  /** How the job's stages are sandboxed (`ctx.sandbox`, settled). */
  readonly mode: SandboxMode;
  readonly pipeline: Pipeline;
  /** The job: its record's progress is counted as datums end. */
  readonly job: JobRecord;
  /** The job's host folder: its bundles and a folder per datum or batch. */
  readonly work: JobWorkspace;
  /** Inputs whose files are given empty (`emptyFiles`). */
  readonly emptyFiles: ReadonlySet<string>;
  /** The spec's `transform.stdin` lines, as the stage's stdin. */
  readonly stdin: Uint8Array | undefined;
  /** The job's abort: it ends every stage, and says why. */
  readonly abort: JobAbort;
  /** Runs noted before this run of the job began (a job resumed after a crash), by key. */
  readonly attempts: ReadonlyMap<string, number>;
  /** For a stage that is a host program: its program and code, as laid out for the job. */
  readonly host?: HostStage | undefined;
  /** For an `errCmd` that is a host program: its program and the same code. */
  readonly errHost?: HostStage | undefined;
}

/**
 * The datum index entries of the datums of `ended` that succeeded. They are appended while
 * the store's ingest lock is still held after their outputs were written (see `runDatum()`),
 * so a `gc` never finds an output written but named nowhere.
 */
export function indexEntries(
  env: DatumRunEnv,
  ended: readonly PlannedDatum[],
): DatumIndexEntry[] {
  const { pipeline: p, job } = env;
  const seq = p.createdSeq !== undefined ? { pipelineSeq: p.createdSeq } : {};
  return ended.filter(({ rec }) => rec.state === "SUCCESS").map(({ datum, rec }) => ({
    hash: datum.hash,
    tree: rec.outputTree!,
    size: rec.outputSize ?? 0,
    job: job.id,
    version: p.version,
    ...seq,
  }));
}

/** How a stage's run is logged. */
function attemptLog(attempt: number, r: StageResult): AttemptLog {
  return {
    attempt,
    exitCode: r.exitCode,
    signal: r.signal,
    outcome: r.outcome,
    message: r.message,
    durationMs: r.durationMs,
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

/** What a datum's stage runs are given beside its folders: the spec's limits and env. */
function stageLimits(env: DatumRunEnv) {
  const spec = env.pipeline.parsed;
  return {
    mode: env.mode,
    env: spec.transform.env,
    ...(spec.datumTimeoutMs ? { timeoutMs: spec.datumTimeoutMs } : {}),
    ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}),
    defaultMemoryBytes: env.ctx.defaultMemoryBytes,
    signal: env.abort.signal,
    spawn: env.ctx.spawn,
    ...(env.host ? { host: env.host } : {}),
  };
}

/** How a datum's tries went: the accepted run's out folder and files, if one was. */
interface Tries {
  readonly accepted: { readonly outDir: string; readonly result: StageResult } | null;
  /** The datum's input objects are damaged: it failed without running; no retry helps. */
  readonly unreadable: boolean;
}

/**
 * Run datum `planned` (its record `rec` is updated as the runs go, so a save of the job
 * shows them) until a run is accepted or its tries are spent; `earlier` are the logs of
 * runs a batch made of it. Ends with the record in its final state (SUCCESS, FAILED or
 * RECOVERED), its outputs and logs in the store, and returns true — or, when the process
 * running the job shuts down first, returns false with nothing stored: the datum is left
 * for the job's resumption, and the run the shutdown ended counts no try. Throws only when
 * the store fails.
 */
export async function runDatum(
  env: DatumRunEnv,
  planned: PlannedDatum,
  earlier: readonly AttemptLog[] = [],
): Promise<boolean> {
  const { ctx, pipeline: p, job, work, abort } = env;
  const { datum: d, rec } = planned;
  ctx.bus.emit("datum:started", {
    job: job.id,
    pipeline: p.name,
    datum: rec.id,
    inputs: d.inputs.map((i) => `${i.name}:${i.path}`),
  });
  const logs: AttemptLog[] = [...earlier];
  const tries = await runTries(env, planned, logs);
  const errKey = `errCmd ${rec.id}`;
  if (
    rec.state === "FAILED" && (work.errBundle || env.errHost) && !tries.unreadable &&
    !abort.signal.aborted && !env.attempts.has(errKey)
  ) {
    await ctx.jobs.noteAttempts(p.name, job.id, [errKey]);
    await runErrCmd(env, planned, work.errBundle ?? "", logs);
    if (abort.interrupted && (rec as DatumRecord).state !== "RECOVERED") {
      await ctx.jobs.takeBackAttempts(p.name, job.id, [errKey]);
    }
  }
  if (abort.interrupted && rec.state !== "SUCCESS" && rec.state !== "RECOVERED") {
    leaveForResume(rec);
    await removeTree(work.datum(rec.id)).catch(() => {});
    return false;
  }
  if (abort.signal.aborted && rec.state !== "SUCCESS") {
    rec.state = "FAILED";
    rec.message = abort.datumMessage();
  }
  // The outputs and the logs go to the store as one batch: their fsyncs overlap.
  const batch = ctx.store.objects.batch();
  await ctx.store.withIngest(async () => {
    if (tries.accepted) {
      const { outDir, result } = tries.accepted;
      const out = await ingestOutputs(ctx.store, outDir, result.outputs, batch);
      rec.outputTree = out.tree;
      rec.outputSize = out.size;
    }
    rec.logs = await batch.add(new TextEncoder().encode(JSON.stringify({
      datum: rec.id,
      job: job.id,
      inputs: rec.inputs,
      attempts: capDatumLogs(logs),
    })));
    await batch.flush();
    // Indexed before the lock is let go: from then on gc sees the output as kept.
    await ctx.jobs.appendDatums(p.name, indexEntries(env, [planned]));
  });
  await removeTree(work.datum(rec.id)).catch(() => {});
  return true;
}

/** Put back the record of a datum left for the job's resumption as it was planned. */
export function leaveForResume(rec: DatumRecord): void {
  rec.state = "STARTING";
  delete rec.message;
}

/**
 * Run the stage on `planned` for each try it has left, until a run is accepted (it exits 0,
 * or with a code in `acceptReturnCode`), one hits a limit that a retry would hit again, or
 * the job is cut short. Each run's log goes to `logs`.
 */
async function runTries(
  env: DatumRunEnv,
  planned: PlannedDatum,
  logs: AttemptLog[],
): Promise<Tries> {
  const { ctx, pipeline: p, job, abort } = env;
  const { rec } = planned;
  const spec = p.parsed;
  if (rec.tries > 0) rec.state = "FAILED";
  for (let attempt = rec.tries + 1; attempt <= spec.datumTries; attempt++) {
    if (abort.signal.aborted) break;
    rec.tries = attempt;
    await ctx.jobs.noteAttempts(p.name, job.id, [rec.id]);
    let run: OneRun;
    try {
      run = spec.datumBatching ? await runAsBatchOfOne(env, planned) : await runAlone(env, planned);
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      rec.state = "FAILED";
      rec.message = `Cannot read the datum's inputs: ${err.message}`;
      return { accepted: null, unreadable: true };
    }
    const { result } = run;
    if (result.outcome === "killed" && abort.interrupted) {
      // Ended by the shutdown of the process running it, not by anything it did.
      await ctx.jobs.takeBackAttempts(p.name, job.id, [rec.id]);
      rec.tries = attempt - 1;
      return { accepted: null, unreadable: false };
    }
    logs.push(attemptLog(attempt, result));
    rec.durationMs += result.durationMs;
    rec.exitCode = result.exitCode;
    if (run.accepted) {
      rec.state = "SUCCESS";
      rec.message = "";
      return { accepted: { outDir: run.outDir, result }, unreadable: false };
    }
    rec.message = result.message;
    rec.state = "FAILED";
    // Memory, output and kill limits are deterministic: retrying would hit them again.
    if (
      result.outcome !== "failed" && result.outcome !== "timeout" && result.outcome !== "killed"
    ) {
      break;
    }
  }
  return { accepted: null, unreadable: false };
}

/** One run of a datum's stage: how it went, and where its outputs are. */
interface OneRun {
  /** Its `outcome` and `message` say why a run that was not accepted failed. */
  readonly result: StageResult;
  /** The datum succeeded: its outputs (`result.outputs`, under `outDir`) are kept. */
  readonly accepted: boolean;
  readonly outDir: string;
}

/**
 * Run the stage on `planned` alone, in the plain form: the spec's args and stdin. It is
 * accepted when it exits 0 or with a code of `acceptReturnCode`. Throws IntegrityError when
 * the datum's inputs cannot be read.
 */
async function runAlone(env: DatumRunEnv, planned: PlannedDatum): Promise<OneRun> {
  const { ctx, pipeline: p, job, work } = env;
  const { datum: d, rec } = planned;
  const spec = p.parsed;
  const ws = await prepareWorkspace(ctx.store, work.datum(rec.id), datumFolders(d), {
    emptyFiles: env.emptyFiles,
  });
  const result = await runStage({
    bundle: work.bundle,
    args: spec.args,
    inputs: ws.inputs,
    outDir: ws.outDir,
    scratchDir: ws.scratchDir,
    ...(env.stdin ? { stdin: env.stdin } : {}),
    ...stageLimits(env),
    onLog: (stream, line) =>
      ctx.bus.emit("stage:log", { job: job.id, pipeline: p.name, datum: rec.id, stream, line }),
  });
  const accepted = result.outcome === "ok" ||
    (result.outcome === "failed" && result.exitCode !== null &&
      spec.transform.acceptReturnCode.includes(result.exitCode));
  return { result: { ...result, message: failureText(result) }, accepted, outDir: ws.outDir };
}

/**
 * Run the stage of a batching spec on `planned` as a batch of one: `--batch` and one request
 * line, as in a batch (`runner/batch.ts`), since such a stage may speak only the protocol.
 * It is accepted only when the stage answers the datum `ok` and its out folder passes the
 * checks: a stage that exits without answering has failed it. Throws IntegrityError when
 * the datum's inputs cannot be read.
 */
async function runAsBatchOfOne(env: DatumRunEnv, planned: PlannedDatum): Promise<OneRun> {
  const { ctx, pipeline: p, job, work } = env;
  const { datum: d, rec } = planned;
  const spec = p.parsed;
  const root = work.datum(rec.id);
  await removeTree(root).catch(() => {});
  const folders = { root, in: `${root}/in`, out: `${root}/out`, scratch: `${root}/scratch` };
  for (const dir of [folders.in, folders.out, folders.scratch]) {
    await Deno.mkdir(dir, { recursive: true });
  }
  const inputs = await prepareBatchDatum(ctx.store, folders, rec.id, datumFolders(d), {
    emptyFiles: env.emptyFiles,
  });
  const limits = stageLimits(env);
  const { result, answers } = await runStageBatch({
    bundle: work.bundle,
    ...(env.host ? { host: env.host } : {}),
    args: spec.args,
    folders,
    datums: [{ id: rec.id, inputs }],
    mode: limits.mode,
    env: limits.env,
    memoryBytes: spec.memoryBytes,
    defaultMemoryBytes: limits.defaultMemoryBytes,
    datumTimeoutMs: spec.datumTimeoutMs,
    signal: limits.signal,
    spawn: limits.spawn,
    onLog: (datum, stream, line) =>
      ctx.bus.emit("stage:log", { job: job.id, pipeline: p.name, datum, stream, line }),
  });
  const a = answers[0]!;
  const accepted = a.ack?.status === "ok" && result.harvested;
  const message = accepted ? "" : a.ack?.message ??
    (a.timedOut || result.outcome !== "ok" || !result.harvested
      ? failureText(result)
      : "The stage did not acknowledge this datum");
  const outcome = accepted || result.outcome !== "ok" ? result.outcome : "failed";
  return {
    result: { ...result, outcome, message, outputs: a.outputs },
    accepted,
    outDir: a.outDir,
  };
}

/**
 * Run the spec's `errCmd` (bundle `errBundle`, or a host program: `env.errHost`) on
 * `planned`, which failed every try: if it succeeds the datum is RECOVERED, not failed. Its
 * log goes to `logs`.
 */
async function runErrCmd(
  env: DatumRunEnv,
  planned: PlannedDatum,
  errBundle: string,
  logs: AttemptLog[],
): Promise<void> {
  const { datum: d, rec } = planned;
  const ws = await prepareWorkspace(env.ctx.store, env.work.datum(rec.id), datumFolders(d), {
    emptyFiles: env.emptyFiles,
  });
  const errCmd = env.pipeline.parsed.transform.errCmd!;
  const e = await runStage({
    bundle: errBundle,
    args: env.errHost ? errCmd.slice(1) : errCmd.slice(3),
    inputs: ws.inputs,
    outDir: ws.outDir,
    scratchDir: ws.scratchDir,
    ...stageLimits(env),
    ...(env.errHost ? { host: env.errHost } : {}),
  });
  logs.push({
    errCmd: true,
    exitCode: e.exitCode,
    outcome: e.outcome,
    message: e.message,
    durationMs: e.durationMs,
    stdout: e.stdout,
    stderr: e.stderr,
  });
  if (e.outcome === "ok") {
    rec.state = "RECOVERED";
    rec.message = `Recovered by errCmd after: ${rec.message ?? ""}`;
  }
}
