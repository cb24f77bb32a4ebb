/**
 * Resolving what a user names against a state snapshot: a repo, and `repo@ref` where ref
 * is a branch, a commit id or a unique prefix of one, with `^`/`~` ancestry.
 */
import { InvalidArgumentError, NotFoundError } from "../errors.ts";
import type { Commit } from "./codec.ts";
import { didYouMean, parseRef, type Ref } from "./names.ts";
import type { LedgerEntry, RepoState, StoreState } from "./state.ts";

/** A resolved reference: the repo, the commit (null for a branch with no commits yet). */
export interface Resolved {
  readonly repo: string;
  readonly branch: string | undefined;
  readonly id: string | null;
  readonly commit: Commit | null;
}

/** What resolving needs of the store: its commits, and its ledger to find commit ids by prefix. */
export interface RefSource {
  readCommit(id: string): Promise<Commit>;
  /** Ledger entries with seq ≥ `seq` whose line holds `text` (and maybe others). */
  ledgerHolding(text: string, seq: number): AsyncIterable<{ entry: LedgerEntry }>;
}

/** The state of repo `name`, or NotFoundError with a suggestion. */
export function repoOf(state: StoreState, name: string): RepoState {
  const repo = state.repos[name];
  if (!repo) {
    throw new NotFoundError(
      `Cannot find repo "${name}"${didYouMean(name, Object.keys(state.repos))}`,
      { repo: name },
    );
  }
  return repo;
}

/** Resolve `repo@ref` (branch, commit id or unique prefix, with ancestry) in `state`. */
export async function resolveRef(
  source: RefSource,
  state: StoreState,
  ref: Ref | string,
): Promise<Resolved> {
  const r = typeof ref === "string" ? parseRef(ref) : ref;
  const repo = repoOf(state, r.repo);
  let id: string | null;
  let branch: string | undefined;
  const b = repo.branches[r.ref];
  if (b) {
    branch = r.ref;
    id = b.head;
  } else {
    id = await findCommitId(source, repo, r.ref, r.repo);
  }
  for (let i = 0; i < r.ancestry; i++) {
    if (id === null) break;
    const c = await source.readCommit(id);
    id = c.parent;
    if (id === null) {
      throw new NotFoundError(
        `Commit ${r.repo}@${r.ref}${"^".repeat(1)}${
          r.ancestry > 1 ? r.ancestry : ""
        } does not exist: the history is only ${i + 1} commit(s) deep`,
        { repo: r.repo, ref: r.ref, ancestry: r.ancestry },
      );
    }
  }
  return { repo: r.repo, branch, id, commit: id === null ? null : await source.readCommit(id) };
}

/** The id of the commit `text` (a full id or a unique prefix) of the repo `repoName`. */
async function findCommitId(
  source: RefSource,
  repo: RepoState,
  text: string,
  repoName: string,
): Promise<string> {
  const notFound = (): never => {
    throw new NotFoundError(
      `Cannot find branch or commit "${text}" in repo "${repoName}"${
        didYouMean(text, Object.keys(repo.branches))
      }`,
      { repo: repoName, ref: text },
    );
  };
  if (!/^[0-9a-f]{4,64}$/.test(text)) notFound();
  if (text.length === 64) {
    const c = await source.readCommit(text).catch((err) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    if (c?.repo === repoName) return text;
    notFound();
  }
  const matches = new Set<string>();
  // A commit change is `{"commit":"<id>",…}` in a ledger line (canonical JSON): only the
  // lines holding that text are decoded, and each is checked change by change.
  for await (const { entry } of source.ledgerHolding(`"commit":"${text}`, repo.createdSeq)) {
    for (const c of entry.changes) {
      if (c.type === "commit" && c.repo === repoName && c.commit.startsWith(text)) {
        matches.add(c.commit);
      }
    }
  }
  if (matches.size === 0) notFound();
  if (matches.size > 1) {
    throw new InvalidArgumentError(
      `Commit prefix "${text}" is ambiguous in repo "${repoName}": give more characters`,
      { repo: repoName, ref: text },
    );
  }
  return [...matches][0]!;
}
