/**
 * Every read of an object checks its bytes against its hash: whole reads, streams of large
 * loose objects (checked as they stream), files written with `get file -o`, trees and the
 * old blob of an append. A damaged object is refused by name and never handed on.
 */
import assert from "node:assert/strict";
import { IntegrityError, NotFoundError, type TuskError } from "../../lib/errors.ts";
import { sha256 } from "../../lib/store/hash.ts";
import { getFile, listFile } from "../../lib/commands/file.ts";
import { putFile } from "../../lib/commands/put_file.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { LARGE_OBJECT } from "../../lib/store/objects.ts";
import { Store } from "../../lib/store/store.ts";
import { putText, testStore } from "./_fixtures.ts";

/** Deterministic pseudo-random bytes (a linear congruential generator). */
function noise(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** XOR one byte of a host file with `mask`, in place. */
async function flipByte(path: string, offset: number, mask = 1): Promise<void> {
  const bytes = await Deno.readFile(path);
  bytes[offset] = bytes[offset]! ^ mask;
  await Deno.writeFile(path, bytes);
}

/** The hash of the file at `path` in `repo@master`. */
async function hashOf(store: Store, ref: string): Promise<string> {
  const [row] = await listFile(store, ref);
  return row!.hash;
}

/** Assert that `promise` rejects with an IntegrityError naming `object`. */
async function rejectsNaming(promise: Promise<unknown>, object: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof IntegrityError, `expected IntegrityError, got ${String(err)}`);
    assert.equal((err as TuskError).code, "INTEGRITY");
    assert.equal((err as TuskError).data.object, object);
    assert.ok((err as Error).message.includes(object), (err as Error).message);
    return true;
  });
}

/** A store with repo "r" holding `/big.bin` (loose, 2 MiB by default) with a byte flipped. */
async function storeWithCorruptBigFile(size = 2 * LARGE_OBJECT) {
  const t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/big.bin", noise(size));
  const hash = await hashOf(t.store, "r@master:/big.bin");
  await flipByte(t.store.objects.loosePath(hash), LARGE_OBJECT + 12345);
  return Object.assign(t, { hash });
}

Deno.test("ObjectStore.read() refuses a loose object whose bytes no longer match its hash", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a.txt", "a small loose blob\n");
  const hash = await hashOf(t.store, "r@master:/a.txt");
  await flipByte(t.store.objects.loosePath(hash), 3);
  await rejectsNaming(t.store.objects.read(hash), hash);
});

Deno.test("getFile() of a corrupt small file refuses before giving any byte", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a.txt", "a small loose blob\n");
  const hash = await hashOf(t.store, "r@master:/a.txt");
  await flipByte(t.store.objects.loosePath(hash), 3);
  await rejectsNaming(getFile(t.store, "r@master:/a.txt"), hash);
});

Deno.test("getFile() of a corrupt 2 MiB loose object refuses before giving any byte", async () => {
  await using t = await storeWithCorruptBigFile();
  await rejectsNaming(getFile(t.store, "r@master:/big.bin"), t.hash);
});

Deno.test("getFile() streams a corrupt 9 MiB loose object to an IntegrityError naming it", async () => {
  await using t = await storeWithCorruptBigFile(9 * LARGE_OBJECT);
  const { stream } = await getFile(t.store, "r@master:/big.bin");
  assert.ok(stream);
  await rejectsNaming(new Response(stream).arrayBuffer(), t.hash);
});

Deno.test("getFile() streams an intact 9 MiB loose object whole", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const data = noise(9 * LARGE_OBJECT + 17);
  await putText(t, "r@master:/big.bin", data);
  const { stream } = await getFile(t.store, "r@master:/big.bin");
  const got = new Uint8Array(await new Response(stream).arrayBuffer());
  assert.equal(got.length, data.length);
  assert.deepEqual(got, data);
});

Deno.test("getFile() with output leaves no file at the output path when the object is corrupt", async () => {
  await using t = await storeWithCorruptBigFile(9 * LARGE_OBJECT);
  const dest = `${t.dir}/out/big.bin`;
  await Deno.mkdir(`${t.dir}/out`);
  await rejectsNaming(getFile(t.store, "r@master:/big.bin", { output: dest }), t.hash);
  assert.deepEqual([...Deno.readDirSync(`${t.dir}/out`)], [], "the output folder is not empty");
});

Deno.test("getFile() with output keeps the file already there when the object is corrupt", async () => {
  await using t = await storeWithCorruptBigFile();
  const dest = `${t.dir}/big.bin`;
  await Deno.writeTextFile(dest, "the old content\n");
  await rejectsNaming(getFile(t.store, "r@master:/big.bin", { output: dest }), t.hash);
  assert.equal(await Deno.readTextFile(dest), "the old content\n");
});

