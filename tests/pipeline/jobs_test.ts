/**
 * Job records: `JobStore.scan()` sets a damaged record aside, naming its file, while
 * `list()` fails on it; what counts as damaged (empty, torn, not a job record).
 */
import assert from "node:assert/strict";
import { IntegrityError } from "../../lib/errors.ts";
import { JobStore } from "../../lib/pipeline/jobs.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir } from "../_helpers.ts";
import { record } from "./_records.ts";

const IDS = ["01a0".padEnd(32, "0"), "01a1".padEnd(32, "0"), "01a2".padEnd(32, "0")];

async function withJobs(dir: string): Promise<{ store: Store; jobs: JobStore }> {
  const store = await Store.init(`${dir}/.tusk`);
  const jobs = new JobStore(store);
  for (const id of IDS) await jobs.save(record("p", id));
  return { store, jobs };
}

for (
  const [what, text] of [
    ["empty", ""],
    ["torn", '{"id":"01a1'],
    ["not a job record", "null"],
    ["a job record missing its datums", JSON.stringify({ ...record("p", IDS[1]!), datums: 1 })],
  ] as const
) {
  Deno.test(`JobStore.scan() sets a record that is ${what} aside, naming its file, and lists the rest`, async () => {
    await using dir = await tempDir();
    const { store, jobs } = await withJobs(dir.path);
    const file = `${store.root}/jobs/p/${IDS[1]}.json`;
    await Deno.writeTextFile(file, text);
    const scan = await jobs.scan();
    assert.deepEqual(scan.jobs.map((j) => j.id), [IDS[2], IDS[0]]);
    assert.equal(scan.damaged.length, 1);
    const [d] = scan.damaged;
    assert.deepEqual([d!.pipeline, d!.id, d!.file], ["p", IDS[1], file]);
    assert.ok(d!.error instanceof IntegrityError);
    assert.equal(d!.error.data.file, file);
    await assert.rejects(jobs.list(), IntegrityError);
  });
}

Deno.test("JobStore.scan() with a limit counts readable records and reports the damaged ones met", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await withJobs(dir.path);
  await Deno.writeTextFile(`${store.root}/jobs/p/${IDS[2]}.json`, "");
  const scan = await jobs.scan({ pipeline: "p", limit: 1 });
  assert.deepEqual(scan.jobs.map((j) => j.id), [IDS[1]]);
  assert.deepEqual(scan.damaged.map((d) => d.id), [IDS[2]]);
});

Deno.test("JobStore.takeBackAttempts() takes back one noted run of each key, never below none", async () => {
  await using dir = await tempDir();
  const { jobs } = await withJobs(dir.path);
  const [id] = IDS;
  await jobs.noteAttempts("p", id!, ["d1", "d1", "d2", "finish"]);
  await jobs.takeBackAttempts("p", id!, ["d1", "d2"]);
  assert.deepEqual(Object.fromEntries(await jobs.attempts("p", id!)), { d1: 1, finish: 1 });
  await jobs.noteAttempts("p", id!, ["d2"]);
  assert.deepEqual(Object.fromEntries(await jobs.attempts("p", id!)), {
    d1: 1,
    d2: 1,
    finish: 1,
  });
});
