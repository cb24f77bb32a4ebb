/**
 * A store folder's life apart from its ledger: creating one atomically, finding one upward
 * from a folder, checking its mark, and recreating or clearing what a copy or a crash left
 * (empty folders a copy dropped, dead writers' temp files).
 */
import { AlreadyExistsError, InvalidArgumentError, NoStoreError } from "../errors.ts";
import { damagedEntry } from "./damage.ts";
import {
  exists,
  existsSync,
  mapWriteError,
  missingFolders,
  parentOf,
  processAlive,
  syncAll,
} from "./fs_util.ts";
import { Layout, STORE_MARK, STORE_MARK_CHUNKED } from "./layout.ts";

/** What a new store folder holds besides its empty parts (see `createFolder()`). */
export interface FolderContent {
  /** The ledger's bytes (default: none; `state` must be their replay). */
  readonly ledger?: Uint8Array;
  /**
   * Write more into the folder `at` (the staging folder) before it is put in place, without
   * syncing: returns every file and folder it made, which are synced with the rest.
   */
  readonly fill?: (at: Layout) => Promise<readonly string[]>;
  /** Called with the staging folder once it exists: the folder to remove if stopped. */
  readonly onStaging?: (path: string) => void;
  /** The store holds chunked folders: marked `tusk-store 2` (see `STORE_MARK_CHUNKED`). */
  readonly chunked?: boolean;
}

/**
 * Create a new store folder at `dir` holding the ledger and the state file `state` (and what
 * `content.fill` writes), atomically: it is put together beside `dir`, every file and folder
 * in it is synced (all at once), and it is renamed into place, so a crash leaves no half
 * store.
 */
export async function createFolder(
  dir: string,
  state: Uint8Array,
  content: FolderContent = {},
): Promise<void> {
  checkNewFolder(dir);
  const parent = parentOf(dir);
  const made = missingFolders(parent);
  Deno.mkdirSync(parent, { recursive: true });
  removeDeadStaging(dir);
  const staging = Layout.staging(dir, Deno.pid);
  const at = new Layout(staging);
  try {
    Deno.removeSync(staging, { recursive: true });
  } catch {
    // None left by an earlier process of this id.
  }
  try {
    // Small files in a folder no one else knows of: synchronous calls cost a fraction of
    // asynchronous ones.
    Deno.mkdirSync(staging);
    content.onStaging?.(staging);
    for (const sub of at.folders) Deno.mkdirSync(sub);
    Deno.writeFileSync(at.ledger, content.ledger ?? new Uint8Array());
    Deno.writeTextFileSync(at.lock, "");
    Deno.writeTextFileSync(at.gcLock, "");
    Deno.writeFileSync(at.state, state);
    const filled = content.fill ? await content.fill(at) : [];
    Deno.writeTextFileSync(at.mark, content.chunked ? STORE_MARK_CHUNKED : STORE_MARK);
    await syncAll([at.ledger, at.state, at.mark, ...filled, staging]);
    try {
      await Deno.rename(staging, dir);
    } catch (err) {
      if (
        err instanceof Deno.errors.AlreadyExists ||
        (err as { code?: string }).code === "ENOTEMPTY" || err instanceof Deno.errors.NotADirectory
      ) {
        throw new AlreadyExistsError(
          `Cannot create a store at "${dir}": ${
            err instanceof Deno.errors.NotADirectory
              ? "something that is not a folder (a file or a link) is there"
              : "the folder is not empty"
          }`,
          {
            path: dir,
          },
        );
      }
      throw err;
    }
    // The store's entry in its folder, and each folder made for it in the one above it.
    await syncAll([...new Set([parent, ...made.map(parentOf)])]);
  } catch (err) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    if (err instanceof AlreadyExistsError) throw err;
    mapWriteError(err, `a new store at "${dir}"`);
  }
}

/**
 * Check that a store can be made at `dir`: no store is there, and no part of the path is a
 * file (InvalidArgumentError). What else is in the way is found when the folder is put there.
 */
export function checkNewFolder(dir: string): void {
  let there: boolean;
  try {
    there = existsSync(new Layout(dir).mark);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotADirectory)) throw err;
    throw new InvalidArgumentError(
      `Cannot create a store at "${dir}": a part of that path is a file, not a folder`,
      { path: dir },
    );
  }
  if (there) {
    throw new AlreadyExistsError(`A tusk store already exists at "${dir}"`, { path: dir });
  }
}

/** Remove the staging folders of `dir` that processes now gone left (killed mid-way). */
function removeDeadStaging(dir: string): void {
  const at = dir.lastIndexOf("/");
  const prefix = Layout.staging(dir.slice(at + 1), 0).slice(0, -1);
  for (const e of Deno.readDirSync(dir.slice(0, Math.max(at, 0)) || "/")) {
    if (!e.name.startsWith(prefix)) continue;
    const pid = Number(e.name.slice(prefix.length));
    if (!Number.isSafeInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    try {
      Deno.removeSync(`${dir.slice(0, at)}/${e.name}`, { recursive: true });
    } catch {
      // Gone already, or not ours to remove: it is no store either way.
    }
  }
}

/** Check that `dir` is a store folder this version can read; NoStoreError if not. */
export function checkMark(dir: string): void {
  let mark: string;
  const path = new Layout(dir).mark;
  try {
    // Sync on purpose, as the listings below: every command opens a store, and a small read
    // is done faster than an async op is scheduled.
    mark = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.IsADirectory) throw damagedEntry(path, "file", FIXES.STORE);
    throw new NoStoreError(`No tusk store at "${dir}": run "tusk init" to create one`, {
      path: dir,
    });
  }
  if (mark !== STORE_MARK && mark !== STORE_MARK_CHUNKED) {
    throw new NoStoreError(`"${dir}" is not a tusk store this version can read`, { path: dir });
  }
}

