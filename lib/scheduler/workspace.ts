/**
 * A datum's workspace on the host: its inputs materialised as fresh read-only regular files
 * under `pfs/<input>/…` (never links into the store), an empty out folder and a scratch
 * folder; and the harvest of what the stage wrote back into store objects.
 */
import { BadSourceError } from "../errors.ts";
import { EMPTY_TREE } from "../store/codec.ts";
import type { Hash } from "../store/hash.ts";
import { removeTree } from "../store/fs_util.ts";
import { parsePath } from "../store/names.ts";
import type { Edit, Store } from "../store/store.ts";
import type { DatumInput } from "../pipeline/datums.ts";
import type { ObjectBatch } from "../store/batch.ts";

/** Host folders of one datum run. */
export interface Workspace {
  readonly root: string;
  readonly inputs: readonly { name: string; dir: string }[];
  readonly outDir: string;
  readonly scratchDir: string;
}

/**
 * Write one blob to a fresh host file, read-only. Its bytes are checked against its hash as
 * they are copied: a damaged blob throws IntegrityError naming it and leaves no file.
 */
async function materialiseBlob(
  store: Store,
  hash: Hash,
  dest: string,
  empty: boolean,
): Promise<void> {
  if (empty) {
    await Deno.writeFile(dest, new Uint8Array(), { mode: 0o444 });
    return;
  }
  await store.objects.copyTo(hash, dest, { mode: 0o444 });
}

/** Build a datum's workspace under `root` (which must not exist yet). */
export async function prepareWorkspace(
  store: Store,
  root: string,
  inputs: readonly DatumInput[],
  options: { emptyFiles?: ReadonlySet<string>; noOut?: boolean } = {},
): Promise<Workspace> {
  await removeTree(root).catch(() => {});
  const made = new Set<string>();
  const mkdir = async (dir: string) => {
    if (made.has(dir)) return;
    await Deno.mkdir(dir, { recursive: true });
    made.add(dir);
  };
  const ins: { name: string; dir: string }[] = [];
  for (const input of inputs) {
    const dir = `${root}/pfs/${input.name}`;
    await mkdir(dir);
    for (const f of input.files) {
      const dest = `${dir}${f.path}`;
      try {
        await mkdir(dest.slice(0, dest.lastIndexOf("/")));
        await materialiseBlob(store, f.hash, dest, options.emptyFiles?.has(input.name) ?? false);
      } catch (err) {
        if ((err as { code?: string }).code !== "ENAMETOOLONG") throw err;
        const shown = f.path.length > 120 ? `${f.path.slice(0, 60)}…${f.path.slice(-40)}` : f.path;
        throw new BadSourceError(
          `Input "${input.name}" holds "${shown}", a path too long to lay out on this host`,
          { input: input.name, path: f.path },
        );
      }
    }
    ins.push({ name: input.name, dir });
  }
  const outDir = `${root}/out`;
  const scratchDir = `${root}/scratch`;
  if (!options.noOut) {
    await mkdir(outDir);
    await mkdir(scratchDir);
  }
  return { root, inputs: ins, outDir, scratchDir };
}

/**
 * Ingest the harvested output files (paths relative to `outDir`) into `batch` and build the
 * datum's output tree. Returns the tree and its size.
 */
export async function ingestOutputs(
  store: Store,
  outDir: string,
  outputs: readonly { path: string; size: number }[],
  batch: ObjectBatch,
): Promise<{ tree: Hash; size: number; files: number }> {
  const edits: Edit[] = [];
  for (const o of outputs) {
    const host = `${outDir}${o.path.startsWith("/") ? o.path : `/${o.path}`}`;
    let hash: Hash;
    let size: number;
    if (o.size >= 1 << 20) {
      ({ hash, size } = await store.objects.writeLargeFile(host));
    } else {
      const bytes = await Deno.readFile(host);
      hash = await batch.add(bytes);
      size = bytes.length;
    }
    edits.push({ op: "put", path: parsePath(o.path), hash, size });
  }
  if (edits.length === 0) {
    await batch.add(new TextEncoder().encode("tusk-tree 1\n"));
    return { tree: EMPTY_TREE, size: 0, files: 0 };
  }
  const r = await store.editTree(EMPTY_TREE, edits, batch);
  return { tree: r.hash, size: r.size, files: edits.length };
}
