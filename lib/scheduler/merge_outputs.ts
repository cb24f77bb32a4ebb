/**
 * Finishing a job's output: the union of every datum's output tree (Pachyderm 2.x's rule:
 * each output path comes from one datum) and the output commit itself, with provenance.
 */
import { NotFoundError } from "../errors.ts";
import { EMPTY_TREE } from "../store/codec.ts";
import type { Hash } from "../store/hash.ts";
import type { CommitInfo, Edit, PathEntry, Store } from "../store/store.ts";
import type { DatumRecord, JobRecord } from "../pipeline/jobs.ts";
import type { Pipeline } from "../pipeline/pipelines.ts";
import { writeTree } from "../runner/workspace.ts";

/** What `mergeOutputs()` made of a job's datums. */
export type MergeResult =
  /** The union of their outputs, as edits of an empty tree. */
  | { readonly edits: Edit[] }
  /** Why they cannot be one tree: names both datums and paths. */
  | { readonly conflict: string }
  /** Skipped datums whose reused output the store no longer holds whole: to run again. */
  | { readonly missing: readonly DatumRecord[] };

/**
 * The union of every datum's output, as edits of an empty tree — or why it cannot be one:
 * two datums wrote one path, or one wrote a file where another wrote a folder (Pachyderm's
 * rule: each output path comes from one datum). A conflict names both datums and paths. A
 * skipped datum whose earlier output is not whole (a tree or a file's object of it is gone)
 * is not a failure of the job: it is `missing`, and runs again.
 */
export async function mergeOutputs(
  store: Store,
  datums: readonly DatumRecord[],
): Promise<MergeResult> {
  /** Each file's path → the datum that wrote it. */
  const files = new Map<string, string>();
  /** Each folder's path → the datum and path of the first file found under it. */
  const folders = new Map<string, { datum: string; path: string }>();
  const edits: Edit[] = [];
  const missing: DatumRecord[] = [];
  const clash = (a: string, aPath: string, b: string, bPath: string) => ({
    conflict: `Datum ${a} wrote a file at "${aPath}" and datum ${b} wrote "${bPath}" inside it: ` +
      `a path cannot be both a file and a folder`,
  });
  const mergeWindow = (
    window: readonly DatumRecord[],
    listings: readonly (PathEntry[] | null | undefined)[],
    gone: ReadonlySet<Hash>,
  ): { conflict: string } | null => {
    for (const [i, rec] of window.entries()) {
      const listed = listings[i];
      if (listed === undefined) continue;
      if (listed === null || (rec.state === "SKIPPED" && listed.some((f) => gone.has(f.hash)))) {
        missing.push(rec);
        continue;
      }
      for (const f of listed) {
        const other = files.get(f.path);
        if (other) {
          return {
            conflict: `Datums ${other} and ${rec.id} both wrote "${f.path}": ` +
              `each output path must come from one datum`,
          };
        }
        const under = folders.get(f.path);
        if (under) return clash(rec.id, f.path, under.datum, under.path);
        const segments = f.path.slice(1).split("/");
        let folder = "";
        for (let i = 0; i < segments.length - 1; i++) {
          folder += `/${segments[i]}`;
          const owner = files.get(folder);
          if (owner) return clash(owner, folder, rec.id, f.path);
          if (!folders.has(folder)) folders.set(folder, { datum: rec.id, path: f.path });
        }
        files.set(f.path, rec.id);
        edits.push({ op: "put", path: segments, hash: f.hash, size: f.size });
      }
    }
    return null;
  };
  // Read a window of datums' outputs at a time: a job of many datums never holds every
  // listing at once (only the edits they make).
  for (let from = 0; from < datums.length; from += MERGE_WINDOW) {
    const window = datums.slice(from, from + MERGE_WINDOW);
    const listings = await listOutputs(store, window);
    // A reused output is whole only with every file's object: one missing is a cache miss.
    const gone = await store.objects.missing(
      window.flatMap((rec, i) =>
        rec.state === "SKIPPED" ? (listings[i] ?? []).map((f: PathEntry) => f.hash) : []
      ),
    );
    const conflict = mergeWindow(window, listings, gone);
    if (conflict) {
      // As when every output was read first: one that cannot be read fails the merge.
      for (let rest = from + MERGE_WINDOW; rest < datums.length; rest += MERGE_WINDOW) {
        await listOutputs(store, datums.slice(rest, rest + MERGE_WINDOW));
      }
      return conflict;
    }
  }
  return missing.length > 0 ? { missing } : { edits };
}

