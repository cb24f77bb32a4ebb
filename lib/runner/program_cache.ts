/**
 * What a store remembers of the host programs its pipelines run (`programs.json`): for each
 * program file that was checked in the sandbox, its identity (real path, device, inode, size,
 * modification and change times), its SHA-256 and its version line. A second pipeline using
 * `python3`, or a later job of one, then neither starts it in the sandbox again nor reads and
 * hashes it: a file whose identity still matches is the file that was checked. Any change to
 * the file (a package upgrade replaces it: a new inode and change time) or to `bwrap` is a
 * miss, and the program is checked again.
 *
 * A cache, and nothing more: a missing, unreadable or damaged file is an empty cache, and a
 * write that fails (a read-only store) or races another process's loses an entry, never
 * correctness. It is written temp → rename without fsync: a power loss leaves the old file,
 * the new one, or a torn one that reads as empty.
 */
import type { Hash } from "../store/hash.ts";
import { tempPath } from "../store/fs_util.ts";
import type { Layout } from "../store/layout.ts";

/** The most programs remembered; the oldest entries go first. */
const MAX_ENTRIES = 64;

/** What the cache knows of one checked program file. */
export interface CheckedProgram {
  readonly sha256: Hash;
  /** The first line of `--version` in the sandbox, or null when it printed none. */
  readonly version: string | null;
}

/** One entry of `programs.json`. */
interface Entry extends CheckedProgram {
  readonly realPath: string;
  /** The identity of the file and of bwrap when it was checked (`identity()`). */
  readonly file: string;
  readonly bwrap: string;
}

/** A file's identity: a rewrite, a replacement or a `touch` changes it. */
function identity(path: string, info: Deno.FileInfo): string {
  return [
    path,
    info.dev,
    info.ino,
    info.size,
    info.mtime?.getTime() ?? "",
    info.ctime?.getTime() ?? "",
  ].join(":");
}

function isEntry(v: unknown): v is Entry {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.realPath === "string" && typeof e.file === "string" &&
    typeof e.bwrap === "string" && typeof e.sha256 === "string" &&
    /^[0-9a-f]{64}$/.test(e.sha256) && (e.version === null || typeof e.version === "string");
}

/** The host programs a store has checked in the sandbox (see the module comment). */
export class ProgramCache {
  readonly #file: string;
  readonly #tmpDir: string;

  /** A cache kept in the file `file`, written through temp files in `tmpDir`. */
  constructor(file: string, tmpDir: string) {
    this.#file = file;
    this.#tmpDir = tmpDir;
  }

  /** The cache of the store whose folder is laid out as `layout` (its `programs.json`). */
  static of(layout: Pick<Layout, "programs" | "tmp">): ProgramCache {
    return new ProgramCache(layout.programs, layout.tmp);
  }

  async #read(): Promise<Entry[]> {
    try {
      const data = JSON.parse(await Deno.readTextFile(this.#file));
      return Array.isArray(data?.programs) ? data.programs.filter(isEntry) : [];
    } catch {
      return [];
    }
  }

  /**
   * What was found when the program file at real path `realPath` (whose `stat` is `info`) was
   * checked with the bwrap at `bwrap`, if both are still the files they were; else null.
   */
  async lookup(
    realPath: string,
    info: Deno.FileInfo,
    bwrap: string,
  ): Promise<CheckedProgram | null> {
    const bwrapInfo = await Deno.stat(bwrap).catch(() => null);
    if (!bwrapInfo) return null;
    const file = identity(realPath, info);
    const box = identity(bwrap, bwrapInfo);
    const hit = (await this.#read()).find((e) => e.file === file && e.bwrap === box);
    return hit ? { sha256: hit.sha256, version: hit.version } : null;
  }

  /** Remember what checking `realPath` (as `info` shows it) with `bwrap` found; best effort. */
  async remember(
    realPath: string,
    info: Deno.FileInfo,
    bwrap: string,
    checked: CheckedProgram,
  ): Promise<void> {
    const bwrapInfo = await Deno.stat(bwrap).catch(() => null);
    if (!bwrapInfo) return;
    const entry: Entry = {
      realPath,
      file: identity(realPath, info),
      bwrap: identity(bwrap, bwrapInfo),
      sha256: checked.sha256,
      version: checked.version,
    };
    const kept = (await this.#read()).filter((e) => e.realPath !== realPath);
    const programs = [...kept.slice(-(MAX_ENTRIES - 1)), entry];
    const tmp = tempPath(this.#tmpDir);
    try {
      await Deno.writeTextFile(tmp, JSON.stringify({ programs }, null, 1) + "\n");
      await Deno.rename(tmp, this.#file);
    } catch {
      await Deno.remove(tmp).catch(() => {});
    }
  }
}
