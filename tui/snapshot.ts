/**
 * The dashboard's status snapshot, loaded through lib/mod.ts: repos (size, head and when
 * it was made), pipelines with their inputs (the DAG's edges and cron schedules), and the
 * most recent jobs. Everything later comes from the event stream.
 */
import {
  inputLeaves,
  inspectCommit,
  listJobs,
  listRepos,
  pipelinesOf,
  type PipelineSpec,
  type Store,
} from "../lib/mod.ts";
import type { PipelineInputView, PipelineNode, RepoView, Snapshot } from "./state.ts";

/** Options of `loadSnapshot()`. */
export interface SnapshotOptions {
  /** Recent jobs to load; 0 loads repos and pipelines only. */
  readonly jobs?: number;
  /** The clock (for `takenAt`). */
  readonly now?: () => Date;
}

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

/** Load what the dashboard shows before the first event. */
export async function loadSnapshot(store: Store, options: SnapshotOptions = {}): Promise<Snapshot> {
  const takenAt = (options.now?.() ?? new Date()).toISOString();
  const limit = options.jobs ?? 200;
  const jobs = limit > 0 ? await listJobs(store, { limit }) : undefined;
  const repos: RepoView[] = [];
  for (const r of await listRepos(store)) {
    const head = r.branches.find((b) => b.name === "master")?.head ?? null;
    let headTime: string | null = null;
    if (head) {
      headTime = await inspectCommit(store, `${r.name}@master`).then((c) => c.time, () => null);
    }
    repos.push({ name: r.name, size: r.size ?? 0, head, headTime, created: r.created });
  }
  const pipelines: PipelineNode[] = pipelinesOf(await store.state()).map((p) => ({
    name: p.name,
    inputs: inputsOf(p.parsed.input),
    paused: p.stopped,
  }));
  return { takenAt, repos, pipelines, ...(jobs ? { jobs } : {}) };
}
