/**
 * Re-running a finished job (the dashboard's `r`): `rerunJob()` asks the scheduler for a new
 * job of the pipeline on the same input commits — every datum again after a success, the
 * failed ones after a failure — and leaves the old job's record as it was; it refuses,
 * saying why, whatever cannot be re-run.
 */
import assert from "node:assert/strict";
import {
  detectSandbox,
  InvalidArgumentError,
  type JobRecord,
  listJobs,
  NotFoundError,
  rerunJob,
  RerunRefusedError,
  Store,
} from "../../lib/mod.ts";
import { runInline } from "../../lib/scheduler/scheduler.ts";
import { ROOT, tempDir, tempStore, tuskOk } from "../_helpers.ts";

const STRICT = `${ROOT}/tests/fixtures/stages/fail_on_bad.json`;
const SLOW = `${ROOT}/tests/fixtures/stages/slow.json`;

/** A store with repo `data` holding `files`, and pipeline `spec` with its first job run. */
async function setup(files: Record<string, string>, spec = STRICT) {
  const s = await tempStore();
  const opts = { store: s.store };
  await tuskOk(["create", "repo", "data"], opts);
  for (const [name, text] of Object.entries(files)) {
    await tuskOk(["put", "file", `data@master:/${name}`, "-f", "-"], { ...opts, stdin: text });
  }
  await tuskOk(["create", "pipeline", "-f", spec], opts);
  const store = await Store.open(s.store);
  const { mode } = await detectSandbox("auto");
  const run = async () => (await runInline(store, { sandbox: mode })).ran;
  return { s, store, run, opts };
}

