/** `removeTree()`: removal of stage-made trees of any depth, modes and kinds. */
import assert from "node:assert/strict";
import { exists, removeTree, siblingTempPath } from "../../lib/store/fs_util.ts";
import { makeChain } from "../_deep_tree.ts";

/** A temporary folder, removed (by the function under test) when disposed. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "tusk-fs-util-" });
  return { path, [Symbol.asyncDispose]: () => removeTree(path) };
}

Deno.test("removeTree() removes a 12,000-level folder chain (deeper than a native stack and PATH_MAX)", async () => {
  await using dir = await tempDir();
  makeChain(dir.path, 12_000);
  await removeTree(`${dir.path}/d`);
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
});

Deno.test("removeTree() removes files and folders in every shape, keeping nothing", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/root`;
  for (let i = 0; i < 20; i++) {
    await Deno.mkdir(`${root}/${i}/a/b`, { recursive: true });
    await Deno.writeTextFile(`${root}/${i}/a/b/f.txt`, "x");
    await Deno.writeTextFile(`${root}/${i}/g.txt`, "y");
  }
  await Deno.mkdir(`${root}/empty`);
  await removeTree(root);
  assert.equal(await exists(root), false);
});

Deno.test("removeTree() removes folders and files a stage made unreadable and unwritable", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/root`;
  await Deno.mkdir(`${root}/a/b`, { recursive: true });
  await Deno.writeTextFile(`${root}/a/b/f.txt`, "x");
  await Deno.writeTextFile(`${root}/a/g.txt`, "y");
  await Deno.chmod(`${root}/a/b/f.txt`, 0o000);
  await Deno.chmod(`${root}/a/b`, 0o000);
  await Deno.chmod(`${root}/a`, 0o500);
  await Deno.chmod(root, 0o400);
  await removeTree(root);
  assert.equal(await exists(root), false);
});

Deno.test("removeTree() removes a symlink and never what it points to", async () => {
  await using dir = await tempDir();
  const keep = `${dir.path}/keep`;
  await Deno.mkdir(keep);
  await Deno.writeTextFile(`${keep}/precious.txt`, "keep me");
  await Deno.mkdir(`${dir.path}/root`);
  await Deno.symlink(keep, `${dir.path}/root/link`);
  await Deno.symlink(keep, `${dir.path}/toplink`);
  await removeTree(`${dir.path}/root`);
  await removeTree(`${dir.path}/toplink`);
  assert.equal(await Deno.readTextFile(`${keep}/precious.txt`), "keep me");
  assert.equal(await exists(`${dir.path}/root`), false);
  assert.equal(await exists(`${dir.path}/toplink`), false);
});

Deno.test("removeTree() of a missing path does nothing", async () => {
  await using dir = await tempDir();
  await removeTree(`${dir.path}/absent`);
  assert.equal(await exists(dir.path), true);
});

Deno.test("siblingTempPath() names a short temp file in the target's folder, whatever the target is called", () => {
  const long = "n".repeat(255);
  const a = siblingTempPath(`/some/dir/${long}`);
  const b = siblingTempPath(`/some/dir/${long}`);
  assert.match(a, /^\/some\/dir\/\.tusk-[0-9a-f]{16}\.tmp$/);
  assert.notEqual(a, b);
  assert.match(siblingTempPath("relative.txt"), /^\.tusk-[0-9a-f]{16}\.tmp$/);
});