Deno.test("getFile() with output writes an intact 9 MiB object byte for byte", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const data = noise(9 * LARGE_OBJECT + 5);
  await putText(t, "r@master:/big.bin", data);
  const dest = `${t.dir}/got.bin`;
  await getFile(t.store, "r@master:/big.bin", { output: dest });
  assert.deepEqual(await Deno.readFile(dest), data);
});

Deno.test("getFile() of a folder with output refuses a corrupt file in it and does not write it", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/dir/a.txt", "first file\n");
  await putText(t, "r@master:/dir/b.txt", "second file\n");
  const hash = await hashOf(t.store, "r@master:/dir/b.txt");
  await flipByte(t.store.objects.loosePath(hash), 0);
  const out = `${t.dir}/got`;
  await rejectsNaming(getFile(t.store, "r@master:/dir", { recursive: true, output: out }), hash);
  assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name).sort(), ["a.txt"]);
});

Deno.test("listFile() refuses a tree whose bytes were altered but still parse", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a.txt", "abc\n");
  const head = (await t.store.state()).repos.r!.branches.master!.head!;
  const tree = (await t.store.readCommit(head)).tree;
  const path = t.store.objects.loosePath(tree);
  // The tree's one entry is `f 4 <hash> a.txt`: its size 4 becomes 5, still a valid tree.
  const text = await Deno.readTextFile(path);
  const at = text.indexOf("f 4 ") + 2;
  assert.ok(at > 1, text);
  await flipByte(path, at, "4".charCodeAt(0) ^ "5".charCodeAt(0));
  const fresh = await Store.open(t.store.root);
  try {
    await rejectsNaming(listFile(fresh, "r@master"), tree);
  } finally {
    fresh.objects.close();
  }
});

Deno.test("putFile() with append refuses a corrupt old blob and commits nothing", async () => {
  await using t = await storeWithCorruptBigFile();
  const before = (await t.store.state()).repos.r!.branches.master!.head;
  await rejectsNaming(
    putFile(t.store, "r@master:/big.bin", {
      sources: [await t.hostFile("more\n")],
      append: true,
    }),
    t.hash,
  );
  assert.equal((await t.store.state()).repos.r!.branches.master!.head, before);
});

/** A store with repo "r" holding 20 small files under /many, written as one pack. */
async function storeWithPack() {
  const t = await testStore();
  await createRepo(t.store, "r");
  await Deno.mkdir(`${t.dir}/many`);
  for (let i = 0; i < 20; i++) await Deno.writeTextFile(`${t.dir}/many/f${i}.txt`, `file ${i}\n`);
  await putFile(t.store, "r@master:/many", { sources: [`${t.dir}/many`], recursive: true });
  const packs = await t.store.objects.packNames();
  assert.equal(packs.length, 1);
  const rows = await listFile(t.store, "r@master:/many");
  return Object.assign(t, { pack: packs[0]!, hashes: rows.map((r) => r.hash) });
}

Deno.test("ObjectStore.read() finds an object again after another process repacked its pack", async () => {
  await using t = await storeWithPack();
  assert.ok(await t.store.objects.has(t.hashes[0]!), "the pack index is not loaded");
  const other = await Store.open(t.store.root);
  try {
    await other.objects.repack([t.pack], new Set(t.hashes));
  } finally {
    other.objects.close();
  }
  assert.ok(!(await t.store.objects.packNames()).includes(t.pack), "the old pack is still there");
  const bytes = await t.store.objects.read(t.hashes[5]!);
  assert.ok(new TextDecoder().decode(bytes).startsWith("file "));
});

Deno.test("ObjectStore.read() of an object whose pack file is gone is IntegrityError naming the pack", async () => {
  await using t = await storeWithPack();
  await Deno.remove(`${t.store.root}/packs/${t.pack}.pack`);
  const fresh = await Store.open(t.store.root);
  try {
    await assert.rejects(fresh.objects.read(t.hashes[0]!), (err: unknown) => {
      assert.ok(err instanceof IntegrityError, String(err));
      assert.equal((err as TuskError).data.pack, t.pack);
      assert.ok((err as Error).message.includes(t.pack));
      return true;
    });
  } finally {
    fresh.objects.close();
  }
});

Deno.test("ObjectStore of a store with no pack finds objects another process packed since it looked", async () => {
  await using t = await testStore();
  const objects = new Map<string, Uint8Array>();
  for (let i = 0; i < 20; i++) {
    const bytes = new TextEncoder().encode(`packed later ${i}\n`);
    objects.set(sha256(bytes), bytes);
  }
  const hashes = [...objects.keys()];
  assert.equal(await t.store.objects.has(hashes[0]!), false);
  assert.equal((await t.store.objects.missing(hashes)).size, 20);
  await assert.rejects(t.store.objects.read(hashes[0]!), NotFoundError);
  const other = await Store.open(t.store.root);
  try {
    await other.objects.writePack(objects);
  } finally {
    other.objects.close();
  }
  assert.deepEqual(await t.store.objects.read(hashes[7]!), objects.get(hashes[7]!));
  assert.equal((await t.store.objects.packNames()).length, 1);
});
