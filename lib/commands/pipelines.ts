/**
 * Pipeline verbs: create, update, list, inspect, delete, start and stop pipelines, the
 * plan of a pipeline's next job and the pipeline graph. Each returns data.
 */
import type { Hash } from "../store/hash.ts";
import type { Store } from "../store/store.ts";
import { datumId, planDatums } from "../pipeline/datums.ts";
import { JobStore } from "../pipeline/jobs.ts";
import type { JobState } from "../pipeline/states.ts";
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
import { DEFAULT_WORKING_DIR } from "../pipeline/spec/defaults.ts";
import {
  checkAhead,
  type EarlyCheck,
  resolveHostProgram,
  type SandboxRequest,
} from "../runner/host_program.ts";
import { ProgramCache } from "../runner/program_cache.ts";
import { inputLeaves } from "../pipeline/spec/input.ts";
import { currentTrigger } from "../pipeline/trigger.ts";
import { reusableEntries } from "../scheduler/plan_job.ts";
import { type JobListingOptions, newestJob } from "./jobs.ts";

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
  const cache = ProgramCache.of(store.layout);
  // The program's check (its start in the sandbox) runs while the spec parser loads.
  const ahead = new Map<string, Promise<EarlyCheck | null>>();
  return await createPipelineVersion(store, specFile, {
    ...rest,
    ...(sandbox === "deno" ? {} : {
      prepareProgram: (name: string) => void ahead.set(name, checkAhead(name, { cache })),
    }),
    resolveProgram: (name, o) =>
      resolveHostProgram(name, { ...o, sandbox, cache, ahead: ahead.get(name) }),
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

/**
 * Pachyderm's short description of an input: `training:/`, `(attributes:/* ⨯ model:/)`, with
 * `(optional)` after an optional one.
 */
export function describeInput(input: Pipeline["parsed"]["input"]): string {
  switch (input.kind) {
    case "pfs":
      return `${input.repo}:${input.glob}${input.optional ? " (optional)" : ""}`;
    case "cron":
      return `${input.name}:${input.spec}`;
    default: {
      const sep = { cross: " ⨯ ", union: " ∪ ", join: " ⋈ ", group: " group " }[input.kind];
      return `(${input.inputs.map(describeInput).join(sep)})`;
    }
  }
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
  for (const p of await pipelinesOf(state)) out.push(await view(p, jobs, options));
  return out;
}

/** One pipeline, with its spec (see `JobListingOptions` for damaged job records). */
export async function inspectPipeline(
  store: Store,
  name: string,
  options: JobListingOptions = {},
): Promise<PipelineView & { spec: Readonly<Record<string, unknown>>; modules: readonly string[] }> {
  const p = await pipelineOf(await store.state(), name);
  return { ...(await view(p, new JobStore(store), options)), spec: p.spec, modules: p.modules };
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
  const p = await pipelineOf(state, name);
  const t = currentTrigger(state, p);
  if (!t) return { trigger: null, rows: [] };
  const commits = new Map(t.inputs.map((i) => [i.name, { repo: i.repo, commit: i.commit }]));
  const datums = await planDatums(store, p.parsed.input, commits, {
    salt: p.parsed.salt,
    codeHash: p.codeHash,
  });
  const index = await new JobStore(store).datumIndexOf(p);
  const reusable = await reusableEntries(store, datums, index);
  const rows = datums.map((d): PlanRow => {
    const prev = reusable.get(d.hash);
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
    if (index.has(d.hash)) {
      const why = "its earlier output is no longer in the store (a stale cache entry)";
      return { datum: datumId(d), action: "run", why, inputs };
    }
    return { datum: datumId(d), action: "run", why: "new inputs or code", inputs };
  });
  return { trigger: t.trigger, rows };
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

/** The pipeline DAG as text lines: `training → model → inference ← attributes`. */
export async function drawPipelines(store: Store): Promise<string[]> {
  const state = await store.state();
  const pipelines = await pipelinesOf(state);
  const lines: string[] = [];
  for (const p of pipelines) {
    const ins = inputLeaves(p.parsed.input).map((i) =>
      i.kind === "cron" ? `⏱ ${i.repo} (${i.spec})` : i.repo
    );
    lines.push(`${ins.join(" + ")} ──▶ [${p.name}] ──▶ ${p.name}@${p.parsed.outputBranch}`);
  }
  return lines;
}
