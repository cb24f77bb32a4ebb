/**
 * A pipeline's trigger: the input commits it would run on now, and the hash naming them.
 * One job runs per distinct trigger: the scheduler starts a job when a pipeline's trigger
 * differs from its newest job's, and `plan`, `settled` and `rerunJob()` ask the same.
 */
import { canonicalJson } from "../store/codec.ts";
import { type Hash, sha256 } from "../store/hash.ts";
import type { StoreState } from "../store/state.ts";
import type { JobRecord } from "./jobs.ts";
import type { Pipeline } from "./pipelines.ts";
import { inputLeaves, leafBranch } from "./spec/input.ts";

/** The input commits a pipeline would run on now, and the trigger hash naming them. */
export interface Trigger {
  readonly inputs: JobRecord["inputs"];
  readonly trigger: Hash;
}

/**
 * The inputs of `p` in `state`, or null when a required input branch has no commit yet (an
 * optional input's may have none: its commit is null).
 */
export function currentTrigger(state: StoreState, p: Pipeline): Trigger | null {
  const leaves = inputLeaves(p.parsed.input);
  const inputs = leaves.map((i) => ({
    name: i.name,
    repo: i.repo,
    branch: leafBranch(i),
    commit: state.repos[i.repo]?.branches[leafBranch(i)]?.head ?? null,
  }));
  const required = (k: number) => {
    const leaf = leaves[k]!;
    return !(leaf.kind === "pfs" && leaf.optional);
  };
  if (inputs.some((i, k) => i.commit === null && required(k))) return null;
  const trigger = sha256(canonicalJson({
    pipeline: p.name,
    // A pipeline created again under its name is a new one: its jobs are new too.
    ...(p.createdSeq !== undefined ? { created: p.createdSeq } : {}),
    version: p.version,
    inputs: inputs.map((i) => [i.name, i.commit]),
  }));
  return { inputs, trigger };
}
