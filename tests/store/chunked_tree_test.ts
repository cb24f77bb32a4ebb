/**
 * Large folders are stored as a fanout tree listing chunk trees, cut after names chosen by
 * their hash alone: the same entries always give the same tree, whatever edits led to them;
 * an edit rewrites only the chunks it touches; and every reader (list, paging, get, verify,
 * gc) follows the chunks. Folders up to the threshold stay plain trees, byte for byte.
 */
import assert from "node:assert/strict";
import { IntegrityError, NotFoundError } from "../../lib/errors.ts";
import { decodeTree, encodeTree, type TreeEntry } from "../../lib/store/codec.ts";
import {
  checkChunk,
  CHUNK_MIN_ENTRIES,
  decodeFanout,
  encodeFanout,
  encodeFolder,
  encodeFolderSync,
  fanoutChunk,
  isChunkEnd,
  isFanout,
  nameHash,
  splitChunks,
} from "../../lib/store/fanout_codec.ts";
import { type Hash, sha256, sha256Async } from "../../lib/store/hash.ts";
import type { Edit } from "../../lib/store/tree_edit.ts";
import { Store } from "../../lib/store/store.ts";
import { collectGarbage as gcStore, verifyStore } from "../../lib/store/verify.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { deleteFile, listFile, listFilePage } from "../../lib/commands/file.ts";
import { putText, readText, type TestStore, testStore } from "./_fixtures.ts";

const enc = new TextEncoder();

