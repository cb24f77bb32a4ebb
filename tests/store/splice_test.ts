/**
 * Large folders are edited in place: a put or delete of a few names in a folder whose tree
 * is large finds their lines by bisection and splices the encoded tree instead of decoding
 * and re-encoding it. These tests drive that path through the real verbs and check every
 * result against a plain model and against a full decode and re-encode.
 */
import assert from "node:assert/strict";
import { IntegrityError, InvalidArgumentError, NotFoundError } from "../../lib/errors.ts";
import { decodeTree, encodeTree } from "../../lib/store/codec.ts";
import { Store } from "../../lib/store/store.ts";
import { verifyStore } from "../../lib/store/verify.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { deleteFile, listFile } from "../../lib/commands/file.ts";
import { putFile } from "../../lib/commands/put_file.ts";
import { putText, type TestStore, testStore } from "./_fixtures.ts";

const FILES = 1_500;

/** A repo `r` whose folder `/big` holds FILES files `f0000…`, each `<i>\n`. */
async function bigFolder(t: TestStore): Promise<Map<string, number>> {
  await createRepo(t.store, "r");
  const src = `${t.dir}/big`;
  await Deno.mkdir(src);
  const model = new Map<string, number>();
  for (let i = 0; i < FILES; i++) {
    const name = `f${String(i).padStart(4, "0")}`;
    await Deno.writeTextFile(`${src}/${name}`, `${i}\n`);
    model.set(name, `${i}\n`.length);
  }
  await putFile(t.store, "r@master:/big", { sources: [src], recursive: true });
  return model;
}

/** The encoded tree of `/big` at the head of `r@master`, and its entry's size. */
async function bigTree(t: TestStore): Promise<{ bytes: Uint8Array; hash: string; size: number }> {
  const { commit } = await t.store.resolve(await t.store.state(), "r@master");
  assert.ok(commit);
  const entry = await t.store.lookup(commit.tree, ["big"]);
  assert.ok(entry && entry.kind === "dir", "/big is a folder");
  return { bytes: await t.store.objects.read(entry.hash), hash: entry.hash, size: entry.size };
}

/** `/big` lists exactly the model, its tree is canonical and its size is the sum. */
async function check(t: TestStore, model: Map<string, number>, step: string): Promise<void> {
  const listed = await listFile(t.store, "r@master:/big");
  const got = listed.map((f) => [f.path.slice("/big/".length), f.type, f.size]);
  const want = [...model].map(([name, size]) => [name, size < 0 ? "dir" : "file", Math.abs(size)])
    .sort(([a], [b]) => (String(a) < String(b) ? -1 : 1));
  assert.deepEqual(got, want, `after ${step}`);
  const tree = await bigTree(t);
  assert.deepEqual(tree.bytes, encodeTree(decodeTree(tree.bytes, tree.hash)), `canonical: ${step}`);
  const total = [...model.values()].reduce((s, v) => s + Math.abs(v), 0);
  assert.equal(tree.size, total, `size after ${step}`);
}

Deno.test("puts and deletes at every position of a large folder match a model", async () => {
  await using t = await testStore();
  const model = await bigFolder(t);
  // Above the 64 KiB from which a folder is edited in place.
  assert.ok((await bigTree(t)).bytes.length > 64 << 10);
  await check(t, model, "the initial put");
  // Names before, between and after the others, and ones whose UTF-16 and UTF-8 orders differ.
  const names = ["!first", "~last", "f0750a", "a\u2028b", "\u{1F418}", "\uE000", "f0001"];
  for (const name of names) {
    await putText(t, `r@master:/big/${name}`, `${name}!`);
    model.set(name, new TextEncoder().encode(`${name}!`).length);
    await check(t, model, `put ${name}`);
  }
  for (const name of ["f0000", "f1499", "f0700", "!first", "\u{1F418}"]) {
    await deleteFile(t.store, `r@master:/big/${name}`);
    model.delete(name);
    await check(t, model, `delete ${name}`);
  }
  // A subfolder made, grown and emptied inside the large folder.
  await putText(t, "r@master:/big/sub/x", "x");
  model.set("sub", -1);
  await check(t, model, "put sub/x");
  await putText(t, "r@master:/big/sub/y", "yy");
  model.set("sub", -3);
  await check(t, model, "put sub/y");
  await deleteFile(t.store, "r@master:/big/sub/x");
  model.set("sub", -2);
  await check(t, model, "delete sub/x");
  await deleteFile(t.store, "r@master:/big/sub/y");
  model.delete("sub");
  await check(t, model, "delete sub/y");
  await verifyStore(t.store);
});

