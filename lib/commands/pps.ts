/**
 * Pipeline verbs: create/update/list/inspect/delete/start/stop pipeline, jobs and datums,
 * logs, plan, lineage, provenance, wait, draw, run cron. Each returns data.
 */
import {
  InvalidArgumentError,
  NoSchedulerError,
  NotFoundError,
  RerunRefusedError,
} from "../errors.ts";
import type { Commit, Provenance } from "../store/codec.ts";
import type { Hash } from "../store/hash.ts";
import { formatPath, parsePath, parseRef } from "../store/names.ts";
import type { Store } from "../store/store.ts";
import { datumId, planDatums } from "../pipeline/datums.ts";
import { type DamagedJob, type JobRecord, JobStore, parseJobRef } from "../pipeline/jobs.ts";
import { isFinal, type JobState } from "../pipeline/states.ts";
import {
  createPipeline as createPipelineVersion,
  type CreatePipelineOptions,
  deletePipeline,
  type Pipeline,
  pipelineOf,
  pipelinesOf,
  setPipelineStopped,
} from "../pipeline/pipelines.ts";
import type { HostProgram } from "../pipeline/program.ts";
import { resolveHostProgram, type SandboxRequest } from "../runner/host_program.ts";
import { inputLeaves } from "../pipeline/spec/input.ts";
import { DEFAULT_WORKING_DIR } from "../pipeline/spec/parse_spec.ts";
import { currentTrigger } from "../pipeline/trigger.ts";
import type { SandboxMode } from "../runner/detect.ts";
import type { Listener } from "../scheduler/events.ts";
import { leaseHolder } from "../scheduler/lease.ts";
import { runTriggered } from "./run.ts";

export { deletePipeline, setPipelineStopped };

/** Options of `createPipeline()`: the registry's, and the sandbox asked for. */
export interface CreatePipelineCommandOptions
  extends Omit<CreatePipelineOptions, "resolveProgram"> {
  /**
   * `--sandbox` as asked (default auto): a stage that is a host program is refused with
   * `deno`, and where bwrap does not work.
   */
  readonly sandbox?: SandboxRequest;
}

/**
 * `create pipeline` / `update pipeline`: the registry's `createPipeline()`, finding a host
 * program the stage runs on the host's PATH and checking it starts in the sandbox.
 */
export async function createPipeline(
  store: Store,
  specFile: string,
  options: CreatePipelineCommandOptions = {},
): Promise<Pipeline> {
  const { sandbox = "auto", ...rest } = options;
  return await createPipelineVersion(store, specFile, {
    ...rest,
    resolveProgram: (name, o) => resolveHostProgram(name, { ...o, sandbox }),
  });
}

/** A pipeline as `list pipeline` shows it. */
export interface PipelineView {
  readonly name: string;
  readonly version: number;
  readonly input: string;
  readonly created: string;
  readonly updated: string;
  readonly state: "running" | "paused";
  readonly lastJob: string | null;
  readonly lastJobState: JobState | null;
  readonly description: string;
  readonly specHash: Hash;
  readonly codeHash: Hash;
  readonly outputBranch: string;
  readonly cron: readonly { name: string; spec: string; repo: string }[];
  /** `transform.image`: recorded and shown, never pulled. */
  readonly image?: string;
  /** For a stage that is a host program: the program, as found when this version was made. */
  readonly program?: HostProgram;
  /** For an `errCmd` that is a host program: its program. */
  readonly errProgram?: HostProgram;
  /** For a host program: where it starts inside the sandbox. */
  readonly workingDir?: string;
}

/** Pachyderm's short description of an input: `training:/`, `(attributes:/* ⨯ model:/)`. */
export function describeInput(input: Pipeline["parsed"]["input"]): string {
  switch (input.kind) {
    case "pfs":
      return `${input.repo}:${input.glob}`;
    case "cron":
      return `${input.name}:${input.spec}`;
    default: {
      const sep = { cross: " ⨯ ", union: " ∪ ", join: " ⋈ ", group: " group " }[input.kind];
      return `(${input.inputs.map(describeInput).join(sep)})`;
    }
  }
}

