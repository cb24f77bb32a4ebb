/**
 * Code folder snapshots of host-program stages: every regular file, as a tree whose hash is
 * the same wherever the folder is; links followed only inside; version control, byte-code
 * caches and the store left out; devices, links out, loops and folders over the limits
 * refused by name.
 */
import assert from "node:assert/strict";
import { SpecError } from "../../lib/pipeline/spec/spec_error.ts";
import { snapshotCodeFolder } from "../../lib/pipeline/code_folder.ts";
import { decodeTree } from "../../lib/store/codec.ts";
import { tempDir } from "../_helpers.ts";

/** Write `files` (path → text) under `dir`. */
async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
}

/** Assert `p` rejects with a SpecError breaking `rule`, whose message matches `pattern`. */
async function refused(p: Promise<unknown>, rule: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof SpecError, String(err));
    assert.equal(err.rule, rule, err.message);
    assert.match(err.message, pattern);
    assert.equal(err.exitCode, 2);
    return true;
  });
}

Deno.test("snapshotCodeFolder() stores every file of the folder as a tree", async () => {
  await using d = await tempDir();
  await write(d.path, { "train.py": "print(1)\n", "lib/util.py": "X = 2\n", "spec.json": "{}" });
  const s = await snapshotCodeFolder(d.path);
  assert.deepEqual(s.files, ["/lib/util.py", "/spec.json", "/train.py"]);
  assert.equal(s.bytes, 9 + 6 + 2);
  const root = decodeTree(s.objects.get(s.hash)!, s.hash);
  assert.deepEqual(root.map((e) => [e.name, e.kind]), [
    ["lib", "dir"],
    ["spec.json", "file"],
    ["train.py", "file"],
  ]);
  const file = root.find((e) => e.name === "train.py")!;
  assert.equal(new TextDecoder().decode(s.objects.get(file.hash)), "print(1)\n");
});

Deno.test("snapshotCodeFolder() gives the same hash for the same files anywhere", async () => {
  await using a = await tempDir();
  await using b = await tempDir();
  const files = { "run.py": "print('x')\n", "sub/data.txt": "1 2 3\n" };
  await write(a.path, files);
  await write(`${b.path}/deeper/still`, files);
  const sa = await snapshotCodeFolder(a.path);
  const sb = await snapshotCodeFolder(`${b.path}/deeper/still`);
  assert.equal(sa.hash, sb.hash);
});

Deno.test("snapshotCodeFolder() gives another hash when one byte of the code changes", async () => {
  await using d = await tempDir();
  await write(d.path, { "run.py": "print('x')\n" });
  const before = await snapshotCodeFolder(d.path);
  await write(d.path, { "run.py": "print('y')\n" });
  const after = await snapshotCodeFolder(d.path);
  assert.notEqual(before.hash, after.hash);
});

Deno.test("snapshotCodeFolder() leaves out .git, __pycache__ and the folders it is told to skip", async () => {
  await using d = await tempDir();
  await write(d.path, {
    "run.py": "print(1)\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    "__pycache__/run.cpython-311.pyc": "\0\0",
    "pkg/__pycache__/x.pyc": "\0",
    "pkg/x.py": "",
    ".tusk/ledger": "entries",
  });
  const s = await snapshotCodeFolder(d.path, { skip: [`${d.path}/.tusk`] });
  assert.deepEqual(s.files, ["/pkg/x.py", "/run.py"]);
});

Deno.test("snapshotCodeFolder() follows a link that stays inside the folder", async () => {
  await using d = await tempDir();
  await write(d.path, { "lib/real.py": "Y = 1\n" });
  await Deno.symlink("lib/real.py", `${d.path}/alias.py`);
  await Deno.symlink("lib", `${d.path}/lib2`);
  const s = await snapshotCodeFolder(d.path);
  assert.deepEqual(s.files, ["/alias.py", "/lib/real.py", "/lib2/real.py"]);
});

Deno.test("snapshotCodeFolder() refuses a link out of the folder, naming it and its target", async () => {
  await using d = await tempDir();
  await using outside = await tempDir();
  await write(`${d.path}/code`, { "run.py": "" });
  await write(outside.path, { "secret.txt": "s" });
  await Deno.symlink(`${outside.path}/secret.txt`, `${d.path}/code/data.txt`);
  await refused(
    snapshotCodeFolder(`${d.path}/code`, { specFile: `${d.path}/code/spec.json` }),
    "STAGE_OUTSIDE",
    new RegExp(`data\\.txt", a link to ".*secret\\.txt" outside it`),
  );
});

Deno.test("snapshotCodeFolder() refuses a link to a folder above it (a loop)", async () => {
  await using d = await tempDir();
  await write(d.path, { "a/run.py": "" });
  await Deno.symlink("..", `${d.path}/a/up`);
  await refused(snapshotCodeFolder(d.path), "BAD_CODE", /a loop/);
});

Deno.test("snapshotCodeFolder() refuses a link to nothing", async () => {
  await using d = await tempDir();
  await write(d.path, { "run.py": "" });
  await Deno.symlink("missing.py", `${d.path}/gone.py`);
  await refused(snapshotCodeFolder(d.path), "BAD_CODE", /gone\.py": it is a link to nothing/);
});

Deno.test("snapshotCodeFolder() refuses a FIFO, naming it", async () => {
  await using d = await tempDir();
  await write(d.path, { "run.py": "" });
  const mk = await new Deno.Command("mkfifo", { args: [`${d.path}/pipe`] }).output();
  assert.ok(mk.success);
  await refused(snapshotCodeFolder(d.path), "BAD_CODE", /pipe": it is not a regular file/);
});

Deno.test("snapshotCodeFolder() refuses a folder of more files than the limit", async () => {
  await using d = await tempDir();
  const files: Record<string, string> = {};
  for (let i = 0; i < 11; i++) files[`f${i}.py`] = "";
  await write(d.path, files);
  await refused(
    snapshotCodeFolder(d.path, { limits: { maxFiles: 10, maxBytes: 1 << 20 } }),
    "CODE_LIMIT",
    /more than 10 files/,
  );
});

Deno.test("snapshotCodeFolder() refuses a folder of more bytes than the limit", async () => {
  await using d = await tempDir();
  await write(d.path, { "model.bin": "x".repeat(3 << 20) });
  await refused(
    snapshotCodeFolder(d.path, { limits: { maxFiles: 10, maxBytes: 2 << 20 } }),
    "CODE_LIMIT",
    /more than 2 MiB of files.*model\.bin/,
  );
});

Deno.test("snapshotCodeFolder() refuses a name the store cannot hold", async () => {
  await using d = await tempDir();
  await write(d.path, { "bad\u0001name.py": "" });
  await refused(snapshotCodeFolder(d.path), "BAD_CODE", /control character/);
});
