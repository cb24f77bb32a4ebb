/**
 * A branch that both sides committed to: where the two histories meet, and the steps that
 * reconcile them (docs/remotes.md, "Fast-forward only, and reconciling a diverged branch"),
 * spelled for the refused push or pull with the real repo, branch, remote and ancestry.
 */
import { decodeCommit } from "../store/codec.ts";
import type { CommitSource } from "./ancestry.ts";

/** Where two heads' histories meet, seen from this store's head. */
export interface Divergence {
  /** The newest commit in both histories, or null when they share none. */
  readonly base: string | null;
  /** How many commits this store's head is above `base` (its parents followed). */
  readonly ahead: number;
}

/** The history of `head`, newest first, as far as `read` has it. */
async function history(read: CommitSource, head: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let id: string | null = head; id !== null && !seen.has(id);) {
    seen.add(id);
    out.push(id);
    const bytes = await read(id);
    if (bytes === null) break;
    id = decodeCommit(bytes, id).parent;
  }
  return out;
}

/** Where the histories of `mine` (this store's head) and `theirs` (the remote's) meet. */
export async function divergence(
  read: CommitSource,
  mine: string,
  theirs: string,
): Promise<Divergence> {
  const other = new Set(await history(read, theirs));
  const own = await history(read, mine);
  const at = own.findIndex((id) => other.has(id));
  return at < 0 ? { base: null, ahead: own.length } : { base: own[at]!, ahead: at };
}

/** A branch name of `taken`'s repo that is free for this side's commits: `mine`, `mine-2`… */
export function freeBranch(taken: Iterable<string>): string {
  const names = new Set(taken);
  if (!names.has("mine")) return "mine";
  for (let n = 2;; n++) if (!names.has(`mine-${n}`)) return `mine-${n}`;
}

/**
 * The steps that reconcile `repo@branch` after both sides committed to it, as one sentence:
 * keep this side's commits on a free branch, move the branch back to the commit both share
 * (or delete it when they share none), pull, bring the work over, push.
 */
export function reconcileSteps(o: {
  repo: string;
  branch: string;
  remote: string;
  divergence: Divergence;
  keep: string;
}): string {
  const { repo, branch, remote, divergence: d, keep } = o;
  const ref = `${repo}@${branch}`;
  const save = `keep this side's commits on a branch ("tusk create branch ${repo}@${keep} ` +
    `--head ${ref}")`;
  const back = d.base === null
    ? `the two histories share no commit, so delete ${ref} ("tusk delete branch ${ref}")`
    : `move ${ref} back to the commit both share, ${d.base.slice(0, 12)} ("tusk create ` +
      `branch ${ref} --head ${ref}${d.ahead === 1 ? "^" : `^${d.ahead}`}")`;
  return `Both sides committed to ${ref}: ${save}, ${back}, pull ("tusk pull ${remote} ${ref}"), ` +
    `bring your changes over from ${repo}@${keep} as new commits, then push ("tusk push ` +
    `${remote}"); see "Fast-forward only" in docs/remotes.md`;
}