/** A reference FNV-1a + fmix32 over the name's UTF-8 bytes, as the format describes it. */
function referenceHash(name: string): number {
  let h = 0x811c9dc5;
  for (const b of enc.encode(name)) h = Math.imul(h ^ b, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A file entry whose blob hash stands for `version` of the file `name`. */
function file(name: string, version = 0): TreeEntry {
  return { name, kind: "file", hash: sha256(`${name}#${version}`), size: name.length + version };
}

/** `n` names `f00000` …, sorted. */
function names(n: number, prefix = "f"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, "0")}`);
}

/** A seeded pseudo-random generator (mulberry32): the same run every time. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The hash of the folder of `entries` built at once. */
async function builtAtOnce(entries: Iterable<TreeEntry>): Promise<Hash> {
  return (await encodeFolder([...entries], sha256Async)).hash;
}

/** A store holding the folder of `entries` (its objects pending in a batch), with its hash. */
async function folderIn(store: Store, entries: readonly TreeEntry[]) {
  const batch = store.objects.batch();
  const folder = await encodeFolder(entries, sha256Async);
  for (const c of folder.chunks) await batch.add(c.bytes, c.hash);
  await batch.add(folder.bytes, folder.hash);
  return { batch, root: folder.hash };
}

/** Apply `edits` to the root `root` (a tree with one folder `big`). */
async function edit(
  store: Store,
  root: Hash,
  edits: Edit[],
  batch: ReturnType<Store["objects"]["batch"]>,
) {
  return (await store.editTree(root, edits, batch)).hash;
}

const put = (name: string, version = 0): Edit => {
  const e = file(name, version);
  return { op: "put", path: [name], hash: e.hash, size: e.size };
};
const del = (name: string): Edit => ({ op: "delete", path: [name] });

// ---- the codec ----

Deno.test("nameHash() is FNV-1a over the name's UTF-8 bytes, then MurmurHash3's finaliser", () => {
  for (
    const name of ["", "a", "f00001.txt", "é", "\u{1F418}", "a\u2028b", "\uE000", "x".repeat(255)]
  ) {
    assert.equal(nameHash(name), referenceHash(name), JSON.stringify(name));
  }
  // A lone surrogate is hashed as UTF-8 encodes it: U+FFFD.
  for (const lone of ["a\uD800b", "a\uDC00b", "a\uD800", "\uDFFF\uD800"]) {
    assert.equal(nameHash(lone), referenceHash(lone.replace(/[\uD800-\uDFFF]/g, "\uFFFD")));
  }
});

Deno.test("a folder up to the threshold is the plain tree of today, byte for byte", async () => {
  const entries = names(CHUNK_MIN_ENTRIES).map((n) => file(n));
  const folder = await encodeFolder(entries, sha256Async);
  assert.deepEqual(folder.bytes, encodeTree(entries));
  assert.equal(folder.chunks.length, 0);
  assert.ok(!isFanout(folder.bytes));
});

Deno.test("a folder past the threshold is a fanout of chunks, each ending at a chunk end", async () => {
  const entries = names(CHUNK_MIN_ENTRIES * 3).map((n) => file(n)).reverse();
  const folder = await encodeFolder(entries, sha256Async);
  assert.ok(isFanout(folder.bytes));
  const chunks = decodeFanout(folder.bytes, folder.hash);
  assert.equal(chunks.length, folder.chunks.length);
  assert.ok(chunks.length > 3, `${chunks.length} chunks`);
  const all: TreeEntry[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const c = folder.chunks[i]!;
    assert.equal(c.hash, sha256(c.bytes));
    const part = decodeTree(c.bytes, c.hash);
    checkChunk(chunks, i, part, folder.hash);
    all.push(...part);
  }
  assert.deepEqual(all, [...entries].reverse());
  assert.equal(folder.size, entries.reduce((s, e) => s + e.size, 0));
  const sync = encodeFolderSync(entries, sha256);
  assert.equal(sync.hash, folder.hash);
  assert.deepEqual(sync.chunks.map((c) => c.hash), folder.chunks.map((c) => c.hash));
});

Deno.test("decodeFanout() refuses a fanout out of order, of too few entries or malformed", () => {
  const id = sha256("id");
  const parts = splitChunks(names(CHUNK_MIN_ENTRIES * 2).map((n) => file(n)));
  const lines = parts.map((p) => fanoutChunk(p, sha256(encodeTree(p))));
  assert.equal(decodeFanout(encodeFanout(lines), id).length, lines.length);
  const refused = (bytes: Uint8Array) =>
    assert.throws(
      () => decodeFanout(bytes, id),
      (err: unknown) => err instanceof IntegrityError && err.data.object === id,
    );
  refused(encodeFanout([...lines].reverse()));
  refused(encodeFanout(lines.slice(0, 1)));
  refused(enc.encode("tusk-tree-fanout 1\nc 5000 1 abc last\n"));
  refused(enc.encode(`tusk-tree-fanout 1\nc 0 0 ${id} a\nc 5000 0 ${id} b\n`));
  refused(enc.encode(`tusk-tree-fanout 1\nc 5000 0 ${id} b`));
  refused(new Uint8Array([...enc.encode("tusk-tree-fanout 1\n"), 0xff, 10]));
});

Deno.test("checkChunk() refuses a chunk that does not match its line or is cut elsewhere", () => {
  const id = sha256("id");
  const sorted = names(CHUNK_MIN_ENTRIES * 2).map((n) => file(n));
  const parts = splitChunks(sorted);
  const lines = parts.map((p) => fanoutChunk(p, sha256(encodeTree(p))));
  for (let i = 0; i < parts.length; i++) checkChunk(lines, i, parts[i]!, id);
  const refused = (index: number, entries: TreeEntry[], chunks = lines) =>
    assert.throws(
      () => checkChunk(chunks, index, entries, id),
      (err: unknown) =>
        err instanceof IntegrityError && err.data.object === id &&
        err.data.chunk === chunks[index]!.hash,
    );
  // A count, a size or a last name that differs from the line.
  refused(0, parts[0]!.slice(1));
  refused(0, [...parts[0]!.slice(0, -1), { ...parts[0]!.at(-1)!, size: 999 }]);
  // Two chunks joined into one line: it runs past a chunk end.
  const joined = [...parts[0]!, ...parts[1]!];
  const merged = [fanoutChunk(joined, sha256("j")), ...lines.slice(2)];
  refused(0, joined, merged);
  // A chunk cut before a chunk end (not the last chunk).
  const cut = parts[0]!.slice(0, -1);
  const early = [
    fanoutChunk(cut, sha256("c")),
    fanoutChunk(parts[0]!.slice(-1), sha256("d")),
    ...lines.slice(1),
  ];
  refused(0, cut, early);
  // A chunk whose first name is not after the one before's last.
  const overlap = [parts[0]!.at(-1)!, ...parts[1]!];
  const over = [lines[0]!, fanoutChunk(overlap, sha256("o")), ...lines.slice(2)];
  refused(1, overlap, over);
});

// ---- editing: the same entries give the same tree ----

Deno.test("any sequence of puts and deletes in a large folder gives the tree built at once", async () => {
  await using t = await testStore();
  const rnd = random(15);
  const pool = [...names(7000), ...names(300, "g"), "!first", "~last", "\u{1F418}", "a\u2028b"];
  const ends = pool.filter(isChunkEnd);
  const model = new Map<string, TreeEntry>();
  for (const n of names(5000)) model.set(n, file(n));
  const start = await folderIn(t.store, [...model.values()]);
  const batch = start.batch;
  let root = start.root;
  for (let step = 0; step < 150; step++) {
    // One to a hundred names a step, so that some steps edit many chunks at once.
    const count = rnd() < 0.1 ? 65 + Math.floor(rnd() * 40) : 1 + Math.floor(rnd() * 6);
    const edits: Edit[] = [];
    const touched = new Set<string>();
    for (let i = 0; i < count; i++) {
      // A chunk end one time in four: where chunks split and merge.
      const from = rnd() < 0.25 ? ends : pool;
      const name = from[Math.floor(rnd() * from.length)]!;
      if (touched.has(name)) continue;
      touched.add(name);
      if (model.has(name) && rnd() < 0.55) {
        edits.push(del(name));
        model.delete(name);
      } else {
        const version = Math.floor(rnd() * 3);
        edits.push(put(name, version));
        model.set(name, file(name, version));
      }
    }
    root = await edit(t.store, root, edits, batch);
    if (step % 10 === 9 || step === 149) {
      assert.equal(root, await builtAtOnce(model.values()), `after step ${step}`);
      assert.deepEqual(
        (await t.store.readTree(root, batch)).map((e) => e.name),
        [...model.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
  }
});

Deno.test("edits at chunk boundaries give the tree built at once", async () => {
  await using t = await testStore();
  const all = names(9000);
  const model = new Map(all.slice(0, 6000).map((n) => [n, file(n)]));
  const { batch, root: start } = await folderIn(t.store, [...model.values()]);
  let root = start;
  const sorted = () => [...model.keys()].sort();
  const chunkEnds = () => sorted().filter(isChunkEnd);
  const same = async (what: string) => assert.equal(root, await builtAtOnce(model.values()), what);
  const apply = async (edits: Edit[], what: string) => {
    for (const e of edits) {
      if (e.op === "delete") model.delete(e.path[0]!);
      else model.set(e.path[0]!, file(e.path[0]!, e.size - e.path[0]!.length));
    }
    root = await edit(t.store, root, edits, batch);
    await same(what);
  };
  const ends = chunkEnds();
  assert.ok(ends.length >= 3, "the folder has chunk ends");
  const end = ends[1]!;
  const afterEnd = sorted()[sorted().indexOf(end) + 1]!;
  // The last entry of a chunk changed, then deleted (its chunk merges with the next), then
  // put back (split again).
  await apply([put(end, 1)], "last entry of a chunk changed");
  const before = root;
  await apply([del(end)], "last entry of a chunk deleted");
  assert.notEqual(root, before);
  await apply([put(end, 1)], "last entry of a chunk put back");
  assert.equal(root, before);
  // The first entry of a chunk deleted and put back; a name between two chunks.
  await apply([del(afterEnd)], "first entry of a chunk deleted");
  await apply([put(afterEnd)], "first entry of a chunk put back");
  await apply([put(`${end}~`)], "a name just after a chunk end");
  // A new chunk end put (its chunk splits) and deleted.
  const fresh = all.slice(6000).find(isChunkEnd)!;
  assert.ok(fresh, "a new name that is a chunk end");
  await apply([put(fresh)], "a new chunk end put");
  await apply([del(fresh)], "a new chunk end deleted");
  // Names before the first and after the last; the last entry of the folder deleted.
  await apply([put("!first"), put("~last")], "the first and last names");
  await apply([del("~last"), del(sorted().at(-2)!)], "the last entries deleted");
  // Two neighbouring chunk ends deleted at once: three chunks become one.
  await apply([del(ends[0]!), del(ends[2]!), del(ends[3] ?? ends[2]!)], "several chunk ends");
  // Every entry of one chunk deleted.
  const s = sorted();
  const e4 = chunkEnds()[1]!;
  const from = s.indexOf(chunkEnds()[0]!) + 1;
  await apply(s.slice(from, s.indexOf(e4) + 1).slice(0, 60).map(del), "most of a chunk deleted");
});

Deno.test("a folder crossing the threshold both ways becomes a fanout and a plain tree again", async () => {
  await using t = await testStore();
  const all = names(CHUNK_MIN_ENTRIES + 20);
  const model = new Map(all.slice(0, CHUNK_MIN_ENTRIES - 2).map((n) => [n, file(n)]));
  const { batch, root: start } = await folderIn(t.store, [...model.values()]);
  assert.ok(!isFanout(batch.pending(start)!));
  let root = start;
  for (const n of all.slice(CHUNK_MIN_ENTRIES - 2, CHUNK_MIN_ENTRIES + 3)) {
    model.set(n, file(n));
    root = await edit(t.store, root, [put(n)], batch);
    assert.equal(root, await builtAtOnce(model.values()), `put ${n}`);
    assert.equal(isFanout(batch.pending(root)!), model.size > CHUNK_MIN_ENTRIES, `${model.size}`);
  }
  for (const n of all.slice(CHUNK_MIN_ENTRIES - 2, CHUNK_MIN_ENTRIES + 3).reverse()) {
    model.delete(n);
    root = await edit(t.store, root, [del(n)], batch);
    assert.equal(root, await builtAtOnce(model.values()), `delete ${n}`);
  }
  assert.equal(root, start);
  assert.deepEqual(batch.pending(root), encodeTree([...model.values()]));
});

Deno.test("a large plain tree of an older version is read, and edited into the chunked form", async () => {
  await using t = await testStore();
  const entries = names(6000).map((n) => file(n));
  const batch = t.store.objects.batch();
  const old = await batch.add(encodeTree(entries));
  assert.equal((await t.store.readTree(old, batch)).length, 6000);
  const model = new Map(entries.map((e) => [e.name, e]));
  model.set("new", file("new"));
  const root = await edit(t.store, old, [put("new")], batch);
  assert.equal(root, await builtAtOnce(model.values()));
  assert.ok(isFanout(batch.pending(root)!));
});

// ---- through the verbs: list, page, get, verify, gc ----

/**
 * A repo `r` whose `/big` holds `n` files `f00000` … (text `<name>\n`), committed in one
 * transaction as the verbs would; returns the file names.
 */
async function bigRepo(
  t: TestStore,
  n: number,
  garbage = false,
  atRoot = false,
): Promise<string[]> {
  await createRepo(t.store, "r");
  const list = names(n);
  await t.store.transact(async (tx) => {
    const entries: TreeEntry[] = [];
    for (const name of list) {
      const bytes = enc.encode(`${name}\n`);
      entries.push({ name, kind: "file", hash: await tx.batch.add(bytes), size: bytes.length });
    }
    if (garbage) await tx.batch.add(enc.encode("garbage\n"));
    const big = await encodeFolder(entries, sha256Async);
    for (const c of big.chunks) await tx.batch.add(c.bytes, c.hash);
    await tx.batch.add(big.bytes, big.hash);
    const root = atRoot ? big.hash : await tx.batch.add(
      encodeTree([{ name: "big", kind: "dir", hash: big.hash, size: big.size }]),
    );
    await tx.commit("r", "master", () => Promise.resolve({ tree: root, size: big.size }), {
      message: "",
      origin: "user",
    });
  });
  return list;
}

/** Flip a bit of the packed object `hash`, found through its pack's index. */
async function damagePacked(store: Store, hash: Hash): Promise<void> {
  const packs = `${store.objects.root}/packs`;
  for await (const f of Deno.readDir(packs)) {
    if (!f.name.endsWith(".idx")) continue;
    const line = (await Deno.readTextFile(`${packs}/${f.name}`)).split("\n")
      .find((l) => l.startsWith(`${hash} `));
    if (!line) continue;
    const offset = Number(line.split(" ")[1]);
    const pack = `${packs}/${f.name.slice(0, -4)}.pack`;
    const bytes = await Deno.readFile(pack);
    bytes[offset + 3] = bytes[offset + 3]! ^ 1;
    await Deno.chmod(pack, 0o644);
    await Deno.writeFile(pack, bytes);
    return;
  }
  assert.fail(`object ${hash} is in no pack`);
}

/** The fanout of `/big` at `r@master` and its chunks. */
async function bigFanout(store: Store) {
  const { commit } = await store.resolve(await store.state(), "r@master");
  const entry = await store.lookup(commit!.tree, ["big"]);
  const bytes = await store.objects.read(entry!.hash);
  assert.ok(isFanout(bytes), "/big is a fanout");
  return { hash: entry!.hash, chunks: decodeFanout(bytes, entry!.hash) };
}

Deno.test("a large folder is listed, paged, read and put to through its chunks", async () => {
  await using t = await testStore();
  const list = await bigRepo(t, 6000);
  assert.equal(await Deno.readTextFile(`${t.dir}/.tusk/STORE`), "tusk-store 2\n");
  const paths = (files: readonly { path: string }[]) => files.map((f) => f.path.slice(5));
  assert.deepEqual(paths(await listFile(t.store, "r@master:/big")), list);
  const { chunks } = await bigFanout(t.store);
  // Pages that start at a chunk's last name, span chunks, and end past the last.
  const last = chunks[0]!.last;
  const at = list.indexOf(last);
  assert.deepEqual(
    paths(await listFile(t.store, "r@master:/big", { after: last, limit: 3 })),
    list.slice(at + 1, at + 4),
  );
  assert.deepEqual(
    paths(await listFile(t.store, "r@master:/big", { after: list[at - 1]!, limit: 3000 })),
    list.slice(at, at + 3000),
  );
  assert.deepEqual(paths(await listFile(t.store, "r@master:/big", { after: "~" })), []);
  assert.deepEqual(paths(await listFile(t.store, "r@master:/big", { limit: 2 })), list.slice(0, 2));
  let after: string | undefined;
  const joined: string[] = [];
  for (;;) {
    const page = await listFile(t.store, "r@master:/big", {
      limit: 700,
      ...after !== undefined ? { after } : {},
    });
    if (!page.length) break;
    joined.push(...paths(page));
    after = joined.at(-1);
  }
  assert.deepEqual(joined, list);
  assert.equal(await readText(t.store, `r@master:/big/${list[4321]}`), `${list[4321]}\n`);
  await putText(t, "r@master:/big/f04321", "changed\n");
  await deleteFile(t.store, `r@master:/big/${last}`);
  assert.equal(await readText(t.store, "r@master:/big/f04321"), "changed\n");
  const now = paths(await listFile(t.store, "r@master:/big"));
  assert.deepEqual(now, list.filter((n) => n !== last));
  const report = await verifyStore(t.store);
  assert.ok(report.trees > chunks.length, `${report.trees} trees`);
});

Deno.test("a damaged chunk is named by verify, get file and a page that reads it", async () => {
  await using t = await testStore();
  const list = await bigRepo(t, 6000);
  const { hash, chunks } = await bigFanout(t.store);
  const i = Math.floor(chunks.length / 2);
  const chunk = chunks[i]!.hash;
  await damagePacked(t.store, chunk);
  const named = (err: unknown) => err instanceof IntegrityError && err.data.object === chunk;
  await assert.rejects(() => verifyStore(t.store), named);
  const inIt = list[list.indexOf(chunks[i]!.last) - 1]!;
  const fresh = await Store.open(`${t.dir}/.tusk`);
  try {
    await assert.rejects(() => readText(fresh, `r@master:/big/${inIt}`), named);
    await assert.rejects(() => listFile(fresh, "r@master:/big", { after: inIt, limit: 1 }), named);
    await assert.rejects(() => listFile(fresh, "r@master:/big"), named);
    // A file and a page in another chunk are still read: only the chunks needed are.
    assert.equal(await readText(fresh, `r@master:/big/${list[0]}`), `${list[0]}\n`);
    const page = await listFilePage(fresh, "r@master:/big", { limit: 2 });
    assert.deepEqual(page.files.map((f) => f.path), [`/big/${list[0]}`, `/big/${list[1]}`]);
    await page.check();
  } finally {
    fresh.objects.close();
  }
  assert.notEqual(hash, chunk);
});

Deno.test("a page of a large folder at a repo's root reads only the chunks it spans", async () => {
  await using t = await testStore();
  const list = await bigRepo(t, 6000, false, true);
  const { commit } = await t.store.resolve(await t.store.state(), "r@master");
  const chunks = decodeFanout(await t.store.objects.read(commit!.tree), commit!.tree);
  await damagePacked(t.store, chunks.at(-1)!.hash);
  const fresh = await Store.open(`${t.dir}/.tusk`);
  try {
    const page = await listFilePage(fresh, "r@master:/", { limit: 2 });
    assert.deepEqual(page.files.map((f) => f.path), [`/${list[0]}`, `/${list[1]}`]);
    await page.check();
    await assert.rejects(
      () => listFile(fresh, "r@master:/", { after: list.at(-2)! }),
      (err: unknown) => err instanceof IntegrityError && err.data.object === chunks.at(-1)!.hash,
    );
  } finally {
    fresh.objects.close();
  }
});

Deno.test("a missing chunk is named by verify as the chunk of its tree", async () => {
  await using t = await testStore();
  await bigRepo(t, 6000);
  const { hash, chunks } = await bigFanout(t.store);
  // One chunk's line taken out of its pack's index (and the index's checksum made again),
  // as if the object were lost.
  const chunk = chunks.at(-1)!.hash;
  await dropFromIndex(t.store, chunk);
  const fresh = await Store.open(`${t.dir}/.tusk`);
  try {
    await assert.rejects(
      () => verifyStore(fresh),
      (err: unknown) =>
        err instanceof IntegrityError && err.data.object === chunk &&
        err.message.includes(`Chunk ${chunk} of tree ${hash}`),
    );
    await assert.rejects(() => listFile(fresh, "r@master:/big"), NotFoundError);
  } finally {
    fresh.objects.close();
  }
});

/** Take the object `hash` out of its pack's index, as if it were lost. */
async function dropFromIndex(store: Store, hash: Hash): Promise<void> {
  const packs = `${store.objects.root}/packs`;
  for await (const f of Deno.readDir(packs)) {
    if (!f.name.endsWith(".idx")) continue;
    const path = `${packs}/${f.name}`;
    const lines = (await Deno.readTextFile(path)).split("\n");
    if (!lines.some((l) => l.startsWith(`${hash} `))) continue;
    const kept = lines.filter((l) => l && !l.startsWith(`${hash} `) && !l.startsWith("end "));
    const body = kept.map((l) => `${l}\n`).join("");
    await Deno.chmod(path, 0o644);
    await Deno.writeTextFile(path, `${body}end ${sha256(body)}\n`);
    return;
  }
  assert.fail(`object ${hash} is in no pack`);
}

Deno.test("gc keeps a live folder's chunks while it frees garbage packed beside them", async () => {
  await using t = await testStore();
  const list = await bigRepo(t, 6000, true);
  const { chunks } = await bigFanout(t.store);
  await putText(t, `r@master:/big/${list[10]}`, "new\n");
  const report = await gcStore(t.store);
  assert.equal(report.objects, 1, "the garbage is freed");
  for (const c of chunks) assert.ok(await t.store.objects.has(c.hash), `chunk ${c.hash} kept`);
  await verifyStore(t.store);
  assert.equal((await listFile(t.store, "r@master:/big")).length, 6000);
});
