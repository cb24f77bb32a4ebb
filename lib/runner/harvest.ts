/**
 * Output collection after a stage is gone, and the checks on folders a stage sees: walks
 * with `lstat` (never following a link), accepting regular files and folders only, within
 * size, count and name limits. Modes are ignored (unreadable entries are made readable).
 */
import { BadSourceError } from "../errors.ts";
import { MAX_NAME_BYTES, MAX_PATH_BYTES } from "../store/names.ts";

/** Limits on what one stage run may leave in its out folder. */
export interface OutputLimits {
  readonly maxOutputBytes: number;
  readonly maxOutputFiles: number;
}

/** One harvested file: path relative to the out folder, `/`-rooted, and its size. */
export interface OutputFile {
  readonly path: string;
  readonly size: number;
}

/** What `harvestOutputs()` found: the files, or why the out folder is refused. */
export type Harvest =
  | { readonly ok: true; readonly outputs: readonly OutputFile[]; readonly bytes: number }
  | {
    readonly ok: false;
    readonly outcome: "failed" | "output-limit";
    readonly message: string;
    readonly path: string;
  };

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** `n` bytes in words: "64 MiB", "1 GiB", "512 bytes". */
export function sizeText(n: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB"];
  if (n < 1024) return `${n} bytes`;
  let v = n;
  let unit = "bytes";
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  const digits = Number.isInteger(v) ? 0 : v < 10 ? 1 : 0;
  return `${v.toFixed(digits)} ${unit}`;
}

/** The kind of a non-regular entry, in words. */
function kindOf(info: Deno.FileInfo): string {
  if (info.isSymlink) return "a symlink";
  if (info.isFifo) return "a FIFO";
  if (info.isSocket) return "a socket";
  if (info.isBlockDevice) return "a block device";
  if (info.isCharDevice) return "a character device";
  return "not a regular file or folder";
}

/** Why `name` is not an acceptable output name, or null when it is. */
function badName(name: string): string | null {
  if (CONTROL.test(name)) return "holds a control character";
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) {
    return `is longer than ${MAX_NAME_BYTES} bytes`;
  }
  return null;
}

class Refused extends Error {
  constructor(
    readonly outcome: "failed" | "output-limit",
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

async function lstatOrRefuse(host: string, rel: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.lstat(host);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      // readDir decodes names lossily: a name that is not UTF-8 cannot be found again.
      throw new Refused(
        "failed",
        `Stage output ${JSON.stringify(shortPath(rel))} has a name that is not valid UTF-8`,
        rel,
      );
    }
    throw err;
  }
}

/**
 * How deep a stage's out folder may nest: an output path has at most this many segments
 * (`/a/b/c.txt` has 3). A deeper tree is refused at harvest, so no later step (the store's
 * trees, a downstream stage's inputs, `get file -r`) ever meets one.
 */
export const MAX_OUTPUT_DEPTH = 1000;

/** A long output path shortened for a message: its start and its end. */
function shortPath(rel: string): string {
  return rel.length <= 120 ? rel : `${rel.slice(0, 60)}…${rel.slice(-40)}`;
}

/** A folder being listed by the walk, and how far through its names it is. */
interface Frame {
  readonly host: string;
  readonly rel: string;
  readonly depth: number;
  readonly names: readonly string[];
  next: number;
}

async function sortedNames(host: string, rel: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(host)) names.push(e.name);
  } catch (err) {
    throw tooLong(err, rel || "/") ?? err;
  }
  return names.sort();
}

/** A refusal for a host path longer than the system allows, or null for any other error. */
function tooLong(err: unknown, rel: string): Refused | null {
  if (!(err instanceof Error) || (err as { code?: string }).code !== "ENAMETOOLONG") return null;
  return new Refused(
    "output-limit",
    `Stage output path ${JSON.stringify(shortPath(rel))} is too long for this system`,
    rel,
  );
}

/** UTF-8 bytes of `text`. */
function utf8Bytes(text: string): number {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short text needs no encoding.
  return text.length * 3 <= MAX_PATH_BYTES ? text.length : new TextEncoder().encode(text).length;
}

/** Options of `harvestOutputs()`. */
export interface HarvestOptions {
  /**
   * The out folder holds one folder per datum (datum batching): a path's length is counted
   * from inside its datum's folder, as the datum's output path it becomes.
   */
  readonly datumFolders?: boolean | undefined;
}

/**
 * Walk `outDir` and list its files, sorted by path. Refuses (naming the path) a symlink,
 * FIFO, socket or device anywhere in it, a bad name, more than `maxOutputFiles` entries,
 * more than `maxOutputBytes` in total, a path longer than the store keeps
 * (`MAX_PATH_BYTES`), or nesting deeper than `MAX_OUTPUT_DEPTH`. The walk keeps its own
 * stack, so no tree is too deep for it. Call only once the stage's processes are gone.
 */
