/**
 * Stop and re-run requests reach the scheduler through its file watcher, not by polling:
 * with a fake watcher a request takes effect when its event comes, and not before; and a
 * stop asked for from another process ends a job that a command runs inline.
 */
import assert from "node:assert/strict";
import { listJobs, rerunJob, stopJob } from "../../lib/commands/jobs.ts";
import type { JobRecord } from "../../lib/pipeline/jobs.ts";
import { EventBus } from "../../lib/scheduler/events.ts";
import { Scheduler } from "../../lib/scheduler/scheduler.ts";
import { Store } from "../../lib/store/store.ts";
import { JobStore, newJobId } from "../../lib/pipeline/jobs.ts";
import { JobRequests } from "../../lib/scheduler/requests.ts";
import { MAIN, ROOT, tempStore, TUSK_PERMS, tuskOk } from "../_helpers.ts";
import { FakeClock, FakeWatch, nextEvent, settle } from "./_fakes.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

/**
 * A fresh store holding a RUNNING job record of pipeline "p", and its requests watched with
 * a fake watcher; closed when disposed.
 */
async function requestsOf() {
  const dir = await tempStore();
  const store = await Store.open(dir.store);
  const jobs = new JobStore(store);
  const job: JobRecord = {
    id: newJobId(new Date()),
    pipeline: "p",
    version: 1,
    specHash: "0".repeat(64),
    codeHash: "0".repeat(64),
    inputs: [],
    trigger: "0".repeat(64),
    state: "RUNNING",
    created: new Date().toISOString(),
    restart: 0,
    progress: { total: 0, processed: 0, skipped: 0, failed: 0, recovered: 0 },
    datums: [],
  };
  await jobs.save(job);
  const watch = new FakeWatch();
  const requests = await JobRequests.open(jobs, watch.watch, () => {});
  return {
    root: dir.store,
    store,
    jobs,
    job,
    watch,
    requests,
    async [Symbol.asyncDispose]() {
      requests.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

Deno.test("JobRequests aborts a followed job when the watcher reports its stop request, not before", async () => {
  await using r = await requestsOf();
  assert.deepEqual(r.watch.watched, [`${r.root}/jobs`]);
  const signal = await r.requests.follow(r.job);
  await stopJob(r.store, r.job.id);
  for (let i = 0; i < 5; i++) await settle();
  assert.equal(signal.aborted, false, "no event yet: nothing polls the file");
  r.watch.emit("create", `${r.root}/jobs/p/${r.job.id}.stop`);
  await settle();
  assert.equal(signal.aborted, true);
});

Deno.test("JobRequests stops a job at once when its stop was asked for before it started", async () => {
  await using r = await requestsOf();
  await stopJob(r.store, r.job.id);
  assert.equal((await r.requests.follow(r.job)).aborted, true);
});

Deno.test("JobRequests.recheck() finds a stop request whose event was lost", async () => {
  await using r = await requestsOf();
  const signal = await r.requests.follow(r.job);
  await stopJob(r.store, r.job.id);
  await r.requests.recheck();
  assert.equal(signal.aborted, true);
});

Deno.test("JobRequests.release() removes the stop request of a job that ended", async () => {
  await using r = await requestsOf();
  await r.requests.follow(r.job);
  await stopJob(r.store, r.job.id);
  await r.requests.release(r.job);
  assert.equal(await r.jobs.stopRequested(r.job), false);
});

Deno.test("Scheduler.serve() re-runs a job when the watcher reports the re-run request", async () => {
  await using s = await tempStore();
  await tuskOk(["create", "repo", "data"], { store: s.store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store: s.store, stdin: "a" });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store: s.store });
  const [first] = await listJobs(await Store.open(s.store), { pipeline: "upper" });
  assert.equal(first!.state, "SUCCESS");

  const store = await Store.open(s.store);
  const clock = new FakeClock(Date.now());
  const fake = new FakeWatch();
  const bus = new EventBus();
  const s1 = new Scheduler(store, { sandbox: "deno", bus, clock, watch: fake.watch });
  const stop = new AbortController();
  let idle = 0;
  const serving = s1.serve(stop.signal, { onIdle: () => idle++ });
  try {
    while (idle === 0) await settle();
    await rerunJob(store, first!.id);
    for (let i = 0; i < 5; i++) await settle();
    assert.equal((await listJobs(store, { pipeline: "upper" })).length, 1, "no event, no look");
    const created = nextEvent(bus, "job:created");
    fake.emit("create", `${s.store}/jobs/upper/${first!.id}.rerun`);
    const again = await created;
    const done = await nextEvent(
      bus,
      "job:state",
      (e) => e.job === again.job && e.state === "SUCCESS",
    );
    assert.equal(done.progress.processed, 1);
    const [newest] = await listJobs(store, { pipeline: "upper" });
    assert.equal(newest!.rerunOf, first!.id);
  } finally {
    stop.abort();
    await serving;
  }
});

Deno.test("tusk stop job from another process kills a job that a command runs inline", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/slow.json`, "--no-wait"], { store });
  for (const n of [1, 2, 3]) {
    await tuskOk(["put", "file", `data@master:/f${n}`, "-f", "-", "--no-wait"], {
      store,
      stdin: `${n}`,
    });
  }
  // This command runs the job in its own process (no scheduler holds the store).
  const inline = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, MAIN, "put", "file", "data@master:/f4", "-f", "-"],
    env: { TUSK_STORE: store, NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = inline.stdin.getWriter();
  await w.write(new TextEncoder().encode("4"));
  await w.close();
  const opened = await Store.open(store);
  let running: JobRecord | undefined;
  for (let i = 0; i < 600 && !running; i++) {
    running = (await listJobs(opened, { pipeline: "slow" })).find((j) => j.state === "RUNNING");
    if (!running) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(running, "the command started the job");
  await tuskOk(["stop", "job", running.id], { store });
  const out = await inline.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.match(
    stderr,
    new RegExp(`job ${running.id} of pipeline slow ended KILLED: Job was stopped`),
  );
  const [job] = await listJobs(opened, { pipeline: "slow" });
  assert.equal(job!.state, "KILLED");
  assert.ok(job!.progress.processed < 4, "it stopped before every datum ran");
  await tuskOk(["verify"], { store });
});
