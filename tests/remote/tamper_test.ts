/**
 * A damaged remote is refused by name, and nothing changes here: a flipped byte in an object,
 * a log cut short (by whoever cut it, or noticed by a store that read further), a pack gone.
 * Both `pull` (into a store that needs what was damaged) and `clone` refuse; a failed clone
 * leaves no store.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { snapshotStore, tempDir } from "../_helpers.ts";
import { flipByte, rok, rtusk } from "./_remote.ts";

interface Entry {
  packs: { name: string; meta: boolean }[];
}

/** A remote with two pushes, and store B cloned after the first: B's pull needs push 2. */
async function twoPushes(dir: string) {
  const remote = `${dir}/remote`;
  const a = { store: `${dir}/a/.tusk` };
  const b = { store: `${dir}/b/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/one", "-f", "-"], { ...a, stdin: "one\n" });
  await rok(["remote", "add", "origin", remote], a);
  await rok(["push", "origin"], a);
  await rok(["clone", remote, `${dir}/b`]);
  await rok(["put", "file", "data@master:/two", "-f", "-"], { ...a, stdin: "second file\n" });
  await rok(["push", "origin"], a);
  const entry = JSON.parse(await Deno.readTextFile(`${remote}/log/000000000002`)) as Entry;
  const data = entry.packs.find((p) => !p.meta)!.name;
  return { remote, a, b, dataPack: `${remote}/packs/${data}.pack`, data };
}

/** Pull into B and clone into C both fail with exit 1 matching `named`; B is unchanged. */
async function refusedByBoth(
  dir: string,
  d: Awaited<ReturnType<typeof twoPushes>>,
  named: RegExp,
): Promise<void> {
  const before = await snapshotStore(d.b.store);
  const pull = await rtusk(["pull", "origin"], d.b);
  assert.equal(pull.code, 1, pull.stderr);
  assert.match(pull.stderr, named);
  assert.equal(await snapshotStore(d.b.store), before, "the pull changed nothing");
  const clone = await rtusk(["clone", d.remote, `${dir}/c`]);
  assert.equal(clone.code, 1, clone.stderr);
  assert.match(clone.stderr, named);
  await assert.rejects(Deno.stat(`${dir}/c`), Deno.errors.NotFound, "no folder is left behind");
  await rok(["verify"], d.b);
}

Deno.test("a flipped byte in a remote object is refused by pull and clone, naming the object", async () => {
  await using dir = await tempDir();
  const d = await twoPushes(dir.path);
  await flipByte(d.dataPack, -2);
  const blob = createHash("sha256").update("second file\n").digest("hex");
  await refusedByBoth(dir.path, d, new RegExp(`object ${blob}.*damaged`));
});

Deno.test("a remote log cut back by its last entry is refused by pull and clone, naming the entry", async () => {
  await using dir = await tempDir();
  const d = await twoPushes(dir.path);
  await Deno.remove(`${d.remote}/log/000000000002`);
  await refusedByBoth(dir.path, d, /log entry 2 is missing/);
});

Deno.test("a remote log entry cut short is refused by pull and clone, naming the entry", async () => {
  await using dir = await tempDir();
  const d = await twoPushes(dir.path);
  const path = `${d.remote}/log/000000000002`;
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, bytes.subarray(0, bytes.length - 10));
  await refusedByBoth(dir.path, d, /log entry 2 is damaged/);
});

Deno.test("a remote log rolled back whole (log and HEAD) is refused by a store that read further", async () => {
  await using dir = await tempDir();
  const d = await twoPushes(dir.path);
  await rok(["pull", "origin"], d.b);
  const head = await Deno.readTextFile(`${d.remote}/HEAD`);
  await rok(["put", "file", "data@master:/three", "-f", "-"], { ...d.a, stdin: "3\n" });
  await rok(["push", "origin"], d.a);
  await rok(["pull", "origin"], d.b);
  await Deno.remove(`${d.remote}/log/000000000003`);
  await Deno.writeTextFile(`${d.remote}/HEAD`, head);
  const before = await snapshotStore(d.b.store);
  const r = await rtusk(["pull", "origin"], d.b);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /ends at entry 2, but this store read entry 3/);
  assert.equal(await snapshotStore(d.b.store), before);
});

Deno.test("a remote pack that is gone is refused by pull and clone, naming the pack", async () => {
  await using dir = await tempDir();
  const d = await twoPushes(dir.path);
  await Deno.remove(d.dataPack);
  await refusedByBoth(
    dir.path,
    d,
    new RegExp(`pack ${d.data} \\(added by log entry 2\\) is missing`),
  );
});

Deno.test("an altered log entry that still parses breaks the chain and is refused, naming the entry", async () => {
  await using dir = await tempDir();
  const d = await twoPushes(dir.path);
  const path = `${d.remote}/log/000000000001`;
  await Deno.writeTextFile(path, (await Deno.readTextFile(path)).replace('"master"', '"mastes"'));
  const clone = await rtusk(["clone", d.remote, `${dir.path}/c`]);
  assert.equal(clone.code, 1, clone.stderr);
  assert.match(clone.stderr, /log entry 2 does not chain to entry 1/);
  const pull = await rtusk(["pull", "origin"], d.b);
  assert.equal(pull.code, 1, pull.stderr);
  assert.match(pull.stderr, /log entry 1 was altered/);
});
