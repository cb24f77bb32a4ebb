/**
 * Host paths given to `-o` and `-f`: why one cannot be written, as a typed error naming it
 * (the file-system error of `Deno.open`/`Deno.mkdir` said in the user's terms), and which
 * names stand for the standard streams.
 */
import { BadSourceError, InvalidArgumentError } from "../errors.ts";

/**
 * The clear error for `err`, raised writing `path` (a `file` or a `folder` that `-o`
 * names); `err` itself when it is not about the path.
 */
export function hostOutputError(err: unknown, path: string, want: "file" | "folder"): unknown {
  const parent = path.slice(0, path.lastIndexOf("/")) || "/";
  const data = { option: "-o", path };
  if (err instanceof Deno.errors.IsADirectory) {
    return new InvalidArgumentError(
      `Cannot write "${path}": it is a folder; give -o a file path (or use -r for a folder)`,
      data,
    );
  }
  if (err instanceof Deno.errors.AlreadyExists) {
    return new InvalidArgumentError(
      `Cannot write into "${path}": it is a file, not a folder; give -o a folder`,
      data,
    );
  }
  if (err instanceof Deno.errors.NotFound) {
    return new InvalidArgumentError(
      `Cannot write "${path}": folder "${parent}" does not exist; create it first`,
      data,
    );
  }
  if (err instanceof Deno.errors.NotADirectory) {
    return new InvalidArgumentError(
      `Cannot write ${want === "file" ? "" : "into "}"${path}": a part of its path is a file, ` +
        `not a folder`,
      data,
    );
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new BadSourceError(`Cannot write "${path}": permission denied`, data);
  }
  if (err instanceof Deno.errors.NotCapable) {
    return new BadSourceError(
      `Cannot write ${want === "file" ? "" : "into "}"${path}": ${PSEUDO_FILES}; give -o a ` +
        `${want} elsewhere`,
      data,
    );
  }
  if ((err as { code?: unknown } | null)?.code === "ENAMETOOLONG") {
    const shown = path.length > 120 ? `${path.slice(0, 60)}…${path.slice(-40)}` : path;
    return new BadSourceError(
      `Cannot write "${shown}": the path is longer than this host allows (4096 bytes); ` +
        `give -o a folder with a shorter path`,
      { option: "-o", path: shown },
    );
  }
  return err;
}

/**
 * Why a path under /proc, /sys or /dev is out of reach: the Deno permissions tusk runs with
 * (never `--allow-all`) exclude them, but for /dev/null, /dev/zero and a few like them.
 */
export const PSEUDO_FILES = "tusk does not read or write pseudo and device files under /proc, " +
  "/sys or /dev (its Deno permissions exclude them, but for /dev/null and /dev/zero)";

/** Which standard stream `path` names (`/dev/stdin`, `/dev/fd/1`, `/proc/self/fd/1`), if any. */
export function standardStream(path: string): "stdin" | "stdout" | "stderr" | null {
  const m = /^\/(?:dev\/(?:(stdin|stdout|stderr)|fd\/([012]))|proc\/self\/fd\/([012]))$/.exec(
    path,
  );
  if (!m) return null;
  if (m[1]) return m[1] as "stdin" | "stdout" | "stderr";
  return (["stdin", "stdout", "stderr"] as const)[Number(m[2] ?? m[3])]!;
}

/** A host path given to `-f` or `-o`, made absolute against `cwd` (default: the working folder). */
export function resolveHost(path: string, cwd: string | undefined): string {
  if (path.startsWith("/")) return path;
  return `${cwd ?? Deno.cwd()}/${path}`.replace(/\/\.(?=\/|$)/g, "");
}
