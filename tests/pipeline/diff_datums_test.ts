/**
 * `diffDatums()` on large folders (stored in chunks): the datums it gives are those
 * `planDatums()` gives, in the same order, whatever the edit (a changed file, a file added or
 * removed where a chunk ends, a chunk split), and a chunk whose hash is unchanged is not read.
 */
import assert from "node:assert/strict";
import { comparePaths, type Datum, diffDatums, planDatums } from "../../lib/pipeline/datums.ts";
import { parseSpec } from "../../lib/pipeline/spec/parse_spec.ts";
import type { PfsInput } from "../../lib/pipeline/spec/input.ts";
import { EMPTY_TREE } from "../../lib/store/codec.ts";
import { isChunkEnd } from "../../lib/store/fanout_codec.ts";
import type { Edit } from "../../lib/store/store.ts";
import { Store } from "../../lib/store/store.ts";
import { fakeClock } from "../store/_fixtures.ts";

const CODE = "0".repeat(64);
const FILES = 5000;
const utf8 = new TextEncoder();

/** The pfs input of repo "data" with `glob`. */
function inputOf(glob: string): PfsInput {
  const spec = parseSpec({
    pipeline: { name: "p" },
    transform: { cmd: ["deno", "run", "main.ts"] },
    input: { pfs: { repo: "data", glob } },
  });
  return spec.input as PfsInput;
}

/** Commit `edits` (paths as segments, texts as contents) to data@master; returns its id. */
async function commit(store: Store, edits: readonly [string[], string | null][]): Promise<string> {
  let id = "";
  await store.transact(async (tx) => {
    if (!(await store.state()).repos.data) {
      tx.change({ type: "repo:create", repo: "data", description: "" });
    }
    const info = await tx.commit("data", "master", async (parent) => {
      const out: Edit[] = [];
      for (const [path, text] of edits) {
        if (text === null) {
          out.push({ op: "delete", path });
          continue;
        }
        const bytes = utf8.encode(text);
        out.push({ op: "put", path, hash: await tx.batch.add(bytes), size: bytes.length });
      }
      const r = await store.editTree(parent?.commit.tree ?? EMPTY_TREE, out, tx.batch);
      return { tree: r.hash, size: r.size };
    }, { message: "edit", origin: "user" });
    id = info.id;
  });
  return id;
}

/** A name `<prefix><n>.txt` that ends a chunk (or, `ends` false, does not). */
function nameThat(prefix: string, ends: boolean): string {
  for (let n = 0;; n++) if (isChunkEnd(`${prefix}${n}.txt`) === ends) return `${prefix}${n}.txt`;
}

/** `FILES` files in `folder` (the root for none), as edits. */
function bigFolder(folder: string[]): [string[], string][] {
  return Array.from({ length: FILES }, (_, i) => {
    const name = `f${String(i).padStart(4, "0")}.txt`;
    return [[...folder, name], `file ${i}\n`];
  });
}

