/** Output harvest and input checks: lstat walks, kinds, names, limits and modes. */
import assert from "node:assert/strict";
import { BadSourceError } from "../../lib/errors.ts";
import {
  checkInputFolder,
  harvestOutputs,
  MAX_OUTPUT_DEPTH,
  sizeText,
} from "../../lib/runner/harvest.ts";
import { MAX_PATH_BYTES } from "../../lib/store/names.ts";
import { removeTree } from "../../lib/store/fs_util.ts";
import { makeChain } from "../_deep_tree.ts";

const LIMITS = { maxOutputBytes: 1024, maxOutputFiles: 10 };
/** Limits that a deep chain stays within, so only its depth can be refused. */
const DEEP = { maxOutputBytes: 1024, maxOutputFiles: 100_000 };

/** A temporary folder removed when disposed. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "tusk-harvest-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await removeTree(path);
    },
  };
}

Deno.test("harvestOutputs() lists files under nested folders, sorted, with sizes", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/b/c`, { recursive: true });
  await Deno.mkdir(`${dir.path}/empty`);
  await Deno.writeTextFile(`${dir.path}/b/c/deep.txt`, "deep");
  await Deno.writeTextFile(`${dir.path}/a.txt`, "a");
  const h = await harvestOutputs(dir.path, LIMITS);
  assert.deepEqual(h, {
    ok: true,
    bytes: 5,
    outputs: [{ path: "/a.txt", size: 1 }, { path: "/b/c/deep.txt", size: 4 }],
  });
});

Deno.test("harvestOutputs() refuses a symlink and names it", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/sub`);
  await Deno.symlink("/etc/passwd", `${dir.path}/sub/link`);
  const h = await harvestOutputs(dir.path, LIMITS);
  assert.equal(h.ok, false);
  assert.ok(!h.ok && h.outcome === "failed" && h.path === "/sub/link");
  assert.ok(!h.ok && /"\/sub\/link" is a symlink/.test(h.message));
});

Deno.test("harvestOutputs() refuses a symlink to a folder without following it", async () => {
  await using dir = await tempDir();
  await Deno.symlink("/etc", `${dir.path}/etc`);
  const h = await harvestOutputs(dir.path, LIMITS);
  assert.ok(!h.ok && h.path === "/etc");
});

Deno.test("harvestOutputs() refuses a FIFO and names it", async () => {
  await using dir = await tempDir();
  const made = await new Deno.Command("mkfifo", { args: [`${dir.path}/pipe`] }).output();
  assert.ok(made.success);
  const h = await harvestOutputs(dir.path, LIMITS);
  assert.ok(!h.ok && h.outcome === "failed" && /"\/pipe" is a FIFO/.test(h.message));
});

Deno.test("harvestOutputs() refuses a name holding a control character", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/bad\u0007name`, "x");
  const h = await harvestOutputs(dir.path, LIMITS);
  assert.ok(!h.ok && h.outcome === "failed" && /control character/.test(h.message));
});

Deno.test("harvestOutputs() refuses more bytes than maxOutputBytes", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/big`, new Uint8Array(2048));
  const h = await harvestOutputs(dir.path, LIMITS);
  assert.ok(!h.ok && h.outcome === "output-limit");
  assert.ok(!h.ok && h.message === "Stage exceeded its output size limit of 1 KiB");
});

Deno.test("harvestOutputs() refuses more entries than maxOutputFiles", async () => {
  await using dir = await tempDir();
  for (let i = 0; i < 11; i++) await Deno.writeTextFile(`${dir.path}/f${i}`, "");
  const h = await harvestOutputs(dir.path, LIMITS);
  assert.ok(!h.ok && h.outcome === "output-limit" && /10 files and folders/.test(h.message));
});

Deno.test("harvestOutputs() ignores modes and makes unreadable entries readable", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/locked`);
  await Deno.writeTextFile(`${dir.path}/locked/f.txt`, "x");
  await Deno.chmod(`${dir.path}/locked/f.txt`, 0o000);
  await Deno.chmod(`${dir.path}/locked`, 0o000);
  const h = await harvestOutputs(dir.path, LIMITS);
  assert.deepEqual(h.ok && h.outputs, [{ path: "/locked/f.txt", size: 1 }]);
  assert.equal((await Deno.stat(`${dir.path}/locked/f.txt`)).mode! & 0o600, 0o600);
});

Deno.test("harvestOutputs() fails when the out folder is gone or replaced by a link", async () => {
  await using dir = await tempDir();
  await Deno.symlink("/etc", `${dir.path}/out`);
  const h = await harvestOutputs(`${dir.path}/out`, LIMITS);
  assert.ok(!h.ok && h.outcome === "failed");
});

Deno.test("harvestOutputs() accepts a file exactly MAX_OUTPUT_DEPTH segments deep", async () => {
  await using dir = await tempDir();
  makeChain(dir.path, MAX_OUTPUT_DEPTH);
  const h = await harvestOutputs(dir.path, DEEP);
  assert.ok(h.ok, !h.ok ? h.message : "");
  assert.equal(h.outputs.length, 1);
  assert.equal(h.outputs[0]!.path, "/d".repeat(MAX_OUTPUT_DEPTH - 1) + "/leaf.txt");
});

Deno.test("harvestOutputs() refuses a tree one level deeper than MAX_OUTPUT_DEPTH, naming the limit", async () => {
  await using dir = await tempDir();
  makeChain(dir.path, MAX_OUTPUT_DEPTH + 1);
  const h = await harvestOutputs(dir.path, DEEP);
  assert.ok(!h.ok, "refused");
  assert.equal(h.outcome, "output-limit");
  assert.ok(h.message.includes(`limit of ${MAX_OUTPUT_DEPTH} levels`), h.message);
  assert.equal(h.path.split("/").length - 1, MAX_OUTPUT_DEPTH + 1);
});

Deno.test("harvestOutputs() refuses a path longer than the system allows, without throwing", async () => {
  await using dir = await tempDir();
  // 20 levels of 250-byte names: 5 KB, past PATH_MAX, built by renames at the top.
  const name = "n".repeat(250);
  Deno.mkdirSync(`${dir.path}/${name}`);
  for (let level = 1; level < 20; level++) {
    Deno.mkdirSync(`${dir.path}/t`);
    Deno.renameSync(`${dir.path}/${name}`, `${dir.path}/t/${name}`);
    Deno.renameSync(`${dir.path}/t`, `${dir.path}/${name}`);
  }
  const h = await harvestOutputs(dir.path, DEEP);
  assert.ok(!h.ok && h.outcome === "output-limit" && /too long/.test(h.message));
  assert.ok(!h.ok && h.message.length < 300, "the message shortens the path");
});

/**
 * Make under `root` a file whose `/`-rooted path takes `bytes` bytes: folders of 200-byte
 * names, then a file named to fit. Returns the path.
 */
