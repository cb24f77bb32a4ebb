import assert from "node:assert/strict";
import {
  canonicalJson,
  checkTreeFrame,
  type Commit,
  decodeCommit,
  decodeTree,
  EMPTY_TREE,
  EMPTY_TREE_BYTES,
  encodeCommit,
  encodeTree,
  findTreeLine,
  scanTree,
  spliceTree,
  type TreeEntry,
  treeSize,
} from "../../lib/store/codec.ts";
import { sha256 } from "../../lib/store/hash.ts";
import { IntegrityError } from "../../lib/errors.ts";

const H1 = "1".repeat(64);
const H2 = "2".repeat(64);
const H3 = "3".repeat(64);
const enc = new TextEncoder();

const base: Commit = {
  repo: "training",
  parent: H1,
  tree: H2,
  size: 42,
  time: "2024-01-02T03:04:05.000Z",
  message: "Add iris.csv",
  branch: "master",
  origin: "user",
};

function commitId(c: Commit): string {
  return sha256(encodeCommit(c));
}

function assertIntegrity(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.equal(err.code, "INTEGRITY");
    return true;
  });
}

Deno.test("canonicalJson() sorts object keys at every depth", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }),
    '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
  );
});

Deno.test("canonicalJson() gives the same text whatever the insertion order", () => {
  assert.equal(canonicalJson({ x: 1, y: "2" }), canonicalJson({ y: "2", x: 1 }));
});

Deno.test("canonicalJson() leaves out undefined fields", () => {
  assert.equal(canonicalJson({ a: 1, b: undefined }), '{"a":1}');
});

Deno.test("encodeTree() and decodeTree() round-trip files and folders", () => {
  const entries: TreeEntry[] = [
    { name: "data", kind: "dir", hash: H1, size: 10 },
    { name: "iris.csv", kind: "file", hash: H2, size: 4551 },
    { name: "name with spaces", kind: "file", hash: H3, size: 0 },
  ];
  const bytes = encodeTree(entries);
  assert.deepEqual(decodeTree(bytes, sha256(bytes)), entries);
});

Deno.test("encodeTree() and decodeTree() round-trip names with line and paragraph separators", () => {
  // U+2028 and U+2029 are legal in names; only a newline may not appear in one.
  const entries: TreeEntry[] = [
    { name: "a\u2028b.txt", kind: "file", hash: H1, size: 1 },
    { name: "c\u2029d", kind: "dir", hash: H2, size: 2 },
  ];
  const bytes = encodeTree(entries);
  assert.deepEqual(decodeTree(bytes, sha256(bytes)), entries);
});

Deno.test("decodeTree() refuses an empty name, a missing field and a line after a good one", () => {
  assertIntegrity(() => decodeTree(enc.encode(`tusk-tree 1\nf 1 ${H1} \n`), H3));
  assertIntegrity(() => decodeTree(enc.encode(`tusk-tree 1\nf ${H1} a\n`), H3));
  assertIntegrity(() => decodeTree(enc.encode(`tusk-tree 1\nf 1 ${H1} a\nbad\n`), H3));
});

Deno.test("encodeTree() sorts entries by name", () => {
  const a: TreeEntry = { name: "a", kind: "file", hash: H1, size: 1 };
  const b: TreeEntry = { name: "b", kind: "dir", hash: H2, size: 2 };
  const c: TreeEntry = { name: "c", kind: "file", hash: H3, size: 3 };
  const bytes = encodeTree([c, a, b]);
  assert.deepEqual(bytes, encodeTree([a, b, c]));
  assert.deepEqual(decodeTree(bytes, sha256(bytes)).map((e) => e.name), ["a", "b", "c"]);
});

Deno.test("EMPTY_TREE is the hash of an encoded empty tree", () => {
  assert.equal(EMPTY_TREE, sha256(encodeTree([])));
  assert.deepEqual(decodeTree(encodeTree([]), EMPTY_TREE), []);
});

Deno.test("EMPTY_TREE_BYTES is the encoded empty tree, named EMPTY_TREE", () => {
  assert.deepEqual(EMPTY_TREE_BYTES, encodeTree([]));
  assert.equal(sha256(EMPTY_TREE_BYTES), EMPTY_TREE);
});

/** A tree of files named `f00`, `f02`, … `f98` (even numbers), each as big as its number. */
function evenTree(): TreeEntry[] {
  return Array.from({ length: 50 }, (_, i) => ({
    name: `f${String(2 * i).padStart(2, "0")}`,
    kind: "file" as const,
    hash: sha256(String(i)),
    size: 2 * i,
  }));
}

