/**
 * Running jobs from a command: `runTriggered()` runs, in this process, the job a commit
 * triggered, and `runCron()` commits a cron tick now. Real store, real sandboxed stages.
 */
import assert from "node:assert/strict";
import { listCommit } from "../../lib/commands/commit.ts";
import { putFile } from "../../lib/commands/put_file.ts";
import { inspectJob, listJobs } from "../../lib/commands/jobs.ts";
import { waitCommit, waitJob } from "../../lib/commands/wait.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { journalPath } from "../../lib/commands/journal.ts";
import { runCron, runTriggered } from "../../lib/commands/run.ts";
import { mayTrigger } from "../../lib/commands/triggers.ts";
import { InvalidArgumentError, NoSchedulerError, NotFoundError } from "../../lib/errors.ts";
import type { TuskEvent } from "../../lib/scheduler/events.ts";
import { JobStore } from "../../lib/pipeline/jobs.ts";
import { createPipeline } from "../../lib/pipeline/pipelines.ts";
import { Store } from "../../lib/store/store.ts";
import { ROOT, tempDir } from "../_helpers.ts";
import { MODES } from "../runner/_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;
const sandbox = MODES[0]!;

/** A store with repo `data` holding `/a.txt` and pipeline `upper` reading it, no job run. */
async function withPipeline(dir: string): Promise<Store> {
  const store = await Store.init(`${dir}/.tusk`);
  await createRepo(store, "data");
  await Deno.writeTextFile(`${dir}/a.txt`, "a\n");
  await putFile(store, "data@master:/a.txt", { sources: [`${dir}/a.txt`] });
  await createPipeline(store, `${STAGES}/upper.json`, { update: false, reprocess: false });
  return store;
}

Deno.test("mayTrigger() is false on a store without pipelines and true once one exists", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createRepo(store, "data");
  assert.equal(await mayTrigger(store), false);
  await createPipeline(store, `${STAGES}/upper.json`, { update: false, reprocess: false });
  assert.equal(await mayTrigger(store), true);
});

