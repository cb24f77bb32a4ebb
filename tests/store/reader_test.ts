/**
 * The reader's decoded trees are a bounded cache: past `treeCacheEntries` entries in all, the
 * trees decoded longest ago are let go and read again when asked for, with the same entries;
 * so are the chunk lists of large folders. A read for a walk that visits each tree once keeps
 * nothing.
 */
import assert from "node:assert/strict";
import { encodeTree, type TreeEntry } from "../../lib/store/codec.ts";
import { CHUNK_MIN_ENTRIES, encodeFolder } from "../../lib/store/fanout_codec.ts";
import { type Hash, sha256, sha256Async } from "../../lib/store/hash.ts";
import { Reader } from "../../lib/store/reader.ts";
import { testStore } from "./_fixtures.ts";

const utf8 = new TextEncoder();

/** `count` stored trees of `size` files each (their blobs need not exist to be listed). */
async function trees(
  t: Awaited<ReturnType<typeof testStore>>,
  count: number,
  size: number,
): Promise<{ hash: Hash; entries: TreeEntry[] }[]> {
  const out: { hash: Hash; entries: TreeEntry[] }[] = [];
  const batch = t.store.objects.batch();
  for (let i = 0; i < count; i++) {
    const entries: TreeEntry[] = [];
    for (let j = 0; j < size; j++) {
      const bytes = utf8.encode(`tree ${i} file ${j}\n`);
      entries.push({ name: `f${j}`, kind: "file", hash: await batch.add(bytes), size: 1 });
    }
    out.push({ hash: await batch.add(encodeTree(entries)), entries });
  }
  await batch.flush();
  return out;
}

Deno.test("Reader keeps at most treeCacheEntries tree entries, letting the oldest trees go", async () => {
  await using t = await testStore();
  const made = await trees(t, 5, 3);
  // Room for two trees of three entries (each counts one more for itself).
  const reader = new Reader(t.store.objects, { treeCacheEntries: 8 });
  for (const m of made) await reader.readTree(m.hash);
  assert.deepEqual(made.map((m) => reader.isCached(m.hash)), [false, false, false, true, true]);
});

Deno.test("Reader reads a tree it let go again, with the same entries", async () => {
  await using t = await testStore();
  const made = await trees(t, 4, 3);
  const reader = new Reader(t.store.objects, { treeCacheEntries: 4 });
  for (const m of made) await reader.readTree(m.hash);
  assert.equal(reader.isCached(made[0]!.hash), false);
  const again = await reader.readTree(made[0]!.hash);
  assert.deepEqual(
    again.map((e) => [e.name, e.hash]),
    made[0]!.entries.map((e) => [e.name, e.hash]),
  );
  assert.equal(reader.isCached(made[0]!.hash), true);
});

/** `count` stored large folders (fanouts of chunk trees) of `size` files each. */
async function fanouts(
  t: Awaited<ReturnType<typeof testStore>>,
  count: number,
  size: number,
): Promise<{ hash: Hash; chunks: Hash[]; entries: TreeEntry[] }[]> {
  const out: { hash: Hash; chunks: Hash[]; entries: TreeEntry[] }[] = [];
  const batch = t.store.objects.batch();
  for (let i = 0; i < count; i++) {
    const entries: TreeEntry[] = [];
    for (let j = 0; j < size; j++) {
      const name = `f${String(j).padStart(5, "0")}`;
      entries.push({ name, kind: "file", hash: sha256(`folder ${i} ${name}`), size: 1 });
    }
    const folder = await encodeFolder(entries, sha256Async);
    for (const c of folder.chunks) await batch.add(c.bytes);
    assert.equal(await batch.add(folder.bytes), folder.hash);
    out.push({ hash: folder.hash, chunks: folder.chunks.map((c) => c.hash), entries });
  }
  await batch.flush();
  return out;
}

Deno.test("Reader keeps the chunk lists of at most treeCacheEntries chunks of large folders, the oldest let go", async () => {
  await using t = await testStore();
  const made = await fanouts(t, 3, CHUNK_MIN_ENTRIES + 1000);
  assert.ok(made.every((m) => m.chunks.length > 1));
  // Room for the chunk list of one folder (it counts one more for itself).
  const reader = new Reader(t.store.objects, { treeCacheEntries: made[2]!.chunks.length + 1 });
  for (const m of made) assert.equal((await reader.readTree(m.hash)).length, m.entries.length);
  assert.deepEqual(made.map((m) => reader.isFanout(m.hash)), [false, false, true]);
});

Deno.test("Reader.readTreeOnce() gives a large folder's entries and chunks and keeps none of them", async () => {
  await using t = await testStore();
  const [made] = await fanouts(t, 1, CHUNK_MIN_ENTRIES + 1000);
  const reader = new Reader(t.store.objects);
  const once = await reader.readTreeOnce(made!.hash);
  assert.deepEqual(once.chunks, made!.chunks);
  assert.deepEqual(once.entries.map((e) => e.name), made!.entries.map((e) => e.name));
  assert.equal(reader.isFanout(made!.hash), false);
  assert.deepEqual(made!.chunks.map((c) => reader.isCached(c)), made!.chunks.map(() => false));
});
