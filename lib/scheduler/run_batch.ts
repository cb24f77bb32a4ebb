/**
 * Running a chunk of a job's datums in one batched process (`datumBatching`, the protocol in
 * `runner/batch.ts`): their inputs laid out side by side, one run, then each datum answered
 * ok has its outputs and logs stored. Datums not answered ok are handed back to be retried
 * one process each, with the log of the run the batch made of them; those the stage never
 * reached, and those whose inputs cannot be read, used no try.
 */
import { IntegrityError } from "../errors.ts";
import { removeTree } from "../store/fs_util.ts";
import { datumFolders } from "../pipeline/datums.ts";
import type { BatchDatum } from "../runner/batch.ts";
import { runStageBatch } from "../runner/batch.ts";
import { failureText } from "../runner/run_stage.ts";
import { ingestOutputs, prepareBatchDatum } from "../runner/workspace.ts";
import type { PlannedDatum } from "./plan_job.ts";
import type { AttemptLog } from "./datum_logs.ts";
import { type DatumRunEnv, indexEntries, leaveForResume } from "./run_datum.ts";
import { capDatumLogs } from "./datum_logs.ts";

/** A datum a batch did not finish, with the log of the run the batch made of it, if any. */
export interface Unfinished {
  readonly planned: PlannedDatum;
  readonly logs: readonly AttemptLog[];
}

/** What a batch did: the datums it finished (SUCCESS, stored) and those to retry alone. */
export interface BatchOutcome {
  readonly done: readonly PlannedDatum[];
  readonly retry: readonly Unfinished[];
}

/** Run `chunk`, batch number `n` of the job, in one process. Throws only when the store fails. */
export async function runDatumBatch(
  env: DatumRunEnv,
  chunk: readonly PlannedDatum[],
  n: number,
): Promise<BatchOutcome> {
  const { ctx, pipeline: p, job, work, abort } = env;
  const spec = p.parsed;
  const folders = await work.batch(n);
  const retry: Unfinished[] = [];
  const sent: PlannedDatum[] = [];
  const datums: BatchDatum[] = [];
  for (const planned of chunk) {
    const id = planned.rec.id;
    try {
      const inputs = await prepareBatchDatum(ctx.store, folders, id, datumFolders(planned.datum), {
        emptyFiles: env.emptyFiles,
      });
      datums.push({ id, inputs });
      sent.push(planned);
    } catch (err) {
      // A damaged input object: left out of the batch, so it is tried alone, and fails.
      if (!(err instanceof IntegrityError)) throw err;
      retry.push({ planned, logs: [] });
    }
  }
  if (sent.length === 0) {
    await removeTree(folders.root).catch(() => {});
    return { done: [], retry };
  }
  await ctx.jobs.noteAttempts(p.name, job.id, sent.map((s) => s.rec.id));
  const byId = new Map(sent.map((s) => [s.rec.id, s]));
  const { result, answers } = await runStageBatch({
    bundle: work.bundle,
    ...(env.host ? { host: env.host } : {}),
    args: spec.args,
    folders,
    datums,
    mode: env.mode,
    env: spec.transform.env,
    ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}),
    defaultMemoryBytes: ctx.defaultMemoryBytes,
    datumTimeoutMs: spec.datumTimeoutMs,
    signal: abort.signal,
    spawn: ctx.spawn,
    onStarted: (datum) =>
      ctx.bus.emit("datum:started", {
        job: job.id,
        pipeline: p.name,
        datum,
        inputs: byId.get(datum)!.datum.inputs.map((i) => `${i.name}:${i.path}`),
      }),
    onLog: (datum, stream, line) =>
      ctx.bus.emit("stage:log", { job: job.id, pipeline: p.name, datum, stream, line }),
  });

  const done: PlannedDatum[] = [];
  // One object batch for the whole chunk: every datum's outputs, tree and logs are written
  // together (one pack, one fsync), not as two or three fsynced loose objects per datum.
  const batch = ctx.store.objects.batch();
  await ctx.store.withIngest(async () => {
    for (const a of answers) {
      const planned = byId.get(a.id)!;
      const { rec } = planned;
      if (!a.reached) {
        // Never reached: the stage was not working on it, so it has used no try.
        retry.push({ planned, logs: [] });
        continue;
      }
      rec.tries = 1;
      rec.durationMs = a.durationMs;
      rec.exitCode = result.exitCode;
      const attempt = {
        attempt: 1,
        batch: n,
        exitCode: result.exitCode,
        signal: result.signal,
        outcome: "ok",
        message: "",
        durationMs: a.durationMs,
        stdout: a.stdout,
        stderr: a.stderr,
      };
      if (a.ack?.status !== "ok" || !result.harvested) {
        rec.message = a.ack?.message ??
          (a.timedOut || result.outcome !== "ok" || !result.harvested
            ? failureText(result)
            : "The stage did not acknowledge this datum");
        const outcome = a.ack ? (result.harvested ? "failed" : result.outcome) : result.outcome;
        retry.push({ planned, logs: [{ ...attempt, outcome, message: rec.message }] });
        continue;
      }
      const out = await ingestOutputs(ctx.store, a.outDir, a.outputs, batch);
      rec.outputTree = out.tree;
      rec.outputSize = out.size;
      rec.state = "SUCCESS";
      rec.message = "";
      rec.logs = await batch.add(new TextEncoder().encode(JSON.stringify({
        datum: rec.id,
        job: job.id,
        inputs: rec.inputs,
        batch: n,
        attempts: capDatumLogs([attempt]),
      })));
      done.push(planned);
    }
    await batch.flush();
    // Indexed before the lock is let go: from then on gc sees the outputs as kept.
    await ctx.jobs.appendDatums(p.name, indexEntries(env, done));
  });
  await removeTree(folders.root).catch(() => {});
  if (abort.interrupted) {
    // The process running the job is shutting down: the datums the batch did not finish
    // are left for the job's resumption, and the run it ended counts no try for them.
    const left = retry.filter((u) => sent.includes(u.planned));
    await ctx.jobs.takeBackAttempts(p.name, job.id, left.map((u) => u.planned.rec.id));
    for (const { planned } of left) {
      planned.rec.tries = 0;
      leaveForResume(planned.rec);
    }
  }
  return { done, retry };
}
