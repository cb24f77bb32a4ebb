/**
 * File verbs: get, list, glob, diff, delete (`put file` is `put_file.ts`). Each returns data;
 * nothing is printed here.
 */
import { InvalidArgumentError, NotFoundError } from "../errors.ts";
import { compareNames, decodeTree, EMPTY_TREE, type TreeEntry, treePage } from "../store/codec.ts";
import { checkChunk, chunkFor, decodeFanout, isFanout } from "../store/fanout_codec.ts";
import type { Hash } from "../store/hash.ts";
import { formatPath, parseBranchRef, parsePath, parseRef } from "../store/names.ts";
import type { CommitInfo, PathEntry, Store } from "../store/store.ts";
import type { StoreState } from "../store/state.ts";
import { hostOutputError, resolveHost, standardStream } from "./_host_output.ts";

/** Resolve `repo@ref:/path` to its commit and the entry at the path. */
export async function resolvePath(
  store: Store,
  refText: string,
  state?: StoreState,
): Promise<{ commit: CommitInfo; entry: PathEntry; segments: string[] }> {
  const ref = parseRef(refText);
  const st = state ?? await store.state();
  const r = await store.resolve(st, ref);
  if (r.id === null || r.commit === null) {
    throw new NotFoundError(
      `Branch "${ref.ref}" of repo "${ref.repo}" has no commits yet: put a file first`,
      { repo: ref.repo, branch: ref.ref },
    );
  }
  const segments = parsePath(ref.path ?? "/");
  const entry = await store.lookup(r.commit.tree, segments);
  if (!entry) {
    throw new NotFoundError(
      `Cannot find "${formatPath(segments)}" in ${ref.repo}@${ref.ref}`,
      { repo: ref.repo, ref: ref.ref, path: formatPath(segments) },
    );
  }
  return { commit: { id: r.id, commit: r.commit }, entry, segments };
}

/** One row of `list file` / `glob file`. */
export interface FileInfo {
  readonly path: string;
  readonly type: "file" | "dir";
  readonly size: number;
  readonly hash: Hash;
}

/** Paging of `list file`: a folder's entries in name order, from after a name, at most a number. */
export interface ListFileOptions {
  /** At most this many entries (a whole number of at least 1). */
  readonly limit?: number;
  /** Start after this name (the last name of the page before); it need not exist. */
  readonly after?: string;
}

/**
 * `list file repo@ref[:/path]`: a folder's direct children in name order, or the file
 * itself; with `limit` or `after`, one page of them (see `listFilePage`), checked before
 * it is returned.
 */
export async function listFile(
  store: Store,
  refText: string,
  options: ListFileOptions = {},
): Promise<FileInfo[]> {
  if (options.limit === undefined && options.after === undefined) {
    const { entry, segments } = await resolvePath(store, refText);
    if (entry.kind === "file") {
      return [{ path: entry.path, type: "file", size: entry.size, hash: entry.hash }];
    }
    return (await store.readTree(entry.hash)).map((e) => fileInfo(segments, e));
  }
  const page = await listFilePage(store, refText, options);
  await page.check();
  return page.files;
}

/** A page of `list file`, and the check of the folder it came from. */
export interface FilePage {
  readonly files: FileInfo[];
  /**
   * Check the whole folder's tree against its hash; IntegrityError when it does not match.
   * A tree up to 8 MiB was checked before the page was read; a larger one is read only
   * where the page lies, so the page can be shown at once, and checked afterwards, as
   * `get file` checks a large file at the end of its stream.
   */
  check(): Promise<void>;
}

/**
 * One page of `list file`: at most `limit` entries of a folder, in name order, after the
 * name `after`. Only the page's part of the folder's tree is read and decoded, so a page of
 * a folder of a million files starts at once; `check()` the result before trusting it.
 */
