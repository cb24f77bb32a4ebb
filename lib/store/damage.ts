/**
 * A store entry of the wrong kind — a folder where tusk keeps a file, a file where it keeps a
 * folder — said as what it is: an IntegrityError naming the entry and what to do, never the
 * file system's bare "Is a directory" (which the CLI would report as a bug). The fixed
 * entries are checked when a store is opened (`folder.ts`); the parts that open entries
 * below them (objects, packs, job records) map their errors through `wrongKindError()`.
 */
import { IntegrityError } from "../errors.ts";

/** What a store entry must be. */
export type EntryKind = "file" | "folder";

/** What to do about a damaged entry, unless its owner knows better. */
export const MOVE_IT_AWAY =
  'move it out of the store and run the command again ("tusk verify" then names anything lost with it)';

/** The error for the store entry at `path`, which should be a `want` and is not. */
export function damagedEntry(path: string, want: EntryKind, fix = MOVE_IT_AWAY): IntegrityError {
  return new IntegrityError(
    `The store is damaged: "${path}" is ${want === "file" ? "a folder" : "a file"} where tusk ` +
      `keeps a ${want}: ${fix}`,
    { path, problem: "wrong-kind", want, repair: fix },
  );
}

/**
 * True when `err` is the file system refusing an entry for its kind: "is a directory", "not
 * a directory" (a file where a folder of the path should be), or "already exists" (a
 * folder made over a file).
 */
export function isWrongKind(err: unknown): boolean {
  return err instanceof Deno.errors.IsADirectory || err instanceof Deno.errors.NotADirectory ||
    err instanceof Deno.errors.AlreadyExists;
}

/**
 * The error to throw for `err`, raised using the store entry `path` (a `want`, under the
 * store folder `root`): when an entry on the way has the wrong kind, the damaged-entry error
 * naming the first such one; `err` itself otherwise. Only called on an error, so the checks
 * cost nothing on the way that works.
 */
export async function wrongKindError(
  err: unknown,
  root: string,
  path: string,
  want: EntryKind,
  fix?: string,
): Promise<unknown> {
  if (!isWrongKind(err) || !path.startsWith(`${root}/`)) return err;
  const parts = path.slice(root.length + 1).split("/");
  let at = root;
  for (let i = 0; i < parts.length; i++) {
    at += `/${parts[i]}`;
    const last = i === parts.length - 1;
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(at);
    } catch {
      return err;
    }
    if (!last && !info.isDirectory) return damagedEntry(at, "folder", fix);
    if (last && want === "file" && info.isDirectory) return damagedEntry(at, "file", fix);
    if (last && want === "folder" && !info.isDirectory) return damagedEntry(at, "folder", fix);
  }
  return err;
}

/** The object `hash` in the pack `pack` does not match its hash. */
export function corrupt(pack: string, hash: string): IntegrityError {
  return new IntegrityError(
    `Object ${hash} in pack ${pack} is corrupt: its content does not match its hash`,
    { pack, object: hash },
  );
}

/** `path` quoted for a POSIX shell: in single quotes, each single quote as `'\''`. */
export function shellQuoted(path: string): string {
  return `'${path.replaceAll("'", `'\\''`)}'`;
}

/**
 * A shell command that removes each of `paths`, whether a file, a folder, a link or
 * missing: `rm -rf -- '<path>' …` (a plain `rm` refuses a folder).
 */
export function removeCommand(paths: readonly string[]): string {
  return `rm -rf -- ${paths.map(shellQuoted).join(" ")}`;
}
