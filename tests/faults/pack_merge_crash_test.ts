/**
 * A merge of packs killed (SIGKILL) after each of its steps: every file still reads back
 * through the CLI, `verify` passes, and the next merge finishes the work and removes the
 * pack the dead merge left without an index.
 */
import assert from "node:assert/strict";
import { tempStore, tuskOk } from "../_helpers.ts";
import { fixture } from "./_util.ts";

const PACKS = 6;

/** The names of the packs that have an index, and of pack files without one. */
async function packFiles(store: string): Promise<{ indexed: string[]; orphans: string[] }> {
  const idx = new Set<string>();
  const packs = new Set<string>();
  for await (const e of Deno.readDir(`${store}/packs`)) {
    if (e.name.endsWith(".idx")) idx.add(e.name.slice(0, -4));
    if (e.name.endsWith(".pack")) packs.add(e.name.slice(0, -5));
  }
  return { indexed: [...idx].sort(), orphans: [...packs].filter((p) => !idx.has(p)) };
}

/** Every file of `r@master` read back through the CLI equals what was put. */
async function assertFiles(store: string, count: number): Promise<void> {
  for (let p = 0; p < count; p++) {
    for (const i of [0, 7, 15]) {
      const r = await tuskOk(["get", "file", `r@master:/p${p}/f${i}`], { store });
      assert.equal(r.stdout, `put ${p}, file ${i}\n`);
    }
  }
}

for (const step of ["read", "pack", "index", "unindexed", "removed"]) {
  Deno.test(`a merge of packs killed after step "${step}" loses nothing`, async () => {
    await using s = await tempStore();
    await tuskOk(["create", "repo", "r"], { store: s.store });
    for (let p = 0; p < PACKS; p++) {
      const dir = `${s.path}/p${p}`;
      await Deno.mkdir(dir);
      for (let i = 0; i < 16; i++) {
        await Deno.writeTextFile(`${dir}/f${i}`, `put ${p}, file ${i}\n`);
      }
      await tuskOk(["put", "file", "-r", `r@master:/p${p}`, "-f", dir], { store: s.store });
    }
    assert.equal((await packFiles(s.store)).indexed.length, PACKS);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-write",
        "--allow-run",
        fixture("merge_packs.ts"),
        s.store,
        step,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.signal, "SIGKILL", new TextDecoder().decode(out.stderr));
    const left = await packFiles(s.store);
    if (step === "pack") assert.equal(left.orphans.length, 1, "the new pack, without its index");
    if (step === "unindexed") assert.equal(left.orphans.length, 1, "an old pack, its index gone");
    await assertFiles(s.store, PACKS);
    await tuskOk(["verify"], { store: s.store });
    // The next merge (the fixture again, not killed) finishes the work and removes what the
    // dead one left: a pack without an index whose writer is gone.
    const again = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-write",
        "--allow-run",
        fixture("merge_packs.ts"),
        s.store,
        "none",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(again.success, new TextDecoder().decode(again.stderr));
    const done = await packFiles(s.store);
    assert.equal(done.indexed.length, 1);
    assert.deepEqual(done.orphans, []);
    await assertFiles(s.store, PACKS);
    await tuskOk(["verify"], { store: s.store });
  });
}
