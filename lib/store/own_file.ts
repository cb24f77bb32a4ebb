/**
 * Files written in place (appended to, or cut back and appended to) are tusk's own, never
 * shared: a copy of the store made with hard links (`cp -al`, `rsync --link-dest` against an
 * earlier copy) shares each file with it, and a write in place would change the other copy
 * too. So such a file, found linked from another name, is first replaced by a fresh copy of
 * itself (written to `tmp/`, fsynced, renamed over it: the other copy keeps the file as it
 * was), and the write goes to that copy. This is what git does with its own files, which it
 * rewrites beside them and renames rather than writing through a shared one. The files
 * written only by rename (records, state) need nothing: a rename breaks the link itself.
 */
import { parentOf, syncDir, tempPath } from "./fs_util.ts";

/**
 * Open the file `path` with `options` (for writing in place), first replacing it by a fresh
 * copy of itself when other names link to it (see above). `tmpDir` is the store's `tmp/`.
 */
export async function openOwn(
  path: string,
  options: Deno.OpenOptions,
  tmpDir: string,
): Promise<Deno.FsFile> {
  const f = await Deno.open(path, options);
  let links: number;
  try {
    links = (await f.stat()).nlink ?? 1;
  } catch (err) {
    f.close();
    throw err;
  }
  if (links <= 1) return f;
  f.close();
  await replaceByCopy(path, tmpDir);
  return await Deno.open(path, options);
}

/** Replace the file `path` by a copy of itself, made in `tmpDir`, fsynced and renamed. */
async function replaceByCopy(path: string, tmpDir: string): Promise<void> {
  const tmp = tempPath(tmpDir);
  try {
    // The copy keeps the file's mode.
    await Deno.copyFile(path, tmp);
    const c = await Deno.open(tmp, { write: true });
    try {
      await c.syncData();
    } finally {
      c.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  await syncDir(parentOf(path));
}
