/**
 * The dashboard's status snapshot, loaded through lib/mod.ts: repos (size, head and when
 * it was made), pipelines with their inputs (the DAG's edges and cron schedules), each
 * pipeline's headline metric over its last commits, the most recent jobs and how many jobs
 * there are (from the job indexes: no record is read for it). Everything later comes from the
 * event stream.
 */
import {
  countJobs,
  headlineMetric,
  inputLeaves,
  inspectCommit,
  listJobs,
  listRepos,
  metricNames,
  metricsShow,
  pipelinesOf,
  type PipelineSpec,
  type Store,
  TuskError,
} from "../lib/mod.ts";
import type {
  DamagedRecord,
  PipelineInputView,
  PipelineMetric,
  PipelineNode,
  RepoView,
  Snapshot,
} from "./view.ts";

/** Commits of each pipeline's output branch whose metrics the sparkline shows. */
export const METRIC_COMMITS = 12;

/** Options of `loadSnapshot()`. */
export interface SnapshotOptions {
  /** Recent jobs to load; 0 loads repos and pipelines only. */
  readonly jobs?: number;
  /** The clock (for `takenAt`). */
  readonly now?: () => Date;
  /** Commits of each output branch read for its metrics (default `METRIC_COMMITS`). */
  readonly metricCommits?: number;
  /** How the store's jobs are counted (default `countJobs`). */
  readonly countJobs?: (store: Store) => Promise<number>;
}

/** Listings tried while jobs keep appearing, before the count taken before the last is used. */
const LISTINGS = 3;

function inputsOf(input: PipelineSpec["input"]): PipelineInputView[] {
  return inputLeaves(input).map((i) =>
    i.kind === "pfs" ? { name: i.name, repo: i.repo, kind: "pfs" } : {
      name: i.name,
      repo: i.repo,
      kind: "cron",
      spec: i.spec,
      ...(i.start ? { start: i.start } : {}),
    }
  );
}

/**
 * The headline metric of the last `depth` commits of `pipeline`'s output branch, or null when
 * none of them holds a readable metrics file (or the branch cannot be read just now).
 */
async function metricOf(
  store: Store,
  pipeline: { name: string; branch: string },
  depth: number,
): Promise<PipelineMetric | null> {
  let rows;
  try {
    rows = await metricsShow(store, `${pipeline.name}@${pipeline.branch}`, { depth });
  } catch (e) {
    if (e instanceof TuskError) return null;
    throw e;
  }
  const readable = rows.filter((r) => r.error === undefined);
  const metric = headlineMetric(metricNames(readable));
  if (metric === null) return null;
  const values = readable.flatMap((r) => {
    const v = r.metrics[metric];
    return v === undefined ? [] : [v];
  });
  return { pipeline: pipeline.name, metric, values: values.reverse() };
}

/**
 * The newest `limit` jobs; a damaged record is set aside, as the scheduler skips it, so the
 * status loads regardless.
 */
async function recentJobs(store: Store, limit: number) {
  const damaged: DamagedRecord[] = [];
  const jobs = await listJobs(store, {
    limit,
    onDamaged: (d) => damaged.push({ job: d.id, pipeline: d.pipeline, file: d.file }),
  });
  return { jobs, damaged };
}

/** Load what the dashboard shows before the first event. */
export async function loadSnapshot(store: Store, options: SnapshotOptions = {}): Promise<Snapshot> {
  const takenAt = (options.now?.() ?? new Date()).toISOString();
  const limit = options.jobs ?? 200;
  // The jobs are counted before and after they are listed, and listed again when the counts
  // differ: a job made between the listing and a count would else be counted twice, once in
  // the count and once by its own job:created event, since the listing does not know it.
  const count = options.countJobs ?? countJobs;
  let jobCount = await count(store);
  let recent = limit > 0 ? await recentJobs(store, limit) : undefined;
  for (let listing = 1; recent && listing < LISTINGS; listing++) {
    const after = await count(store);
    if (after === jobCount) break;
    jobCount = after;
    recent = await recentJobs(store, limit);
  }
  const repos: RepoView[] = [];
  for (const r of await listRepos(store)) {
    const head = r.branches.find((b) => b.name === "master")?.head ?? null;
    let headTime: string | null = null;
    if (head) {
      headTime = await inspectCommit(store, `${r.name}@master`).then((c) => c.time, () => null);
    }
    repos.push({ name: r.name, size: r.size ?? 0, head, headTime, created: r.created });
  }
  const specs = await pipelinesOf(await store.state());
  const pipelines: PipelineNode[] = specs.map((p) => ({
    name: p.name,
    inputs: inputsOf(p.parsed.input),
    paused: p.stopped,
  }));
  const depth = options.metricCommits ?? METRIC_COMMITS;
  const metrics: PipelineMetric[] = [];
  for (const p of specs) {
    const m = await metricOf(store, { name: p.name, branch: p.parsed.outputBranch }, depth);
    if (m) metrics.push(m);
  }
  return { takenAt, repos, pipelines, metrics, jobCount, ...recent };
}