export async function listFilePage(
  store: Store,
  refText: string,
  options: ListFileOptions,
): Promise<FilePage> {
  const { limit, after } = options;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) {
    throw new InvalidArgumentError(`Invalid limit ${limit}: give a whole number of at least 1`, {
      option: "limit",
      value: limit,
    });
  }
  const { entry, segments } = await resolvePath(store, refText);
  const done = { check: () => Promise.resolve() };
  if (entry.kind === "file") {
    const name = entry.path.slice(entry.path.lastIndexOf("/") + 1);
    const files: FileInfo[] = after !== undefined && compareNames(name, after) <= 0
      ? []
      : [{ path: entry.path, type: "file", size: entry.size, hash: entry.hash }];
    return { files, ...done };
  }
  if (entry.hash === EMPTY_TREE) return { files: [], ...done };
  const range = await store.objects.openRange(entry.hash);
  let entries: TreeEntry[];
  try {
    const head = range.read(0, Math.min(range.size, 64));
    entries = isFanout(head)
      ? await fanoutPage(store, decodeFanout(range.read(0, range.size), entry.hash), entry.hash, {
        limit: limit ?? Infinity,
        after,
      })
      : treePage(range, entry.hash, {
        ...(limit !== undefined ? { limit } : {}),
        ...(after !== undefined ? { after } : {}),
      });
  } catch (err) {
    // A tree that does not decode may be damaged: the check names that first.
    await range.check().finally(() => range.close());
    throw err;
  }
  return {
    files: entries.map((e) => fileInfo(segments, e)),
    check: async () => {
      try {
        await range.check();
      } finally {
        range.close();
      }
    },
  };
}

/**
 * A page of a large folder stored as a fanout of chunks: only the chunks the page spans are
 * read (each checked against its hash and its line of the fanout).
 */
async function fanoutPage(
  store: Store,
  chunks: ReturnType<typeof decodeFanout>,
  id: string,
  options: { readonly limit: number; readonly after: string | undefined },
): Promise<TreeEntry[]> {
  const { limit, after } = options;
  const out: TreeEntry[] = [];
  for (let i = after === undefined ? 0 : chunkFor(chunks, after); i < chunks.length; i++) {
    if (out.length >= limit) break;
    const hash = chunks[i]!.hash;
    const entries = decodeTree(await store.objects.read(hash), hash);
    checkChunk(chunks, i, entries, id);
    for (const e of entries) {
      if (out.length >= limit) break;
      if (after === undefined || compareNames(e.name, after) > 0) out.push(e);
    }
  }
  return out;
}

/** A tree entry of the folder at `segments` as a row of `list file`. */
function fileInfo(segments: readonly string[], e: TreeEntry): FileInfo {
  return { path: formatPath([...segments, e.name]), type: e.kind, size: e.size, hash: e.hash };
}

/** `glob file repo@ref:pattern`: every file and folder whose path matches. */
export async function globFile(store: Store, refText: string): Promise<FileInfo[]> {
  const ref = parseRef(refText);
  const pattern = ref.path ?? "/";
  // Loaded here, by a URL Deno does not read ahead: the other file verbs never need it.
  const { compileGlob } = await import(
    new URL("../glob.ts", import.meta.url).href
  ) as typeof import("../glob.ts");
  const glob = compileGlob(pattern);
  const { entry } = await resolvePath(store, `${ref.repo}@${ref.ref}${"^".repeat(ref.ancestry)}`);
  const out: FileInfo[] = [];
  if (glob.test("/")) out.push({ path: "/", type: "dir", size: entry.size, hash: entry.hash });
  const visit = async (hash: Hash, prefix: string[]): Promise<void> => {
    for (const e of await store.readTree(hash)) {
      const segs = [...prefix, e.name];
      const path = formatPath(segs);
      if (glob.test(path)) out.push({ path, type: e.kind, size: e.size, hash: e.hash });
      if (e.kind === "dir") await visit(e.hash, segs);
    }
  };
  await visit(entry.hash, []);
  return out;
}