/** Assert `p` rejects with an instance of `cls` whose message matches `pattern`. */
async function refused(
  p: Promise<unknown>,
  cls: new (...args: never[]) => Error,
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof cls, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

async function jobFile(store: Store, job: JobRecord): Promise<string> {
  return await Deno.readTextFile(`${store.root}/jobs/${job.pipeline}/${job.id}.json`);
}

Deno.test("rerunJob() re-runs a job that succeeded as a new job processing every datum again", async () => {
  const { s, store, run } = await setup({ a: "one\n", b: "two\n" });
  await using _ = s;
  const [old] = await listJobs(store);
  assert.equal(old!.state, "SUCCESS");
  const before = await jobFile(store, old!);
  const r = await rerunJob(store, `strict@${old!.id}`);
  assert.equal(r.job.id, old!.id);
  assert.equal(r.reprocess, true);
  const ran = await run();
  assert.equal(ran.length, 1);
  const again = ran[0]!;
  assert.notEqual(again.id, old!.id);
  assert.equal(again.rerunOf, old!.id);
  assert.equal(again.state, "SUCCESS", again.reason);
  assert.deepEqual(again.inputs, old!.inputs);
  assert.equal(again.trigger, old!.trigger);
  assert.deepEqual(
    [again.progress.processed, again.progress.skipped, again.restart],
    [2, 0, 0],
  );
  // The old job keeps its record: no restart, no longer duration.
  assert.equal(await jobFile(store, old!), before);
  const head = (await store.state()).repos["strict"]!.branches["master"]!.head!;
  assert.equal((await store.readCommit(head)).provenance?.job, again.id);
  assert.deepEqual(await run(), [], "nothing more to run");
});

Deno.test("rerunJob() re-runs a failed job's failed datums and reuses those that succeeded", async () => {
  const { s, store, run } = await setup({ good: "fine\n", worse: "bad\n" });
  await using _ = s;
  const [old] = await listJobs(store);
  assert.equal(old!.state, "FAILURE");
  const before = await jobFile(store, old!);
  const r = await rerunJob(store, old!.id.slice(0, 8));
  assert.equal(r.reprocess, false);
  const [again] = await run();
  assert.equal(again!.rerunOf, old!.id);
  assert.equal(again!.state, "FAILURE");
  assert.deepEqual(
    [again!.progress.processed, again!.progress.skipped, again!.progress.failed],
    [0, 1, 1],
  );
  assert.equal(await jobFile(store, old!), before);
});

Deno.test("rerunJob() refuses a job that is not the newest of its pipeline", async () => {
  const { s, store, opts } = await setup({ a: "one\n" });
  await using _ = s;
  await tuskOk(["put", "file", "data@master:/b", "-f", "-"], { ...opts, stdin: "two\n" });
  const [, older] = await listJobs(store);
  await assert.rejects(rerunJob(store, older!.id), (e) => {
    assert.ok(e instanceof RerunRefusedError);
    assert.equal(e.code, "RERUN_REFUSED");
    assert.match(e.message, /is newer/);
    return true;
  });
});

Deno.test("rerunJob() refuses a job whose pipeline is stopped, or deleted", async () => {
  const { s, store, opts } = await setup({ a: "one\n" });
  await using _ = s;
  const [job] = await listJobs(store);
  await tuskOk(["stop", "pipeline", "strict"], opts);
  await refused(rerunJob(store, `strict@${job!.id}`), RerunRefusedError, /is stopped/);
  await tuskOk(["delete", "pipeline", "strict"], opts);
  await refused(rerunJob(store, `strict@${job!.id}`), NotFoundError, /was deleted/);
});

Deno.test("rerunJob() refuses when the inputs moved since the job ran", async () => {
  const { s, store, opts } = await setup({ a: "one\n" });
  await using _ = s;
  const [job] = await listJobs(store);
  await tuskOk(["put", "file", "data@master:/b", "-f", "-", "--no-wait"], {
    ...opts,
    stdin: "two\n",
  });
  await refused(rerunJob(store, job!.id), RerunRefusedError, /changed since it ran/);
});

Deno.test("rerunJob() refuses a second request while the first waits", async () => {
  const { s, store, run } = await setup({ a: "one\n" });
  await using _ = s;
  const [job] = await listJobs(store);
  await rerunJob(store, job!.id);
  await refused(rerunJob(store, job!.id), RerunRefusedError, /already waiting/);
  assert.equal((await run()).length, 1, "one new job, not two");
});

Deno.test("a re-run asked before the inputs moved gives way to the job of the new inputs", async () => {
  const { s, store, run, opts } = await setup({ a: "one\n" });
  await using _ = s;
  const [job] = await listJobs(store);
  await rerunJob(store, job!.id);
  await tuskOk(["put", "file", "data@master:/b", "-f", "-", "--no-wait"], {
    ...opts,
    stdin: "two\n",
  });
  const ran = await run();
  assert.equal(ran.length, 1);
  assert.equal(ran[0]!.rerunOf, undefined);
  assert.notEqual(ran[0]!.trigger, job!.trigger);
  await assert.rejects(
    Deno.stat(`${store.root}/jobs/strict/${job!.id}.rerun`),
    Deno.errors.NotFound,
  );
  assert.deepEqual(await run(), []);
});

Deno.test("rerunJob() refuses a job that is still running", async () => {
  const { s, store, opts } = await setup({}, SLOW);
  await using _ = s;
  const { mode } = await detectSandbox("auto");
  await tuskOk(["put", "file", "data@master:/a", "-f", "-", "--no-wait"], { ...opts, stdin: "a" });
  const running = runInline(store, { sandbox: mode });
  try {
    let job: JobRecord | undefined;
    for (let i = 0; i < 400 && job?.state !== "RUNNING"; i++) {
      await new Promise((r) => setTimeout(r, 25));
      job = (await listJobs(store))[0];
    }
    assert.equal(job?.state, "RUNNING");
    await refused(rerunJob(store, job!.id), RerunRefusedError, /still RUNNING/);
  } finally {
    await running;
  }
});

Deno.test("rerunJob() refuses a job id that is not a 4-digit prefix", async () => {
  const { s, store } = await setup({ a: "one\n" });
  await using _ = s;
  for (const ref of ["", "0", "abc", "../../state", "strict@..", "x/y@abcd"]) {
    await assert.rejects(rerunJob(store, ref), InvalidArgumentError, ref);
  }
});

Deno.test("rerunJob() of a batching pipeline runs its failed datum through the batching protocol, never ending it SUCCESS without output", async () => {
  await using dir = await tempDir();
  await Deno.copyFile(`${ROOT}/tests/fixtures/stages/protocol_only.ts`, `${dir.path}/p.ts`);
  const spec = `${dir.path}/protocol.json`;
  await Deno.writeTextFile(
    spec,
    JSON.stringify({
      pipeline: { name: "batched" },
      transform: { cmd: ["deno", "run", "p.ts", "/pfs/data/", "/pfs/out/"] },
      datumBatching: true,
      datumTries: 2,
      input: { pfs: { repo: "data", glob: "/*" } },
    }),
  );
  const { s, store, run } = await setup({ "a.txt": "a", "b.txt": "bad" }, spec);
  await using _ = s;
  const [old] = await listJobs(store);
  assert.equal(old!.state, "FAILURE");
  await rerunJob(store, old!.id);
  const [again] = await run();
  assert.equal(again!.rerunOf, old!.id);
  assert.equal(again!.state, "FAILURE");
  const b = again!.datums.find((d) => d.inputs[0]!.path === "/b.txt")!;
  assert.equal(b.state, "FAILED");
  assert.equal(b.tries, 2);
  assert.match(b.message ?? "", /b\.txt is bad/, "the stage itself answered each try");
});
