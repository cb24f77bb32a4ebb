/**
 * The job index (`jobs/<pipeline>/jobs.index`): listings and prefixes read it instead of the
 * job folder; a torn line, an id with no record, a missing or damaged index are each dealt
 * with so that listings stay right; `checkJobIndex()` names a record the index lacks.
 */
import assert from "node:assert/strict";
import { IntegrityError } from "../../lib/errors.ts";
import { checkJobIndex, JOB_INDEX_LINE, JobIndex } from "../../lib/pipeline/job_index.ts";
import { JobStore } from "../../lib/pipeline/jobs.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir } from "../_helpers.ts";
import { record } from "./_records.ts";

/** The id of job `n`: sorts by `n`, as real ids sort by time. */
function id(n: number): string {
  return n.toString(16).padStart(12, "0") + "e".repeat(20);
}

async function storeWith(
  dir: string,
  jobs: readonly [string, number][],
): Promise<{ store: Store; jobs: JobStore }> {
  const store = await Store.init(`${dir}/.tusk`);
  const js = new JobStore(store);
  for (const [p, n] of jobs) await js.save(record(p, id(n)));
  return { store, jobs: js };
}

/** Every job id of `store`'s records of `p`, newest first, found by listing the folder. */
async function onDisk(store: Store, p: string): Promise<string[]> {
  return (await new JobIndex(store.layout, p).records()).sort().reverse();
}

Deno.test("JobStore.list() with a limit gives the newest jobs of every pipeline, merged newest first", async () => {
  await using dir = await tempDir();
  const { jobs } = await storeWith(dir.path, [["a", 1], ["b", 2], ["a", 3], ["b", 4], ["a", 5]]);
  assert.deepEqual((await jobs.list({ limit: 3 })).map((j) => j.id), [id(5), id(4), id(3)]);
  assert.deepEqual((await jobs.list({ pipeline: "b" })).map((j) => j.id), [id(4), id(2)]);
  assert.equal(await jobs.count("a"), 3);
});

Deno.test("JobStore.save() adds a new job's id to its pipeline's index once, in order", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await storeWith(dir.path, [["a", 1], ["a", 2]]);
  await jobs.save({ ...record("a", id(2)), state: "FAILURE" });
  const text = await Deno.readTextFile(store.layout.jobIndex("a"));
  assert.equal(text, `${id(1)}\n${id(2)}\n`);
});

Deno.test("JobIndex.add() for a pipeline with no job folder yet makes the folder and its index", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await storeWith(dir.path, []);
  await jobs.index("fresh").add([id(2), id(1)]);
  const text = await Deno.readTextFile(store.layout.jobIndex("fresh"));
  assert.equal(text, `${id(1)}\n${id(2)}\n`);
  await jobs.index("fresh").add([id(3)]);
  assert.equal(await Deno.readTextFile(store.layout.jobIndex("fresh")), `${text}${id(3)}\n`);
});

Deno.test("JobIndex.add() merges ids older than the last into their place", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await storeWith(dir.path, [["a", 10], ["a", 20]]);
  await jobs.index("a").add([id(15), id(5), id(20)]);
  const text = await Deno.readTextFile(store.layout.jobIndex("a"));
  assert.equal(text, [5, 10, 15, 20].map((n) => id(n) + "\n").join(""));
});

Deno.test("JobStore.load() finds a job by a prefix through the index, and refuses a shared prefix", async () => {
  await using dir = await tempDir();
  const { jobs } = await storeWith(dir.path, [["a", 0x1001], ["b", 0x1002], ["a", 0x2001]]);
  assert.equal((await jobs.load("000000002001")).id, id(0x2001));
  await assert.rejects(
    jobs.load("00000000100"),
    (err: Error) => /matches 2 jobs/.test(err.message),
  );
  await assert.rejects(jobs.load("00000000300"), (err: Error) => err.name === "NotFoundError");
});

Deno.test("A job folder without an index (a store from before it) is indexed at its first listing", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await storeWith(dir.path, [["a", 1], ["a", 2], ["a", 3]]);
  await Deno.remove(store.layout.jobIndex("a"));
  assert.deepEqual((await jobs.list({ limit: 2 })).map((j) => j.id), [id(3), id(2)]);
  assert.equal(
    await Deno.readTextFile(store.layout.jobIndex("a")),
    [1, 2, 3].map((n) => id(n) + "\n").join(""),
  );
});

Deno.test("A job saved into a folder without an index brings the older records into the new index", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await storeWith(dir.path, [["a", 1], ["a", 2]]);
  await Deno.remove(store.layout.jobIndex("a"));
  await jobs.save(record("a", id(3)));
  assert.deepEqual((await jobs.list()).map((j) => j.id), [id(3), id(2), id(1)]);
});