/** Where `get file` sends bytes. */
export interface GetFileOptions {
  readonly recursive?: boolean;
  /** Host path to write to (a folder with `recursive`); standard output otherwise. */
  readonly output?: string;
  readonly cwd?: string;
}

/** `get file`: a file's bytes as a stream, or with `recursive` a folder written to disk. */
export async function getFile(
  store: Store,
  refText: string,
  options: GetFileOptions = {},
): Promise<{ stream?: ReadableStream<Uint8Array>; written?: number; entry: PathEntry }> {
  const { entry } = await resolvePath(store, refText);
  if (entry.kind === "dir") {
    if (!options.recursive) {
      throw new InvalidArgumentError(
        `"${entry.path}" is a folder: use -r -o <folder> to get it whole`,
        { path: entry.path },
      );
    }
    if (!options.output) {
      throw new InvalidArgumentError(`Getting folder "${entry.path}" needs -o <folder>`, {
        path: entry.path,
      });
    }
    const outDir = resolveHost(options.output, options.cwd);
    let written = 0;
    await Deno.mkdir(outDir, { recursive: true }).catch((err) => {
      throw hostOutputError(err, outDir, "folder");
    });
    for await (const f of store.walk(entry.hash, [])) {
      const dest = `${outDir}${f.path}`;
      await Deno.mkdir(dest.slice(0, dest.lastIndexOf("/")), { recursive: true }).catch((err) => {
        throw hostOutputError(err, dest, "file");
      });
      await writeOutput(store, f.hash, dest);
      written++;
    }
    return { written, entry };
  }
  if (options.output) {
    const dest = resolveHost(options.output, options.cwd);
    if (options.output.endsWith("/")) {
      throw new InvalidArgumentError(
        `Cannot write "${options.output}": a path ending in "/" names a folder; give -o a ` +
          "file path (or use -r for a folder)",
        { option: "-o", path: options.output },
      );
    }
    // `-o /dev/stdout` (or `/dev/fd/1`, `/proc/self/fd/1`) is standard output, as no -o is.
    if (standardStream(dest) !== "stdout") {
      await writeOneOutput(store, entry.hash, dest);
      return { written: 1, entry };
    }
  }
  return { stream: await store.objects.stream(entry.hash), entry };
}

/**
 * Write a blob to the host file `path`, checked against its hash before it takes the name:
 * a damaged blob leaves no file (and any old one as it was).
 */
async function writeOutput(store: Store, hash: Hash, path: string): Promise<void> {
  try {
    await store.objects.copyTo(hash, path);
  } catch (err) {
    throw hostOutputError(err, path, "file");
  }
}

/**
 * Write a blob to the host path `-o` names: a regular file as `writeOutput()` does, and a
 * device or FIFO (`/dev/null`, a named pipe), which a renamed file cannot replace, directly:
 * its reader gets the bytes checked as standard output's are.
 */
async function writeOneOutput(store: Store, hash: Hash, path: string): Promise<void> {
  let info: Deno.FileInfo | null;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory)) {
      throw hostOutputError(err, path, "file");
    }
    info = null;
  }
  if (info === null || info.isFile || info.isDirectory) return await writeOutput(store, hash, path);
  const stream = await store.objects.stream(hash);
  let out: Deno.FsFile;
  try {
    out = await Deno.open(path, { write: true });
  } catch (err) {
    await stream.cancel();
    throw hostOutputError(err, path, "file");
  }
  await stream.pipeTo(out.writable);
}

/** One changed path of `diff file`. */
export interface DiffRow {
  readonly path: string;
  readonly change: "added" | "removed" | "modified";
  readonly oldSize?: number;
  readonly newSize?: number;
}

/**
 * `diff file new-ref[:/path] [old-ref[:/path]]`: files added, removed or changed; the old
 * side defaults to the new commit's parent. Equal subtrees are skipped by hash.
 */
