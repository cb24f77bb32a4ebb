/**
 * What a pull (or a clone, a pull into nothing) takes from a remote, decided before anything
 * is written: each branch must move fast-forward (the local head is in the remote branch's
 * history; a local branch ahead of the remote is left as it is), each pipeline forward, else
 * the pull is refused with nothing changed. Then the commits, trees and job records to take
 * are read from the remote and checked (each against its hash, each commit for its repo,
 * each tree for its names), down to what this side already holds, and every object they
 * need is found on the remote.
 */
import { IntegrityError, NotFastForwardError, NotFoundError } from "../errors.ts";
import type { DatumIndexEntry } from "../pipeline/jobs.ts";
import type { PipelineRecord } from "../pipeline/pipelines.ts";
import { decodeCommit } from "../store/codec.ts";
import { treeLinks } from "../store/fanout_codec.ts";
import type { Hash } from "../store/hash.ts";
import { emptyState, type StoreState } from "../store/state.ts";
import { historyOf } from "./ancestry.ts";
import { divergence, freeBranch, reconcileSteps } from "./diverged.ts";
import { decodeDatums, decodeJob } from "./job_sync.ts";
import { PIPELINE_KIND } from "../pipeline/kind.ts";
import type { BranchMove } from "./progress.ts";
import { decodeManifest, type RemoteRecord } from "./remote_format.ts";
import type { RemoteView } from "./remote_log.ts";
import type { RemoteObjects } from "./remote_objects.ts";
import { branchesOf, type Selection, takesRepo } from "./selection.ts";

const HEX64 = /^[0-9a-f]{64}$/;

/** What a pull needs to know of the store it pulls into. */
export interface LocalSide {
  readonly state: StoreState;
  /** True when the store holds object `hash`. */
  has(hash: Hash): Promise<boolean>;
  /** An object the store holds. */
  read(hash: Hash): Promise<Uint8Array>;
  /** True when the store has the record of job `id` of `pipeline`. */
  hasJob(pipeline: string, id: string): Promise<boolean>;
  /** The datum index entries of pipeline `p` the store holds, by datum hash. */
  datumIndexOf(p: PipelineRecord): Promise<ReadonlyMap<Hash, unknown>>;
}

/** The side of a clone: a store that holds nothing yet. */
export function emptySide(): LocalSide {
  return {
    state: emptyState(),
    has: () => Promise.resolve(false),
    read: (h) => Promise.reject(new TypeError(`An empty store has no object ${h}`)),
    hasJob: () => Promise.resolve(false),
    datumIndexOf: () => Promise.resolve(new Map()),
  };
}

/** A pipeline record a pull takes, as the remote holds it. */
export interface TakenPipeline {
  readonly name: string;
  readonly rec: RemoteRecord;
  readonly value: PipelineRecord;
}

/** Everything a pull takes, checked, and what it changes. */
export interface PullPlan {
  readonly moves: readonly BranchMove[];
  readonly newRepos: readonly { repo: string; description: string }[];
  readonly pipelines: readonly TakenPipeline[];
  /** Job records to add, as the remote's bytes. */
  readonly jobFiles: readonly { pipeline: string; id: string; bytes: Uint8Array }[];
  /** Datum index entries to add, by pipeline. */
  readonly datums: readonly { pipeline: string; entries: DatumIndexEntry[] }[];
  /** Pipeline → the job manifest whose jobs the pull takes in (for the cache). */
  readonly jobs: Readonly<Record<string, Hash>>;
  /** Commits and trees to write, checked. */
  readonly meta: ReadonlyMap<Hash, Uint8Array>;
  /** Other objects to fetch, with their size when known. */
  readonly blobs: ReadonlyMap<Hash, number | null>;
  /** New commits by repo, oldest first. */
  readonly commits: readonly { repo: string; ids: string[] }[];
}

/** True when the plan changes nothing. */
export function isEmptyPlan(p: PullPlan): boolean {
  return p.moves.length === 0 && p.pipelines.length === 0 && p.jobFiles.length === 0 &&
    p.datums.length === 0 && p.newRepos.length === 0;
}