Deno.test("findTreeLine() finds every entry of an encoded tree and its line", () => {
  const entries = evenTree();
  const bytes = encodeTree(entries);
  for (const e of entries) {
    const slot = findTreeLine(bytes, e.name, H3);
    assert.deepEqual(slot.entry, e);
    assert.deepEqual(
      new TextDecoder().decode(bytes.subarray(slot.start, slot.end)).split(" ")[3],
      `${e.name}\n`,
    );
  }
});

Deno.test("findTreeLine() gives an empty slot where a missing name would go", () => {
  const bytes = encodeTree(evenTree());
  const first = findTreeLine(bytes, "f00", H3);
  const before = findTreeLine(bytes, "a", H3);
  assert.deepEqual(before, { start: first.start, end: first.start, entry: null });
  const f10 = findTreeLine(bytes, "f10", H3);
  assert.deepEqual(findTreeLine(bytes, "f09", H3), {
    start: f10.start,
    end: f10.start,
    entry: null,
  });
  assert.deepEqual(findTreeLine(bytes, "z", H3), {
    start: bytes.length,
    end: bytes.length,
    entry: null,
  });
});

Deno.test("spliceTree() puts, replaces and removes lines as encodeTree() would", () => {
  const entries = evenTree();
  const bytes = encodeTree(entries);
  const put: TreeEntry = { name: "f09", kind: "dir", hash: H1, size: 7 };
  const replaced: TreeEntry = { name: "f20", kind: "file", hash: H2, size: 5 };
  const out = spliceTree(bytes, [
    { name: "f09", ...findTreeLine(bytes, "f09", H3), entry: put },
    { name: "f20", ...findTreeLine(bytes, "f20", H3), entry: replaced },
    { name: "f98", ...findTreeLine(bytes, "f98", H3), entry: null },
  ]);
  const model = entries.filter((e) => e.name !== "f20" && e.name !== "f98");
  assert.deepEqual(out, encodeTree([...model, put, replaced]));
});

Deno.test("spliceTree() puts new names that share an insertion point in name order", () => {
  const bytes = encodeTree(evenTree());
  const at = findTreeLine(bytes, "f09", H3);
  const a: TreeEntry = { name: "f09a", kind: "file", hash: H1, size: 1 };
  const b: TreeEntry = { name: "f09b", kind: "file", hash: H2, size: 1 };
  const out = spliceTree(bytes, [{ name: "f09b", ...at, entry: b }, {
    name: "f09a",
    ...at,
    entry: a,
  }]);
  assert.deepEqual(out, encodeTree([...evenTree(), a, b]));
});

Deno.test("spliceTree() gives null when the last entry is removed", () => {
  const bytes = encodeTree([{ name: "only", kind: "file", hash: H1, size: 1 }]);
  assert.equal(
    spliceTree(bytes, [{ name: "only", ...findTreeLine(bytes, "only", H3), entry: null }]),
    null,
  );
});

Deno.test("treeSize() sums the sizes of an encoded tree's entries", () => {
  assert.equal(treeSize(encodeTree(evenTree())), evenTree().reduce((n, e) => n + e.size, 0));
  assert.equal(treeSize(EMPTY_TREE_BYTES), 0);
});

Deno.test("checkTreeFrame() refuses bytes without the tree header or the final newline", () => {
  checkTreeFrame(encodeTree(evenTree()), H3);
  assertIntegrity(() => checkTreeFrame(enc.encode(`f 1 ${H1} a\n`), H3));
  assertIntegrity(() => checkTreeFrame(enc.encode(`tusk-tree 1\nf 1 ${H1} a`), H3));
});

Deno.test("decodeTree() refuses bytes without the tree header", () => {
  assertIntegrity(() => decodeTree(enc.encode(`f 1 ${H1} a\n`), H3));
});

Deno.test("decodeTree() refuses a tree without its final newline", () => {
  assertIntegrity(() => decodeTree(enc.encode(`tusk-tree 1\nf 1 ${H1} a`), H3));
});

Deno.test("decodeTree() refuses a malformed entry", () => {
  assertIntegrity(() => decodeTree(enc.encode(`tusk-tree 1\nx 1 ${H1} a\n`), H3));
});

Deno.test("decodeTree() refuses an entry with a short hash", () => {
  assertIntegrity(() => decodeTree(enc.encode(`tusk-tree 1\nf 1 abcd a\n`), H3));
});

Deno.test("decodeTree() refuses bytes that are not UTF-8", () => {
  assertIntegrity(() => decodeTree(new Uint8Array([0xff, 0xfe, 0x0a]), H3));
});

Deno.test("decodeTree() names the tree in its error data", () => {
  assert.throws(() => decodeTree(enc.encode("garbage"), H3), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.equal(err.data.object, H3);
    return true;
  });
});

Deno.test("encodeCommit() and decodeCommit() round-trip a user commit", () => {
  assert.deepEqual(decodeCommit(encodeCommit(base), commitId(base)), base);
});