/** A store in a temp folder; removed when disposed. */
async function scratch(): Promise<{ store: Store; dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "tusk-diff-datums-test-" });
  const store = await Store.init(`${dir}/.tusk`, { clock: fakeClock() });
  return {
    store,
    dir,
    async [Symbol.asyncDispose]() {
      store.objects.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** The datums `diffDatums()` gives for `now` against `was`, each resolved to its datum. */
async function diffed(store: Store, input: PfsInput, was: string, now: string) {
  const options = { salt: "", codeHash: CODE };
  const earlier = await planDatums(
    store,
    input,
    new Map([["data", { repo: "data", commit: was }]]),
    options,
  );
  const found = await diffDatums(store, input, { repo: "data", commit: now, earlier: was }, {
    ...options,
    earlierPaths: earlier.map((d) => d.inputs[0]!.path),
  });
  assert.ok(found, "the diff gave datums");
  return found.map((d) => ("earlier" in d ? earlier[d.earlier]! : d.datum));
}

/** What the full plan and the diff must agree on: each datum's key and hash, in order. */
function keys(datums: readonly Datum[]): string[] {
  return datums.map((d) => `${d.key} ${d.hash}`);
}

async function full(store: Store, input: PfsInput, now: string): Promise<Datum[]> {
  return await planDatums(store, input, new Map([["data", { repo: "data", commit: now }]]), {
    salt: "",
    codeHash: CODE,
  });
}

const EDITS: Record<string, (folder: string[]) => [string[], string | null][]> = {
  "a changed file": (f) => [[[...f, "f2500.txt"], "changed\n"]],
  "a file added that ends a chunk": (f) => [[[...f, nameThat("f2", true)], "new\n"]],
  "a file added inside a chunk": (f) => [[[...f, nameThat("f3", false)], "new\n"]],
  "a chunk's last file removed": (f) => {
    const last = bigFolder(f).map(([p]) => p.at(-1)!).find((n) => isChunkEnd(n))!;
    return [[[...f, last], null]];
  },
  "the last file removed and files added at both ends": (f) => [
    [[...f, "f4999.txt"], null],
    [[...f, "a.txt"], "first\n"],
    [[...f, "z.txt"], "last\n"],
  ],
  "several chunks changed": (f) => [
    [[...f, "f0001.txt"], "one\n"],
    [[...f, "f1200.txt"], null],
    [[...f, "f3700.txt"], "three\n"],
  ],
};

for (const [what, edit] of Object.entries(EDITS)) {
  Deno.test(`diffDatums() gives the full plan's datums of a folder in chunks for ${what} (glob "/*")`, async () => {
    await using s = await scratch();
    const was = await commit(s.store, bigFolder([]));
    const now = await commit(s.store, edit([]));
    const input = inputOf("/*");
    assert.ok(
      await s.store.fanoutOf((await s.store.readCommit(now)).tree),
      "the root is in chunks",
    );
    assert.deepEqual(
      keys(await diffed(s.store, input, was, now)),
      keys(await full(s.store, input, now)),
    );
  });
}

for (const glob of ["/*/*", "/**", "/big/*"]) {
  Deno.test(`diffDatums() gives the full plan's datums of a nested folder in chunks (glob "${glob}")`, async () => {
    await using s = await scratch();
    const was = await commit(s.store, [
      ...bigFolder(["big"]),
      [["big", "sub", "x.txt"], "x\n"],
      [["small", "x.txt"], "x\n"],
    ]);
    const now = await commit(s.store, [
      ...EDITS["several chunks changed"]!(["big"]),
      [["big", "sub", "y.txt"], "y\n"],
      [["small", "y.txt"], "y\n"],
    ]);
    const input = inputOf(glob);
    assert.deepEqual(
      keys(await diffed(s.store, input, was, now)),
      keys(await full(s.store, input, now)),
    );
  });
}

Deno.test("diffDatums() does not read a chunk whose hash is unchanged", async () => {
  await using s = await scratch();
  const was = await commit(s.store, bigFolder([]));
  const now = await commit(s.store, EDITS["a changed file"]!([]));
  const input = inputOf("/*");
  const earlierPaths = (await full(s.store, input, was)).map((d) => d.inputs[0]!.path);
  const chunks = (await s.store.fanoutOf((await s.store.readCommit(now)).tree))!;
  const before = (await s.store.fanoutOf((await s.store.readCommit(was)).tree))!;
  const kept = chunks.findIndex((c, i) => c.hash === before[i]?.hash);
  assert.ok(kept >= 0, "an unchanged chunk");
  await damage(s.dir, chunks[kept]!.hash);
  const fresh = await Store.open(`${s.dir}/.tusk`);
  try {
    await assert.rejects(full(fresh, input, now), "the full plan reads the damaged chunk");
    const found = await diffDatums(fresh, input, { repo: "data", commit: now, earlier: was }, {
      salt: "",
      codeHash: CODE,
      earlierPaths,
    });
    assert.ok(found);
    assert.equal(found.length, FILES);
    assert.deepEqual(
      found.filter((d) => "datum" in d).map((d) => "datum" in d && d.datum.inputs[0]!.path),
      ["/f2500.txt"],
    );
  } finally {
    fresh.objects.close();
  }
});

/** Flip a byte of the object `hash` where the store keeps it (a pack or a loose file). */
async function damage(dir: string, hash: string): Promise<void> {
  const packs = `${dir}/.tusk/packs`;
  for await (const e of Deno.readDir(packs)) {
    if (!e.name.endsWith(".idx")) continue;
    const line = (await Deno.readTextFile(`${packs}/${e.name}`)).split("\n")
      .find((l) => l.startsWith(`${hash} `));
    if (!line) continue;
    const offset = Number(line.split(" ")[1]);
    const pack = `${packs}/${e.name.slice(0, -4)}.pack`;
    const bytes = await Deno.readFile(pack);
    bytes[offset + 20] = bytes[offset + 20]! ^ 1;
    await Deno.writeFile(pack, bytes);
    return;
  }
  const loose = `${dir}/.tusk/objects/${hash.slice(0, 2)}/${hash.slice(2)}`;
  const bytes = await Deno.readFile(loose);
  bytes[20] = bytes[20]! ^ 1;
  await Deno.chmod(loose, 0o644);
  await Deno.writeFile(loose, bytes);
}

Deno.test("comparePaths() orders a folder's paths before a sibling name that sorts below '/'", () => {
  assert.ok(comparePaths("/a/b", "/a-b") < 0);
  assert.ok(comparePaths("/a", "/a/b") < 0);
  assert.ok(comparePaths("/a/z", "/b") < 0);
  assert.equal(comparePaths("/a/b", "/a/b"), 0);
});

Deno.test("diffDatums() says null for earlier paths out of a plan's order", async () => {
  await using s = await scratch();
  const was = await commit(s.store, bigFolder([]));
  const now = await commit(s.store, EDITS["a changed file"]!([]));
  const input = inputOf("/*");
  const paths = (await full(s.store, input, was)).map((d) => d.inputs[0]!.path);
  for (const earlierPaths of [[...paths].reverse(), [...paths, paths.at(-1)!]]) {
    const found = await diffDatums(s.store, input, { repo: "data", commit: now, earlier: was }, {
      salt: "",
      codeHash: CODE,
      earlierPaths,
    });
    assert.equal(found, null);
  }
});