Deno.test("A partial last index line (an append a crash cut) is ignored by readers and cut off by the next writer", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await storeWith(dir.path, [["a", 1], ["a", 2]]);
  const path = store.layout.jobIndex("a");
  await Deno.writeTextFile(path, id(3).slice(0, 17), { append: true });
  assert.deepEqual((await jobs.list()).map((j) => j.id), [id(2), id(1)]);
  assert.equal(await jobs.count("a"), 2);
  await checkJobIndex(store.layout, "a");
  await jobs.save(record("a", id(4)));
  assert.equal(await Deno.readTextFile(path), [1, 2, 4].map((n) => id(n) + "\n").join(""));
  assert.deepEqual((await jobs.list()).map((j) => j.id), [id(4), id(2), id(1)]);
});

Deno.test("An indexed job whose record was never written (a crash between the two) is skipped by list and load", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await storeWith(dir.path, [["a", 1], ["a", 2]]);
  await jobs.index("a").add([id(3)]);
  assert.deepEqual((await jobs.list({ limit: 2 })).map((j) => j.id), [id(2), id(1)]);
  await assert.rejects(jobs.load(id(3)), (err: Error) => err.name === "NotFoundError");
  await assert.rejects(jobs.load(id(3).slice(0, 12)), (err: Error) => err.name === "NotFoundError");
  await checkJobIndex(store.layout, "a");
});

for (
  const [what, damage] of [
    ["garbage in a line", (ids: string[]) => ids.map((x, i) => i === 1 ? "zz" + x.slice(2) : x)],
    ["lines out of order", (ids: string[]) => [ids[1]!, ids[0]!, ids[2]!]],
    ["a line torn in the middle", (ids: string[]) => [ids[0]!, ids[1]!.slice(5), ids[2]!]],
  ] as const
) {
  Deno.test(`A job index with ${what} is rebuilt from the records at the next listing`, async () => {
    await using dir = await tempDir();
    const { store, jobs } = await storeWith(dir.path, [["a", 1], ["a", 2], ["a", 3]]);
    const path = store.layout.jobIndex("a");
    await Deno.writeTextFile(path, damage([1, 2, 3].map(id)).map((x) => x + "\n").join(""));
    await assert.rejects(checkJobIndex(store.layout, "a"), IntegrityError);
    assert.deepEqual((await jobs.list()).map((j) => j.id), [id(3), id(2), id(1)]);
    await checkJobIndex(store.layout, "a");
    assert.equal((await jobs.load(id(2).slice(0, 12))).id, id(2));
  });
}

Deno.test("A rebuilt job index keeps the well-formed ids it held whose records are not written yet", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await storeWith(dir.path, [["a", 1], ["a", 2]]);
  const path = store.layout.jobIndex("a");
  await Deno.writeTextFile(path, `${id(1)}\nnot a job id\n${id(2)}\n${id(3)}\n`);
  await jobs.index("a").rebuild();
  assert.equal(await Deno.readTextFile(path), [1, 2, 3].map((n) => id(n) + "\n").join(""));
  await jobs.save(record("a", id(3)));
  assert.deepEqual((await jobs.list()).map((j) => j.id), [id(3), id(2), id(1)]);
});

Deno.test("checkJobIndex() names a job whose record the index lacks, with the repair", async () => {
  await using dir = await tempDir();
  const { store } = await storeWith(dir.path, [["a", 1], ["a", 2], ["a", 3]]);
  const path = store.layout.jobIndex("a");
  await Deno.writeTextFile(path, `${id(1)}\n${id(3)}\n`);
  await assert.rejects(checkJobIndex(store.layout, "a"), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.equal(err.code, "INTEGRITY");
    assert.deepEqual([err.data.problem, err.data.job, err.data.file], ["job-index", id(2), path]);
    return true;
  });
  await Deno.remove(path);
  await checkJobIndex(store.layout, "a");
  assert.deepEqual(await onDisk(store, "a"), [3, 2, 1].map(id));
});

Deno.test("JobStore.records() walks an index longer than one read from its end, in order", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const jobs = new JobStore(store);
  const n = 5000;
  await Deno.mkdir(store.layout.jobDir("a"), { recursive: true });
  await jobs.index("a").add(Array.from({ length: n }, (_, i) => id(i)));
  for (const i of [0, 2047, 2048, 4999]) await jobs.save(record("a", id(i)));
  assert.equal((await Deno.stat(store.layout.jobIndex("a"))).size, n * JOB_INDEX_LINE);
  const seen: string[] = [];
  for await (const j of jobs.records()) seen.push(j.id);
  assert.deepEqual(seen, [4999, 2048, 2047, 0].map(id));
});

Deno.test("JobStore.scan() with a limit reads no record past it, reading ahead or not", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await storeWith(dir.path, [["a", 1], ["a", 2], ["a", 3], ["a", 4]]);
  await Deno.writeTextFile(store.layout.job("a", id(2)), "");
  const scan = await jobs.scan({ limit: 2 });
  assert.deepEqual(scan.jobs.map((j) => j.id), [id(4), id(3)]);
  assert.deepEqual(scan.damaged, []);
  const all = await jobs.scan();
  assert.deepEqual(all.jobs.map((j) => j.id), [id(4), id(3), id(1)]);
  assert.deepEqual(all.damaged.map((d) => d.id), [id(2)]);
});
