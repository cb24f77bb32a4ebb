/**
 * Running one job: plan its datums, skip those that succeeded before with the same hash
 * (reusing their output), run the rest in sandboxed stage processes with retries, then
 * merge every datum's output into one output commit with provenance — or fail and leave
 * the output branch where it was.
 */
import { IntegrityError } from "../errors.ts";
import { canonicalJson, EMPTY_TREE } from "../store/codec.ts";
import { type Hash, preloadNativeHash, sha256 } from "../store/hash.ts";
import { removeTree } from "../store/fs_util.ts";
import type { StoreState } from "../store/state.ts";
import type { Edit, Store } from "../store/store.ts";
import { TuskError } from "../errors.ts";
import { type Datum, datumId, planDatums } from "../pipeline/datums.ts";
import {
  type DatumIndexEntry,
  type DatumRecord,
  type JobRecord,
  JobStore,
  newJobId,
} from "../pipeline/jobs.ts";
import { isFinal, type JobState } from "../pipeline/states.ts";
import { type Pipeline, readBundle } from "../pipeline/pipelines.ts";
import { validateStageEnv } from "../pipeline/env.ts";
import { inputLeaves, leafBranch } from "../pipeline/spec/input.ts";
import { durationText, runStage, type StageResult, StageTimeout } from "../runner/run_stage.ts";
import type { SandboxMode } from "../runner/detect.ts";
import type { EventBus } from "./events.ts";
import { ingestOutputs, prepareWorkspace } from "./workspace.ts";

/** What running jobs needs from its surroundings. */
export interface JobContext {
  readonly store: Store;
  readonly jobs: JobStore;
  readonly bus: EventBus;
  readonly sandbox: SandboxMode;
  /** Parallel datums when the spec says 0 (default: number of cores). */
  readonly cores: number;
  readonly signal?: AbortSignal;
  /** Memory cap of stages whose spec sets none (default: a quarter of RAM). */
  readonly defaultMemoryBytes?: number;
}

/** The input commits a pipeline would run on now, and the trigger hash naming them. */
export interface Trigger {
  readonly inputs: JobRecord["inputs"];
  readonly trigger: Hash;
}

/** The inputs of `p` in `state`, or null when an input branch has no commit yet. */
export function currentTrigger(state: StoreState, p: Pipeline): Trigger | null {
  const inputs = inputLeaves(p.parsed.input).map((i) => ({
    name: i.name,
    repo: i.repo,
    branch: leafBranch(i),
    commit: state.repos[i.repo]?.branches[leafBranch(i)]?.head ?? null,
  }));
  if (inputs.some((i) => i.commit === null)) return null;
  const trigger = sha256(canonicalJson({
    pipeline: p.name,
    // A pipeline created again under its name is a new one: its jobs are new too.
    ...(p.createdSeq !== undefined ? { created: p.createdSeq } : {}),
    version: p.version,
    inputs: inputs.map((i) => [i.name, i.commit]),
  }));
  return { inputs, trigger };
}

function setState(ctx: JobContext, job: JobRecord, state: JobState, reason?: string): void {
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
  const now = ctx.store.now();
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
    inputs: t.inputs.map((i) => `${i.repo}@${i.commit}`),
  });
  return job;
}

/** Why a stage run failed: the limit it hit or its exit code, and its last stderr line. */
function limitText(r: StageResult): string {
  const base = r.message || `Stage exited with code ${r.exitCode ?? r.signal}`;
  const last = r.stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "").pop();
  if (!last || base.includes(last)) return base;
  return `${base}: ${last.length > 300 ? last.slice(0, 300) + "…" : last}`;
}

/** How many times finishing a job (merging its outputs, committing) may be interrupted. */
export const FINISH_TRIES = 3;

/** Jobs whose output commit is on their branch (their record may still say otherwise). */
const committed = new WeakSet<JobRecord>();

