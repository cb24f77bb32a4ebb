/**
 * Why a host path given with `-o` cannot be written, as a typed error naming it: the
 * file-system error of `Deno.open`/`Deno.mkdir` said in the user's terms.
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
