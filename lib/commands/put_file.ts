/** `put file`: host files, folders, globs or stdin into a commit. Returns data; prints nothing. */
import { BadSourceError, InvalidArgumentError } from "../errors.ts";
import { PACK_MIN_OBJECTS } from "../store/batch.ts";
import { EMPTY_TREE } from "../store/codec.ts";
import type { Hash } from "../store/hash.ts";
import {
  checkBranchName,
  checkNewBranchName,
  checkPathLength,
  formatPath,
  parsePath,
  parseRef,
  type Ref,
} from "../store/names.ts";
import { LARGE_OBJECT } from "../store/objects.ts";
import type { CommitInfo, Edit, Store } from "../store/store.ts";
import { PSEUDO_FILES, resolveHost, standardStream } from "./_host_output.ts";

/** Options of `put file`. */
export interface PutFileOptions {
  /** Host paths to read, or `-` for `stdin`. */
  readonly sources: readonly string[];
  readonly recursive?: boolean;
  readonly append?: boolean;
  readonly message?: string;
  /** Skip symlinks, FIFOs and devices with a warning instead of refusing them. */
  readonly skipSpecial?: boolean;
  /** Folder relative host paths resolve against. */
  readonly cwd?: string;
  readonly stdin?: ReadableStream<Uint8Array>;
  /** Called as bytes are ingested, with the total to expect. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What `put file` did. */
export interface PutFileResult {
  readonly commit: CommitInfo;
  readonly files: number;
  readonly bytes: number;
  /** Special files skipped with `skipSpecial`. */
  readonly skipped: readonly string[];
}

interface Planned {
  readonly host: string;
  readonly dest: string[];
  readonly size: number;
}

/** Paths files are put at: refused when they hold U+FFFD (see `parsePath`). */
const STORING = { storing: true } as const;

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** The name a folder source is put under: none for `.`, `..` or `/`. */
function folderName(source: string): string[] {
  const base = baseName(source);
  return base === "" || base === "." || base === ".." ? [] : parsePath(base, STORING);
}

function special(info: Deno.FileInfo): string | null {
  if (info.isSymlink) return "a symlink";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  if (info.isSocket) return "a socket";
  if (!info.isFile && !info.isDirectory) return "not a regular file";
  return null;
}

async function plan(
  target: Ref,
  options: PutFileOptions,
): Promise<{ planned: Planned[]; skipped: string[] }> {
  const planned: Planned[] = [];
  const skipped: string[] = [];
  const destGiven = target.path !== undefined && target.path !== "" && target.path !== "/";
  const destBase = target.path === undefined ? [] : parsePath(target.path, STORING);
  const destIsDir = options.sources.length > 1 || (target.path ?? "").endsWith("/");
  for (const source of options.sources) {
    if (source === "-") continue;
    const host = resolveHost(source, options.cwd);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(host);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new BadSourceError(
          `Cannot read "${source}": ${
            source.includes("\uFFFD")
              ? "its name is not valid UTF-8 (it reads as U+FFFD); rename it"
              : "no such file or folder"
          }`,
          { path: source },
        );
      }
      if (err instanceof Deno.errors.PermissionDenied) {
        throw new BadSourceError(`Cannot read "${source}": permission denied`, { path: source });
      }
      if (err instanceof Deno.errors.NotCapable) {
        throw new BadSourceError(
          `Refusing "${source}": ${PSEUDO_FILES}; tusk ingests regular files and folders ` +
            "only (copy what you need into a regular file first)",
          { path: source },
        );
      }
      throw err;
    }
    const kind = special(info);
    if (kind) {
      if (options.skipSpecial) {
        skipped.push(source);
        continue;
      }
      throw new BadSourceError(
        `Refusing "${source}": it is ${kind}; tusk ingests regular files and folders only (--skip-special skips such files)`,
        { path: source },
      );
    }
    if (info.isFile) {
      const dest = destGiven && !destIsDir
        ? destBase
        : [...destBase, ...parsePath(baseName(host), STORING)];
      planned.push({ host, dest, size: info.size });
      continue;
    }
    if (!options.recursive) {
      throw new InvalidArgumentError(
        `"${source}" is a folder: use -r to put it with everything in it`,
        { path: source },
      );
    }
    // As pachctl: a folder goes under its own name (`-r -f photos` gives /photos/…) unless
    // it is the only source and a path was given; `-r -f .` puts the contents at the top.
    const prefix = destGiven && options.sources.length === 1
      ? destBase
      : [...destBase, ...folderName(source)];
    const walk = async (dir: string, rel: string[]): Promise<void> => {
      const names: string[] = [];
      for await (const e of Deno.readDir(dir)) names.push(e.name);
      names.sort();
      for (const name of names) {
        const p = `${dir}/${name}`;
        const shown = [...rel, name].join("/");
        if (name.includes("\uFFFD")) {
          // Deno reads a name that is not UTF-8 as U+FFFD: neither readable nor storable.
          throw new BadSourceError(
            `Refusing "${shown}" in "${source}": its name is not valid UTF-8 (it reads as U+FFFD); rename it, tusk stores UTF-8 names only`,
            { path: shown },
          );
        }
        // Sync on purpose: an async lstat per file costs several times the call itself.
        const st = Deno.lstatSync(p);
        const k = special(st);
        if (k) {
          if (options.skipSpecial) {
            skipped.push(shown);
            continue;
          }
          throw new BadSourceError(
            `Refusing "${shown}" in "${source}": it is ${k}; tusk ingests regular files and folders only (--skip-special skips such files)`,
            { path: shown },
          );
        }
        if (st.isDirectory) await walk(p, [...rel, name]);
        else {planned.push({
            host: p,
            dest: [...prefix, ...parsePath([...rel, name].join("/"), STORING)],
            size: st.size,
          });}
      }
    };
    await walk(host, []);
  }
  return { planned, skipped };
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * `put file repo@branch[:/path] -f source…`: ingest files (objects first, outside the
 * lock), then one commit that places them (overwriting, or appending with `append`).
 */