export async function diffFile(
  store: Store,
  newText: string,
  oldText?: string,
): Promise<DiffRow[]> {
  const state = await store.state();
  const newRef = parseRef(newText);
  const n = await store.resolve(state, newRef);
  if (!n.commit) throw new NotFoundError(`"${newText}" has no commits yet`, { ref: newText });
  let oldTree: Hash | null = null;
  let oldPath = newRef.path;
  if (oldText) {
    const oldRef = parseRef(oldText);
    const o = await store.resolve(state, oldRef);
    oldTree = o.commit?.tree ?? null;
    oldPath = oldRef.path ?? newRef.path;
  } else if (n.commit.parent) {
    oldTree = (await store.readCommit(n.commit.parent)).tree;
  }
  const newSeg = parsePath(newRef.path ?? "/");
  const oldSeg = parsePath(oldPath ?? "/");
  const a = oldTree ? await store.lookup(oldTree, oldSeg) : null;
  const b = await store.lookup(n.commit.tree, newSeg);
  const rows: DiffRow[] = [];
  const diff = async (x: PathEntry | null, y: PathEntry | null, path: string[]): Promise<void> => {
    if (x && y && x.hash === y.hash && x.kind === y.kind) return;
    const p = formatPath(path);
    if (x?.kind === "dir" || y?.kind === "dir") {
      const xs = x?.kind === "dir" ? await store.readTree(x.hash) : [];
      const ys = y?.kind === "dir" ? await store.readTree(y.hash) : [];
      if (x?.kind === "file") rows.push({ path: p, change: "removed", oldSize: x.size });
      const names = [...new Set([...xs.map((e) => e.name), ...ys.map((e) => e.name)])].sort();
      for (const name of names) {
        const xe = xs.find((e) => e.name === name);
        const ye = ys.find((e) => e.name === name);
        const child = [...path, name];
        const cp = formatPath(child);
        await diff(
          xe ? { path: cp, kind: xe.kind, hash: xe.hash, size: xe.size } : null,
          ye ? { path: cp, kind: ye.kind, hash: ye.hash, size: ye.size } : null,
          child,
        );
      }
      if (y?.kind === "file") rows.push({ path: p, change: "added", newSize: y.size });
      return;
    }
    if (x && y) rows.push({ path: p, change: "modified", oldSize: x.size, newSize: y.size });
    else if (x) rows.push({ path: p, change: "removed", oldSize: x.size });
    else if (y) rows.push({ path: p, change: "added", newSize: y.size });
  };
  await diff(a, b, newSeg);
  return rows;
}

/** `delete file repo@branch:/path`: a new commit without the file or folder. */
export async function deleteFile(
  store: Store,
  refText: string,
  options: { message?: string } = {},
): Promise<CommitInfo> {
  const ref = parseBranchRef(refText);
  const segments = parsePath(ref.path ?? "");
  if (segments.length === 0) {
    throw new InvalidArgumentError(`Give the path to delete, e.g. ${ref.repo}@${ref.ref}:/file`, {
      ref: refText,
    });
  }
  return await store.transact(async (tx) => {
    const repo = store.repoOf(tx.state, ref.repo);
    if (!repo.branches[ref.ref]) {
      throw new NotFoundError(`Cannot find branch "${ref.ref}" in repo "${ref.repo}"`, {
        repo: ref.repo,
        branch: ref.ref,
      });
    }
    return await tx.commit(ref.repo, ref.ref, async (parent) => {
      if (!parent) {
        throw new NotFoundError(`Cannot find "${formatPath(segments)}" in ${ref.repo}@${ref.ref}`, {
          path: formatPath(segments),
        });
      }
      const r = await store.editTree(
        parent.commit.tree,
        [{ op: "delete", path: segments }],
        tx.batch,
      );
      return { tree: r.hash, size: r.size };
    }, { message: options.message ?? `Delete ${formatPath(segments)}`, origin: "user" });
  });
}