/**
 * Options of the listings that read job records. With `onDamaged`, a damaged record is
 * skipped and handed to it (its error names the file and the remedy); without it, the
 * record's IntegrityError fails the listing.
 */
export interface JobListingOptions {
  readonly onDamaged?: (damaged: DamagedJob) => void;
}

/** The newest readable job of `pipeline`, with damaged records as `options` says. */
async function newestJob(
  jobs: JobStore,
  pipeline: string,
  options: JobListingOptions,
): Promise<JobRecord | null> {
  if (!options.onDamaged) return await jobs.latest(pipeline);
  const { jobs: [newest], damaged } = await jobs.scan({ pipeline, limit: 1 });
  damaged.forEach(options.onDamaged);
  return newest ?? null;
}

async function view(
  p: Pipeline,
  jobs: JobStore,
  options: JobListingOptions,
): Promise<PipelineView> {
  const last = await newestJob(jobs, p.name, options);
  return {
    name: p.name,
    version: p.version,
    input: describeInput(p.parsed.input),
    created: p.created,
    updated: p.updated,
    state: p.stopped ? "paused" : "running",
    lastJob: last?.id ?? null,
    lastJobState: last?.state ?? null,
    description: p.parsed.description,
    specHash: p.specHash,
    codeHash: p.codeHash,
    outputBranch: p.parsed.outputBranch,
    cron: inputLeaves(p.parsed.input, "cron").map((c) => ({
      name: c.name,
      spec: c.spec,
      repo: c.repo,
    })),
    ...(p.parsed.transform.image !== undefined ? { image: p.parsed.transform.image } : {}),
    ...(p.program ? { program: p.program } : {}),
    ...(p.errProgram ? { errProgram: p.errProgram } : {}),
    ...(p.program ? { workingDir: p.parsed.transform.workingDir ?? DEFAULT_WORKING_DIR } : {}),
  };
}

/** All pipelines, each with its newest readable job (see `JobListingOptions`). */
export async function listPipelines(
  store: Store,
  options: JobListingOptions = {},
): Promise<PipelineView[]> {
  const state = await store.state();
  const jobs = new JobStore(store);
  const out: PipelineView[] = [];
  for (const p of pipelinesOf(state)) out.push(await view(p, jobs, options));
  return out;
}

/** One pipeline, with its spec (see `JobListingOptions` for damaged job records). */
export async function inspectPipeline(
  store: Store,
  name: string,
  options: JobListingOptions = {},
): Promise<PipelineView & { spec: Readonly<Record<string, unknown>>; modules: readonly string[] }> {
  const p = pipelineOf(await store.state(), name);
  return { ...(await view(p, new JobStore(store), options)), spec: p.spec, modules: p.modules };
}

