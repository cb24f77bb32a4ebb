/**
 * The scheduler's timing on a fake clock, in milliseconds rather than real seconds: cron
 * ticks, re-scans, a burst of watcher events taken in one look, job timeouts. The store and
 * the stages are real; only the clock and the file watcher are the test's.
 */
import assert from "node:assert/strict";
import { listJobs, stopJob } from "../../lib/commands/jobs.ts";
import { waitJob } from "../../lib/commands/wait.ts";
import { EventBus } from "../../lib/scheduler/events.ts";
import { Scheduler } from "../../lib/scheduler/scheduler.ts";
import { Store } from "../../lib/store/store.ts";
import { type Spawner, spawnProcess } from "../../lib/runner/run_stage.ts";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";
import { FakeClock, FakeWatch, nextEvent, settle } from "./_fakes.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

/** A scheduler on the store at `path` with a fake clock starting at `start` and a fake watcher. */
async function fakeScheduler(path: string, start: number, extra: { spawn?: Spawner } = {}) {
  const store = await Store.open(path);
  const clock = new FakeClock(start);
  const watch = new FakeWatch();
  const bus = new EventBus();
  const scheduler = new Scheduler(store, {
    sandbox: "deno",
    bus,
    clock,
    watch: watch.watch,
    ...extra,
  });
  return { store, clock, watch, bus, scheduler };
}

/**
 * `scheduler.serve()` until disposed; `looks()` counts its passes over the store (a pass
 * ends once no job runs), `idle()` waits for the first.
 */
function serving(scheduler: Scheduler, options: { rescanMs?: number } = {}) {
  const stop = new AbortController();
  let looks = 0;
  const done = scheduler.serve(stop.signal, { ...options, onIdle: () => looks++ });
  return {
    looks: () => looks,
    async idle() {
      while (looks === 0) await settle();
    },
    async [Symbol.asyncDispose]() {
      stop.abort();
      await done;
    },
  };
}

/** Write spec `<dir>/<name>.json` for stage `stage` over repo `repo`, one datum per file. */
async function writeSpec(
  dir: string,
  name: string,
  repo: string,
  stage: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  await Deno.copyFile(`${STAGES}/${stage}`, `${dir}/${stage}`);
  const file = `${dir}/${name}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      pipeline: { name },
      transform: { cmd: ["deno", "run", stage, `/pfs/${repo}/`, "/pfs/out/"] },
      input: { pfs: { repo, glob: "/*" } },
      ...extra,
    }),
  );
  return file;
}

Deno.test("Scheduler.serve() ticks a cron input when its clock reaches the tick, not a millisecond before", async () => {
  await using s = await tempStore();
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/cron.json`, "--no-wait"], {
    store: s.store,
  });
  const t = await fakeScheduler(s.store, Date.UTC(2026, 0, 1, 0, 0, 0, 500));
  await using u = serving(t.scheduler);
  await u.idle();
  assert.equal(t.scheduler.cronSchedule.get("ticker/tick"), Date.UTC(2026, 0, 1, 0, 0, 2));
  const ticks: string[] = [];
  t.bus.on((e) => void (e.type === "cron:tick" && ticks.push(e.tick)));
  await t.clock.advance(1499);
  assert.deepEqual(ticks, []);
  const ticked = nextEvent(t.bus, "cron:tick");
  const ran = nextEvent(
    t.bus,
    "job:state",
    (e) => e.pipeline === "ticker" && e.state === "SUCCESS",
  );
  await t.clock.advance(1);
  assert.equal((await ticked).tick, "2026-01-01T00:00:02.000Z");
  await ran;
  const file = await tuskOk(["get", "file", "ticker@master:/ticks.txt"], { store: s.store });
  assert.equal(file.stdout, "2026-01-01T00:00:02Z\n");
});

