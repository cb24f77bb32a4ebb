/**
 * Durable file-system primitives: temp files named after their owner process, fsync of
 * files and folders, write-then-rename. Everything the store writes goes through here.
 */
import { isNoSpace, NoSpaceError } from "../errors.ts";

let tempCounter = 0;

/** A fresh temp file path in `tmpDir`, named `<pid>.<n>.tmp` so recovery can tell whose it is. */
export function tempPath(tmpDir: string): string {
  return `${tmpDir}/${tempName()}`;
}

/** A fresh temp file name, `<pid>.<n>.<random>.tmp`. */
export function tempName(): string {
  tempCounter++;
  const rand = Math.floor(Math.random() * 0xffffffff).toString(16);
  return `${Deno.pid}.${tempCounter}.${rand}.tmp`;
}

/**
 * A fresh temp file path beside `dest` (in its folder, so a rename puts it in place):
 * `.tusk-<16 random hex>.tmp`, 26 bytes whatever `dest` is called, so a target whose name
 * is as long as the host allows still has a temp file that fits. Open it with `createNew`.
 */
export function siblingTempPath(dest: string): string {
  const rand = crypto.getRandomValues(new Uint8Array(8));
  const hex = [...rand].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${dest.slice(0, dest.lastIndexOf("/") + 1)}.tusk-${hex}.tmp`;
}

/** fsync a folder so that renames and creations inside it survive a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const f = await Deno.open(dir, { read: true });
  try {
    await f.sync();
  } finally {
    f.close();
  }
}

/**
 * fsync every file and folder of `paths` at once: the file system commits them together,
 * for about the cost of one.
 */
export async function syncAll(paths: readonly string[]): Promise<void> {
  await settleAll(paths.map(async (path) => {
    const f = await Deno.open(path, { read: true });
    try {
      await f.sync();
    } finally {
      f.close();
    }
  }));
}

/** Wait for every one of `work` to settle, then throw the first failure, if any. */
export async function settleAll(work: readonly Promise<unknown>[]): Promise<void> {
  for (const r of await Promise.allSettled(work)) if (r.status === "rejected") throw r.reason;
}

/** The bytes of `parts`, one after another, in one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/** `length` bytes of `f` from `offset` (fewer at its end). */
export async function readAt(f: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await f.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = await f.read(out.subarray(got));
    if (n === null) break;
    got += n;
  }
  return out.subarray(0, got);
}

/** Write all of `data` to `file`. */
export async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await file.write(data.subarray(off));
}

/** Write `data` (bytes, or pieces of bytes in turn) to the new file `path` and fsync it. */
export async function writeNewFile(
  path: string,
  data: Uint8Array | Iterable<Uint8Array>,
): Promise<void> {
  const f = await Deno.open(path, { write: true, createNew: true });
  try {
    for (const piece of data instanceof Uint8Array ? [data] : data) await writeAll(f, piece);
    await f.sync();
  } finally {
    f.close();
  }
}

/** Open `path` (created if need be) and take its lock, shared or `exclusive`; close to release. */
export async function lockFile(path: string, exclusive: boolean): Promise<Deno.FsFile> {
  const f = await Deno.open(path, { read: true, write: true, create: true });
  await f.lock(exclusive);
  return f;
}

/** Wrap disk-full errors as NoSpaceError naming `what`; rethrow anything else. */
export function mapWriteError(err: unknown, what: string): never {
  if (isNoSpace(err)) {
    throw new NoSpaceError(`Out of disk space while writing ${what}: nothing was changed`, {
      what,
    });
  }
  throw err;
}

/**
 * Write `data` to `path` durably: temp file in `tmpDir` → fsync → rename → fsync of the
 * folder. Readers see the old file or the new one, never a mix. With `syncFolder: false`
 * the rename is not made durable: after a power cut `path` may be the old file (never a
 * torn one), for a file that is a cache of something already durable.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  tmpDir: string,
  options: { readonly syncFolder?: boolean } = {},
): Promise<void> {
  const tmp = tempPath(tmpDir);
  try {
    await writeNewFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    mapWriteError(err, path);
  }
  if (options.syncFolder ?? true) await syncDir(parentOf(path));
}

/**
 * Set `path`'s modification time to now, best effort (a file of another owner, or gone, is
 * left as it is): a write that finds its object already stored marks it as just written.
 */
export async function touch(path: string): Promise<void> {
  const now = new Date();
  await Deno.utime(path, now, now).catch(() => {});
}

/** The folder part of a host path. */
export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/**
 * True when the process `pid` is alive on this machine. Uses `kill(pid, 0)`, which sends
 * nothing: Deno refuses /proc without --allow-all, so a /proc check would call every
 * process alive and leave dead writers' temp files forever. Unknown means alive.
 */
export function processAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    // Deno's type allows only named signals, but it passes 0 through to kill(2).
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (err) {
    return !(err instanceof Deno.errors.NotFound);
  }
}

/** True when a file exists at `path` (without following a final symlink). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** `exists()`, synchronously. */
export function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Host paths `removeTree()` uses stay about this short (far below `PATH_MAX`). */
const REMOVE_PATH_BYTES = 512;
/** `removeTree()` lets other work run after this many file-system calls. */
const REMOVE_SLICE = 512;

/**
 * Remove `path` and everything under it, as `Deno.remove(path, { recursive: true })` does,
 * but for trees of any depth: no recursion (a stage can build a folder chain far deeper
 * than a native stack), and no host path longer than about `REMOVE_PATH_BYTES` (a chain can
 * be deeper than `PATH_MAX`, and the kernel resolves a long path slowly): a folder whose
 * path would be longer is first moved up into a scratch folder directly under `path`.
 * Entries a stage made unreadable or unwritable are removed too; a symlink is removed,
 * never followed. A missing `path` is not an error. The calls are synchronous (an
 * asynchronous call per entry costs several times the work itself), in slices between
 * which other work runs.
 */
export async function removeTree(path: string): Promise<void> {
  const top = ignoringNotFound(() => Deno.lstatSync(path));
  if (!top) return;
  if (!top.isDirectory) {
    ignoringNotFound(() => Deno.removeSync(path));
    return;
  }
  let flat: string | null = null;
  let moved = 0;
  let calls = 0;
  // Folders to list (`list`), or, once their entries are gone, to remove; a folder's removal
  // is queued under its children, so it comes after them.
  const pending: { dir: string; list: boolean }[] = [{ dir: path, list: true }];
  while (pending.length > 0) {
    if (++calls % REMOVE_SLICE === 0) await new Promise((r) => setTimeout(r, 0));
    const { dir, list } = pending.pop()!;
    const parent = dir === path ? null : parentOf(dir);
    if (!list) {
      if (dir === path && flat) ignoringNotFound(() => Deno.removeSync(flat!));
      ignoringNotFound(() => withAccess([parent], () => Deno.removeSync(dir)));
      continue;
    }
    const entries = ignoringNotFound(() =>
      withAccess([parent, dir], () => [...Deno.readDirSync(dir)])
    );
    if (!entries) continue;
    pending.push({ dir, list: false });
    for (const e of entries) {
      const child = `${dir}/${e.name}`;
      if (!e.isDirectory) {
        if (++calls % REMOVE_SLICE === 0) await new Promise((r) => setTimeout(r, 0));
        ignoringNotFound(() => withAccess([dir], () => Deno.removeSync(child)));
      } else if (child.length <= REMOVE_PATH_BYTES) {
        pending.push({ dir: child, list: true });
      } else {
        flat ??= Deno.makeTempDirSync({ dir: path, prefix: ".removing-" });
        const to = `${flat}/${moved++}`;
        // Moving a folder to a new parent rewrites its "..": it must be writable too.
        withAccess([dir, child], () => Deno.renameSync(child, to));
        pending.push({ dir: to, list: true });
      }
    }
  }
}

/**
 * Run `op`; if it is refused for lack of permission, give the owner full access to the
 * folders `dirs` (null: outside the tree, left alone) and run it once more.
 */
function withAccess<T>(dirs: readonly (string | null)[], op: () => T): T {
  try {
    return op();
  } catch (err) {
    if (!(err instanceof Deno.errors.PermissionDenied)) throw err;
    for (const d of dirs) if (d !== null) ignoringNotFound(() => Deno.chmodSync(d, 0o700));
    return op();
  }
}

/** `op()`, or undefined when what it works on is gone. */
function ignoringNotFound<T>(op: () => T): T | undefined {
  try {
    return op();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    return undefined;
  }
}

/** The folders of `dir` and above it that do not exist yet, outermost first. */
export function missingFolders(dir: string): string[] {
  const out: string[] = [];
  for (let at = dir; at !== "" && at !== "/"; at = parentOf(at)) {
    try {
      Deno.lstatSync(at);
      break;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) break;
    }
    out.unshift(at);
  }
  return out;
}