export async function harvestOutputs(
  outDir: string,
  limits: OutputLimits,
  options: HarvestOptions = {},
): Promise<Harvest> {
  const outputs: OutputFile[] = [];
  let bytes = 0;
  let entries = 0;
  const visit = async (frame: Frame, name: string): Promise<Frame | null> => {
    const childRel = `${frame.rel}/${name}`;
    const why = badName(name);
    if (why) {
      throw new Refused(
        "failed",
        `Stage output name ${JSON.stringify(shortPath(childRel))} ${why}`,
        childRel,
      );
    }
    // The output path this entry becomes (a datum folder itself becomes none).
    const path = !options.datumFolders
      ? childRel
      : frame.depth === 0
      ? ""
      : childRel.slice(childRel.indexOf("/", 1));
    const pathBytes = utf8Bytes(path);
    if (pathBytes > MAX_PATH_BYTES) {
      throw new Refused(
        "output-limit",
        `Stage output path ${
          JSON.stringify(shortPath(path))
        } is too long: ${pathBytes} bytes, over the limit of ${MAX_PATH_BYTES} bytes`,
        childRel,
      );
    }
    entries++;
    if (entries > limits.maxOutputFiles) {
      throw new Refused(
        "output-limit",
        `Stage exceeded its output limit of ${limits.maxOutputFiles} files and folders`,
        childRel,
      );
    }
    const depth = frame.depth + 1;
    if (depth > MAX_OUTPUT_DEPTH) {
      throw new Refused(
        "output-limit",
        `Stage output ${
          JSON.stringify(shortPath(childRel))
        } is nested deeper than the limit of ${MAX_OUTPUT_DEPTH} levels`,
        childRel,
      );
    }
    const childHost = `${frame.host}/${name}`;
    const info = await lstatOrRefuse(childHost, childRel);
    if (info.isDirectory) {
      if (((info.mode ?? 0o700) & 0o700) !== 0o700) await Deno.chmod(childHost, 0o755);
      const names = await sortedNames(childHost, childRel);
      return { host: childHost, rel: childRel, depth, names, next: 0 };
    }
    if (info.isFile) {
      if (((info.mode ?? 0o600) & 0o600) !== 0o600) await Deno.chmod(childHost, 0o644);
      bytes += info.size;
      if (bytes > limits.maxOutputBytes) {
        throw new Refused(
          "output-limit",
          `Stage exceeded its output size limit of ${sizeText(limits.maxOutputBytes)}`,
          childRel,
        );
      }
      outputs.push({ path: childRel, size: info.size });
      return null;
    }
    throw new Refused(
      "failed",
      `Stage output ${JSON.stringify(shortPath(childRel))} is ${
        kindOf(info)
      }: only regular files and folders are accepted`,
      childRel,
    );
  };
  try {
    const root = await Deno.lstat(outDir).catch(() => null);
    if (!root?.isDirectory) {
      return {
        ok: false,
        outcome: "failed",
        message: "Stage removed or replaced its out folder",
        path: "/",
      };
    }
    if (((root.mode ?? 0o700) & 0o700) !== 0o700) await Deno.chmod(outDir, 0o755);
    // Depth first in name order, as a recursive walk would go, on an explicit stack.
    const stack: Frame[] = [
      { host: outDir, rel: "", depth: 0, names: await sortedNames(outDir, ""), next: 0 },
    ];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next === top.names.length) {
        stack.pop();
        continue;
      }
      const name = top.names[top.next++]!;
      try {
        const child = await visit(top, name);
        if (child) stack.push(child);
      } catch (err) {
        throw tooLong(err, `${top.rel}/${name}`) ?? err;
      }
    }
  } catch (err) {
    if (err instanceof Refused) {
      return { ok: false, outcome: err.outcome, message: err.message, path: err.path };
    }
    throw err;
  }
  return { ok: true, outputs, bytes };
}

/**
 * Size and entry count of the tree under `dir`, for watching a running stage: stops
 * counting once over either limit and skips entries that vanish meanwhile.
 */
export async function treeUsage(
  dir: string,
  limits: OutputLimits,
): Promise<{ bytes: number; entries: number }> {
  let bytes = 0;
  let entries = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const host = stack.pop()!;
    try {
      for await (const e of Deno.readDir(host)) {
        entries++;
        const child = `${host}/${e.name}`;
        if (e.isDirectory) stack.push(child);
        else if (e.isFile) bytes += (await Deno.lstat(child).catch(() => null))?.size ?? 0;
        if (bytes > limits.maxOutputBytes || entries > limits.maxOutputFiles) {
          return { bytes, entries };
        }
      }
    } catch {
      // Removed or unreadable meanwhile: the harvest will judge it.
    }
  }
  return { bytes, entries };
}

/**
 * Throw `BadSourceError` unless input folder `dir` of input `name` holds regular files and
 * folders only: a symlink there would lead a stage outside its inputs (Deno checks
 * permissions on the path, not on where a link points).
 */
export async function checkInputFolder(name: string, dir: string): Promise<void> {
  const root = await Deno.lstat(dir).catch(() => null);
  if (!root?.isDirectory) {
    throw new BadSourceError(`Input "${name}" is not a folder: "${dir}"`, { input: name, dir });
  }
  const stack: [string, string][] = [[dir, ""]];
  while (stack.length > 0) {
    const [host, rel] = stack.pop()!;
    for await (const e of Deno.readDir(host)) {
      const childHost = `${host}/${e.name}`;
      const childRel = `${rel}/${e.name}`;
      if (e.isDirectory) {
        stack.push([childHost, childRel]);
      } else if (!e.isFile) {
        const info = await Deno.lstat(childHost);
        throw new BadSourceError(
          `Input "${name}" holds ${kindOf(info)} at ${
            JSON.stringify(childRel)
          }: inputs must be regular files and folders`,
          { input: name, path: childRel },
        );
      }
    }
  }
}
