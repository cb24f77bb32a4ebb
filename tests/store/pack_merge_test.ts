/**
 * Merging small packs (`Packs.consolidate`, run at the end of a write once a store holds more
 * than `MERGE_AT` packs): every object stays readable — by a fresh reader, and by one that
 * loaded the old indexes — at every step, a merge stopped at any step leaves a store that
 * verifies and a later merge finishes, a damaged pack is left for verify to name, and no
 * merge runs while another holder has the gc lock.
 */
import assert from "node:assert/strict";
import { type Hash, sha256 } from "../../lib/store/hash.ts";
import { MERGE_AT, type MergeStep } from "../../lib/store/packs.ts";
import { Store } from "../../lib/store/store.ts";
import { verifyStore } from "../../lib/store/verify.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { putFile } from "../../lib/commands/put_file.ts";
import { IntegrityError } from "../../lib/errors.ts";
import { type TestStore, testStore } from "./_fixtures.ts";

/** The names of the packs that have an index, and of pack files without one. */
async function packFiles(store: Store): Promise<{ indexed: string[]; orphans: string[] }> {
  const idx = new Set<string>();
  const packs = new Set<string>();
  for await (const e of Deno.readDir(store.layout.packs)) {
    if (e.name.endsWith(".idx")) idx.add(e.name.slice(0, -4));
    if (e.name.endsWith(".pack")) packs.add(e.name.slice(0, -5));
  }
  return { indexed: [...idx].sort(), orphans: [...packs].filter((p) => !idx.has(p)) };
}

/** Write `count` packs of 16 small objects each straight to the store; returns the objects. */
async function writePacks(store: Store, count: number, tag = ""): Promise<Map<Hash, string>> {
  const all = new Map<Hash, string>();
  for (let p = 0; p < count; p++) {
    const objects = new Map<Hash, Uint8Array>();
    for (let i = 0; i < 16; i++) {
      const text = `object ${i} of pack ${p}${tag}\n`;
      const bytes = new TextEncoder().encode(text);
      objects.set(sha256(bytes), bytes);
      all.set(sha256(bytes), text);
    }
    await store.objects.writePack(objects);
  }
  return all;
}

/** Read every object with a fresh store instance and compare it with what was written. */
async function assertAllReadable(root: string, objects: Map<Hash, string>): Promise<void> {
  const fresh = await Store.open(root);
  try {
    for (const [hash, text] of objects) {
      assert.equal(new TextDecoder().decode(await fresh.objects.read(hash)), text, hash);
    }
  } finally {
    fresh.objects.close();
  }
}

/** `count` puts of 16 small files each: each put writes one pack of its files. */
async function putPacks(t: TestStore, count: number, from = 0): Promise<void> {
  for (let p = from; p < from + count; p++) {
    const dir = `${t.dir}/host/p${p}`;
    await Deno.mkdir(dir);
    for (let i = 0; i < 16; i++) await Deno.writeTextFile(`${dir}/f${i}`, `put ${p}, file ${i}\n`);
    await putFile(t.store, `r@master:/p${p}`, { sources: [dir], recursive: true });
  }
}

Deno.test("a put that takes the store past MERGE_AT packs merges them, and all reads back", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putPacks(t, MERGE_AT);
  assert.equal((await packFiles(t.store)).indexed.length, MERGE_AT);
  await putPacks(t, 1, MERGE_AT);
  const { indexed, orphans } = await packFiles(t.store);
  assert.equal(indexed.length, 1, `packs after the merge: ${indexed.join(", ")}`);
  assert.deepEqual(orphans, []);
  const report = await verifyStore(t.store);
  assert.equal(report.files, 16 * (MERGE_AT + 1));
  // Every file, read by a fresh process-like reader.
  const fresh = await Store.open(t.store.root);
  try {
    const state = await fresh.state();
    const head = await fresh.resolve(state, "r@master");
    let files = 0;
    for await (const f of fresh.walk(head.commit!.tree, [])) {
      const [p, name] = f.path.split("/").slice(-2);
      const text = new TextDecoder().decode(await fresh.objects.read(f.hash));
      assert.equal(text, `put ${p!.slice(1)}, file ${name!.slice(1)}\n`);
      files++;
    }
    assert.equal(files, 16 * (MERGE_AT + 1));
  } finally {
    fresh.objects.close();
  }
});