async function pathOf(root: string, bytes: number, prefix = ""): Promise<string> {
  let rel = prefix;
  while (bytes - rel.length > 201 + 50) rel += `/${"d".repeat(200)}`;
  await Deno.mkdir(`${root}${rel}`, { recursive: true });
  rel += `/${"f".repeat(bytes - rel.length - 1)}`;
  await Deno.writeTextFile(`${root}${rel}`, "x");
  return rel;
}

Deno.test("harvestOutputs() accepts an output path of exactly MAX_PATH_BYTES", async () => {
  await using dir = await tempDir();
  const rel = await pathOf(dir.path, MAX_PATH_BYTES);
  assert.equal(rel.length, MAX_PATH_BYTES);
  const h = await harvestOutputs(dir.path, DEEP);
  assert.ok(h.ok, !h.ok ? h.message : "");
  assert.deepEqual(h.outputs, [{ path: rel, size: 1 }]);
});

Deno.test("harvestOutputs() refuses an output path longer than MAX_PATH_BYTES as output-limit, naming it", async () => {
  await using dir = await tempDir();
  const rel = await pathOf(dir.path, MAX_PATH_BYTES + 1);
  const h = await harvestOutputs(dir.path, DEEP);
  assert.ok(!h.ok, "refused");
  assert.equal(h.outcome, "output-limit");
  assert.equal(h.path, rel);
  assert.ok(h.message.includes(`${MAX_PATH_BYTES} bytes`), h.message);
  assert.ok(h.message.length < 300, "the message shortens the path");
});

Deno.test("harvestOutputs() with datumFolders counts a path from inside its datum's folder", async () => {
  await using dir = await tempDir();
  const id = "a".repeat(64);
  const rel = await pathOf(dir.path, MAX_PATH_BYTES + 65, `/${id}`);
  const h = await harvestOutputs(dir.path, DEEP, { datumFolders: true });
  assert.ok(h.ok, !h.ok ? h.message : "");
  assert.deepEqual(h.outputs, [{ path: rel, size: 1 }]);
  await Deno.rename(`${dir.path}${rel}`, `${dir.path}${rel}f`);
  const over = await harvestOutputs(dir.path, DEEP, { datumFolders: true });
  assert.ok(!over.ok && over.outcome === "output-limit", "refused one byte over");
});

Deno.test("checkInputFolder() accepts files and folders and refuses a symlink", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/a/b`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/a/b/x.csv`, "1");
  await checkInputFolder("iris", dir.path);
  await Deno.symlink("../../x", `${dir.path}/a/b/l`);
  await assert.rejects(
    checkInputFolder("iris", dir.path),
    (err: unknown) => err instanceof BadSourceError && err.data.path === "/a/b/l",
  );
});

Deno.test("sizeText() names sizes in binary units", () => {
  assert.equal(sizeText(512), "512 bytes");
  assert.equal(sizeText(128 * 1024 * 1024), "128 MiB");
  assert.equal(sizeText(1024 ** 3), "1 GiB");
  assert.equal(sizeText(1536), "1.5 KiB");
});
