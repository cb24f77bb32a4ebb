/**
 * Structural sharing: in a repo of 100,000 files, a commit that changes one file writes only
 * the new blob, the trees along its path and the commit — O(depth), not O(files).
 */
import assert from "node:assert/strict";
import { tempDir, tempStore, tusk, tuskOk } from "../_helpers.ts";
import { countObjects, mountTmpfs } from "./_util.ts";

const TOP = 10;
const MID = 100;
const LEAF = 100;

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** A temp folder for the source files: a tmpfs mounted for the test when permitted. */
async function sourceDir(): Promise<AsyncDisposable & { path: string; where: string }> {
  const mount = await mountTmpfs("1g");
  if (!("error" in mount)) return { ...mount, where: "a tmpfs" };
  return { ...await tempDir("tusk-sharing-"), where: "the temp folder's disk" };
}

Deno.test("changing one file in a repo of 100,000 files writes at most depth + 2 new objects", async () => {
  await using s = await tempStore();
  const store = s.store;
  // The 100,000 source files are only input: on a tmpfs, making and deleting them does not
  // depend on how busy the disk is (on a busy disk it can take minutes).
  await using srcDir = await sourceDir();
  const src = srcDir.path;
  const t0 = performance.now();
  const enc = new TextEncoder();
  let n = 0;
  for (let a = 0; a < TOP; a++) {
    for (let b = 0; b < MID; b++) {
      const dir = `${src}/a${pad(a, 1)}/b${pad(b, 2)}`;
      await Deno.mkdir(dir, { recursive: true });
      const writes: Promise<void>[] = [];
      for (let c = 0; c < LEAF; c++, n++) {
        writes.push(Deno.writeFile(`${dir}/f${pad(n, 5)}`, enc.encode(`file ${n}\n`)));
      }
      await Promise.all(writes);
    }
  }
  assert.equal(n, 100_000);
  const t1 = performance.now();
  await tuskOk(["create", "repo", "big"], { store });
  await tuskOk(["put", "file", "big@master:/data", "-r", "-f", src], { store });
  const t2 = performance.now();
  console.log(
    `made 100,000 files on ${srcDir.where} in ${((t1 - t0) / 1000).toFixed(1)} s; put them in ${
      ((t2 - t1) / 1000).toFixed(1)
    } s`,
  );
  const listed = await tuskOk(["list", "file", "big@master:/data", "--json"], { store });
  assert.equal(JSON.parse(listed.stdout).length, TOP);

  const path = ["data", "a3", "b42", "f34242"];
  await Deno.writeTextFile(`${s.path}/changed`, "changed\n");
  const before = await countObjects(store);
  await tuskOk(["put", "file", `big@master:/${path.join("/")}`, "-f", `${s.path}/changed`], {
    store,
  });
  const after = await countObjects(store);
  const written = after.loose + after.packed - (before.loose + before.packed);
  console.log(`one changed file wrote ${written} objects (path depth ${path.length})`);
  assert.ok(
    written <= path.length + 2,
    `${written} new objects for a path of depth ${path.length}`,
  );

  const got = await tuskOk(["get", "file", `big@master:/${path.join("/")}`], { store });
  assert.equal(got.stdout, "changed\n");
  const neighbour = await tuskOk(["get", "file", "big@master:/data/a3/b42/f34243"], { store });
  assert.equal(neighbour.stdout, "file 34243\n");
  const t3 = performance.now();
  const verify = await tusk(["verify"], { store });
  assert.equal(verify.code, 0, verify.stderr);
  console.log(
    `verify of the 100,000-file store took ${((performance.now() - t3) / 1000).toFixed(1)} s`,
  );
});
