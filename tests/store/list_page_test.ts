/**
 * Paging `list file`: a page of a folder is read where it lies in the folder's tree (found
 * by bisection), so a page of a folder of a million files starts at once; a tree too large
 * to check before the page is shown is checked after it, and a damaged one still fails.
 */
import assert from "node:assert/strict";
import { IntegrityError, InvalidArgumentError } from "../../lib/errors.ts";
import { encodeTree, type TreeEntry } from "../../lib/store/codec.ts";
import { sha256 } from "../../lib/store/hash.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { listFile, listFilePage } from "../../lib/commands/file.ts";
import { putFile } from "../../lib/commands/put_file.ts";
import { STREAM_WHOLE } from "../../lib/store/read_check.ts";
import { type TestStore, testStore } from "./_fixtures.ts";

/** A repo `r` whose folder `/small` holds `a`, `b`, `c`, `e` (no `d`). */
async function smallFolder(t: TestStore): Promise<void> {
  await createRepo(t.store, "r");
  const src = `${t.dir}/small`;
  await Deno.mkdir(src);
  for (const name of ["a", "b", "c", "e"]) await Deno.writeTextFile(`${src}/${name}`, name);
  await putFile(t.store, "r@master:/small", { sources: [src], recursive: true });
}

const names = (files: readonly { path: string }[]) => files.map((f) => f.path);

Deno.test("listFile() with limit gives the first names of a folder, in order", async () => {
  await using t = await testStore();
  await smallFolder(t);
  assert.deepEqual(names(await listFile(t.store, "r@master:/small", { limit: 2 })), [
    "/small/a",
    "/small/b",
  ]);
});

Deno.test("listFile() with after starts after that name, whether the folder holds it or not", async () => {
  await using t = await testStore();
  await smallFolder(t);
  const after = async (name: string) =>
    names(await listFile(t.store, "r@master:/small", { after: name }));
  assert.deepEqual(await after("b"), ["/small/c", "/small/e"]);
  assert.deepEqual(await after("d"), ["/small/e"]);
  assert.deepEqual(await after(""), ["/small/a", "/small/b", "/small/c", "/small/e"]);
  assert.deepEqual(await after("e"), []);
  assert.deepEqual(await after("zzz"), []);
});

Deno.test("listFile() pages joined give the whole listing", async () => {
  await using t = await testStore();
  await smallFolder(t);
  const whole = await listFile(t.store, "r@master:/small");
  const pages: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listFile(t.store, "r@master:/small", {
      limit: 3,
      ...(after !== undefined ? { after } : {}),
    });
    if (page.length === 0) break;
    pages.push(...names(page));
    after = page.at(-1)!.path.split("/").at(-1)!;
  }
  assert.deepEqual(pages, names(whole));
});

Deno.test("listFile() refuses a limit that is not a whole number of at least 1", async () => {
  await using t = await testStore();
  await smallFolder(t);
  for (const limit of [0, -1, 1.5, Number.NaN]) {
    await assert.rejects(
      () => listFile(t.store, "r@master:/small", { limit }),
      (err: unknown) => err instanceof InvalidArgumentError && err.data.option === "limit",
    );
  }
});

Deno.test("listFile() with after on a file path gives the file only when it comes after", async () => {
  await using t = await testStore();
  await smallFolder(t);
  assert.deepEqual(names(await listFile(t.store, "r@master:/small/c", { after: "b" })), [
    "/small/c",
  ]);
  assert.deepEqual(await listFile(t.store, "r@master:/small/c", { after: "c" }), []);
});

/** Entries enough for a tree larger than STREAM_WHOLE (78 bytes a line). */
const BIG = Math.ceil(STREAM_WHOLE / 70);

/**
 * A repo `r` with a folder `/big` of BIG entries, written through one transaction; with
 * `packed`, enough other objects go with it that the batch is written as a pack.
 */
async function bigFolder(t: TestStore, packed: boolean): Promise<string> {
  await createRepo(t.store, "r");
  const blob = new TextEncoder().encode("x\n");
  let treeHash = "";
  await t.store.transact(async (tx) => {
    const blobHash = await tx.batch.add(blob);
    if (packed) {
      for (let i = 0; i < 20; i++) await tx.batch.add(new TextEncoder().encode(`${i}`));
    }
    const entries: TreeEntry[] = Array.from({ length: BIG }, (_, i) => ({
      name: `f${String(i).padStart(7, "0")}`,
      kind: "file",
      hash: blobHash,
      size: blob.length,
    }));
    const bytes = encodeTree(entries);
    assert.ok(bytes.length > STREAM_WHOLE, "the tree is larger than STREAM_WHOLE");
    treeHash = await tx.batch.add(bytes);
    const root = await tx.batch.add(
      encodeTree([{ name: "big", kind: "dir", hash: treeHash, size: BIG * blob.length }]),
    );
    await tx.commit("r", "master", () => Promise.resolve({ tree: root, size: BIG * 2 }), {
      message: "",
      origin: "user",
    });
  });
  return treeHash;
}

for (const packed of [false, true]) {
  const where = packed ? "packed" : "loose";
  Deno.test(`listFilePage() reads a page of a large ${where} tree and checks it after`, async () => {
    await using t = await testStore();
    const hash = await bigFolder(t, packed);
    const all = await t.store.objects.listAll();
    assert.equal(all.loose.includes(hash), !packed, `the tree is ${where}`);
    const page = await listFilePage(t.store, "r@master:/big", { limit: 3, after: "f0050000" });
    assert.deepEqual(names(page.files), ["/big/f0050001", "/big/f0050002", "/big/f0050003"]);
    await page.check();
    const last = await listFile(t.store, "r@master:/big", {
      after: `f${String(BIG - 3).padStart(7, "0")}`,
    });
    assert.deepEqual(names(last), [
      `/big/f${String(BIG - 2).padStart(7, "0")}`,
      `/big/f${String(BIG - 1).padStart(7, "0")}`,
    ]);
  });
}

Deno.test("listFilePage() of a damaged large tree gives its page, then its check fails naming it", async () => {
  await using t = await testStore();
  const hash = await bigFolder(t, false);
  const path = t.store.objects.loosePath(hash);
  const bytes = await Deno.readFile(path);
  // A size digit near the end, far from the page: only the hash of the whole tree sees it.
  const at = bytes.length - 100;
  const line = bytes.lastIndexOf(10, at) + 3;
  bytes[line] = bytes[line] === 0x32 ? 0x33 : 0x32;
  await Deno.chmod(path, 0o644);
  await Deno.writeFile(path, bytes);
  assert.notEqual(sha256(bytes), hash);
  const page = await listFilePage(t.store, "r@master:/big", { limit: 2 });
  assert.deepEqual(names(page.files), ["/big/f0000000", "/big/f0000001"]);
  await assert.rejects(
    () => page.check(),
    (err: unknown) => err instanceof IntegrityError && err.data.object === hash,
  );
  await assert.rejects(
    () => listFile(t.store, "r@master:/big", { limit: 2 }),
    (err: unknown) => err instanceof IntegrityError && err.data.object === hash,
  );
});
