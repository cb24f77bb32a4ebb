/**
 * A datum index entry naming an output the store no longer holds (one flipped hex digit of
 * its tree) is a stale cache entry, not lost data: `verify` and `doctor` say so and name the
 * repair, `gc` drops it, and the pipeline's next job runs that datum again.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tusk, tuskOk } from "../_helpers.ts";

const UPPER = `${ROOT}/tests/fixtures/stages/upper.json`;

Deno.test("a datum index entry whose output tree is missing is repaired by gc, and its datum runs again", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  for (const name of ["a", "b", "c"]) await Deno.writeTextFile(`${s.path}/${name}.txt`, name);
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", `${s.path}/a.txt`], { store });
  await tuskOk(["put", "file", "data@master:/b.txt", "-f", `${s.path}/b.txt`], { store });
  await tuskOk(["create", "pipeline", "-f", UPPER], { store });
  const index = `${store}/jobs/upper/datums.jsonl`;
  const lines = (await Deno.readTextFile(index)).split("\n").filter(Boolean);
  assert.equal(lines.length, 2);
  const entry = JSON.parse(lines[0]!) as { tree: string };
  const flipped = (entry.tree[0] === "0" ? "1" : "0") + entry.tree.slice(1);
  lines[0] = lines[0]!.replace(entry.tree, flipped);
  await Deno.writeTextFile(index, lines.join("\n") + "\n");

  const verify = await tusk(["verify"], { store });
  assert.equal(verify.code, 1);
  assert.match(verify.stderr, /datum index of pipeline "upper"/);
  assert.match(verify.stderr, /stale cache entry, not lost data/);
  assert.match(verify.stderr, /run "tusk gc" to drop it/);
  const doctor = await tusk(["doctor"], { store });
  assert.equal(doctor.code, 1);
  assert.match(doctor.stdout, /Health: BROKEN: .*stale cache entry/);
  assert.doesNotMatch(doctor.stdout, /restore the store from a backup/);

  const gc = await tusk(["gc"], { store });
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /dropped 1 stale datum index entries/);
  await tuskOk(["verify"], { store });

  await tuskOk(["put", "file", "data@master:/c.txt", "-f", `${s.path}/c.txt`], { store });
  const [job] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as {
    state: string;
    progress: { processed: number; skipped: number };
  }[];
  assert.equal(job?.state, "SUCCESS");
  assert.deepEqual([job.progress.processed, job.progress.skipped], [2, 1]);
  assert.equal((await tuskOk(["get", "file", "upper@master:/a.txt"], { store })).stdout, "A");
  await tuskOk(["verify"], { store });
});
