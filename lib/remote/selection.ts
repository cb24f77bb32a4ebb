/**
 * Which repos and branches a push or pull takes: all of them, or those named as `repo` (all
 * its branches) or `repo@branch`. Pure. Pipelines travel with their output repo.
 */
import { InvalidArgumentError } from "../errors.ts";
import { checkBranchName, checkRepoName } from "../store/names.ts";

/** The repos asked for, each with its branches (null: every branch); null: everything. */
export type Selection = ReadonlyMap<string, ReadonlySet<string> | null> | null;

/** Parse `repo` and `repo@branch` arguments (none: everything). */
export function parseSelection(refs: readonly string[]): Selection {
  if (refs.length === 0) return null;
  const out = new Map<string, Set<string> | null>();
  for (const text of refs) {
    const at = text.indexOf("@");
    const repo = at < 0 ? text : text.slice(0, at);
    const branch = at < 0 ? null : text.slice(at + 1);
    try {
      checkRepoName(repo);
      if (branch !== null) checkBranchName(branch);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      throw new InvalidArgumentError(
        `Invalid argument "${text}": give repo or repo@branch (${err.message})`,
        { ref: text },
      );
    }
    if (branch === null) out.set(repo, null);
    else if (out.get(repo) !== null) {
      const set = out.get(repo) ?? new Set<string>();
      set.add(branch);
      out.set(repo, set);
    }
  }
  return out;
}

/** The branches of `repo` (which has `all` of them) the selection takes; [] when none. */
export function branchesOf(sel: Selection, repo: string, all: readonly string[]): string[] {
  if (sel === null) return [...all];
  if (!sel.has(repo)) return [];
  const b = sel.get(repo);
  return b === null || b === undefined ? [...all] : [...b];
}

/** True when the selection takes repo `repo` (some of it at least). */
export function takesRepo(sel: Selection, repo: string): boolean {
  return sel === null || sel.has(repo);
}
