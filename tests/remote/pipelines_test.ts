/**
 * Pipelines on a pulled store: the next scheduler pass finds the pulled jobs matching their
 * inputs and runs nothing again; inputs that came without a job are run by the pull itself
 * (as after put file), reusing the pulled datum index. A job whose datums are in its datum
 * log travels whole: the clone and a pull inspect it as the origin does.
 */
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { rjson, rok, STAGES } from "./_remote.ts";

interface Job {
  id: string;
  state: string;
  progress: { processed: number; skipped: number };
}

/** A store in `dir/a` with pipeline "upper" and two jobs of it, and remote "origin" added. */
async function twoJobs(dir: string) {
  const a = { store: `${dir}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["create", "pipeline", "-f", `${STAGES}/upper.json`], a);
  await rok(["put", "file", "data@master:/one", "-f", "-"], { ...a, stdin: "one\n" });
  await rok(["put", "file", "data@master:/two", "-f", "-"], { ...a, stdin: "two\n" });
  await rok(["remote", "add", "origin", `${dir}/remote`], a);
  return a;
}

async function origin(dir: string) {
  const a = await twoJobs(dir);
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

Deno.test("a job whose datums are in its datum log travels whole: inspect job on a clone and a pull as on the origin", async () => {
  await using dir = await tempDir();
  const a = await origin(dir.path);
  const jobs = await rjson<Job[]>(["list", "job"], a);
  for (const job of jobs) {
    assert.ok((await Deno.stat(`${a.store}/jobs/upper/${job.id}.datums`)).isFile, "a datum log");
  }
  await rok(["clone", `${dir.path}/remote`, `${dir.path}/b`]);
  const b = { store: `${dir.path}/b/.tusk` };
  const c = { store: `${dir.path}/c/.tusk` };
  await rok(["init"], c);
  await rok(["remote", "add", "origin", `${dir.path}/remote`], c);
  await rok(["pull", "origin"], c);
  for (const job of jobs) {
    const there = await rjson<{ datums: unknown[] }>(["inspect", "job", job.id], a);
    assert.ok(there.datums.length > 0);
    assert.deepEqual(await rjson(["inspect", "job", job.id], b), there, `clone, job ${job.id}`);
    assert.deepEqual(await rjson(["inspect", "job", job.id], c), there, `pull, job ${job.id}`);
  }
  await rok(["verify"], b);
  await rok(["verify"], c);
});

Deno.test("push warns of a job record it leaves behind because its datum log is damaged", async () => {
  await using dir = await tempDir();
  const a = await twoJobs(dir.path);
  const [newer, older] = await rjson<Job[]>(["list", "job"], a);
  await Deno.remove(`${a.store}/jobs/upper/${newer!.id}.datums`);
  const r = await rok(["push", "origin"], a);
  const warned = r.stderr.split("\n").filter((l) => l.includes(newer!.id));
  assert.equal(warned.length, 1, r.stderr);
  assert.match(warned[0]!, /^tusk: warning: skipped a job record: .*damaged.*\.datums"/);
  await rok(["clone", `${dir.path}/remote`, `${dir.path}/b`]);
  const b = { store: `${dir.path}/b/.tusk` };
  assert.deepEqual((await rjson<Job[]>(["list", "job"], b)).map((j) => j.id), [older!.id]);
});