export async function putFile(
  store: Store,
  targetText: string,
  putOptions: PutFileOptions,
): Promise<PutFileResult> {
  // `-f /dev/stdin` (or `/dev/fd/0`, `/proc/self/fd/0`) is standard input, as `-f -` is.
  const options: PutFileOptions = {
    ...putOptions,
    sources: putOptions.sources.map((s) =>
      s !== "-" && standardStream(resolveHost(s, putOptions.cwd)) === "stdin" ? "-" : s
    ),
  };
  const target = parseRef(targetText);
  checkBranchName(target.ref);
  if (target.ancestry) {
    throw new InvalidArgumentError(`Cannot put files to an ancestor commit "${targetText}"`, {
      ref: targetText,
    });
  }
  if (options.sources.length === 0) {
    throw new InvalidArgumentError("Nothing to put: give -f <file>, -f <folder> -r or -f -", {});
  }
  const state = await store.state();
  // A put to a branch that does not exist makes it.
  if (!store.repoOf(state, target.repo).branches[target.ref]) checkNewBranchName(target.ref);
  const { planned, skipped } = await plan(target, options);
  const useStdin = options.sources.includes("-");
  if (useStdin && (target.path === undefined || target.path === "" || target.path.endsWith("/"))) {
    const example = `${target.repo}@${target.ref}:/data.csv`;
    throw new InvalidArgumentError(
      target.path
        ? `Cannot put standard input at folder path "${target.path}": give a file path, e.g. ${example}`
        : `Give a file path for standard input, e.g. ${example}`,
      { ref: targetText, path: target.path ?? "" },
    );
  }
  const seen = new Map<string, string>();
  for (const p of planned) {
    const key = formatPath(p.dest);
    checkPathLength(p.dest);
    if (p.dest.length === 0) {
      throw new InvalidArgumentError(`Cannot put a file at the root "/" of repo "${target.repo}"`, {
        path: "/",
      });
    }
    const other = seen.get(key);
    if (other) {
      throw new InvalidArgumentError(`"${other}" and "${p.host}" would both be put at "${key}"`, {
        path: key,
      });
    }
    seen.set(key, p.host);
  }
  const total = planned.reduce((s, p) => s + p.size, 0);
  let done = 0;
  const progress = (n: number) => {
    done += n;
    options.onProgress?.(done, total);
  };
  return await store.withIngest(async () => {
    const batch = store.objects.batch();
    const blobs = await mapLimit(planned, 16, async (p): Promise<{ hash: Hash; size: number }> => {
      if (p.size >= LARGE_OBJECT) return await store.objects.writeLargeFile(p.host, progress);
      let bytes: Uint8Array;
      try {
        // Sync on purpose, as in plan(): a small file is read faster than an async op is run.
        bytes = Deno.readFileSync(p.host);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) {
          throw new BadSourceError(`Cannot read "${p.host}": it vanished while being put`, {
            path: p.host,
          });
        }
        throw err;
      }
      progress(bytes.length);
      return { hash: await batch.add(bytes), size: bytes.length };
    });
    let stdinBlob: { hash: Hash; size: number } | undefined;
    if (useStdin) {
      const stream = options.stdin ?? Deno.stdin.readable;
      stdinBlob = await store.objects.writeStream(stream, progress);
    }
    // A few small files are written with the commit's trees and commit object, their fsyncs
    // overlapping; many are written now, so the store lock is not held while they are.
    // Appending reads the new blobs back, so they must be written first.
    const withCommit = batch.size < PACK_MIN_OBJECTS && !options.append;
    if (!withCommit) await batch.flush();
    const puts: { dest: string[]; hash: Hash; size: number }[] = planned.map((p, i) => ({
      dest: p.dest,
      hash: blobs[i]!.hash,
      size: blobs[i]!.size,
    }));
    if (stdinBlob) puts.push({ dest: parsePath(target.path!, STORING), ...stdinBlob });
    const commit = await store.transact(async (tx) => {
      return await tx.commit(target.repo, target.ref, async (parent) => {
        const root = parent?.commit.tree;
        const edits: Edit[] = [];
        for (const p of puts) {
          let { hash, size } = p;
          if (options.append && root) {
            const old = await store.lookup(root, p.dest);
            if (old?.kind === "file" && old.size > 0) {
              const joined = await appendBlobs(store, old.hash, hash);
              hash = joined.hash;
              size = joined.size;
            }
          }
          edits.push({ op: "put", path: p.dest, hash, size });
        }
        const r = await store.editTree(root ?? EMPTY_TREE, edits, tx.batch);
        return { tree: r.hash, size: r.size };
      }, { message: options.message ?? "", origin: "user" });
    }, withCommit ? { batch } : {});
    return { commit, files: puts.length, bytes: total + (stdinBlob?.size ?? 0), skipped };
  });
}

async function appendBlobs(store: Store, a: Hash, b: Hash): Promise<{ hash: Hash; size: number }> {
  const first = await store.objects.stream(a);
  const second = await store.objects.stream(b);
  const joined = new ReadableStream<Uint8Array>({
    async start(controller) {
      for await (const c of first) controller.enqueue(c);
      for await (const c of second) controller.enqueue(c);
      controller.close();
    },
  });
  return await store.objects.writeStream(joined);
}
