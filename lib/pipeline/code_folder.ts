/**
 * Code folder snapshots: a stage that is a host program (`python3`, `sh`, …) has the spec's
 * folder as its code. At `create pipeline` and `update pipeline` every regular file under it
 * is read, within a file-count and a size limit, and stored as a tree of the store; the
 * tree's hash is the stage's code hash (in every datum hash and in provenance), and jobs
 * mount a copy of it read-only at `/code`. Editing the folder changes nothing until the
 * pipeline is updated.
 *
 * A symbolic link is followed only when it stays inside the folder, links resolved; one
 * that leads out of it is refused by name, as are devices, sockets, FIFOs and names the
 * store cannot hold. Version-control folders (`.git`, `.hg`, `.svn`), Python's byte-code
 * caches (`__pycache__`) and the store's own folder are not code and are left out.
 */
import { InvalidArgumentError } from "../errors.ts";
import { compareNames, type TreeEntry } from "../store/codec.ts";
import { encodeFolderSync } from "../store/fanout_codec.ts";
import { type Hash, sha256 } from "../store/hash.ts";
import { parsePath } from "../store/names.ts";
import { SpecError, type SpecRule } from "./spec/spec_error.ts";

/** The most files, and bytes in all, a code folder may hold. */
export const CODE_LIMITS = { maxFiles: 1000, maxBytes: 64 * 1024 * 1024 } as const;

/** Folders that are never code: version control and Python's byte-code caches. */
export const SKIPPED_FOLDERS: readonly string[] = [".git", ".hg", ".svn", "__pycache__"];

/** A stored code folder. */
export interface CodeSnapshot {
  /** Hash of its root tree: the stage's code hash. */
  readonly hash: Hash;
  /** Every object of the snapshot (its trees and file contents), by hash. */
  readonly objects: ReadonlyMap<Hash, Uint8Array>;
  /** Its files, `/`-rooted, sorted. */
  readonly files: readonly string[];
  /** The bytes of all its files. */
  readonly bytes: number;
}

/** Options of `snapshotCodeFolder()`. */
export interface SnapshotCodeOptions {
  /** The spec file, named in errors. */
  readonly specFile?: string;
  /** JSON path errors name (default `transform.cmd`). */
  readonly field?: string;
  /** Host folders to leave out, such as the store's (compared once links are resolved). */
  readonly skip?: readonly string[];
  /** Limits; default `CODE_LIMITS`. */
  readonly limits?: { readonly maxFiles: number; readonly maxBytes: number };
}

/** One folder of the snapshot being built. */
interface Folder {
  readonly folders: Map<string, Folder>;
  readonly files: Map<string, Uint8Array>;
}

/** Is `path` `dir` or inside it? Both are real, absolute paths. */
function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/**
 * Read the code folder `dir` (see the module comment) into a snapshot: its objects are
 * computed here and written by the caller. Throws `SpecError` naming the culprit.
 */