/**
 * The edits that make a job's output from the output tree `base` of the job it was planned
 * from (see `planFromDiff()`): the files of the datums `leaving` go, those of the datums
 * `arriving` come. That is the union `mergeOutputs()` makes of every datum as long as no
 * arriving file meets a file or folder of the datums that stay; when one does (a conflict,
 * or a file where a folder was), or an output cannot be read whole, null: the caller merges
 * in full, which says what is wrong.
 */
export async function spliceOutputs(
  store: Store,
  base: Hash,
  leaving: readonly DatumRecord[],
  arriving: readonly DatumRecord[],
): Promise<{ readonly edits: Edit[] } | null> {
  const merged = await mergeOutputs(store, arriving);
  if (!("edits" in merged)) return null;
  const removed = new Set<string>();
  try {
    for (const listed of await listOutputs(store, leaving)) {
      if (listed === null) return null;
      for (const f of listed ?? []) removed.add(f.path);
    }
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
  const put = new Set<string>();
  for (const e of merged.edits) {
    if (e.op !== "put") continue;
    const path = `/${e.path.join("/")}`;
    put.add(path);
    for (let i = 1; i <= e.path.length; i++) {
      const at = await store.lookup(base, e.path.slice(0, i));
      if (!at) break;
      // Only a leaving file may be where an arriving one goes; nothing on its way.
      if (i < e.path.length ? at.kind === "file" : at.kind === "dir" || !removed.has(path)) {
        return null;
      }
    }
  }
  const edits: Edit[] = [];
  for (const path of removed) {
    if (!put.has(path)) edits.push({ op: "delete", path: path.slice(1).split("/") });
  }
  edits.push(...merged.edits);
  return { edits };
}

/** How many datums' outputs `mergeOutputs()` reads before merging them. */
const MERGE_WINDOW = 1024;

/** How many datums' output trees are read at once. */
const READ_AHEAD = 32;

/**
 * Every file of each datum's output, in the datums' order: undefined for a datum without
 * output, null for a skipped datum whose output tree is gone. Read `READ_AHEAD` at a time,
 * so that a job of many datums does not wait on each read in turn.
 */
async function listOutputs(
  store: Store,
  datums: readonly DatumRecord[],
): Promise<(PathEntry[] | null | undefined)[]> {
  const out = new Array<PathEntry[] | null | undefined>(datums.length);
  let next = 0;
  const worker = async () => {
    while (next < datums.length) {
      const i = next++;
      const rec = datums[i]!;
      if (!rec.outputTree || rec.outputTree === EMPTY_TREE) continue;
      const listed: PathEntry[] = [];
      try {
        for await (const f of store.walk(rec.outputTree, [])) listed.push(f);
      } catch (err) {
        if (!(err instanceof NotFoundError) || rec.state !== "SKIPPED") throw err;
        out[i] = null;
        continue;
      }
      out[i] = listed;
    }
  };
  await Promise.all(Array.from({ length: READ_AHEAD }, worker));
  return out;
}

/**
 * Commit the tree `edits` make of an empty tree (or of `base`, the output tree of the job a
 * job was planned from) to `p`'s output branch as `job`'s output,
 * with its provenance: the input commits, the spec and code versions, the host program that
 * ran (if any), the job.
 */
export async function commitOutputs(
  store: Store,
  p: Pipeline,
  job: JobRecord,
  edits: readonly Edit[],
  options: { base?: { tree: Hash; size: number } } = {},
): Promise<CommitInfo> {
  const { base } = options;
  return await store.transact(async (tx) => {
    const make = async () => {
      if (!base) return await writeTree(store, edits, tx.batch);
      if (edits.length === 0) return base;
      const r = await store.editTree(base.tree, edits, tx.batch);
      return { tree: r.hash, size: r.size };
    };
    return await tx.commit(p.name, p.parsed.outputBranch, make, {
      message: `Output of job ${job.id}`,
      origin: "pipeline",
      provenance: {
        // An optional input without a commit made nothing of this output.
        inputs: job.inputs.flatMap((
          i,
        ) => (i.commit === null ? [] : [{ repo: i.repo, commit: i.commit }])),
        spec: p.specHash,
        code: p.codeHash,
        ...(job.program
          ? {
            program: {
              path: job.program.path,
              realPath: job.program.realPath,
              version: job.program.version,
              sha256: job.program.sha256,
            },
          }
          : {}),
        pipeline: p.name,
        job: job.id,
      },
    });
  });
}