Deno.test("several names of a large folder change in one commit", async () => {
  await using t = await testStore();
  const model = await bigFolder(t);
  const src = `${t.dir}/more`;
  await Deno.mkdir(src);
  // "f0500a" and "f0500b" are inserted at the same place, between f0500 and f0501.
  for (const name of ["0", "f0002", "f0500b", "f0500a", "f0999b", "zz"]) {
    await Deno.writeTextFile(`${src}/${name}`, "new\n");
    model.set(name, 4);
  }
  await putFile(t.store, "r@master:/big", { sources: [`${src}/.`], recursive: true });
  await check(t, model, "one put of six files");
  // Two new names at one insertion point, given against the tree's order.
  await Deno.writeTextFile(`${src}/f0600b`, "b\n");
  await Deno.writeTextFile(`${src}/f0600a`, "a\n");
  await putFile(t.store, "r@master:/big/", { sources: [`${src}/f0600b`, `${src}/f0600a`] });
  model.set("f0600b", 2);
  model.set("f0600a", 2);
  await check(t, model, "two names at one place, given in reverse");
  await verifyStore(t.store);
});

Deno.test("a large folder refuses a file used as a folder and a missing file, unchanged", async () => {
  await using t = await testStore();
  const model = await bigFolder(t);
  const before = await bigTree(t);
  await assert.rejects(putText(t, "r@master:/big/f0001/x", "x"), InvalidArgumentError);
  await assert.rejects(deleteFile(t.store, "r@master:/big/nope"), NotFoundError);
  assert.equal((await bigTree(t)).hash, before.hash);
  await check(t, model, "the refused edits");
});

Deno.test("a large folder refuses the first conflicting name given, as a small one does", async () => {
  for (const spliceMinBytes of [undefined, Infinity]) {
    await using t = await testStore();
    const store = spliceMinBytes === undefined
      ? t.store
      : await Store.open(`${t.dir}/.tusk`, { spliceMinBytes });
    await createRepo(store, "r");
    const src = `${t.dir}/big`;
    for (const sub of ["adir", "zdir"]) {
      await Deno.mkdir(`${src}/${sub}`, { recursive: true });
      await Deno.writeTextFile(`${src}/${sub}/x`, "x");
    }
    for (let i = 0; i < FILES; i++) await Deno.writeTextFile(`${src}/f${i}`, `${i}`);
    await putFile(store, "r@master:/big", { sources: [src], recursive: true });
    // Files named like the two folders, given z first: "zdir" is the one refused.
    await Deno.mkdir(`${t.dir}/new`);
    await Deno.writeTextFile(`${t.dir}/new/zdir`, "1");
    await Deno.writeTextFile(`${t.dir}/new/adir`, "2");
    await assert.rejects(
      putFile(store, "r@master:/big/", { sources: [`${t.dir}/new/zdir`, `${t.dir}/new/adir`] }),
      (e: unknown) =>
        e instanceof InvalidArgumentError && e.message.includes('"/big/zdir": a folder'),
    );
    if (store !== t.store) store.objects.close();
  }
});

Deno.test("editTree() keeps a large tree in order when new names given out of order share a place", async () => {
  await using t = await testStore();
  await bigFolder(t);
  const { hash } = await bigTree(t);
  const batch = t.store.objects.batch();
  const blob = await batch.add(new TextEncoder().encode("x"));
  const r = await t.store.editTree(hash, [
    { op: "put", path: ["f0600b"], hash: blob, size: 1 },
    { op: "put", path: ["f0600a"], hash: blob, size: 1 },
  ], batch);
  const out = batch.pending(r.hash);
  assert.ok(out, "the new tree waits in the batch");
  assert.deepEqual(out, encodeTree(decodeTree(out, r.hash)));
  assert.equal(decodeTree(out, r.hash).length, FILES + 2);
});

Deno.test("a damaged large folder is refused, not copied into a new tree", async () => {
  await using t = await testStore();
  await bigFolder(t);
  await putText(t, "r@master:/big/new", "new");
  const { hash, bytes } = await bigTree(t);
  const path = t.store.objects.loosePath(hash);
  // A line far from the edit below: only the object's hash can tell.
  const last = bytes.lastIndexOf(10, bytes.length - 2) + 1;
  const damaged = bytes.slice();
  damaged[last] = damaged[last] === 0x66 ? 0x64 : 0x66; // f <-> d
  await Deno.writeFile(path, damaged);
  await assert.rejects(
    putText(t, "r@master:/big/f0001", "changed"),
    (e: unknown) => e instanceof IntegrityError && e.message.includes(hash),
  );
});
