/**
 * The job index on both sides of a remote: a clone and a pull write the pulled jobs' ids
 * into the pipeline's job index before their records, so `list job -n`, a job id prefix and
 * `verify` answer on the clone as on the origin.
 */
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { rjson, rok, STAGES } from "./_remote.ts";

interface Job {
  id: string;
}

/** The ids of the job records of pipeline `p` in `store`, ascending, as index lines. */
async function recordsAsIndex(store: string, p: string): Promise<string> {
  const ids: string[] = [];
  for await (const e of Deno.readDir(`${store}/jobs/${p}`)) {
    if (e.name.endsWith(".json")) ids.push(e.name.slice(0, -5));
  }
  return ids.sort().map((id) => id + "\n").join("");
}

Deno.test("a clone and a pull keep the job index: list job -n, prefixes and verify agree with the origin", async () => {
  await using dir = await tempDir();
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["create", "pipeline", "-f", `${STAGES}/upper.json`], a);
  await rok(["put", "file", "data@master:/one", "-f", "-"], { ...a, stdin: "one\n" });
  await rok(["put", "file", "data@master:/two", "-f", "-"], { ...a, stdin: "two\n" });
  await rok(["remote", "add", "origin", `${dir.path}/remote`], a);
  await rok(["push", "origin"], a);

  await rok(["clone", `${dir.path}/remote`, `${dir.path}/b`]);
  const b = { store: `${dir.path}/b/.tusk` };
  const index = `${b.store}/jobs/upper/jobs.index`;
  assert.equal(await Deno.readTextFile(index), await recordsAsIndex(a.store, "upper"));
  const origin = await rjson<Job[]>(["list", "job"], a);
  assert.equal(origin.length, 2);
  assert.deepEqual(await rjson<Job[]>(["list", "job", "-n", "1"], b), origin.slice(0, 1));
  const second = await rjson<Job>(["inspect", "job", origin[1]!.id.slice(0, 20)], b);
  assert.equal(second.id, origin[1]!.id);
  await rok(["verify"], b);

  await rok(["put", "file", "data@master:/three", "-f", "-"], { ...a, stdin: "3\n" });
  await rok(["push", "origin"], a);
  await rok(["pull", "origin"], b);
  assert.equal(await Deno.readTextFile(index), await recordsAsIndex(a.store, "upper"));
  const after = await rjson<Job[]>(["list", "job"], a);
  assert.deepEqual(await rjson<Job[]>(["list", "job", "-n", "2"], b), after.slice(0, 2));
  await rok(["verify"], b);
});
