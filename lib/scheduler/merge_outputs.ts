/**
 * Finishing a job's output: the union of every datum's output tree (Pachyderm 2.x's rule:
 * each output path comes from one datum) and the output commit itself, with provenance.
 */
import { EMPTY_TREE } from "../store/codec.ts";
import type { CommitInfo, Edit, Store } from "../store/store.ts";
import type { DatumRecord, JobRecord } from "../pipeline/jobs.ts";
import type { Pipeline } from "../pipeline/pipelines.ts";
import { writeTree } from "../runner/workspace.ts";

/**
 * The union of every datum's output, as edits of an empty tree — or why it cannot be one:
 * two datums wrote one path, or one wrote a file where another wrote a folder (Pachyderm's
 * rule: each output path comes from one datum). A conflict names both datums and paths.
 */
export async function mergeOutputs(
  store: Store,
  datums: readonly DatumRecord[],
): Promise<{ edits: Edit[] } | { conflict: string }> {
  /** Each file's path → the datum that wrote it. */
  const files = new Map<string, string>();
  /** Each folder's path → the datum and path of the first file found under it. */
  const folders = new Map<string, { datum: string; path: string }>();
  const edits: Edit[] = [];
  const clash = (a: string, aPath: string, b: string, bPath: string) => ({
    conflict: `Datum ${a} wrote a file at "${aPath}" and datum ${b} wrote "${bPath}" inside it: ` +
      `a path cannot be both a file and a folder`,
  });
  for (const rec of datums) {
    if (!rec.outputTree || rec.outputTree === EMPTY_TREE) continue;
    for await (const f of store.walk(rec.outputTree, [])) {
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
  return { edits };
}

/**
 * Commit the tree `edits` make of an empty tree to `p`'s output branch as `job`'s output,
 * with its provenance: the input commits, the spec and code versions, the host program that
 * ran (if any), the job.
 */
export async function commitOutputs(
  store: Store,
  p: Pipeline,
  job: JobRecord,
  edits: readonly Edit[],
): Promise<CommitInfo> {
  return await store.transact(async (tx) => {
    return await tx.commit(p.name, p.parsed.outputBranch, () => writeTree(store, edits, tx.batch), {
      message: `Output of job ${job.id}`,
      origin: "pipeline",
      provenance: {
        inputs: job.inputs.map((i) => ({ repo: i.repo, commit: i.commit! })),
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