/** Decide what to pull from the remote `remote` (seen as `view`, read through `objects`). */
export async function planPull(
  local: LocalSide,
  remote: { name: string; view: RemoteView; objects: RemoteObjects; selection: Selection },
): Promise<PullPlan> {
  const { view, objects, selection: sel } = remote;
  const url = objects.url;
  const head = view.head!;
  const localHas = (h: Hash) => local.has(h);
  /** A commit or tree: from this store if it has it, else from the remote, checked. */
  const readMeta = async (h: Hash): Promise<Uint8Array | null> =>
    (await localHas(h)) ? await local.read(h) : await objects.meta(h);

  // ---- decide: branches ----
  if (sel) {
    for (const [repo, branches] of sel) {
      const r = head.repos[repo];
      if (!r) {
        throw new NotFoundError(
          `Cannot pull repo "${repo}": remote "${remote.name}" has no such repo`,
          { repo, remote: remote.name },
        );
      }
      for (const b of branches ?? []) {
        if (!(b in r.branches)) {
          throw new NotFoundError(
            `Cannot pull ${repo}@${b}: remote "${remote.name}" has no such branch`,
            { repo, branch: b, remote: remote.name },
          );
        }
      }
    }
  }
  const moves: BranchMove[] = [];
  const newRepos: { repo: string; description: string }[] = [];
  for (const [name, r] of Object.entries(head.repos).sort()) {
    const branches = branchesOf(sel, name, Object.keys(r.branches).sort());
    if (branches.length === 0) continue;
    const mine = local.state.repos[name];
    if (!mine) newRepos.push({ repo: name, description: r.description });
    for (const b of branches) {
      const theirs = r.branches[b]!;
      const here = mine?.branches[b];
      if (here && here.head === theirs) continue;
      if (here && here.head !== null) {
        if (theirs === null) continue;
        const up = await historyOf(readMeta, theirs, here.head);
        if (up.at(-1) !== here.head) {
          // This store may be ahead: the remote's head is in the local history.
          const own = await historyOf(readMeta, here.head, theirs);
          if (own.at(-1) === theirs) continue;
          const d = divergence(own, up);
          const steps = reconcileSteps({
            repo: name,
            branch: b,
            remote: remote.name,
            divergence: d,
            keep: freeBranch(Object.keys(mine.branches)),
          });
          throw new NotFastForwardError(
            `Cannot pull ${name}@${b}: this store's head ${here.head} is not in the remote's ` +
              `history (remote ${theirs}); the pull would drop commits. ${steps}`,
            { repo: name, branch: b, local: here.head, remote: theirs, base: d.base },
          );
        }
      }
      if (here === undefined && theirs === null) {
        moves.push({ repo: name, branch: b, from: null, to: null });
        continue;
      }
      moves.push({ repo: name, branch: b, from: here?.head ?? null, to: theirs });
    }
  }

  // ---- decide: pipelines ----
  const localPipes = local.state.meta[PIPELINE_KIND] ?? {};
  const takenPipes: TakenPipeline[] = [];
  const jobPipes: PipelineRecord[] = [];
  for (const [name, rec] of Object.entries(head.pipelines).sort()) {
    if (!takesRepo(sel, name)) continue;
    const theirs = rec.value as PipelineRecord;
    const mine = localPipes[name]?.value as PipelineRecord | undefined;
    if (mine) {
      if (mine.createdSeq !== theirs.createdSeq) {
        throw new NotFastForwardError(
          `Cannot pull pipeline "${name}": this store has another pipeline of that name (made ` +
            "apart from the remote's); delete one of them first",
          { pipeline: name },
        );
      }
      if (mine.version === theirs.version && mine.specHash !== theirs.specHash) {
        throw new NotFastForwardError(
          `Cannot pull pipeline "${name}": both sides changed it to version ${mine.version} ` +
            `(here spec ${mine.specHash.slice(0, 12)}, remote ${theirs.specHash.slice(0, 12)})`,
          { pipeline: name, local: mine.version, remote: theirs.version },
        );
      }
      jobPipes.push(mine.version >= theirs.version ? mine : theirs);
      if (mine.version >= theirs.version) continue;
    } else {
      if (local.state.repos[name] && !head.repos[name]) {
        throw new NotFastForwardError(
          `Cannot pull pipeline "${name}": this store has a repo of that name`,
          { pipeline: name },
        );
      }
      jobPipes.push(theirs);
    }
    if (!isPipelineRecord(theirs, name)) {
      throw new IntegrityError(`Remote "${url}": the record of pipeline "${name}" is damaged`, {
        remote: url,
        pipeline: name,
      });
    }
    takenPipes.push({ name, rec, value: theirs });
  }

  // ---- decide: jobs ----
  const jobFiles: { pipeline: string; id: string; bytes: Uint8Array }[] = [];
  const datums: { pipeline: string; entries: DatumIndexEntry[] }[] = [];
  const merged: Record<string, Hash> = { ...(view.seen?.jobs ?? {}) };
  const needTrees: Hash[] = [];
  const needBlobs: Hash[] = [];
  for (const p of jobPipes) {
    const mh = head.jobs[p.name];
    if (!mh || merged[p.name] === mh) continue;
    const mb = await objects.meta(mh);
    if (!mb) throw missing(url, mh, `the job manifest of pipeline "${p.name}"`);
    const manifest = decodeManifest(mb, url, mh);
    for (const [id, rh] of Object.entries(manifest.jobs)) {
      if (await local.hasJob(p.name, id)) continue;
      const bytes = await objects.meta(rh);
      if (!bytes) throw missing(url, rh, `the record of job ${id}`);
      const job = decodeJob(bytes, { remote: url, id, pipeline: p.name, hash: rh });
      for (const d of job.datums) {
        if (d.logs) needBlobs.push(d.logs);
        if (d.outputTree) needTrees.push(d.outputTree);
      }
      jobFiles.push({ pipeline: p.name, id, bytes });
    }
    if (manifest.datums) {
      const db = await objects.meta(manifest.datums);
      if (!db) throw missing(url, manifest.datums, `the datum index of pipeline "${p.name}"`);
      const have = await local.datumIndexOf(p);
      const fresh = decodeDatums(db, url, manifest.datums).filter((e) =>
        e.pipelineSeq === p.createdSeq && !have.has(e.hash)
      );
      for (const e of fresh) needTrees.push(e.tree);
      if (fresh.length) datums.push({ pipeline: p.name, entries: fresh });
    }
    merged[p.name] = mh;
  }

  const meta = new Map<Hash, Uint8Array>();
  const blobs = new Map<Hash, number | null>();
  const commits: { repo: string; ids: string[] }[] = [];
  const plan: PullPlan = {
    moves,
    newRepos,
    pipelines: takenPipes,
    jobFiles,
    datums,
    jobs: merged,
    meta,
    blobs,
    commits,
  };
  if (isEmptyPlan(plan)) return plan;

  // ---- what to fetch: from the new heads and records down to what this store holds ----
  const seen = new Set<Hash>();
  const take = async (h: Hash, what: string): Promise<Uint8Array> => {
    const b = await objects.meta(h);
    if (!b) throw missing(url, h, what);
    meta.set(h, b);
    return b;
  };
  const walkTree = async (root: Hash, what: string) => {
    const stack = [root];
    while (stack.length) {
      const h = stack.pop()!;
      if (seen.has(h)) continue;
      seen.add(h);
      if (await localHas(h)) continue;
      const bytes = await take(h, `tree ${h} (${what})`);
      // A large folder's fanout links to its chunks, walked as subtrees are.
      const links = treeLinks(bytes, h);
      for (const c of links.chunks) stack.push(c);
      for (const e of links.entries) {
        if (e.name === "." || e.name === ".." || e.name.includes("/") || e.name.includes("\0")) {
          throw new IntegrityError(`Remote "${url}": tree ${h} holds a bad name`, {
            remote: url,
            object: h,
          });
        }
        if (e.kind === "dir") stack.push(e.hash);
        else if (!seen.has(e.hash)) {
          seen.add(e.hash);
          if (!(await localHas(e.hash))) blobs.set(e.hash, e.size);
        }
      }
    }
  };
  for (const m of moves) {
    if (!m.to) continue;
    const ids: string[] = [];
    let at: string | null = m.to;
    while (at !== null && at !== m.from && !seen.has(at)) {
      seen.add(at);
      if (!(await localHas(at))) {
        const c = decodeCommit(await take(at, `commit ${at} of ${m.repo}@${m.branch}`), at);
        if (
          c.repo !== m.repo || !HEX64.test(c.tree) || (c.parent !== null && !HEX64.test(c.parent))
        ) {
          throw new IntegrityError(
            `Remote "${url}": commit ${at} does not belong on ${m.repo}@${m.branch}`,
            { remote: url, object: at },
          );
        }
        await walkTree(c.tree, `${m.repo}@${at.slice(0, 12)}`);
        ids.push(at);
        at = c.parent;
      } else {
        ids.push(at);
        at = decodeCommit(await local.read(at), at).parent;
      }
    }
    commits.push({ repo: m.repo, ids: ids.reverse() });
  }
  for (const t of needTrees) await walkTree(t, "a job's output");
  for (const b of needBlobs) {
    if (!seen.has(b) && !(await localHas(b))) blobs.set(b, null);
    seen.add(b);
  }
  for (const p of takenPipes) {
    for (const o of p.rec.objects) {
      if (!seen.has(o) && !(await localHas(o))) blobs.set(o, null);
      seen.add(o);
    }
  }
  for (const h of blobs.keys()) {
    if ((await objects.locate(h)) === null) throw missing(url, h, `object ${h}`);
  }
  return plan;
}

/** The remote `url` lacks `h`, which its log says it holds. */
export function missing(url: string, h: Hash, what: string): IntegrityError {
  return new IntegrityError(
    `Remote "${url}" lacks ${what} (${h}), which its log says it holds; nothing was changed here`,
    { remote: url, object: h, problem: "missing-object" },
  );
}

/** True when `v` has the fields a pipeline record must have to be used here. */
function isPipelineRecord(v: PipelineRecord, name: string): boolean {
  return typeof v === "object" && v !== null && v.name === name &&
    Number.isSafeInteger(v.version) && typeof v.specHash === "string" &&
    HEX64.test(v.specHash) && HEX64.test(v.codeHash) && typeof v.spec === "object";
}
