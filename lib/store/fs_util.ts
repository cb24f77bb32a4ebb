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

/** fsync a folder so that renames and creations inside it survive a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const f = await Deno.open(dir, { read: true });
  try {
    await f.sync();
  } finally {
    f.close();
  }
}

/** Write all of `data` to `file`. */
export async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await file.write(data.subarray(off));
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
 * folder. Readers see the old file or the new one, never a mix.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  tmpDir: string,
): Promise<void> {
  const tmp = tempPath(tmpDir);
  try {
    const f = await Deno.open(tmp, { write: true, createNew: true });
    try {
      await writeAll(f, data);
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    mapWriteError(err, path);
  }
  await syncDir(parentOf(path));
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
