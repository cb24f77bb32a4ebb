/**
 * Job records: `JobStore.scan()` sets a damaged record aside, naming its file, while
 * `list()` fails on it; what counts as damaged (empty, torn, not a job record).
 */
import assert from "node:assert/strict";
import { IntegrityError } from "../../lib/errors.ts";
import {
  type DatumIndexEntry,
  type DatumRecord,
  type JobRecord,
  JobStore,
} from "../../lib/pipeline/jobs.ts";
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
    const heads = await jobs.scan({ heads: true });
    assert.deepEqual(heads.jobs.map((j) => j.id), [IDS[2], IDS[0]]);
    assert.deepEqual(heads.damaged.map((d) => d.file), [file]);
  });
}

/** A job of `p` with `n` datums, in `state`. */
function withDatums(id: string, n: number, state: JobRecord["state"]): JobRecord {
  const datums: DatumRecord[] = Array.from({ length: n }, (_, i) => ({
    id: i.toString(16).padStart(32, "0"),
    hash: i.toString(16).padStart(64, "0"),
    state: "SUCCESS",
    inputs: [{ name: "data", repo: "data", commit: "c".repeat(64), path: `/f${i}` }],
    tries: 1,
    durationMs: 3,
    exitCode: 0,
    message: 'a "datums":[ in a message',
  }));
  return {
    ...record("p", id),
    state,
    reason: '"datums":[',
    datums,
    finished: "2025-01-01T00:00:01.000Z",
  };
}

Deno.test("JobStore.scan({ heads }) reads a finished job without its datums, and an unfinished one whole", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const jobs = new JobStore(store);
  const done = withDatums(IDS[0]!, 3000, "SUCCESS");
  const running = withDatums(IDS[1]!, 5, "RUNNING");
  await jobs.save(done);
  await jobs.save(running);
  const [newest, older] = (await jobs.scan({ heads: true })).jobs;
  assert.deepEqual(newest, running);
  assert.deepEqual(older, { ...done, datums: [] });
  assert.deepEqual(await jobs.load(IDS[0]!), done, "a load reads the datums");
});

Deno.test("JobStore.scan({ heads }) reads whole a record whose datums are not its last field", async () => {
  // As an older version wrote a record: its fields in the order they were set.
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const jobs = new JobStore(store);
  await jobs.save(record("p", IDS[0]!));
  const { outputCommit: _, finished, ...rest } = withDatums(IDS[0]!, 2, "SUCCESS");
  const older = { ...rest, finished, outputCommit: "d".repeat(64) };
  await Deno.writeTextFile(`${store.root}/jobs/p/${IDS[0]}.json`, JSON.stringify(older));
  const [job] = (await jobs.scan({ heads: true })).jobs;
  assert.deepEqual(job, older);
});

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

Deno.test("JobStore.datumIndex() reads whole lines, and skips a torn line wherever it is", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const jobs = new JobStore(store);
  const entry = (n: number) => ({
    hash: n.toString(16).padStart(64, "0"),
    tree: "e".repeat(64),
    size: n,
    job: IDS[0]!,
    version: 1,
  });
  await jobs.appendDatums("p", [entry(1), entry(2), { ...entry(1), size: 9 }]);
  const file = `${store.root}/jobs/p/datums.jsonl`;
  const whole = await jobs.datumIndex("p");
  assert.deepEqual([...whole.values()], [{ ...entry(1), size: 9 }, entry(2)], "the last line wins");
  const lines = await Deno.readTextFile(file);
  for (
    const text of [
      `${lines}{"hash":"ab`,
      `{"hash":"ab${lines}`,
      `${lines}null\n`,
    ]
  ) {
    await Deno.writeTextFile(file, text);
    assert.deepEqual(await jobs.datumIndex("p"), whole, text);
  }
});

Deno.test("JobStore.datumIndexAfter() gives what was appended since a job's mark, and finds the rest", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const jobs = new JobStore(store);
  const p = { name: "p", createdSeq: 3 };
  const entry = (n: number, more: Partial<DatumIndexEntry> = {}): DatumIndexEntry => ({
    hash: n.toString(16).padStart(64, "0"),
    tree: "e".repeat(64),
    size: n,
    job: IDS[0]!,
    version: 1,
    pipelineSeq: 3,
    ...more,
  });
  await jobs.appendDatums("p", [
    entry(1),
    entry(2),
    entry(1, { size: 10 }),
    entry(4, { pipelineSeq: 2 }),
  ]);
  assert.equal(await jobs.datumIndexAfter(p, IDS[0]!), null, "no mark yet");
  await jobs.markDatumIndex("p", IDS[0]!);
  await jobs.appendDatums("p", [entry(2, { size: 20 }), entry(5, { pipelineSeq: 2 })]);
  const after = (await jobs.datumIndexAfter(p, IDS[0]!))!;
  assert.deepEqual([...after.since], [
    [entry(2).hash, entry(2, { size: 20 })],
    [entry(5).hash, null],
  ]);
  const whole = await jobs.datumIndexOf(p);
  const found = await after.find([1, 2, 3, 4, 5].map((n) => entry(n).hash));
  for (const n of [1, 2, 3, 4, 5]) {
    assert.deepEqual(found.get(entry(n).hash), whole.get(entry(n).hash) ?? null, `datum ${n}`);
  }
  assert.equal(await jobs.datumIndexAfter(p, IDS[1]!), null, "another job's mark");

  // Rewritten in place (an edit, a gc), the index is no longer the one marked.
  const file = `${store.root}/jobs/p/datums.jsonl`;
  const text = await Deno.readTextFile(file);
  await Deno.writeTextFile(file, text.replace('"size":1,', '"size":7,'));
  assert.equal(await jobs.datumIndexAfter(p, IDS[0]!), null, "edited");
  await Deno.writeTextFile(file, text);
  assert.ok(await jobs.datumIndexAfter(p, IDS[0]!), "as it was");
  await jobs.dropDatums("p", new Set([entry(5).hash]));
  assert.equal(await jobs.datumIndexAfter(p, IDS[0]!), null, "dropped from");
});

Deno.test("JobStore.datumIndexAfter() says null when a torn line ends what was marked", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const jobs = new JobStore(store);
  const file = `${store.root}/jobs/p/datums.jsonl`;
  await Deno.mkdir(`${store.root}/jobs/p`, { recursive: true });
  await Deno.writeTextFile(file, '{"hash":"ab');
  await jobs.markDatumIndex("p", IDS[0]!);
  assert.equal(await jobs.datumIndexAfter({ name: "p" }, IDS[0]!), null);
});

Deno.test("JobStore.datumIndexAfter() finds the last whole line of a hash, past damaged ones, first line included", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const jobs = new JobStore(store);
  const hash = "a".repeat(64);
  const good = JSON.stringify({ hash, tree: "e".repeat(64), size: 1, job: IDS[0], version: 1 });
  const file = `${store.root}/jobs/p/datums.jsonl`;
  await Deno.mkdir(`${store.root}/jobs/p`, { recursive: true });
  for (
    const [text, want] of [
      [`{"hash":"${hash}","tree":\n`, null],
      [`${good}\n{"hash":"${hash}","tree":\n`, JSON.parse(good)],
    ] as const
  ) {
    await Deno.writeTextFile(file, text);
    await jobs.markDatumIndex("p", IDS[0]!);
    const after = (await jobs.datumIndexAfter({ name: "p" }, IDS[0]!))!;
    const found = (await after.find([hash])).get(hash);
    assert.deepEqual(found, want);
    assert.deepEqual(found, (await jobs.datumIndexOf({ name: "p" })).get(hash) ?? null);
  }
});
