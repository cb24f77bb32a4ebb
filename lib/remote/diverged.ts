/**
 * A branch that both sides committed to: where the two histories meet, and the steps that
 * reconcile them (docs/remotes.md, "Fast-forward only, and reconciling a diverged branch"),
 * spelled for the refused push or pull with the real repo, branch, remote and ancestry.
 */
/** Where two heads' histories meet, seen from this store's head. */
export interface Divergence {
  /** The newest commit in both histories, or null when they share none. */
  readonly base: string | null;
  /** How many commits this store's head is above `base` (its parents followed). */
  readonly ahead: number;
}

/**
 * Where the histories `own` (this store's head's, newest first) and `other` (the remote's)
 * meet: both as `historyOf()` gives them, walked whole.
 */
export function divergence(own: readonly string[], other: readonly string[]): Divergence {
  const theirs = new Set(other);
  const at = own.findIndex((id) => theirs.has(id));
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
