/** Repo verbs: create, list, inspect, delete. Each returns data; nothing is printed here. */
import { AlreadyExistsError, InvalidArgumentError, TuskError } from "../errors.ts";
import { checkRepoName } from "../store/names.ts";
import type { Store } from "../store/store.ts";

/** A repo as `list repo` and `inspect repo` show it. */
export interface RepoInfo {
  readonly name: string;
  readonly created: string;
  readonly description: string;
  /**
   * Size of the head commit of `master` in bytes (0 before the first commit); null when
   * that commit cannot be read (see `damaged`).
   */
  readonly size: number | null;
  readonly branches: readonly { readonly name: string; readonly head: string | null }[];
  /** Why the repo's head commit cannot be read (a damaged or missing object), if it cannot. */
  readonly damaged?: string;
}

/** Create an empty repo with a `master` branch. */
export async function createRepo(
  store: Store,
  name: string,
  options: { description?: string } = {},
): Promise<RepoInfo> {
  checkRepoName(name);
  return await store.transact(async (tx) => {
    if (tx.state.repos[name]) {
      throw new AlreadyExistsError(`Repo "${name}" already exists`, { repo: name });
    }
    tx.change({ type: "repo:create", repo: name, description: options.description ?? "" });
    tx.change({ type: "branch:move", repo: name, branch: "master", from: null, to: null });
    return await repoInfo(store, tx.state, name);
  });
}

async function repoInfo(
  store: Store,
  state: Awaited<ReturnType<Store["state"]>>,
  name: string,
): Promise<RepoInfo> {
  const repo = store.repoOf(state, name);
  const head = repo.branches["master"]?.head ?? null;
  const size = head ? (await store.readCommit(head)).size : 0;
  return {
    name,
    created: repo.created,
    description: repo.description,
    size,
    branches: branchesOf(repo),
  };
}

/** A repo's branches and their heads, by name. */
function branchesOf(
  repo: { readonly branches: Readonly<Record<string, { readonly head: string | null }>> },
): RepoInfo["branches"] {
  return Object.entries(repo.branches).sort(([a], [b]) => a < b ? -1 : 1).map((
    [b, s],
  ) => ({ name: b, head: s.head }));
}

/**
 * All repos, newest first (as pachctl lists them). A repo whose head commit cannot be read
 * is listed all the same, with `damaged` saying why and no size: one damaged object hides
 * no other repo.
 */
export async function listRepos(store: Store): Promise<RepoInfo[]> {
  const state = await store.state();
  const out: RepoInfo[] = [];
  for (const name of Object.keys(state.repos)) {
    try {
      out.push(await repoInfo(store, state, name));
    } catch (err) {
      if (!(err instanceof TuskError)) throw err;
      const repo = store.repoOf(state, name);
      out.push({
        name,
        created: repo.created,
        description: repo.description,
        size: null,
        branches: branchesOf(repo),
        damaged: err.message,
      });
    }
  }
  return out.sort((a, b) =>
    a.created < b.created ? 1 : a.created > b.created ? -1 : a.name < b.name ? -1 : 1
  );
}

/** One repo. */
export async function inspectRepo(store: Store, name: string): Promise<RepoInfo> {
  checkRepoName(name);
  return await repoInfo(store, await store.state(), name);
}

/** Delete a repo: its commits become unreachable, so `gc` can free them. */
export async function deleteRepo(store: Store, name: string): Promise<void> {
  checkRepoName(name);
  await store.transact(async (tx) => {
    store.repoOf(tx.state, name);
    // Loaded only here, and by URL rather than a literal specifier (which Deno would prepare
    // ahead of time, npm packages included), so the other verbs never load pipeline code.
    const { pipelinesOf } = await import(
      new URL("../pipeline/pipelines.ts", import.meta.url).href
    ) as typeof import("../pipeline/pipelines.ts");
    const { inputLeaves } = await import(
      new URL("../pipeline/spec/input.ts", import.meta.url).href
    ) as typeof import("../pipeline/spec/input.ts");
    const pipelines = await pipelinesOf(tx.state);
    if (pipelines.some((p) => p.name === name)) {
      throw new InvalidArgumentError(
        `Repo "${name}" is the output of pipeline "${name}": delete the pipeline instead`,
        { repo: name },
      );
    }
    const reader = pipelines.find((p) => inputLeaves(p.parsed.input).some((i) => i.repo === name));
    if (reader) {
      throw new InvalidArgumentError(
        `Cannot delete repo "${name}": pipeline "${reader.name}" reads it; delete that pipeline first`,
        { repo: name, pipeline: reader.name },
      );
    }
    tx.change({ type: "repo:delete", repo: name });
  });
}
