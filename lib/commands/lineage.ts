/**
 * Where data came from: a commit's provenance back to the commits users made, and the
 * lineage of one output file (the datum, its input files, the code and spec that made it).
 */
import { NotFoundError } from "../errors.ts";
import type { Commit, Provenance } from "../store/codec.ts";
import { formatPath, parsePath, parseRef } from "../store/names.ts";
import type { Store } from "../store/store.ts";
import { type JobRecord, JobStore } from "../pipeline/jobs.ts";

/** A commit's provenance, transitively: every input commit it came from. */
export interface ProvenanceNode {
  readonly repo: string;
  readonly commit: string;
  readonly pipeline?: string;
  readonly job?: string;
  readonly spec?: string;
  readonly code?: string;
  /** For a stage that is a host program: the program that ran. */
  readonly program?: Provenance["program"];
  readonly inputs: readonly ProvenanceNode[];
}

/** Follow provenance from a commit back to the commits users made. */
export async function provenance(store: Store, repo: string, id: string): Promise<ProvenanceNode> {
  const c = await store.readCommit(id);
  const inputs: ProvenanceNode[] = [];
  for (const i of c.provenance?.inputs ?? []) {
    inputs.push(await provenance(store, i.repo, i.commit));
  }
  return {
    repo,
    commit: id,
    ...(c.provenance?.pipeline ? { pipeline: c.provenance.pipeline } : {}),
    ...(c.provenance?.job ? { job: c.provenance.job } : {}),
    ...(c.provenance?.spec ? { spec: c.provenance.spec } : {}),
    ...(c.provenance?.code ? { code: c.provenance.code } : {}),
    ...(c.provenance?.program ? { program: c.provenance.program } : {}),
    inputs,
  };
}

/** What made one output file: the datum, its input files, and the code and spec. */
export interface Lineage {
  readonly repo: string;
  readonly commit: string;
  readonly path: string;
  readonly origin: Commit["origin"];
  readonly pipeline?: string;
  readonly job?: string;
  readonly datum?: string;
  readonly code?: string;
  readonly spec?: string;
  /** For a stage that is a host program: the program that ran. */
  readonly program?: Provenance["program"];
  readonly inputs: readonly {
    name: string;
    repo: string;
    commit: string;
    path: string;
    files: readonly string[];
  }[];
  /** Lineage of each input file that itself came from a pipeline. */
  readonly upstream: readonly Lineage[];
}

/** `tusk lineage repo@ref:/path`. */
export async function lineage(store: Store, refText: string): Promise<Lineage> {
  const ref = parseRef(refText);
  const state = await store.state();
  const r = await store.resolve(state, ref);
  if (!r.id || !r.commit) throw new NotFoundError(`"${refText}" has no commits`, { ref: refText });
  const segs = parsePath(ref.path ?? "/");
  const entry = await store.lookup(r.commit.tree, segs);
  if (!entry) {
    throw new NotFoundError(`Cannot find "${formatPath(segs)}" in ${ref.repo}@${ref.ref}`, {
      path: formatPath(segs),
    });
  }
  return await lineageOf(store, ref.repo, r.id, r.commit, formatPath(segs));
}

async function lineageOf(
  store: Store,
  repo: string,
  id: string,
  commit: Commit,
  path: string,
): Promise<Lineage> {
  const base = { repo, commit: id, path, origin: commit.origin };
  const prov = commit.provenance;
  if (!prov?.job || !prov.pipeline) return { ...base, inputs: [], upstream: [] };
  const job = await new JobStore(store).load(prov.job, prov.pipeline).catch(() => null);
  if (!job) {
    return {
      ...base,
      pipeline: prov.pipeline,
      job: prov.job,
      ...(prov.code ? { code: prov.code } : {}),
      ...(prov.spec ? { spec: prov.spec } : {}),
      ...(prov.program ? { program: prov.program } : {}),
      inputs: [],
      upstream: [],
    };
  }
  let found: JobRecord["datums"][number] | undefined;
  for (const d of job.datums) {
    if (!d.outputTree) continue;
    const hit = await store.lookup(d.outputTree, parsePath(path));
    if (hit) {
      found = d;
      break;
    }
  }
  const inputs: Lineage["inputs"][number][] = [];
  const upstream: Lineage[] = [];
  if (found) {
    for (const i of found.inputs) {
      const c = await store.readCommit(i.commit);
      const e = await store.lookup(c.tree, parsePath(i.path));
      const files: string[] = [];
      if (e?.kind === "file") files.push(e.path);
      else if (e) {
        for await (const f of store.walk(e.hash, parsePath(i.path))) files.push(f.path);
      }
      inputs.push({ name: i.name, repo: i.repo, commit: i.commit, path: i.path, files });
      if (c.provenance?.job) {
        for (const f of files.slice(0, 16)) {
          upstream.push(await lineageOf(store, i.repo, i.commit, c, f));
        }
      }
    }
  }
  return {
    ...base,
    pipeline: prov.pipeline,
    job: prov.job,
    ...(found ? { datum: found.id } : {}),
    ...(prov.code ? { code: prov.code } : {}),
    ...(prov.spec ? { spec: prov.spec } : {}),
    ...(prov.program ? { program: prov.program } : {}),
    inputs,
    upstream,
  };
}