Deno.test("Scheduler.serve() sees a commit no watcher event announced at its next re-scan on the clock", async () => {
  await using s = await tempStore();
  const cli = { store: s.store };
  await tuskOk(["create", "repo", "data"], cli);
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`, "--no-wait"], cli);
  const t = await fakeScheduler(s.store, Date.UTC(2026, 0, 1));
  await using u = serving(t.scheduler, { rescanMs: 5000 });
  await u.idle();
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-", "--no-wait"], {
    ...cli,
    stdin: "a",
  });
  await t.clock.advance(4999);
  for (let i = 0; i < 5; i++) await settle();
  assert.deepEqual(await listJobs(t.store), [], "no event and no re-scan yet: no job");
  const created = nextEvent(t.bus, "job:created");
  await t.clock.advance(1);
  assert.equal((await created).pipeline, "upper");
});

Deno.test("Scheduler.serve() takes a burst of watcher events in one look, not one each", async () => {
  await using s = await tempStore();
  const t = await fakeScheduler(s.store, Date.UTC(2026, 0, 1));
  await using u = serving(t.scheduler);
  await u.idle();
  const before = u.looks();
  for (let i = 0; i < 100; i++) t.watch.emit("modify", `${s.store}/ledger`);
  while (u.looks() === before) await settle();
  for (let i = 0; i < 10; i++) await settle();
  const looks = u.looks() - before;
  assert.equal(looks, 1, `${looks} looks for 100 events`);
});

Deno.test("runPending() fails a job at its jobTimeout on the scheduler's clock", async () => {
  await using s = await tempStore();
  const cli = { store: s.store };
  await tuskOk(["create", "repo", "data"], cli);
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { ...cli, stdin: "a" });
  const spec = await writeSpec(s.path, "hang", "data", "sleepy.ts", { jobTimeout: "1h" });
  await tuskOk(["create", "pipeline", "-f", spec, "--no-wait"], cli);
  const t = await fakeScheduler(s.store, Date.UTC(2026, 0, 1));
  const started = nextEvent(t.bus, "datum:started");
  const pending = t.scheduler.runPending();
  await started;
  await t.clock.advance(3_600_000);
  const [job] = await pending;
  assert.equal(job!.state, "FAILURE");
  assert.equal(job!.reason, "Job exceeded its jobTimeout of 3600000 ms");
  assert.equal(job!.datums[0]!.message, "Job exceeded its jobTimeout");
  assert.equal(job!.finished, "2026-01-01T01:00:00.000Z", "the record's times are the clock's");
});

Deno.test("Scheduler.serve() keeps a cron pipeline ticking on its clock while a long job runs", async () => {
  await using s = await tempStore();
  const cli = { store: s.store };
  await tuskOk(["create", "repo", "a"], cli);
  const slow = await writeSpec(s.path, "a-slow", "a", "sleepy.ts");
  await tuskOk(["create", "pipeline", "-f", slow, "--no-wait"], cli);
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/cron.json`, "--no-wait"], cli);
  await tuskOk(["put", "file", "a@master:/1.txt", "-f", "-", "--no-wait"], { ...cli, stdin: "1" });
  const t = await fakeScheduler(s.store, Date.UTC(2026, 0, 1));
  const running = nextEvent(
    t.bus,
    "job:state",
    (e) => e.pipeline === "a-slow" && e.state === "RUNNING",
  );
  await using _ = serving(t.scheduler);
  const slowJob = (await running).job;
  const ticked: string[] = [];
  for (let n = 1; n <= 2; n++) {
    const done = nextEvent(
      t.bus,
      "job:state",
      (e) => e.pipeline === "ticker" && e.state === "SUCCESS",
    );
    await t.clock.advance(2000);
    ticked.push((await done).job);
  }
  for (const id of ticked) assert.equal((await waitJob(t.store, id)).state, "SUCCESS");
  assert.equal((await listJobs(t.store, { pipeline: "ticker" })).length, 2);
  assert.equal((await listJobs(t.store, { pipeline: "a-slow" }))[0]!.state, "RUNNING");
  const killed = nextEvent(t.bus, "job:state", (e) => e.job === slowJob && e.state === "KILLED");
  await stopJob(t.store, slowJob);
  t.watch.emit("create", `${s.store}/jobs/a-slow/${slowJob}.stop`);
  assert.equal((await killed).reason, "Job was stopped");
});

Deno.test("Scheduler starts every stage through the spawner it was given", async () => {
  await using s = await tempStore();
  const cli = { store: s.store };
  await tuskOk(["create", "repo", "data"], cli);
  for (const f of ["a", "b"]) {
    await tuskOk(["put", "file", `data@master:/${f}.txt`, "-f", "-"], { ...cli, stdin: f });
  }
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`, "--no-wait"], cli);
  const spawned: string[] = [];
  const spawn: Spawner = (program, options) => {
    spawned.push(program);
    return spawnProcess(program, options);
  };
  const t = await fakeScheduler(s.store, Date.UTC(2026, 0, 1), { spawn });
  const [job] = await t.scheduler.runPending();
  assert.equal(job!.state, "SUCCESS", job!.reason);
  assert.equal(spawned.length, 2, "one stage process per datum");
});
