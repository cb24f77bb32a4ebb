/**
 * A store folder's life apart from its ledger: creating one atomically, finding one upward
 * from a folder, checking its mark, and recreating or clearing what a copy or a crash left
 * (empty folders a copy dropped, dead writers' temp files).
 */
import { AlreadyExistsError, NoStoreError } from "../errors.ts";
import { exists, mapWriteError, processAlive, syncDir } from "./fs_util.ts";
import { Layout, STORE_MARK } from "./layout.ts";

/**
 * Create a new store folder at `dir` holding an empty ledger and the state file `state`,
 * atomically: it is put together beside `dir` and renamed into place, so a crash leaves no
 * half store.
 */
export async function createFolder(dir: string, state: Uint8Array): Promise<void> {
  if (await exists(new Layout(dir).mark)) {
    throw new AlreadyExistsError(`A tusk store already exists at "${dir}"`, { path: dir });
  }
  const parent = dir.slice(0, Math.max(dir.lastIndexOf("/"), 0)) || "/";
  await Deno.mkdir(parent, { recursive: true });
  const staging = Layout.staging(dir, Deno.pid);
  const at = new Layout(staging);
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  try {
    for (const sub of at.folders) await Deno.mkdir(sub, { recursive: true });
    await Deno.writeFile(at.ledger, new Uint8Array());
    await Deno.writeTextFile(at.lock, "");
    await Deno.writeTextFile(at.gcLock, "");
    await Deno.writeFile(at.state, state);
    await Deno.writeTextFile(at.mark, STORE_MARK);
    for (const f of [at.ledger, at.state, at.mark]) {
      const h = await Deno.open(f, { read: true, write: true });
      await h.sync();
      h.close();
    }
    await syncDir(staging);
    try {
      await Deno.rename(staging, dir);
    } catch (err) {
      if (
        err instanceof Deno.errors.AlreadyExists ||
        (err as { code?: string }).code === "ENOTEMPTY"
      ) {
        throw new AlreadyExistsError(
          `Cannot create a store at "${dir}": the folder is not empty`,
          {
            path: dir,
          },
        );
      }
      throw err;
    }
    await syncDir(parent);
  } catch (err) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    if (err instanceof AlreadyExistsError) throw err;
    mapWriteError(err, `a new store at "${dir}"`);
  }
}

/** Check that `dir` is a store folder this version can read; NoStoreError if not. */
export async function checkMark(dir: string): Promise<void> {
  let mark: string;
  try {
    mark = await Deno.readTextFile(new Layout(dir).mark);
  } catch {
    throw new NoStoreError(`No tusk store at "${dir}": run "tusk init" to create one`, {
      path: dir,
    });
  }
  if (mark !== STORE_MARK) {
    throw new NoStoreError(`"${dir}" is not a tusk store this version can read`, { path: dir });
  }
}

/** The nearest store folder (`.tusk`) from `start` upward, or null. */
export async function findFolder(start: string): Promise<string | null> {
  let dir = start.replace(/\/+$/, "") || "/";
  while (true) {
    const root = Layout.under(dir);
    if (await exists(new Layout(root).mark)) return root;
    if (dir === "/" || dir === "") return null;
    dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
  }
}

/**
 * Recreate the folders a store may hold empty, which a copy may have dropped (object stores
 * and some copy tools keep no empty folder).
 */
export async function restoreFolders(layout: Layout): Promise<void> {
  for (const sub of layout.folders) {
    // Present already, or a read-only copy: reading needs none of them, and a write that
    // does fails then with its own message.
    await Deno.mkdir(sub).catch(() => {});
  }
}

/** Remove the temp files of writers that are gone (a temp file's name starts with its pid). */
export async function cleanTemp(layout: Layout): Promise<void> {
  const tmp = layout.tmp;
  try {
    for await (const e of Deno.readDir(tmp)) {
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
