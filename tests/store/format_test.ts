/**
 * The store's bytes on disk are its format: a store written by a fixed sequence of
 * operations with a fixed clock is the same, byte for byte, whatever the code's shape. The
 * digests below are those of such a store as written when the format was pinned; pack
 * files, whose names carry the time and process, are compared by their content.
 */
import assert from "node:assert/strict";
import { EMPTY_TREE } from "../../lib/store/codec.ts";
import { sha256 } from "../../lib/store/hash.ts";
import { type Edit, Store } from "../../lib/store/store.ts";
import { fakeClock } from "./_fixtures.ts";

/** Every file of the store folder but its locks, with the SHA-256 of its bytes. */
async function digests(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(path, name);
      else if (e.name !== "lock" && e.name !== "gc.lock") {
        const digest = sha256(await Deno.readFile(path));
        out[rel === "packs" ? `packs/*${e.name.slice(e.name.lastIndexOf("."))}` : name] = digest;
      }
    }
  };
  await walk(root, "");
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a < b ? -1 : 1));
}

for (const [how, spliceMinBytes] of [["re-encoded", undefined], ["spliced", 0]] as const) {
  Deno.test(`a store written with a fixed clock keeps the bytes of store format 1 (trees ${how})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tusk-format-test-" });
    const store = await Store.init(`${dir}/.tusk`, {
      clock: fakeClock(),
      ...(spliceMinBytes === undefined ? {} : { spliceMinBytes }),
    });
    try {
      await store.transact(async (tx) => {
        tx.change({ type: "repo:create", repo: "data", description: "pinned" });
        await tx.commit("data", "master", async () => {
          const edits: Edit[] = [];
          for (let i = 0; i < 20; i++) {
            const bytes = new TextEncoder().encode(`file ${i}\n`);
            const hash = await tx.batch.add(bytes);
            edits.push({ op: "put", path: ["small", `f${i}.txt`], hash, size: bytes.length });
          }
          const big = new Uint8Array(2 << 20).map((_, i) => (i * 7919) % 251);
          const hash = await store.objects.writeLoose(big);
          edits.push({ op: "put", path: ["big.bin"], hash, size: big.length });
          const r = await store.editTree(EMPTY_TREE, edits, tx.batch);
          return { tree: r.hash, size: r.size };
        }, { message: "first", origin: "user" });
      });
      await store.transact(async (tx) => {
        await tx.commit("data", "master", async (parent) => {
          const bytes = new TextEncoder().encode("one more\n");
          const hash = await tx.batch.add(bytes);
          const r = await store.editTree(parent!.commit.tree, [
            { op: "put", path: ["small", "g.txt"], hash, size: bytes.length },
            { op: "delete", path: ["small", "f3.txt"] },
          ], tx.batch);
          return { tree: r.hash, size: r.size };
        }, { message: "second", origin: "user" });
      });
      assert.deepEqual(await digests(`${dir}/.tusk`), PINNED);
    } finally {
      store.objects.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const PINNED: Record<string, string> = {
  STORE: "a98505eab539e1f7fde18f0e67b9abe1bbbe95ada05d43f3c79e4c3e2b2978d9",
  ledger: "603fe2f820bb37f1c0d0916da3fcf89a91052d304f0bf0c280a734a5924aeca3",
  "objects/1a/a55e41771c23fe041cad320a42555b442b3c7eba7144b18b3346f3c34ffe3c":
    "1aa55e41771c23fe041cad320a42555b442b3c7eba7144b18b3346f3c34ffe3c",
  "objects/83/0842131d12cddf13c6ce481c2bdf3418761bfb90e3a7c299dbbf8993768597":
    "830842131d12cddf13c6ce481c2bdf3418761bfb90e3a7c299dbbf8993768597",
  "objects/8a/ca636b1f4d121fca46eb90d3ba45ee2ec57addab152a09fa8a736493dd1f7d":
    "8aca636b1f4d121fca46eb90d3ba45ee2ec57addab152a09fa8a736493dd1f7d",
  "objects/9e/bc14d65c2a5a16e9c4b5b755a6b25fbde04a0aa5e5b501f29f712b249a07b8":
    "9ebc14d65c2a5a16e9c4b5b755a6b25fbde04a0aa5e5b501f29f712b249a07b8",
  "objects/b5/0bc3e01262ab1c7ac805d3610221bebd5419834e805ed1d5205cc09e235338":
    "b50bc3e01262ab1c7ac805d3610221bebd5419834e805ed1d5205cc09e235338",
  "packs/*.idx": "bc0925e4e3fd4dc7f1c7db918a2ce11815cc3ae6b3b3c59ee555ee7dc4afc341",
  "packs/*.pack": "55e6e3576d0abc294ee0da42f76104a1a70bd149903b9f8728cf19c2c9d00303",
  "state.json": "4bcda4d473e6c19868f0e7ee7c2f4ae765a93388c7108c17608bb7cc98e53bd9",
};