/** The nearest store folder (`.tusk`) from `start` upward, or null. */
export async function findFolder(start: string): Promise<string | null> {
  let dir = start.replace(/\/+$/, "") || "/";
  while (true) {
    const root = Layout.under(dir);
    // A file named `.tusk` is no store: the search goes on upward.
    if (await exists(new Layout(root).mark).catch(() => false)) return root;
    if (dir === "/" || dir === "") return null;
    dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
  }
}

/** What to do about a fixed entry of the wrong kind that holds something, by its name. */
const FIXES: Readonly<Record<string, string>> = {
  // Version 2 reads as 1 does; it only keeps versions before chunked folders away.
  STORE: 'move it away and put back a file "STORE" holding the line "tusk-store 2"',
  ledger: "move it away and put back the ledger from a backup or the copy the store came " +
    "from: the store's history is in it",
  "state.json": "move it out of the store: the state is a cache of the ledger, and the next " +
    "command rebuilds it",
  lock: "move it out of the store: tusk makes a new lock file",
  "gc.lock": "move it out of the store: tusk makes a new lock file",
  objects: 'move it out of the store: tusk makes a new folder, and "tusk verify" then names ' +
    "any object lost with it",
  packs: 'move it out of the store: tusk makes a new folder, and "tusk verify" then names ' +
    "any object lost with it",
  tmp: "move it out of the store: tusk keeps only its own temp files there, and makes a new " +
    "folder",
  "scheduler.json": "move it out of the store: a scheduler writes a new one when it starts",
  "events.jsonl": "move it out of the store: tusk starts a new event journal",
  jobs: "move it out of the store: tusk makes a new folder (the job history it held is " +
    "lost, no data)",
  work: "move it out of the store: tusk makes a new folder for running jobs",
  "remotes.json": 'move it out of the store, then "tusk remote add" each remote again',
  "programs.json": "move it out of the store: tusk checks each host program in the sandbox " +
    "again",
  remotes: "move it out of the store: tusk makes a new folder and reads each remote afresh",
};

/**
 * Check every fixed entry of the store folder (`Layout.entries`) for its kind, and recreate
 * the folders a store may hold empty, which a copy may have dropped (object stores and some
 * copy tools keep no empty folder). An entry of the wrong kind that holds nothing (an empty
 * file where a folder belongs, an empty folder where a file does) and that tusk makes again
 * on demand is removed (and a folder made in its place); one that holds something is never
 * removed: IntegrityError names it and says what to do.
 */
export async function checkEntries(layout: Layout): Promise<void> {
  const restore = new Set(layout.folders);
  // One listing of the folder answers for every entry of the right kind (the usual case)
  // and every absent one that need not be made; only the rest are looked at one by one.
  const listed = new Map<string, Deno.DirEntry>();
  for (const e of Deno.readDirSync(layout.root)) listed.set(`${layout.root}/${e.name}`, e);
  await Promise.all(layout.entries.map(async (entry) => {
    const seen = listed.get(entry.path);
    if (seen === undefined && !restore.has(entry.path) && entry.absent !== "required") return;
    if (seen && !seen.isSymlink && seen.isDirectory === (entry.kind === "folder")) return;
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(entry.path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      // Missing, or a read-only copy: reading needs none of these folders, and a write
      // that does fails then with its own message.
      if (restore.has(entry.path)) await Deno.mkdir(entry.path).catch(() => {});
      return;
    }
    if (info.isDirectory === (entry.kind === "folder")) return;
    const name = entry.path.slice(entry.path.lastIndexOf("/") + 1);
    const damaged = damagedEntry(entry.path, entry.kind, FIXES[name]);
    if (entry.absent === "required" || !(await holdsNothing(entry.path, info))) throw damaged;
    try {
      await Deno.remove(entry.path);
      if (entry.kind === "folder") await Deno.mkdir(entry.path);
    } catch {
      // Read-only, or something was put there meanwhile: leave it, and say what it is.
      throw damaged;
    }
  }));
}

/** True for an empty file or an empty folder. */
async function holdsNothing(path: string, info: Deno.FileInfo): Promise<boolean> {
  if (info.isFile) return info.size === 0;
  if (!info.isDirectory) return false;
  for await (const _ of Deno.readDir(path)) return false;
  return true;
}

/** Remove the temp files of writers that are gone (a temp file's name starts with its pid). */
export async function cleanTemp(layout: Layout): Promise<void> {
  const tmp = layout.tmp;
  try {
    for (const e of Deno.readDirSync(tmp)) {
      const pid = Number(e.name.split(".")[0]);
      if (!Number.isInteger(pid) || !processAlive(pid)) {
        await Deno.remove(`${tmp}/${e.name}`, { recursive: true }).catch(() => {});
      }
    }
  } catch (err) {
    // A read-only copy without its empty tmp/ holds no temp files to clean.
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