Deno.test("mayTrigger() answers for this process's commit from the state its transaction saw", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/.tusk`;
  const mine = await Store.init(root);
  await createRepo(mine, "data");
  await Deno.writeTextFile(`${dir.path}/a.txt`, "a\n");
  await putFile(mine, "data@master:/a.txt", { sources: [`${dir.path}/a.txt`] });
  // Another process creates a pipeline after that commit: the pipeline runs on it itself.
  const other = await Store.open(root);
  await createPipeline(other, `${STAGES}/upper.json`, { update: false, reprocess: false });
  assert.equal(await mayTrigger(mine), false);
  assert.equal(await mayTrigger(await Store.open(root)), true);
  await putFile(mine, "data@master:/a.txt", { sources: [`${dir.path}/a.txt`] });
  assert.equal(await mayTrigger(mine), true);
});

Deno.test("runTriggered() runs the job a commit triggered here and hands on its events", async () => {
  await using dir = await tempDir();
  const store = await withPipeline(dir.path);
  const seen: TuskEvent[] = [];
  const r = await runTriggered(store, { sandbox, onEvent: (e) => seen.push(e) });
  assert.equal(r.daemon, null);
  assert.deepEqual(r.ran.map((j) => [j.pipeline, j.state]), [["upper", "SUCCESS"]]);
  const states = seen.filter((e) => e.type === "job:state").map((e) => e.state);
  assert.equal(states.at(-1), "SUCCESS");
  const journal = await Deno.readTextFile(journalPath(store));
  assert.match(journal, /"type":"job:state"/);
});

Deno.test("runTriggered() makes the job before the sandbox is known and runs its stage once it is", async () => {
  await using dir = await tempDir();
  const store = await withPipeline(dir.path);
  const mode = Promise.withResolvers<typeof sandbox>();
  const before: string[] = [];
  let given = false;
  const r = await runTriggered(store, {
    sandbox: mode.promise,
    onEvent: (e) => {
      if (given) return;
      before.push(e.type === "job:state" ? `${e.type} ${e.state}` : e.type);
      if (e.type === "job:state" && e.state === "STARTING") {
        given = true;
        setTimeout(() => mode.resolve(sandbox), 50);
      }
    },
  });
  assert.deepEqual(r.ran.map((j) => [j.pipeline, j.state]), [["upper", "SUCCESS"]]);
  assert.ok(before.includes("job:state STARTING"), before.join(", "));
  assert.ok(!before.includes("datum:started"), before.join(", "));
});

Deno.test("runTriggered() ends the job FAILURE saying why when the sandbox's trial fails", async () => {
  await using dir = await tempDir();
  const store = await withPipeline(dir.path);
  const failed = Promise.reject(new Error("the trial broke"));
  const r = await runTriggered(store, { sandbox: failed });
  assert.deepEqual(r.ran.map((j) => [j.pipeline, j.state]), [["upper", "FAILURE"]]);
  assert.match(r.ran[0]!.reason ?? "", /the trial broke/);
  const [out] = await listCommit(store, "upper").catch(() => []);
  assert.equal(out, undefined);
});

Deno.test("runTriggered() runs nothing when no commit triggered a job", async () => {
  await using dir = await tempDir();
  const store = await withPipeline(dir.path);
  await runTriggered(store, { sandbox });
  const again = await runTriggered(store, { sandbox });
  assert.deepEqual(again.ran, []);
  assert.equal((await listJobs(store, { pipeline: "upper" })).length, 1);
});

Deno.test("runCron() commits a tick to the cron input's repo; an unknown pipeline is NotFoundError", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createPipeline(store, `${STAGES}/cron.json`, { update: false, reprocess: false });
  const before = (await listCommit(store, "ticker_tick")).length;
  await runCron(store, "ticker", { sandbox });
  assert.equal((await listCommit(store, "ticker_tick")).length, before + 1);
  await assert.rejects(runCron(store, "nope", { sandbox }), NotFoundError);
});

Deno.test("runCron() of a pipeline without a cron input is InvalidArgumentError naming it and commits nothing", async () => {
  await using dir = await tempDir();
  const store = await withPipeline(dir.path);
  await createPipeline(store, `${STAGES}/cron.json`, { update: false, reprocess: false });
  const seq = (await store.state()).ledger.seq;
  await assert.rejects(
    runCron(store, "upper", { sandbox }),
    (e: unknown) =>
      e instanceof InvalidArgumentError && e.data.pipeline === "upper" &&
      /"upper" has no cron input/.test(e.message) && /"ticker"/.test(e.message),
  );
  assert.equal((await store.state()).ledger.seq, seq, "nothing was committed");
});

Deno.test("waitCommit() gives the finished jobs downstream of the repo; an unknown repo is NotFoundError", async () => {
  await using dir = await tempDir();
  const store = await withPipeline(dir.path);
  await runTriggered(store, { sandbox });
  const jobs = await waitCommit(store, "data@master");
  assert.deepEqual(jobs.map((j) => [j.pipeline, j.state]), [["upper", "SUCCESS"]]);
  await assert.rejects(waitCommit(store, "nope@master"), NotFoundError);
});

/** `promise`, or a failure naming `what` after `ms`: a wait that hangs fails the test. */
async function within<T>(what: string, promise: Promise<T>, ms = 60_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not return in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("waitCommit() with a sandbox runs here the job no scheduler runs, and gives it finished", async () => {
  await using dir = await tempDir();
  const store = await withPipeline(dir.path);
  const jobs = await within("waitCommit()", waitCommit(store, "data@master", { sandbox }));
  assert.deepEqual(jobs.map((j) => [j.pipeline, j.state]), [["upper", "SUCCESS"]]);
});

Deno.test("waitCommit() without a sandbox, when no scheduler runs the due job, is NoSchedulerError", async () => {
  await using dir = await tempDir();
  const store = await withPipeline(dir.path);
  await within(
    "waitCommit()",
    assert.rejects(
      waitCommit(store, "data@master"),
      (e: unknown) => e instanceof NoSchedulerError && /"upper"/.test(e.message),
    ),
  );
});

Deno.test("waitJob() with a sandbox resumes here a job left unfinished with no scheduler", async () => {
  await using dir = await tempDir();
  const store = await withPipeline(dir.path);
  await runTriggered(store, { sandbox });
  const [done] = await listJobs(store);
  // The record as a process killed mid-job leaves it: RUNNING, with nothing running it.
  const jobs = new JobStore(store);
  await jobs.save({ ...done!, state: "RUNNING" });
  const job = await within("waitJob()", waitJob(store, done!.id, { sandbox }));
  assert.equal(job.id, done!.id);
  assert.equal(job.state, "SUCCESS");
});

Deno.test("waitJob() of a job that running the due jobs does not finish is NoSchedulerError naming it", async () => {
  await using dir = await tempDir();
  const store = await withPipeline(dir.path);
  await runTriggered(store, { sandbox });
  const [done] = await listJobs(store);
  // An older record left RUNNING: a scheduler resumes only a pipeline's newest job.
  const old = { ...done!, id: "0".repeat(12) + done!.id.slice(12), state: "RUNNING" as const };
  await new JobStore(store).save(old);
  await within(
    "waitJob()",
    assert.rejects(
      waitJob(store, old.id, { sandbox }),
      (e: unknown) => e instanceof NoSchedulerError && e.data.job === old.id,
    ),
  );
  assert.equal((await inspectJob(store, old.id)).state, "RUNNING");
});
