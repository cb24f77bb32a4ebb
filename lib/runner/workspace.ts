/**
 * The host folders of a job's run, and what crosses them: a datum's inputs materialised as
 * fresh read-only regular files under `pfs/<input>/…` (never links into the store), an empty
 * out folder and a scratch folder; and the harvest of what a stage wrote back into store
 * objects.
 *
 * ```text
 * <job workspace>/
 *   stage.js, err_stage.js       the stage bundles, read-only
 *   code/, etc/                  a host program's code snapshot and its sandbox's /etc files
 *   <datum>/pfs/<input>/…        one datum's inputs, with out/ and scratch/ beside them
 *   batch-<n>/in/<datum>/pfs/…   a batch's datums' inputs; out/<datum>/ and scratch/ beside
 * ```
 */
import { BadSourceError } from "../errors.ts";
import { EMPTY_TREE, EMPTY_TREE_BYTES } from "../store/codec.ts";
import type { Hash } from "../store/hash.ts";
import { removeTree } from "../store/fs_util.ts";
import { parsePath } from "../store/names.ts";
import type { Edit, Store } from "../store/store.ts";
import type { DatumFolder } from "../pipeline/datums.ts";
import type { ObjectBatch } from "../store/batch.ts";
import { writeSandboxEtc } from "./host_stage.ts";

/** Host folders of one datum run. */
export interface Workspace {
  readonly root: string;
  readonly inputs: readonly { name: string; dir: string }[];
  readonly outDir: string;
  readonly scratchDir: string;
}

/** Host folders of one batched run: the datums' inputs, their out folders and scratch. */
export interface BatchFolders {
  readonly root: string;
  /** Holds `<datum>/pfs/<input>/…` for each datum of the batch. */
  readonly in: string;
  /** Holds `<datum>/`, each datum's out folder. */
  readonly out: string;
  readonly scratch: string;
}

/** The stage bundles a job runs, as bytes. */
export interface JobBundles {
  /** The stage bundle; none for a stage that is a host program (see `JobWorkspace.code()`). */
  readonly stage?: Uint8Array | undefined;
  /** The `errCmd` bundle, when the job has one. */
  readonly errStage?: Uint8Array | undefined;
}

/** The host folder of one job's run: its stage bundles and a folder per datum or batch. */
export class JobWorkspace {
  /** The folder itself. */
  readonly root: string;
  /** The stage bundle (`stage.js`). */
  readonly bundle: string;
  /** The `errCmd` bundle (`err_stage.js`), when the job has one. */
  readonly errBundle: string | undefined;

  private constructor(root: string, hasErr: boolean) {
    this.root = root;
    this.bundle = `${root}/stage.js`;
    this.errBundle = hasErr ? `${root}/err_stage.js` : undefined;
  }

  /** Make the folder `root` and write the job's bundles into it, read-only. */
  static async create(root: string, bundles: JobBundles): Promise<JobWorkspace> {
    const ws = new JobWorkspace(root, bundles.errStage !== undefined);
    await Deno.mkdir(root, { recursive: true });
    if (bundles.stage !== undefined) {
      await Deno.writeFile(ws.bundle, bundles.stage, { mode: 0o444 });
    }
    if (ws.errBundle !== undefined && bundles.errStage !== undefined) {
      await Deno.writeFile(ws.errBundle, bundles.errStage, { mode: 0o444 });
    }
    return ws;
  }

  /**
   * Lay out a host program's code snapshot (the tree `tree` of `store`) in `code/`, each
   * file read-only and executable, checked against its hash as it is copied, and the
   * sandbox's own `/etc` files in `etc/`. Returns both folders.
   */
  async code(store: Store, tree: Hash): Promise<{ codeDir: string; etcDir: string }> {
    const codeDir = `${this.root}/code`;
    const etcDir = `${this.root}/etc`;
    await Deno.mkdir(codeDir, { recursive: true });
    const made = new Set<string>([codeDir]);
    for await (const f of store.walk(tree, [])) {
      const dest = `${codeDir}${f.path}`;
      const parent = dest.slice(0, dest.lastIndexOf("/"));
      if (!made.has(parent)) {
        await Deno.mkdir(parent, { recursive: true });
        made.add(parent);
      }
      await materialiseBlob(store, f.hash, dest, f.size === 0, 0o555);
    }
    await writeSandboxEtc(etcDir);
    return { codeDir, etcDir };
  }