export async function snapshotCodeFolder(
  dir: string,
  options: SnapshotCodeOptions = {},
): Promise<CodeSnapshot> {
  const field = options.field ?? "transform.cmd";
  const limits = options.limits ?? CODE_LIMITS;
  const where = options.specFile ? ` (the code of "${options.specFile}")` : "";
  const fail = (rule: SpecRule, message: string): never => {
    throw new SpecError(`${message}${where}`, {
      rule,
      path: field,
      ...(options.specFile ? { file: options.specFile } : {}),
    });
  };
  let root: string;
  try {
    root = await Deno.realPath(dir);
  } catch {
    return fail("MISSING_STAGE", `Cannot read the code folder "${dir}"`);
  }
  const skip: string[] = [];
  for (const s of options.skip ?? []) skip.push(await Deno.realPath(s).catch(() => s));
  const top: Folder = { folders: new Map(), files: new Map() };
  let count = 0;
  let bytes = 0;
  const files: string[] = [];

  /** Walk `host` (real path `real`, the folders above it `chain`) into `into`. */
  const walk = async (
    host: string,
    real: string,
    rel: string,
    into: Folder,
    chain: readonly string[],
  ): Promise<void> => {
    const names: string[] = [];
    for await (const e of Deno.readDir(host)) names.push(e.name);
    names.sort(compareNames);
    for (const name of names) {
      const path = `${host}/${name}`;
      const shown = `${rel}/${name}`;
      try {
        parsePath(shown, { storing: true });
      } catch (err) {
        if (!(err instanceof InvalidArgumentError)) throw err;
        fail("BAD_CODE", `Cannot snapshot "${path}": ${err.message}`);
      }
      let info = await Deno.lstat(path);
      let target = path;
      if (info.isSymlink) {
        try {
          target = await Deno.realPath(path);
          info = await Deno.stat(target);
        } catch {
          fail("BAD_CODE", `Cannot snapshot "${path}": it is a link to nothing`);
        }
        if (!within(target, root)) {
          fail(
            "STAGE_OUTSIDE",
            `Code folder "${root}" holds "${path}", a link to "${target}" outside it: a stage's code must live in its folder`,
          );
        }
      }
      if (info.isDirectory) {
        if (SKIPPED_FOLDERS.includes(name)) continue;
        const realDir = target === path ? `${real}/${name}` : target;
        if (skip.includes(realDir)) continue;
        if (chain.includes(realDir) || realDir === real) {
          fail("BAD_CODE", `Cannot snapshot "${path}": it is a link to a folder above it (a loop)`);
        }
        const sub: Folder = { folders: new Map(), files: new Map() };
        into.folders.set(name, sub);
        await walk(path, realDir, shown, sub, [...chain, real]);
        continue;
      }
      if (!info.isFile) {
        fail(
          "BAD_CODE",
          `Cannot snapshot "${path}": it is not a regular file (a device, socket or FIFO); remove it from the code folder`,
        );
      }
      count++;
      bytes += info.size;
      if (count > limits.maxFiles) {
        fail(
          "CODE_LIMIT",
          `Code folder "${root}" holds more than ${limits.maxFiles} files: keep only the stage's code beside its spec, and put data in a repo`,
        );
      }
      if (bytes > limits.maxBytes) {
        fail(
          "CODE_LIMIT",
          `Code folder "${root}" holds more than ${
            limits.maxBytes / 1024 / 1024
          } MiB of files (at "${path}"): keep only the stage's code beside its spec, and put data in a repo`,
        );
      }
      into.files.set(name, await Deno.readFile(path));
      files.push(shown);
    }
  };
  try {
    await walk(root, root, "", top, []);
  } catch (err) {
    if (err instanceof SpecError) throw err;
    return fail("BAD_CODE", `Cannot read the code folder "${root}": ${(err as Error).message}`);
  }

  const objects = new Map<Hash, Uint8Array>();
  /** Store `folder` (its files, then itself); null for a folder with no file under it. */
  const store = (folder: Folder): { hash: Hash; size: number } | null => {
    const entries: TreeEntry[] = [];
    let size = 0;
    for (const [name, sub] of folder.folders) {
      const t = store(sub);
      if (t === null) continue;
      entries.push({ name, kind: "dir", hash: t.hash, size: t.size });
      size += t.size;
    }
    for (const [name, data] of folder.files) {
      const hash = sha256(data);
      objects.set(hash, data);
      entries.push({ name, kind: "file", hash, size: data.length });
      size += data.length;
    }
    if (entries.length === 0 && folder !== top) return null;
    const tree = encodeFolderSync(entries, sha256);
    for (const c of tree.chunks) objects.set(c.hash, c.bytes);
    objects.set(tree.hash, tree.bytes);
    return { hash: tree.hash, size };
  };
  const rootTree = store(top)!;
  return { hash: rootTree.hash, objects, files: files.sort(compareNames), bytes };
}
