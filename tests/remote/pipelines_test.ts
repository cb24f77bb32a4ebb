/**
 * Pipelines on a pulled store: the next scheduler pass finds the pulled jobs matching their
 * inputs and runs nothing again; inputs that came without a job are run by the pull itself
 * (as after put file), reusing the pulled datum index.
 */
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { rjson, rok, STAGES } from "./_remote.ts";

interface Job {
  id: string;
  state: string;
  progress: { processed: number; skipped: number };
}

async function origin(dir: string) {
  const a = { store: `${dir}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["create", "pipeline", "-f", `${STAGES}/upper.json`], a);
  await rok(["put", "file", "data@master:/one", "-f", "-"], { ...a, stdin: "one\n" });
  await rok(["put", "file", "data@master:/two", "-f", "-"], { ...a, stdin: "two\n" });
  await rok(["remote", "add", "origin", `${dir}/remote`], a);
  await rok(["push", "origin"], a);
  return a;
}

Deno.test("a scheduler pass on a clone runs nothing: its jobs are the pulled ones", async () => {
  await using dir = await tempDir();
  await origin(dir.path);
  await rok(["clone", `${dir.path}/remote`, `${dir.path}/b`]);
  const b = { store: `${dir.path}/b/.tusk` };
  const before = await rjson<Job[]>(["list", "job"], b);
  const waited = await rjson<Job[]>(["wait", "commit", "data@master"], b);
  assert.deepEqual(
    waited.map((j) => j.id),
    [before[0]!.id],
    "the pulled job is the one waited for",
  );
  assert.deepEqual(await rjson<Job[]>(["list", "job"], b), before, "no job was made or run");
});

Deno.test("a pull bringing inputs without their job runs it, skipping the datums the pulled index holds", async () => {
  await using dir = await tempDir();
  const a = await origin(dir.path);
  await rok(["clone", `${dir.path}/remote`, `${dir.path}/b`]);
  const b = { store: `${dir.path}/b/.tusk` };
  await rok(["put", "file", "data@master:/three", "-f", "-", "--no-wait"], { ...a, stdin: "3\n" });
  await rok(["push", "origin"], a);
  await rok(["pull", "origin"], b);
  const jobs = await rjson<Job[]>(["list", "job"], b);
  assert.equal(jobs.length, 3);
  assert.deepEqual(
    [jobs[0]!.state, jobs[0]!.progress.processed, jobs[0]!.progress.skipped],
    ["SUCCESS", 1, 2],
  );
  assert.equal((await rok(["get", "file", "upper@master:/three"], b)).stdout, "3\n");
});
