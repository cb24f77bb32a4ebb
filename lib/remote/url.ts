/**
 * Remote URLs, pure: a folder (`/mnt/backup/tusk`, a relative path, or `file:///…`) or an
 * S3 bucket with an optional key prefix (`s3://bucket/prefix`). Anything else is refused
 * with the URL named.
 */
import { InvalidArgumentError } from "../errors.ts";

/** Where a remote lives. `url` is its canonical spelling, as `remote list` shows it. */
export type RemoteUrl =
  | { readonly kind: "folder"; readonly url: string; readonly path: string }
  | { readonly kind: "s3"; readonly url: string; readonly bucket: string; readonly prefix: string };

/** S3's bucket naming rule (3 to 63 lower-case letters, digits, dots and hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function bad(text: string, why: string): never {
  throw new InvalidArgumentError(
    `Invalid remote URL "${text}": ${why} (give a folder, file:///path or s3://bucket/prefix)`,
    { url: text },
  );
}

/** Normalise an absolute folder path: no empty, `.` or `..` segments, no trailing slash. */
function folderPath(text: string, path: string): string {
  if (path.includes("\0")) bad(text, "it holds a NUL character");
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

/** Parse a remote URL; a relative folder path is taken from `cwd`. */
export function parseRemoteUrl(text: string, cwd: string): RemoteUrl {
  if (text.trim() === "") bad(text, "it is empty");
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    const path = folderPath(text, text.startsWith("/") ? text : `${cwd}/${text}`);
    return { kind: "folder", url: path, path };
  }
  if (scheme === "file") {
    const rest = text.slice("file://".length);
    if (!rest.startsWith("/")) bad(text, "a file URL names a path on this machine: file:///path");
    let path: string;
    try {
      path = decodeURIComponent(rest);
    } catch {
      bad(text, "it has a broken %-escape");
    }
    const p = folderPath(text, path);
    return { kind: "folder", url: p, path: p };
  }
  if (scheme === "s3") {
    const rest = text.slice("s3://".length);
    const slash = rest.indexOf("/");
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (!BUCKET.test(bucket) || bucket.includes("..")) {
      bad(text, `"${bucket}" is not an S3 bucket name`);
    }
    const prefix = (slash < 0 ? "" : rest.slice(slash + 1)).split("/").filter((s) => s !== "")
      .join("/");
    if (prefix.split("/").some((s) => s === "." || s === "..")) {
      bad(text, "its prefix holds a . or .. segment");
    }
    return { kind: "s3", url: `s3://${bucket}${prefix ? `/${prefix}` : ""}`, bucket, prefix };
  }
  bad(text, `tusk has no "${scheme}" remotes`);
}

/** The folder name `clone` makes by default: the URL's last segment (`s3://b/iris` → `iris`). */
export function defaultCloneName(url: RemoteUrl): string {
  const last = url.kind === "folder"
    ? url.path.split("/").filter(Boolean).pop()
    : (url.prefix.split("/").filter(Boolean).pop() ?? url.bucket);
  return (last ?? "store").replace(/\.tusk$/, "") || "store";
}
