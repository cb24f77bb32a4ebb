/**
 * `gc()` and `verify()` with jobs: what a job still running has written but named nowhere
 * yet is kept (also an object it wrote again that the store held as garbage), what a job
 * that ended or a crash left is freed, and a datum index entry whose output is gone is a
 * stale cache entry that `gc()` drops; a datum log or attempts file left without its record is
 * removed by `gc()`; a job saved after its pipeline was deleted leaves nothing behind.
 */
import assert from "node:assert/strict";
import { gc, verify } from "../../lib/commands/integrity.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { IntegrityError } from "../../lib/errors.ts";
import { type JobRecord, JobStore, newJobId } from "../../lib/pipeline/jobs.ts";
import { createPipeline, deletePipeline, pipelineOf } from "../../lib/pipeline/pipelines.ts";
import type { JobState } from "../../lib/pipeline/states.ts";
import { acquireLease } from "../../lib/scheduler/lease.ts";
import { EMPTY_TREE } from "../../lib/store/codec.ts";
import type { Hash } from "../../lib/store/hash.ts";
import { Store } from "../../lib/store/store.ts";
import { ROOT, tempDir } from "../_helpers.ts";

const UPPER = `${ROOT}/tests/fixtures/stages/upper.json`;

/** A store with pipeline "upper" (no job yet), removed when disposed. */
async function pipelineStore(): Promise<AsyncDisposable & { store: Store }> {
  const dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createRepo(store, "data");
  await createPipeline(store, UPPER, { update: false, reprocess: false });
  return {
    store,
    async [Symbol.asyncDispose]() {
      store.objects.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** Save a job of pipeline "upper" in `state`, created now, with no datums. */
async function saveJob(store: Store, state: JobState, id = newJobId(new Date())): Promise<string> {
  const job = {
    id,
    pipeline: "upper",
    version: 1,
    specHash: EMPTY_TREE,
    codeHash: EMPTY_TREE,
    inputs: [],
    trigger: EMPTY_TREE,
    state,
    created: new Date().toISOString(),
    restart: 0,
    progress: { total: 1, processed: 0, skipped: 0, failed: 0, recovered: 0 },
    datums: [],
  } satisfies JobRecord;
  await new JobStore(store).save(job);
  return id;
}

/** Write a datum's output as a job does: a blob and its tree, under the ingest lock. */
async function writeOutput(store: Store, text: string): Promise<{ blob: Hash; tree: Hash }> {
  return await store.withIngest(async () => {
    const batch = store.objects.batch();
    const blob = await batch.add(new TextEncoder().encode(text));
    const { hash: tree } = await store.editTree(
      EMPTY_TREE,
      [{ op: "put", path: ["out.txt"], hash: blob, size: text.length }],
      batch,
    );
    await batch.flush();
    return { blob, tree };
  });
}

Deno.test("gc() keeps the outputs a running job has written before it names them anywhere", async () => {
  await using s = await pipelineStore();
  const lease = await acquireLease(s.store, "inline");
  assert.ok(lease);
  try {
    const id = await saveJob(s.store, "RUNNING");
    const out = await writeOutput(s.store, "written, not yet indexed\n");
    const report = await gc(s.store);
    assert.ok(report.kept >= 2, `kept ${report.kept}`);
    assert.ok(await s.store.objects.has(out.tree));
    assert.ok(await s.store.objects.has(out.blob));
    // Once the job has ended, what it left unnamed is garbage.
    await saveJob(s.store, "FAILURE", id);
    await gc(s.store);
    assert.equal(await s.store.objects.has(out.tree), false);
    assert.equal(await s.store.objects.has(out.blob), false);
  } finally {
    await lease.release();
  }
});

Deno.test("gc() frees what an unfinished job left when no process holds the lease (a crash)", async () => {
  await using s = await pipelineStore();
  await saveJob(s.store, "RUNNING");
  const out = await writeOutput(s.store, "left by a crash\n");
  const report = await gc(s.store);
  assert.equal(report.kept, 0);
  assert.equal(await s.store.objects.has(out.tree), false);
});

Deno.test("gc() keeps an object a running job wrote again while the store held it as garbage", async () => {
  await using s = await pipelineStore();
  // Garbage from long ago: an output nothing names, with a file time in the past.
  const old = await writeOutput(s.store, "the same bytes\n");
  const past = new Date("2020-01-01T00:00:00Z");
  for (const h of [old.blob, old.tree]) {
    await Deno.utime(s.store.objects.loosePath(h), past, past);
  }
  const lease = await acquireLease(s.store, "inline");
  assert.ok(lease);
  try {
    await saveJob(s.store, "RUNNING");
    // The job writes the same output: the store holds it already and writes nothing.
    const again = await writeOutput(s.store, "the same bytes\n");
    assert.deepEqual(again, old);
    await gc(s.store);
    assert.ok(await s.store.objects.has(old.tree));
    assert.ok(await s.store.objects.has(old.blob));
  } finally {
    await lease.release();
  }
});

Deno.test("verify() calls a datum index entry whose output is gone a stale cache entry, and gc() drops it", async () => {
  await using s = await pipelineStore();
  const jobs = new JobStore(s.store);
  const out = await writeOutput(s.store, "indexed\n");
  await jobs.appendDatums("upper", [
    { hash: "d".repeat(64), tree: out.tree, size: 8, job: "e".repeat(32), version: 1 },
  ]);
  await verify(s.store);
  await Deno.remove(s.store.objects.loosePath(out.tree));
  await assert.rejects(verify(s.store), (e) => {
    assert.ok(e instanceof IntegrityError);
    assert.equal(e.data.problem, "stale-cache");
    assert.match(e.message, /stale cache entry/);
    assert.match(String(e.data.repair), /tusk gc/);
    return true;
  });
  const dry = await gc(s.store, { dryRun: true });
  assert.equal(dry.stale, 1);
  assert.equal((await jobs.datumIndex("upper")).size, 1, "a dry run drops nothing");
  const report = await gc(s.store);
  assert.equal(report.stale, 1);
  assert.equal((await jobs.datumIndex("upper")).size, 0);
  await verify(s.store);
});

Deno.test("gc() removes a datum log whose job record is gone, not one that may be a first save's", async () => {
  await using s = await pipelineStore();
  const jobs = new JobStore(s.store);
  const kept = await saveJob(s.store, "SUCCESS");
  const job = await jobs.load(kept);
  job.datums = [{
    id: "0".repeat(32),
    hash: EMPTY_TREE,
    state: "SUCCESS",
    inputs: [],
    tries: 1,
    durationMs: 1,
    exitCode: 0,
  }];
  await jobs.save(job);
  const forgotten = newJobId(new Date(Date.now() - 60_000));
  const fresh = newJobId(new Date());
  const { layout } = s.store;
  await Deno.copyFile(layout.datumLog("upper", kept), layout.datumLog("upper", forgotten));
  await Deno.copyFile(layout.datumLog("upper", kept), layout.datumLog("upper", fresh));
  // Its record removed by hand a minute ago; the other's record not written yet.
  const old = new Date(Date.now() - 60_000);
  await Deno.utime(layout.datumLog("upper", forgotten), old, old);
  await gc(s.store, { dryRun: true });
  await Deno.lstat(layout.datumLog("upper", forgotten));
  await gc(s.store);
  await assert.rejects(Deno.lstat(layout.datumLog("upper", forgotten)), Deno.errors.NotFound);
  await Deno.lstat(layout.datumLog("upper", fresh));
  assert.equal((await jobs.load(kept)).datums.length, 1);
  await verify(s.store);
});

Deno.test("gc() removes the noted attempts of a job whose record is gone, not recent ones", async () => {
  await using s = await pipelineStore();
  const jobs = new JobStore(s.store);
  const kept = await saveJob(s.store, "RUNNING");
  await jobs.noteAttempts("upper", kept, ["finish"]);
  const forgotten = newJobId(new Date(Date.now() - 60_000));
  const fresh = newJobId(new Date());
  await jobs.noteAttempts("upper", forgotten, ["a", "b"]);
  await jobs.noteAttempts("upper", fresh, ["a"]);
  const { layout } = s.store;
  const old = new Date(Date.now() - 60_000);
  await Deno.utime(layout.attempts("upper", forgotten), old, old);
  await Deno.utime(layout.attempts("upper", kept), old, old);
  await gc(s.store, { dryRun: true });
  await Deno.lstat(layout.attempts("upper", forgotten));
  await gc(s.store);
  await assert.rejects(Deno.lstat(layout.attempts("upper", forgotten)), Deno.errors.NotFound);
  // Last written within the grace: a job being created; and one whose record is there.
  assert.deepEqual([...(await jobs.attempts("upper", fresh))], [["a", 1]]);
  assert.deepEqual([...(await jobs.attempts("upper", kept))], [["finish", 1]]);
});

Deno.test("a running job saved after its pipeline was deleted leaves no record for a pipeline created again under the name", async () => {
  await using s = await pipelineStore();
  const jobs = new JobStore(s.store);
  const id = await saveJob(s.store, "RUNNING");
  const { createdSeq } = await pipelineOf(await s.store.state(), "upper");
  const job: JobRecord = { ...await jobs.load(id), pipelineSeq: createdSeq! };
  await jobs.save(job);
  await deletePipeline(s.store, "upper");
  // The process running it goes on, and saves it as it ends.
  job.state = "KILLED";
  await jobs.save(job, { durable: true });
  await assert.rejects(Deno.lstat(s.store.layout.jobDir("upper")), Deno.errors.NotFound);
  await createPipeline(s.store, UPPER, { update: false, reprocess: false });
  assert.deepEqual(await jobs.list({ pipeline: "upper" }), []);
  // The new pipeline's own jobs are saved as ever.
  const fresh = await saveJob(s.store, "SUCCESS");
  assert.deepEqual((await jobs.list({ pipeline: "upper" })).map((j) => j.id), [fresh]);
  await verify(s.store);
});
