/**
 * Build folder chains deeper than a native stack or `PATH_MAX` allows, the way a stage can:
 * each level is added at the top by renames, so no host path used grows with the depth.
 */

/**
 * Make `root/d/d/…/d/leaf.txt` (holding "leaf\n") with the file `depth` segments deep.
 * `root` must exist; it gets a folder `d` (and, while building, `t`).
 */
export function makeChain(root: string, depth: number): void {
  Deno.mkdirSync(`${root}/d`);
  Deno.writeTextFileSync(`${root}/d/leaf.txt`, "leaf\n");
  for (let level = 2; level < depth; level++) {
    Deno.mkdirSync(`${root}/t`);
    Deno.renameSync(`${root}/d`, `${root}/t/d`);
    Deno.renameSync(`${root}/t`, `${root}/d`);
  }
}