Deno.test("a reader that loaded the old indexes finds the objects after a merge", async () => {
  await using t = await testStore();
  const objects = await writePacks(t.store, 8);
  const reader = await Store.open(t.store.root);
  try {
    const [first] = objects.keys();
    await reader.objects.read(first!); // loads the indexes of the 8 packs, opens one
    assert.equal(await t.store.objects.consolidate({ mergeAt: 4 }), 8);
    assert.equal((await packFiles(t.store)).indexed.length, 1);
    for (const [hash, text] of objects) {
      assert.equal(new TextDecoder().decode(await reader.objects.read(hash)), text);
      assert.ok(await reader.objects.has(hash));
    }
  } finally {
    reader.objects.close();
  }
});

Deno.test("no merge while the store holds MERGE_AT packs or fewer", async () => {
  await using t = await testStore();
  await writePacks(t.store, 6);
  assert.equal(await t.store.objects.consolidate({ mergeAt: 6 }), 0);
  assert.equal((await packFiles(t.store)).indexed.length, 6);
  assert.equal(await t.store.objects.consolidate({ mergeAt: 5 }), 6);
  assert.equal((await packFiles(t.store)).indexed.length, 1);
});

for (const stop of ["read", "pack", "index", "unindexed", "removed"] as MergeStep[]) {
  Deno.test(`a merge that fails after step "${stop}" leaves every object readable`, async () => {
    await using t = await testStore();
    const objects = await writePacks(t.store, 8);
    const before = (await packFiles(t.store)).indexed;
    await assert.rejects(
      t.store.objects.consolidate({
        mergeAt: 4,
        step: (s) => s === stop ? Promise.reject(new Error(`stopped at ${s}`)) : Promise.resolve(),
      }),
      new RegExp(`stopped at ${stop}`),
    );
    const after = await packFiles(t.store);
    if (stop === "read") assert.deepEqual(after.indexed, before);
    if (stop === "pack") {
      // The new pack went in without its index, and the failed write took it out again (a
      // crash leaves it: see tests/faults/pack_merge_crash_test.ts).
      assert.deepEqual(after.indexed, before);
      assert.deepEqual(after.orphans, []);
    }
    if (stop === "index") assert.equal(after.indexed.length, before.length + 1);
    if (stop === "unindexed") {
      assert.equal(after.indexed.length, before.length);
      assert.equal(after.orphans.length, 1); // an old pack whose index went first
    }
    if (stop === "removed") assert.equal(after.indexed.length, 1);
    await assertAllReadable(t.store.root, objects);
    await verifyStore(t.store);
    // The next merge finishes the work (an object in two packs is merged once); gc removes a
    // pack without an index that a live writer (this process) left.
    t.store.objects.close();
    await t.store.objects.refresh();
    await t.store.objects.consolidate({ mergeAt: 1 });
    await t.store.objects.removeOrphanPacks();
    const done = await packFiles(t.store);
    assert.equal(done.indexed.length, 1);
    assert.deepEqual(done.orphans, []);
    await assertAllReadable(t.store.root, objects);
    await verifyStore(t.store);
  });
}

Deno.test("a damaged pack is left out of a merge, for verify to name", async () => {
  await using t = await testStore();
  await writePacks(t.store, 6);
  const [victim] = (await packFiles(t.store)).indexed;
  const path = t.store.layout.pack(victim!);
  const bytes = await Deno.readFile(path);
  bytes[bytes.length - 2]! ^= 1;
  await Deno.writeFile(path, bytes);
  assert.equal(await t.store.objects.consolidate({ mergeAt: 4 }), 5);
  const { indexed } = await packFiles(t.store);
  assert.equal(indexed.length, 2);
  assert.ok(indexed.includes(victim!));
  await assert.rejects(verifyStore(t.store), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.equal(err.data.pack, victim);
    return true;
  });
});

Deno.test("no merge at the end of a write while another holder has the gc lock", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putPacks(t, MERGE_AT);
  // Another writer between writing objects and committing them (a job's datum outputs).
  const other = await Deno.open(t.store.layout.gcLock, { read: true, write: true });
  await other.lock(false);
  try {
    await putPacks(t, 1, MERGE_AT);
    assert.equal((await packFiles(t.store)).indexed.length, MERGE_AT + 1);
  } finally {
    other.close();
  }
  // The next write that makes a pack merges them.
  await putPacks(t, 1, MERGE_AT + 1);
  assert.equal((await packFiles(t.store)).indexed.length, 1);
  await verifyStore(t.store);
});