  /** The folder of one datum's run (see `prepareWorkspace()`). */
  datum(id: string): string {
    return `${this.root}/${id}`;
  }

  /** Make the folders of batch `n`. */
  async batch(n: number): Promise<BatchFolders> {
    const root = `${this.root}/batch-${n}`;
    const folders = { root, in: `${root}/in`, out: `${root}/out`, scratch: `${root}/scratch` };
    for (const dir of [folders.in, folders.out, folders.scratch]) {
      await Deno.mkdir(dir, { recursive: true });
    }
    return folders;
  }

  /** Remove the folder and all in it; never fails. */
  async remove(): Promise<void> {
    await removeTree(this.root).catch(() => {});
  }
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
  mode = 0o444,
): Promise<void> {
  if (empty) {
    await Deno.writeFile(dest, new Uint8Array(), { mode });
    return;
  }
  await store.objects.copyTo(hash, dest, { mode });
}

/** The host's longest path, in bytes with its final NUL (Linux's `PATH_MAX`). */
const HOST_PATH_MAX = 4096;
/** Room a file's path needs beyond its own length while it is written (its temp name). */
const TEMP_ROOM = 64;

/**
 * The error for input file `path` that the host cannot lay out at `dest`: when `dest` is
 * near the host's limit, the store's own folder is long enough to matter (the store keeps
 * 1 KiB of room beside its longest paths), so the message says to move the store.
 */
function pathTooLong(store: Store, input: string, path: string, dest: string): BadSourceError {
  const shown = path.length > 120 ? `${path.slice(0, 60)}…${path.slice(-40)}` : path;
  const utf8 = new TextEncoder();
  const bytes = utf8.encode(dest).length;
  const storeBytes = utf8.encode(store.root).length;
  const hint = bytes + TEMP_ROOM >= HOST_PATH_MAX
    ? `: laid out in the datum's work folder it takes ${bytes} bytes, near or past the host's ` +
      `limit of ${HOST_PATH_MAX}, as the store's own folder path is ${storeBytes} bytes long; ` +
      `move the store to a shorter path`
    : "";
  return new BadSourceError(
    `Input "${input}" holds "${shown}", a path too long to lay out on this host${hint}`,
    { input, path, bytes, store: store.root },
  );
}

/** Build a datum's workspace under `root` (which must not exist yet). */
export async function prepareWorkspace(
  store: Store,
  root: string,
  inputs: readonly DatumFolder[],
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
        throw pathTooLong(store, input.name, f.path, dest);
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
 * Lay out the inputs of datum `id` of a batch under the batch's `in` folder (its out folder
 * is made by the batch's run); returns its input folders. Throws as `prepareWorkspace()`.
 */
export async function prepareBatchDatum(
  store: Store,
  folders: BatchFolders,
  id: string,
  inputs: readonly DatumFolder[],
  options: { emptyFiles?: ReadonlySet<string> } = {},
): Promise<Workspace["inputs"]> {
  const ws = await prepareWorkspace(store, `${folders.in}/${id}`, inputs, {
    ...options,
    noOut: true,
  });
  return ws.inputs;
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
  const r = await writeTree(store, edits, batch);
  return { ...r, files: edits.length };
}

/**
 * Write the tree that `edits` make of an empty tree into `batch`: the empty tree itself
 * when there are none (so that it exists in the store too). Returns its hash and size.
 */
export async function writeTree(
  store: Store,
  edits: readonly Edit[],
  batch: ObjectBatch,
): Promise<{ tree: Hash; size: number }> {
  if (edits.length === 0) {
    await batch.add(EMPTY_TREE_BYTES);
    return { tree: EMPTY_TREE, size: 0 };
  }
  const r = await store.editTree(EMPTY_TREE, edits, batch);
  return { tree: r.hash, size: r.size };
}
