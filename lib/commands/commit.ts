/** Commit and branch verbs: list/inspect commit, create/list/delete branch, revert. */
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "../errors.ts";
import type { Commit } from "../store/codec.ts";
import { checkNewBranchName, didYouMean, parseBranchRef, parseRef } from "../store/names.ts";
import type { CommitInfo, Store } from "../store/store.ts";

/** A commit as `list commit` and `inspect commit` show it. */
export interface CommitView {
  readonly id: string;
  readonly repo: string;
  readonly branch: string;
  readonly parent: string | null;
  readonly tree: string;
  readonly size: number;
  readonly time: string;
  readonly message: string;
  readonly origin: Commit["origin"];
  readonly revertOf?: string;
  readonly provenance?: Commit["provenance"];
  /** Branches whose head is this commit. */
  readonly heads: readonly string[];
}

function view(info: CommitInfo, heads: readonly string[]): CommitView {
  const c = info.commit;
  return {
    id: info.id,
    repo: c.repo,
    branch: c.branch,
    parent: c.parent,
    tree: c.tree,
    size: c.size,
    time: c.time,
    message: c.message,
    origin: c.origin,
    ...(c.revertOf ? { revertOf: c.revertOf } : {}),
    ...(c.provenance ? { provenance: c.provenance } : {}),
    heads,
  };
}

/**
 * `list commit repo[@branch]`: a branch's history newest first, or with no branch the
 * history of every branch of the repo merged.
 */
export async function listCommit(
  store: Store,
  refText: string,
  options: { limit?: number } = {},
): Promise<CommitView[]> {
  const state = await store.state();
  const hasRef = refText.includes("@");
  const ref = parseRef(refText);
  const repo = store.repoOf(state, ref.repo);
  const headsOf = (id: string) =>
    Object.entries(repo.branches).filter(([, b]) => b.head === id).map(([n]) => n);
  const starts: (string | null)[] = [];
  if (hasRef) starts.push((await store.resolve(state, ref)).id);
  else for (const b of Object.values(repo.branches)) starts.push(b.head);
  const seen = new Map<string, CommitView>();
  for (const start of starts) {
    for await (const info of store.history(start)) {
      if (seen.has(info.id)) break;
      seen.set(info.id, view(info, headsOf(info.id)));
      if (options.limit && hasRef && seen.size >= options.limit) break;
    }
  }
  const list = [...seen.values()].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  return options.limit ? list.slice(0, options.limit) : list;
}

/** `inspect commit repo@ref`. */
export async function inspectCommit(store: Store, refText: string): Promise<CommitView> {
  const state = await store.state();
  const ref = parseRef(refText);
  const r = await store.resolve(state, ref);
  if (!r.id || !r.commit) {
    throw new NotFoundError(`Branch "${ref.ref}" of repo "${ref.repo}" has no commits yet`, {
      repo: ref.repo,
      branch: ref.ref,
    });
  }
  const repo = store.repoOf(state, ref.repo);
  const heads = Object.entries(repo.branches).filter(([, b]) => b.head === r.id).map(([n]) => n);
  return view({ id: r.id, commit: r.commit }, heads);
}

/** A branch and its head. */
export interface BranchView {
  readonly repo: string;
  readonly name: string;
  readonly head: string | null;
  readonly created: string;
}

/** `create branch repo@name [--head ref]`: a new branch, or move one with `head`. */
export async function createBranch(
  store: Store,
  refText: string,
  options: { head?: string } = {},
): Promise<BranchView> {
  const ref = parseBranchRef(refText);
  return await store.transact(async (tx) => {
    const repo = store.repoOf(tx.state, ref.repo);
    const existing = repo.branches[ref.ref];
    if (!existing) checkNewBranchName(ref.ref);
    let head: string | null = null;
    if (options.head !== undefined) {
      const headText = options.head.includes("@") ? options.head : `${ref.repo}@${options.head}`;
      const h = await store.resolve(tx.state, parseRef(headText));
      if (h.repo !== ref.repo) {
        throw new InvalidArgumentError(
          `The head of a branch of "${ref.repo}" must be a commit of "${ref.repo}", not of "${h.repo}"`,
          { repo: ref.repo, head: options.head },
        );
      }
      head = h.id;
    } else if (existing) {
      throw new AlreadyExistsError(
        `Branch "${ref.ref}" already exists in repo "${ref.repo}": give --head to move it`,
        { repo: ref.repo, branch: ref.ref },
      );
    }
    tx.change({
      type: "branch:move",
      repo: ref.repo,
      branch: ref.ref,
      from: existing?.head ?? null,
      to: head,
    });
    return { repo: ref.repo, name: ref.ref, head, created: existing?.created ?? tx.time };
  });
}

/** `list branch repo`. */
export async function listBranch(store: Store, repoName: string): Promise<BranchView[]> {
  const state = await store.state();
  const repo = store.repoOf(state, parseRef(repoName).repo);
  return Object.entries(repo.branches).sort(([a], [b]) => (a < b ? -1 : 1)).map((
    [name, b],
  ) => ({ repo: repo.name, name, head: b.head, created: b.created }));
}

/** `delete branch repo@name`: the branch goes; its commits stay in the ledger. */
export async function deleteBranch(store: Store, refText: string): Promise<void> {
  const ref = parseBranchRef(refText, { checkName: false });
  await store.transact(async (tx) => {
    const repo = store.repoOf(tx.state, ref.repo);
    const b = repo.branches[ref.ref];
    if (!b) {
      throw new NotFoundError(
        `Cannot find branch "${ref.ref}" in repo "${ref.repo}"${
          didYouMean(ref.ref, Object.keys(repo.branches))
        }`,
        { repo: ref.repo, branch: ref.ref },
      );
    }
    tx.change({ type: "branch:delete", repo: ref.repo, branch: ref.ref, from: b.head });
    await Promise.resolve();
  });
}

/**
 * `revert repo@branch --to <commit>`: a new commit on the branch whose tree is the old
 * commit's tree, recorded as a revert. History is kept; nothing is rewritten.
 */
export async function revert(
  store: Store,
  refText: string,
  options: { to: string; message?: string },
): Promise<CommitInfo> {
  const ref = parseBranchRef(refText);
  return await store.transact(async (tx) => {
    const repo = store.repoOf(tx.state, ref.repo);
    if (!repo.branches[ref.ref]) {
      throw new NotFoundError(
        `Cannot find branch "${ref.ref}" in repo "${ref.repo}"${
          didYouMean(ref.ref, Object.keys(repo.branches))
        }`,
        { repo: ref.repo, branch: ref.ref },
      );
    }
    const toText = options.to.includes("@") ? options.to : `${ref.repo}@${options.to}`;
    const target = await store.resolve(tx.state, parseRef(toText));
    if (target.repo !== ref.repo) {
      throw new InvalidArgumentError(
        `Cannot revert "${ref.repo}" to a commit of "${target.repo}"`,
        { repo: ref.repo, to: options.to },
      );
    }
    if (!target.id || !target.commit) {
      throw new NotFoundError(`"${options.to}" has no commits to revert to`, { to: options.to });
    }
    const to = { id: target.id, commit: target.commit };
    return await tx.commit(ref.repo, ref.ref, async () => {
      return await Promise.resolve({ tree: to.commit.tree, size: to.commit.size });
    }, {
      message: options.message ?? `Revert ${ref.repo}@${ref.ref} to ${to.id}`,
      origin: "revert",
      revertOf: to.id,
    });
  });
}