Deno.test("encodeCommit() and decodeCommit() round-trip a pipeline commit with provenance", () => {
  const c: Commit = {
    ...base,
    parent: null,
    origin: "pipeline",
    provenance: {
      inputs: [{ repo: "training", commit: H1 }],
      spec: H2,
      code: H3,
      pipeline: "model",
      job: "j1",
    },
  };
  assert.deepEqual(decodeCommit(encodeCommit(c), commitId(c)), c);
});

Deno.test("encodeCommit() and decodeCommit() round-trip a revert", () => {
  const c: Commit = { ...base, origin: "revert", revertOf: H3 };
  assert.deepEqual(decodeCommit(encodeCommit(c), commitId(c)), c);
});

Deno.test("encodeCommit() is independent of field order", () => {
  const reordered = Object.fromEntries(Object.entries(base).reverse()) as unknown as Commit;
  assert.deepEqual(encodeCommit(reordered), encodeCommit(base));
});

Deno.test("decodeCommit() refuses bytes that are not a commit", () => {
  assertIntegrity(() => decodeCommit(enc.encode('{"type":"tree"}'), H1));
});

Deno.test("decodeCommit() refuses bytes that are not JSON", () => {
  assertIntegrity(() => decodeCommit(enc.encode("{not json"), H1));
});

const variants: [string, Commit][] = [
  ["the parent changes", { ...base, parent: H3 }],
  ["the parent becomes null", { ...base, parent: null }],
  ["the tree changes", { ...base, tree: H3 }],
  ["the time changes by a millisecond", { ...base, time: "2024-01-02T03:04:05.001Z" }],
  ["the message changes", { ...base, message: "Add iris.csv!" }],
  ["provenance is added", {
    ...base,
    provenance: { inputs: [{ repo: "training", commit: H1 }] },
  }],
];

for (const [what, changed] of variants) {
  Deno.test(`commit id changes when ${what}`, () => {
    assert.notEqual(commitId(changed), commitId(base));
  });
}

Deno.test("commit id changes when a provenance input changes", () => {
  const a: Commit = { ...base, provenance: { inputs: [{ repo: "training", commit: H1 }] } };
  const b: Commit = { ...base, provenance: { inputs: [{ repo: "training", commit: H2 }] } };
  assert.notEqual(commitId(a), commitId(b));
});

Deno.test("commit id changes when the provenance code hash changes", () => {
  const a: Commit = { ...base, provenance: { inputs: [], code: H1 } };
  const b: Commit = { ...base, provenance: { inputs: [], code: H2 } };
  assert.notEqual(commitId(a), commitId(b));
});

Deno.test("commit id is stable for equal commits", () => {
  assert.equal(commitId({ ...base }), commitId(base));
});

/** What `decodeTree` makes of `bytes`, or its error's message and data. */
function decoded(bytes: Uint8Array): unknown {
  try {
    return decodeTree(bytes, "t").map((e) => [e.kind === "dir" ? 1 : 0, e.hash, e.name]);
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    return { message: err.message, data: err.data };
  }
}

/** The same from `scanTree`'s positions, the hashes and names read where they lie. */
function scanned(bytes: Uint8Array): unknown {
  const text = (from: number, to: number) => new TextDecoder().decode(bytes.subarray(from, to));
  try {
    const t = scanTree(bytes, "t");
    return Array.from({ length: t.count }, (_, i) => [
      t.dirs[i],
      text(t.hashAt[i]!, t.hashAt[i]! + 64),
      text(t.nameAt[i]!, t.nameEnd[i]!),
    ]);
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    return { message: err.message, data: err.data };
  }
}

Deno.test("scanTree() finds what decodeTree() finds, and refuses what it refuses, with the same error", () => {
  const names = ["a", "b c", "é✓🐘", "x\ry", "1234567890".repeat(30), "-", "z"];
  const entries: TreeEntry[] = names.map((name, i) => ({
    name,
    kind: i % 3 === 0 ? "dir" : "file",
    hash: sha256(name),
    size: i * 1000,
  }));
  const good = encodeTree(entries);
  assert.deepEqual(scanned(good), decoded(good));
  assert.equal((scanned(good) as unknown[]).length, names.length);
  assert.deepEqual(scanned(encodeTree([])), []);
  // Every byte changed to each of a few telling values: the two agree on each.
  for (let at = 0; at < good.length; at++) {
    for (const b of [0x0a, 0x20, 0x30, 0x41, 0x61, 0x64, 0x67, 0xff, 0xc3]) {
      const bad = good.slice();
      bad[at] = b;
      assert.deepEqual(scanned(bad), decoded(bad), `byte ${at} set to ${b}`);
    }
    const cut = good.subarray(0, at);
    assert.deepEqual(scanned(cut), decoded(cut), `cut at ${at}`);
  }
});