/** Jobs newest first (see `JobListingOptions` for damaged records). */
export async function listJobs(
  store: Store,
  options: { pipeline?: string; limit?: number } & JobListingOptions = {},
): Promise<JobRecord[]> {
  if (options.pipeline) pipelineOf(await store.state(), options.pipeline);
  const jobs = new JobStore(store);
  const { onDamaged, ...which } = options;
  if (!onDamaged) return await jobs.list(which);
  const scan = await jobs.scan(which);
  scan.damaged.forEach(onDamaged);
  return scan.jobs;
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
  await Deno.writeTextFile(`${store.root}/jobs/${job.pipeline}/${job.id}.stop`, "");
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
    if (options.pipeline) pipelineOf(await store.state(), options.pipeline);
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

/** One row of `tusk plan`. */
export interface PlanRow {
  readonly datum: string;
  readonly action: "run" | "skip";
  readonly why: string;
  readonly inputs: readonly string[];
}

/** Which datums the next job of `pipeline` would run or skip, and why. */
export async function plan(
  store: Store,
  name: string,
): Promise<{ trigger: string | null; rows: PlanRow[] }> {
  const state = await store.state();
  const p = pipelineOf(state, name);
  const t = currentTrigger(state, p);
  if (!t) return { trigger: null, rows: [] };
  const commits = new Map(t.inputs.map((i) => [i.name, { repo: i.repo, commit: i.commit }]));
  const datums = await planDatums(store, p.parsed.input, commits, {
    salt: p.parsed.salt,
    codeHash: p.codeHash,
  });
  const index = await new JobStore(store).datumIndexOf(p);
  const rows = datums.map((d): PlanRow => {
    const prev = index.get(d.hash);
    const inputs = d.inputs.map((i) => `${i.repo}@${i.commit.slice(0, 12)}:${i.path}`);
    if (p.parsed.reprocess === "every_job") {
      return { datum: datumId(d), action: "run", why: "reprocessSpec is every_job", inputs };
    }
    if (prev && prev.version >= p.reprocessSince) {
      return {
        datum: datumId(d),
        action: "skip",
        why: `succeeded in job ${prev.job} with the same inputs and code`,
        inputs,
      };
    }
    if (prev) {
      return { datum: datumId(d), action: "run", why: "update --reprocess asked for it", inputs };
    }
    return { datum: datumId(d), action: "run", why: "new inputs or code", inputs };
  });
  return { trigger: t.trigger, rows };
}

/** A commit's provenance, transitively: every input commit it came from. */
export interface ProvenanceNode {
  readonly repo: string;
  readonly commit: string;
  readonly pipeline?: string;
  readonly job?: string;
  readonly spec?: string;
  readonly code?: string;
  /** For a stage that is a host program: the program that ran. */
  readonly program?: Provenance["program"];
  readonly inputs: readonly ProvenanceNode[];
}

/** Follow provenance from a commit back to the commits users made. */
export async function provenance(store: Store, repo: string, id: string): Promise<ProvenanceNode> {
  const c = await store.readCommit(id);
  const inputs: ProvenanceNode[] = [];
  for (const i of c.provenance?.inputs ?? []) {
    inputs.push(await provenance(store, i.repo, i.commit));
  }
  return {
    repo,
    commit: id,
    ...(c.provenance?.pipeline ? { pipeline: c.provenance.pipeline } : {}),
    ...(c.provenance?.job ? { job: c.provenance.job } : {}),
    ...(c.provenance?.spec ? { spec: c.provenance.spec } : {}),
    ...(c.provenance?.code ? { code: c.provenance.code } : {}),
    ...(c.provenance?.program ? { program: c.provenance.program } : {}),
    inputs,
  };
}

/** What made one output file: the datum, its input files, and the code and spec. */
export interface Lineage {
  readonly repo: string;
  readonly commit: string;
  readonly path: string;
  readonly origin: Commit["origin"];
  readonly pipeline?: string;
  readonly job?: string;
  readonly datum?: string;
  readonly code?: string;
  readonly spec?: string;
  /** For a stage that is a host program: the program that ran. */
  readonly program?: Provenance["program"];
  readonly inputs: readonly {
    name: string;
    repo: string;
    commit: string;
    path: string;
    files: readonly string[];
  }[];
  /** Lineage of each input file that itself came from a pipeline. */
  readonly upstream: readonly Lineage[];
}

/** `tusk lineage repo@ref:/path`. */
export async function lineage(store: Store, refText: string): Promise<Lineage> {
  const ref = parseRef(refText);
  const state = await store.state();
  const r = await store.resolve(state, ref);
  if (!r.id || !r.commit) throw new NotFoundError(`"${refText}" has no commits`, { ref: refText });
  const segs = parsePath(ref.path ?? "/");
  const entry = await store.lookup(r.commit.tree, segs);
  if (!entry) {
    throw new NotFoundError(`Cannot find "${formatPath(segs)}" in ${ref.repo}@${ref.ref}`, {
      path: formatPath(segs),
    });
  }
  return await lineageOf(store, ref.repo, r.id, r.commit, formatPath(segs));
}

async function lineageOf(
  store: Store,
  repo: string,
  id: string,
  commit: Commit,
  path: string,
): Promise<Lineage> {
  const base = { repo, commit: id, path, origin: commit.origin };
  const prov = commit.provenance;
  if (!prov?.job || !prov.pipeline) return { ...base, inputs: [], upstream: [] };
  const job = await new JobStore(store).load(prov.job, prov.pipeline).catch(() => null);
  if (!job) {
    return {
      ...base,
      pipeline: prov.pipeline,
      job: prov.job,
      ...(prov.code ? { code: prov.code } : {}),
      ...(prov.spec ? { spec: prov.spec } : {}),
      ...(prov.program ? { program: prov.program } : {}),
      inputs: [],
      upstream: [],
    };
  }
  let found: JobRecord["datums"][number] | undefined;
  for (const d of job.datums) {
    if (!d.outputTree) continue;
    const hit = await store.lookup(d.outputTree, parsePath(path));
    if (hit) {
      found = d;
      break;
    }
  }
  const inputs: Lineage["inputs"][number][] = [];
  const upstream: Lineage[] = [];
  if (found) {
    for (const i of found.inputs) {
      const c = await store.readCommit(i.commit);
      const e = await store.lookup(c.tree, parsePath(i.path));
      const files: string[] = [];
      if (e?.kind === "file") files.push(e.path);
      else if (e) {
        for await (const f of store.walk(e.hash, parsePath(i.path))) files.push(f.path);
      }
      inputs.push({ name: i.name, repo: i.repo, commit: i.commit, path: i.path, files });
      if (c.provenance?.job) {
        for (const f of files.slice(0, 16)) {
          upstream.push(await lineageOf(store, i.repo, i.commit, c, f));
        }
      }
    }
  }
  return {
    ...base,
    pipeline: prov.pipeline,
    job: prov.job,
    ...(found ? { datum: found.id } : {}),
    ...(prov.code ? { code: prov.code } : {}),
    ...(prov.spec ? { spec: prov.spec } : {}),
    ...(prov.program ? { program: prov.program } : {}),
    inputs,
    upstream,
  };
}

/** Pipelines downstream of a repo, transitively. */
export function downstream(pipelines: readonly Pipeline[], repo: string): Pipeline[] {
  const out = new Map<string, Pipeline>();
  const visit = (r: string) => {
    for (const p of pipelines) {
      if (out.has(p.name)) continue;
      if (inputLeaves(p.parsed.input).some((i) => i.repo === r)) {
        out.set(p.name, p);
        visit(p.name);
      }
    }
  };
  visit(repo);
  return [...out.values()];
}

/** True when every pipeline downstream of `repo` has a finished job for its current inputs. */
export async function settled(
  store: Store,
  repo: string,
): Promise<{ done: boolean; jobs: JobRecord[]; waiting: string[] }> {
  const state = await store.state();
  store.repoOf(state, repo);
  const jobs = new JobStore(store);
  const out: JobRecord[] = [];
  const waiting: string[] = [];
  for (const p of downstream(pipelinesOf(state), repo)) {
    if (p.stopped) continue;
    const t = currentTrigger(state, p);
    if (!t) continue;
    const latest = await jobs.latest(p.name);
    if (!latest || latest.trigger !== t.trigger || !isFinal(latest.state)) waiting.push(p.name);
    else out.push(latest);
  }
  return { done: waiting.length === 0, jobs: out, waiting };
}

/** Options of `waitCommit()` and `waitJob()`. */
export interface WaitOptions {
  /**
   * Run the due jobs in this process, in this sandbox, whenever no scheduler holds the
   * store (as `put file` does). Without it, a wait that no scheduler serves is refused
   * (`NoSchedulerError`) rather than left to hang.
   */
  readonly sandbox?: SandboxMode;
  /** Called with every event of the jobs run here. */
  readonly onEvent?: Listener;
  /** How often to look while a scheduler runs the jobs (ms). */
  readonly pollMs?: number;
}

/**
 * Wait until `done()` gives a value. While a scheduler (a daemon, or another command
 * running its own jobs) holds the store, look every `pollMs`; when none does, run the due
 * jobs here (with `options.sandbox`) and look again. `stuck()` is the error for a wait
 * nothing would end: no sandbox was given, or running the due jobs here changed nothing.
 */
async function waitFor<T>(
  store: Store,
  options: WaitOptions,
  done: () => Promise<T | null>,
  stuck: (ranHere: boolean) => NoSchedulerError,
): Promise<T> {
  /** The ledger position when this process last ran the due jobs. */
  let ranAt: number | null = null;
  while (true) {
    const value = await done();
    if (value !== null) return value;
    if ((await leaseHolder(store)) !== null) {
      ranAt = null;
      await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
      continue;
    }
    if (options.sandbox === undefined) throw stuck(false);
    const seq = (await store.state()).ledger.seq;
    if (ranAt === seq) throw stuck(true);
    ranAt = seq;
    await runTriggered(store, {
      sandbox: options.sandbox,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  }
}

/**
 * Wait until every pipeline downstream of the repo of `refText` has a finished job for its
 * current inputs (`wait commit`); returns those jobs. When no scheduler runs, the due jobs
 * run here (see `WaitOptions.sandbox`).
 */
export async function waitCommit(
  store: Store,
  refText: string,
  options: WaitOptions = {},
): Promise<JobRecord[]> {
  const { repo } = parseRef(refText);
  let waiting: string[] = [];
  return await waitFor(store, options, async () => {
    const s = await settled(store, repo);
    waiting = s.waiting;
    return s.done ? s.jobs : null;
  }, (ranHere) => {
    const which = pipelineList(waiting);
    return new NoSchedulerError(
      ranHere
        ? `Cannot wait for ${refText}: running the due jobs here did not finish those of ` +
          `${which}, and no scheduler is running ("tusk list job" and "tusk plan" say why)`
        : `Cannot wait for ${refText}: no scheduler is running to run the jobs of ${which}; ` +
          'start one with "tusk up --headless"',
      { ref: refText, pipelines: waiting },
    );
  });
}

/** `pipeline "a"`, `pipelines "a", "b"`. */
function pipelineList(names: readonly string[]): string {
  return `${names.length === 1 ? "pipeline" : "pipelines"} ${
    names.map((n) => `"${n}"`).join(", ")
  }`;
}

/** The pipeline DAG as text lines: `training → model → inference ← attributes`. */
export async function drawPipelines(store: Store): Promise<string[]> {
  const state = await store.state();
  const pipelines = pipelinesOf(state);
  const lines: string[] = [];
  for (const p of pipelines) {
    const ins = inputLeaves(p.parsed.input).map((i) =>
      i.kind === "cron" ? `⏱ ${i.repo} (${i.spec})` : i.repo
    );
    lines.push(`${ins.join(" + ")} ──▶ [${p.name}] ──▶ ${p.name}@${p.parsed.outputBranch}`);
  }
  return lines;
}

/**
 * Wait until the job `id` (an id or unique prefix) has finished (`wait job`). When no
 * scheduler runs, the due jobs run here (see `WaitOptions.sandbox`); a job that would still
 * not finish (not its pipeline's newest, or its pipeline deleted) is `NoSchedulerError`.
 */
export async function waitJob(
  store: Store,
  id: string,
  options: WaitOptions = {},
): Promise<JobRecord> {
  let job: JobRecord | undefined;
  return await waitFor(store, options, async () => {
    job = await inspectJob(store, id);
    return isFinal(job.state) ? job : null;
  }, (ranHere) => {
    const j = job!;
    return new NoSchedulerError(
      ranHere
        ? `Job ${j.id} of pipeline "${j.pipeline}" is ${j.state}, and nothing will finish it: ` +
          "no scheduler is running, and running the due jobs here did not (a scheduler resumes " +
          "only the newest job of a pipeline that still exists)"
        : `Job ${j.id} of pipeline "${j.pipeline}" is ${j.state} and no scheduler is running ` +
          'to finish it: start one with "tusk up --headless"',
      { job: j.id, pipeline: j.pipeline, state: j.state },
    );
  });
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
  if (named !== undefined && !pipelinesOf(state).some((p) => p.name === named)) {
    throw new NotFoundError(`Pipeline "${named}" was deleted: its jobs cannot be re-run`, {
      pipeline: named,
    });
  }
  const job = await inspectJob(store, ref);
  const id = job.id.slice(0, 12);
  const p = pipelinesOf(state).find((x) => x.name === job.pipeline);
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
  const latest = await jobs.latest(p.name);
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