/**
 * Run a job to a final state. A job found unfinished after a crash is passed in again:
 * datums that succeeded meanwhile are in the index and are skipped, and an output commit
 * that already landed is recognised, so no work is lost and nothing is committed twice.
 * A datum whose runs keep taking the process down fails once they reach `datumTries`.
 * Whatever goes wrong, the job ends in a final state saying why (it throws only when even
 * that cannot be saved), so one job never holds up the others.
 */
export async function runJob(ctx: JobContext, p: Pipeline, job: JobRecord): Promise<JobRecord> {
  if (isFinal(job.state)) return job;
  if (job.pipelineSeq !== p.createdSeq) {
    return await finish(
      ctx,
      job,
      "KILLED",
      `Pipeline "${p.name}" was deleted while this job was unfinished`,
    );
  }
  try {
    return await runSteps(ctx, p, job);
  } catch (err) {
    // The output commit landed and only its record failed: resuming will recognise it.
    if (committed.has(job)) throw err;
    await removeTree(`${ctx.store.root}/work/${job.id}`).catch(() => {});
    const text = err instanceof TuskError ? err.message : String(err);
    const why = text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
    return await finish(ctx, job, "FAILURE", `Job could not finish: ${why}`);
  }
}

async function runSteps(ctx: JobContext, p: Pipeline, job: JobRecord): Promise<JobRecord> {
  // A job hashes every datum's inputs and outputs: worth the native hash from the start.
  await preloadNativeHash();
  const { store, jobs } = ctx;
  const resumed = job.state !== "CREATED";
  if (resumed) job.restart++;
  // A new job, or one re-run by `restart datum`, tries every datum afresh.
  else await jobs.clearAttempts(p.name, job.id);
  job.started ??= store.now().toISOString();
  setState(ctx, job, "STARTING");
  const state = await store.state();

  // A crash after the output commit but before the record was saved: finish the record.
  const outHead = state.repos[p.name]?.branches[p.parsed.outputBranch]?.head ?? null;
  if (outHead) {
    const head = await store.readCommit(outHead);
    if (head.provenance?.job === job.id) {
      committed.add(job);
      job.outputCommit = outHead;
      return await finish(ctx, job, "SUCCESS");
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
    return await finish(ctx, job, "UNRUNNABLE", `Cannot plan datums: ${(err as Error).message}`);
  }
  try {
    // A spec stored before an env name was refused: its stages can never run.
    validateStageEnv(p.parsed.transform.env);
  } catch (err) {
    return await finish(ctx, job, "UNRUNNABLE", (err as Error).message);
  }
  const index = await jobs.datumIndexOf(p);
  const seq = p.createdSeq !== undefined ? { pipelineSeq: p.createdSeq } : {};
  const attempts = resumed ? await jobs.attempts(p.name, job.id) : new Map<string, number>();
  const reuse = (d: Datum): DatumIndexEntry | undefined => {
    if (p.parsed.reprocess === "every_job" || job.reprocess) return undefined;
    const e = index.get(d.hash);
    return e && e.version >= p.reprocessSince ? e : undefined;
  };
  job.progress = { total: datums.length, processed: 0, skipped: 0, failed: 0, recovered: 0 };
  job.datums = [];
  const records = new Map<string, DatumRecord>();
  const toRun: Datum[] = [];
  /** Datums whose runs were interrupted before (the process stopped): run one by one. */
  const interrupted: Datum[] = [];
  for (const d of datums) {
    const id = datumId(d);
    const rec: DatumRecord = {
      id,
      hash: d.hash,
      state: "STARTING",
      inputs: d.inputs.map((i) => ({ name: i.name, repo: i.repo, commit: i.commit, path: i.path })),
      tries: attempts.get(id) ?? 0,
      durationMs: 0,
      exitCode: null,
    };
    const prev = reuse(d);
    if (prev) {
      rec.state = "SKIPPED";
      rec.outputTree = prev.tree;
      rec.outputSize = prev.size;
      rec.reusedFrom = prev.job;
      job.progress.skipped++;
    } else if (rec.tries > 0) {
      rec.message = `Interrupted ${rec.tries} time(s): the process running it stopped during it`;
      interrupted.push(d);
    } else toRun.push(d);
    records.set(rec.id, rec);
    job.datums.push(rec);
  }
  setState(ctx, job, "RUNNING");
  await jobs.save(job);

  const workRoot = `${store.root}/work/${job.id}`;
  await Deno.mkdir(workRoot, { recursive: true });
  const bundlePath = `${workRoot}/stage.js`;
  await Deno.writeFile(bundlePath, await readBundle(store, p), { mode: 0o444 });
  let errBundle: string | undefined;
  if (p.errCodeHash && hasErrCmd(p)) {
    errBundle = `${workRoot}/err_stage.js`;
    await Deno.writeFile(errBundle, await store.objects.readVerified(p.errCodeHash), {
      mode: 0o444,
    });
  }
  const spec = p.parsed;
  const emptyFiles = new Set(
    inputLeaves(spec.input, "pfs").map((i) => i.name).filter((name) =>
      inputLeaves(spec.input, "pfs").find((i) => i.name === name)?.emptyFiles
    ),
  );
  const stdin = spec.transform.stdin.length
    ? new TextEncoder().encode(spec.transform.stdin.join("\n") + "\n")
    : undefined;
  const jobAbort = new AbortController();
  const onOuterAbort = () => jobAbort.abort();
  ctx.signal?.addEventListener("abort", onOuterAbort);
  const jobTimer = spec.jobTimeoutMs
    ? setTimeout(() => jobAbort.abort(), spec.jobTimeoutMs)
    : undefined;
  const stopFile = `${store.root}/jobs/${p.name}/${job.id}.stop`;
  let stopRequested = false;
  /** The first error a datum run threw: it stops the others, then fails the job. */
  let broken: { err: unknown } | null = null;
  const stopPoll = setInterval(() => {
    try {
      Deno.statSync(stopFile);
      stopRequested = true;
      jobAbort.abort();
    } catch { /* no stop request */ }
  }, 200);
  let saveTimer = 0;
  /** The attempt a batch made on a datum it did not finish: the datum's retries go on from it. */
  const carried = new Map<string, unknown[]>();

  /** Datums whose input objects are damaged, and why: they fail without running. */
  const unreadable = new Map<string, string>();

  const runOne = async (d: Datum): Promise<void> => {
    const rec = records.get(datumId(d))!;
    ctx.bus.emit("datum:started", {
      job: job.id,
      pipeline: p.name,
      datum: rec.id,
      inputs: d.inputs.map((i) => `${i.name}:${i.path}`),
    });
    const tries = spec.datumTries;
    let last: StageResult | null = null;
    const logs: unknown[] = carried.get(rec.id) ?? [];
    /** The accepted attempt's workspace, whose outputs are ingested with the logs. */
    let outDir: string | null = null;
    if (rec.tries > 0) rec.state = "FAILED";
    for (let attempt = rec.tries + 1; attempt <= tries; attempt++) {
      if (jobAbort.signal.aborted) break;
      rec.tries = attempt;
      await jobs.noteAttempts(p.name, job.id, [rec.id]);
      let ws;
      try {
        ws = await prepareWorkspace(store, `${workRoot}/${rec.id}`, d.inputs, { emptyFiles });
      } catch (err) {
        // A damaged input object: the stage never runs on it, and no retry can mend it.
        if (!(err instanceof IntegrityError)) throw err;
        rec.state = "FAILED";
        rec.message = `Cannot read the datum's inputs: ${err.message}`;
        unreadable.set(rec.id, rec.message);
        last = null;
        break;
      }
      last = await runStage({
        bundle: bundlePath,
        args: spec.args,
        inputs: ws.inputs,
        outDir: ws.outDir,
        scratchDir: ws.scratchDir,
        mode: ctx.sandbox,
        env: spec.transform.env,
        ...(stdin ? { stdin } : {}),
        ...(spec.datumTimeoutMs ? { timeoutMs: spec.datumTimeoutMs } : {}),
        ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}),
        defaultMemoryBytes: ctx.defaultMemoryBytes,
        signal: jobAbort.signal,
        onLog: (stream, line) =>
          ctx.bus.emit("stage:log", { job: job.id, pipeline: p.name, datum: rec.id, stream, line }),
      });
      logs.push({
        attempt,
        exitCode: last.exitCode,
        signal: last.signal,
        outcome: last.outcome,
        message: last.message,
        durationMs: last.durationMs,
        stdout: last.stdout,
        stderr: last.stderr,
      });
      rec.durationMs += last.durationMs;
      rec.exitCode = last.exitCode;
      const accepted = last.outcome === "ok" ||
        (last.outcome === "failed" && last.exitCode !== null &&
          spec.transform.acceptReturnCode.includes(last.exitCode));
      if (accepted) {
        outDir = ws.outDir;
        rec.state = "SUCCESS";
        rec.message = "";
        break;
      }
      rec.message = limitText(last);
      rec.state = "FAILED";
      if (last.outcome !== "failed" && last.outcome !== "timeout") {
        // Memory, output and kill limits are deterministic: retrying would hit them again.
        if (last.outcome !== "killed") break;
      }
    }
    const errKey = `errCmd ${rec.id}`;
    if (
      rec.state === "FAILED" && errBundle && !unreadable.has(rec.id) && !jobAbort.signal.aborted &&
      !attempts.has(errKey)
    ) {
      // errCmd: a datum whose cmd failed but whose errCmd succeeds is RECOVERED, not failed.
      await jobs.noteAttempts(p.name, job.id, [errKey]);
      const ws = await prepareWorkspace(store, `${workRoot}/${rec.id}`, d.inputs, { emptyFiles });
      const e = await runStage({
        bundle: errBundle,
        args: spec.transform.errCmd!.slice(3),
        inputs: ws.inputs,
        outDir: ws.outDir,
        scratchDir: ws.scratchDir,
        mode: ctx.sandbox,
        env: spec.transform.env,
        ...(spec.datumTimeoutMs ? { timeoutMs: spec.datumTimeoutMs } : {}),
        ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}),
        defaultMemoryBytes: ctx.defaultMemoryBytes,
        signal: jobAbort.signal,
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
    if (jobAbort.signal.aborted && rec.state !== "SUCCESS") {
      rec.state = "FAILED";
      rec.message = broken
        ? "Stopped: the job failed"
        : stopRequested || ctx.signal?.aborted
        ? "Job was stopped"
        : "Job exceeded its jobTimeout";
    }
    // The outputs and the logs go to the store as one batch: their fsyncs overlap.
    const batch = store.objects.batch();
    await store.withIngest(async () => {
      if (outDir !== null && last) {
        const out = await ingestOutputs(store, outDir, last.outputs, batch);
        rec.outputTree = out.tree;
        rec.outputSize = out.size;
      }
      rec.logs = await batch.add(new TextEncoder().encode(JSON.stringify({
        datum: rec.id,
        job: job.id,
        inputs: rec.inputs,
        attempts: logs,
      })));
      await batch.flush();
    });
    await removeTree(`${workRoot}/${rec.id}`).catch(() => {});
    if (rec.state === "SUCCESS") {
      job.progress.processed++;
      // Recorded at once, so a job resumed after a crash skips what already ran.
      await jobs.appendDatums(p.name, [{
        hash: d.hash,
        tree: rec.outputTree!,
        size: rec.outputSize ?? 0,
        job: job.id,
        version: p.version,
        ...seq,
      }]);
    } else if (rec.state === "RECOVERED") job.progress.recovered++;
    else job.progress.failed++;
    ctx.bus.emit("datum:finished", {
      job: job.id,
      pipeline: p.name,
      datum: rec.id,
      state: rec.state,
      durationMs: rec.durationMs,
      ...(rec.message ? { message: rec.message } : {}),
    });
    const now = Date.now();
    if (now - saveTimer > 250) {
      saveTimer = now;
      await jobs.save(job);
      ctx.bus.emit("job:state", {
        job: job.id,
        pipeline: p.name,
        state: job.state,
        progress: job.progress,
      });
    }
  };

  /**
   * Datum batching: one sandboxed process handles a chunk of datums. It gets `--batch` and
   * the spec's args, then one JSON line per datum on stdin (`{"datum","args"}`, the args
   * pointing at that datum's inputs and its own out folder), and acknowledges each with a
   * JSON line on stdout (`{"datum","status":"ok"|"error","message"}`). The first datum not
   * yet answered, in order, is the one in progress: its datumTimeout runs from when the
   * one before it was answered (the first's from the start; at the end the process is
   * ended and that datum has failed a try), and the lines printed meanwhile are its logs.
   * Datums not answered ok are retried one process each; those never reached used no try.
   */
  const runBatch = async (chunk: Datum[], n: number): Promise<Datum[]> => {
    const root = `${workRoot}/batch-${n}`;
    const inRoot = `${root}/in`;
    const outRoot = `${root}/out`;
    const scratch = `${root}/scratch`;
    await Deno.mkdir(inRoot, { recursive: true });
    await Deno.mkdir(outRoot, { recursive: true });
    await Deno.mkdir(scratch, { recursive: true });
    const inBase = ctx.sandbox === "bwrap" ? "/pfs/batch" : inRoot;
    const outBase = ctx.sandbox === "bwrap" ? "/pfs/out" : outRoot;
    interface Request {
      readonly d: Datum;
      readonly rec: DatumRecord;
      readonly line: Uint8Array;
      /** When it became the datum in progress (or was answered, if that came first). */
      startedAt?: number;
      answeredAt?: number;
      ack?: { status: string; message?: string };
      readonly stdout: string[];
      readonly stderr: string[];
    }
    const requests: Request[] = [];
    const byId = new Map<string, Request>();
    /** Datums whose inputs cannot be read: left out of the batch, tried alone, and failed. */
    const unread: Datum[] = [];
    for (const d of chunk) {
      const rec = records.get(datumId(d))!;
      try {
        await prepareWorkspace(store, `${inRoot}/${rec.id}`, d.inputs, { emptyFiles, noOut: true });
      } catch (err) {
        // A damaged input object: left out of the batch, so it is tried alone, and fails.
        if (!(err instanceof IntegrityError)) throw err;
        unreadable.set(rec.id, `Cannot read the datum's inputs: ${err.message}`);
        unread.push(d);
        continue;
      }
      const args = spec.args.map((a) => {
        const m = /^\/pfs\/([^/]+)(\/.*)?$/.exec(a);
        if (!m) return a;
        if (m[1] === "out") return `${outBase}/${rec.id}${m[2] ?? ""}`;
        return `${inBase}/${rec.id}/pfs/${m[1]}${m[2] ?? ""}`;
      });
      const line = new TextEncoder().encode(JSON.stringify({ datum: rec.id, args }) + "\n");
      const r: Request = { d, rec, line, stdout: [], stderr: [] };
      requests.push(r);
      byId.set(rec.id, r);
    }

    /** The request whose answer comes next in order: the datum the stage works on. */
    let head = 0;
    let timedOut: Request | null = null;
    let datumTimer: ReturnType<typeof setTimeout> | undefined;
    const datumStop = new AbortController();
    const started = (r: Request, at: number) => {
      r.startedAt = at;
      ctx.bus.emit("datum:started", {
        job: job.id,
        pipeline: p.name,
        datum: r.rec.id,
        inputs: r.d.inputs.map((i) => `${i.name}:${i.path}`),
      });
    };
    /** Make `requests[head]` the datum in progress: its clock starts now. */
    const startHead = () => {
      clearTimeout(datumTimer);
      const r = requests[head];
      if (r === undefined) return;
      started(r, performance.now());
      if (spec.datumTimeoutMs) {
        const ms = spec.datumTimeoutMs;
        datumTimer = setTimeout(() => {
          timedOut = r;
          datumStop.abort(
            new StageTimeout(`Stage exceeded its datum timeout of ${durationText(ms)}`),
          );
        }, ms);
      }
    };
    const onAck = (line: string): boolean => {
      if (!line.startsWith("{")) return false;
      let a: { datum?: unknown; status?: unknown; message?: unknown };
      try {
        a = JSON.parse(line);
      } catch {
        return false;
      }
      if (typeof a?.datum !== "string" || typeof a.status !== "string") return false;
      const r = byId.get(a.datum);
      if (r === undefined) return false;
      if (r.ack) return true; // answered already: the first answer stands
      r.ack = {
        status: a.status,
        ...(typeof a.message === "string" ? { message: a.message } : {}),
      };
      r.answeredAt = performance.now();
      // Answered out of order: it ran alongside the datum in progress.
      if (r.startedAt === undefined) started(r, requests[head]?.startedAt ?? r.answeredAt);
      if (r === requests[head]) {
        while (requests[head]?.ack) head++;
        startHead();
      }
      return true;
    };

    if (requests.length === 0) {
      await removeTree(root).catch(() => {});
      return unread;
    }
    await jobs.noteAttempts(p.name, job.id, requests.map((r) => r.rec.id));
    let result: StageResult;
    try {
      result = await runStage({
        bundle: bundlePath,
        args: ["--batch", ...spec.args],
        outFolders: requests.map((r) => r.rec.id),
        inputs: [{ name: "batch", dir: inRoot }],
        outDir: outRoot,
        scratchDir: scratch,
        mode: ctx.sandbox,
        env: spec.transform.env,
        stdin: concat(requests.map((r) => r.line)),
        ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}),
        defaultMemoryBytes: ctx.defaultMemoryBytes,
        signal: AbortSignal.any([jobAbort.signal, datumStop.signal]),
        harvestAlways: true,
        onStart: startHead,
        onProtocolLine: onAck,
        onLog: (stream, line) => {
          const r = requests[Math.min(head, requests.length - 1)]!;
          r[stream].push(line);
          ctx.bus.emit("stage:log", {
            job: job.id,
            pipeline: p.name,
            datum: r.rec.id,
            stream,
            line,
          });
        },
      });
    } finally {
      clearTimeout(datumTimer);
    }
    const ended = performance.now();

    const byDatum = new Map<string, { path: string; size: number }[]>();
    for (const o of result.outputs) {
      const rel = o.path.startsWith("/") ? o.path.slice(1) : o.path;
      const i = rel.indexOf("/");
      if (i < 0) continue;
      const list = byDatum.get(rel.slice(0, i)) ?? [];
      list.push({ path: rel.slice(i), size: o.size });
      byDatum.set(rel.slice(0, i), list);
    }
    const retry: Datum[] = [...unread];
    const done: { d: Datum; rec: DatumRecord; tree: Hash; size: number }[] = [];
    // One object batch for the whole chunk: every datum's outputs, tree and logs are written
    // together (one pack, one fsync), not as two or three fsynced loose objects per datum.
    const batch = store.objects.batch();
    await store.withIngest(async () => {
      for (const r of requests) {
        const { d, rec, ack } = r;
        if (r.startedAt === undefined) {
          // Never reached: the stage was not working on it, so it has used no try.
          retry.push(d);
          continue;
        }
        rec.tries = 1;
        const durationMs = Math.max(0, Math.round((r.answeredAt ?? ended) - r.startedAt));
        rec.durationMs = durationMs;
        rec.exitCode = result.exitCode;
        const attempt = {
          attempt: 1,
          batch: n,
          exitCode: result.exitCode,
          signal: result.signal,
          outcome: "ok",
          message: "",
          durationMs,
          stdout: r.stdout.join("\n"),
          stderr: r.stderr.join("\n"),
        };
        if (ack?.status !== "ok" || !result.harvested) {
          rec.message = ack?.message ??
            (r === timedOut || result.outcome !== "ok" || !result.harvested
              ? limitText(result)
              : "The stage did not acknowledge this datum");
          const outcome = ack ? (result.harvested ? "failed" : result.outcome) : result.outcome;
          carried.set(rec.id, [{ ...attempt, outcome, message: rec.message }]);
          retry.push(d);
          continue;
        }
        const out = await ingestOutputs(
          store,
          `${outRoot}/${rec.id}`,
          byDatum.get(rec.id) ?? [],
          batch,
        );
        rec.outputTree = out.tree;
        rec.outputSize = out.size;
        rec.state = "SUCCESS";
        rec.message = "";
        rec.logs = await batch.add(new TextEncoder().encode(JSON.stringify({
          datum: rec.id,
          job: job.id,
          inputs: rec.inputs,
          batch: n,
          attempts: [attempt],
        })));
        done.push({ d, rec, tree: out.tree, size: out.size });
      }
      await batch.flush();
    });
    // Recorded as soon as the objects are durable, so a job resumed after a crash skips them.
    await jobs.appendDatums(
      p.name,
      done.map(({ d, tree, size }) => ({
        hash: d.hash,
        tree,
        size,
        job: job.id,
        version: p.version,
        ...seq,
      })),
    );
    for (const { rec } of done) {
      job.progress.processed++;
      ctx.bus.emit("datum:finished", {
        job: job.id,
        pipeline: p.name,
        datum: rec.id,
        state: "SUCCESS",
        durationMs: rec.durationMs,
      });
    }
    await removeTree(root).catch(() => {});
    return retry;
  };

  const guard = async <T>(run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (err) {
      broken ??= { err };
      jobAbort.abort();
      return undefined;
    }
  };
  try {
    const width = Math.max(1, spec.parallelism || ctx.cores);
    let queue = [...interrupted, ...toRun];
    if (spec.datumBatching && toRun.length > 0) {
      const chunks: Datum[][] = Array.from({ length: Math.min(width, toRun.length) }, () => []);
      toRun.forEach((d, i) => chunks[i % chunks.length]!.push(d));
      const retries = await Promise.all(chunks.map((c, n) => guard(() => runBatch(c, n))));
      queue = [...interrupted, ...retries.flatMap((r) => r ?? [])];
    }
    let next = 0;
    // Every run settles before the job goes on: none is left running behind a failure.
    await Promise.all(Array.from({ length: Math.min(width, queue.length) }, async () => {
      while (next < queue.length && !jobAbort.signal.aborted) {
        await guard(() => runOne(queue[next++]!));
      }
    }));
    if (broken) throw (broken as { err: unknown }).err;
  } finally {
    if (jobTimer !== undefined) clearTimeout(jobTimer);
    clearInterval(stopPoll);
    await Deno.remove(stopFile).catch(() => {});
    ctx.signal?.removeEventListener("abort", onOuterAbort);
    await removeTree(workRoot).catch(() => {});
  }

  if (jobAbort.signal.aborted) {
    const stopped = stopRequested || (ctx.signal?.aborted ?? false);
    return await finish(
      ctx,
      job,
      stopped ? "KILLED" : "FAILURE",
      stopped ? "Job was stopped" : `Job exceeded its jobTimeout of ${spec.jobTimeoutMs} ms`,
    );
  }
  if (job.progress.failed > 0) {
    const first = job.datums.find((d) => d.state === "FAILED");
    return await finish(
      ctx,
      job,
      "FAILURE",
      `${job.progress.failed} datum(s) failed; datum ${first?.id}: ${first?.message ?? ""}`,
    );
  }

  setState(ctx, job, "FINISHING");
  await jobs.save(job);
  const finishes = attempts.get("finish") ?? 0;
  if (finishes >= FINISH_TRIES) {
    return await finish(
      ctx,
      job,
      "FAILURE",
      `Finishing the job was interrupted ${finishes} times (the process stopped during it): giving up`,
    );
  }
  await jobs.noteAttempts(p.name, job.id, ["finish"]);
  const merged = await mergeOutputs(store, job.datums);
  if ("conflict" in merged) return await finish(ctx, job, "FAILURE", merged.conflict);
  const commit = await store.transact(async (tx) => {
    return await tx.commit(p.name, spec.outputBranch, async () => {
      if (merged.edits.length === 0) {
        await tx.batch.add(new TextEncoder().encode("tusk-tree 1\n"));
        return { tree: EMPTY_TREE, size: 0 };
      }
      const r = await store.editTree(EMPTY_TREE, merged.edits, tx.batch);
      return { tree: r.hash, size: r.size };
    }, {
      message: `Output of job ${job.id}`,
      origin: "pipeline",
      provenance: {
        inputs: job.inputs.map((i) => ({ repo: i.repo, commit: i.commit! })),
        spec: p.specHash,
        code: p.codeHash,
        pipeline: p.name,
        job: job.id,
      },
    });
  });
  committed.add(job);
  job.outputCommit = commit.id;
  ctx.bus.emit("commit:created", {
    repo: p.name,
    branch: spec.outputBranch,
    commit: commit.id,
    origin: "pipeline",
  });
  return await finish(ctx, job, "SUCCESS");
}

/**
 * The union of every datum's output, as edits of an empty tree — or why it cannot be one:
 * two datums wrote one path, or one wrote a file where another wrote a folder (Pachyderm's
 * rule: each output path comes from one datum). A conflict names both datums and paths.
 */
export async function mergeOutputs(
  store: Store,
  datums: readonly DatumRecord[],
): Promise<{ edits: Edit[] } | { conflict: string }> {
  /** Each file's path → the datum that wrote it. */
  const files = new Map<string, string>();
  /** Each folder's path → the datum and path of the first file found under it. */
  const folders = new Map<string, { datum: string; path: string }>();
  const edits: Edit[] = [];
  const clash = (a: string, aPath: string, b: string, bPath: string) => ({
    conflict: `Datum ${a} wrote a file at "${aPath}" and datum ${b} wrote "${bPath}" inside it: ` +
      `a path cannot be both a file and a folder`,
  });
  for (const rec of datums) {
    if (!rec.outputTree || rec.outputTree === EMPTY_TREE) continue;
    for await (const f of store.walk(rec.outputTree, [])) {
      const other = files.get(f.path);
      if (other) {
        return {
          conflict: `Datums ${other} and ${rec.id} both wrote "${f.path}": ` +
            `each output path must come from one datum`,
        };
      }
      const under = folders.get(f.path);
      if (under) return clash(rec.id, f.path, under.datum, under.path);
      const segments = f.path.slice(1).split("/");
      let folder = "";
      for (let i = 0; i < segments.length - 1; i++) {
        folder += `/${segments[i]}`;
        const owner = files.get(folder);
        if (owner) return clash(owner, folder, rec.id, f.path);
        if (!folders.has(folder)) folders.set(folder, { datum: rec.id, path: f.path });
      }
      files.set(f.path, rec.id);
      edits.push({ op: "put", path: segments, hash: f.hash, size: f.size });
    }
  }
  return { edits };
}

function hasErrCmd(p: Pipeline): boolean {
  return (p.parsed.transform.errCmd?.length ?? 0) > 2;
}

async function finish(
  ctx: JobContext,
  job: JobRecord,
  state: JobState,
  reason?: string,
): Promise<JobRecord> {
  job.finished = ctx.store.now().toISOString();
  setState(ctx, job, state, reason);
  await ctx.jobs.save(job, { durable: true });
  // The noted runs matter only to a job that may resume.
  await ctx.jobs.clearAttempts(job.pipeline, job.id).catch(() => {});
  return job;
}

/** The bytes of `parts`, one after another. */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
