/**
 * The scheduler in this process, on a real store with real sandboxed stages: the default
 * memory cap of stages whose spec sets none, and jobs of one pipeline never holding up
 * another's (its re-scans on a fake clock). The store is set up through the real CLI.
 */
import assert from "node:assert/strict";
import { type JobRecord, listJobs, pipelinesOf, Scheduler, Store } from "../../lib/mod.ts";
import { DATUM_JOURNAL_BYTES, EventBus, JOURNAL_LOG_MARKER } from "../../lib/scheduler/events.ts";
import { DATUM_LOG_BYTES, DATUM_LOG_MARKER } from "../../lib/scheduler/datum_logs.ts";
import { JobStore } from "../../lib/pipeline/jobs.ts";
import { currentTrigger } from "../../lib/pipeline/trigger.ts";
import { createJob } from "../../lib/scheduler/job_state.ts";
import { runJob } from "../../lib/scheduler/run_job.ts";
import type { SandboxMode } from "../../lib/runner/sandbox.ts";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";
import { MODES } from "../runner/_helpers.ts";
import { FakeClock } from "./_fakes.ts";

const MIB = 1024 * 1024;
const HOSTILE = `${ROOT}/tests/fixtures/hostile`;
const STAGES = `${ROOT}/tests/fixtures/stages`;

/** Write spec `<dir>/<name>.json` for a stage reading repo `repo`, one datum per file. */
async function writeSpec(
  dir: string,
  name: string,
  repo: string,
  cmd: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const file = `${dir}/${name}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      pipeline: { name },
      transform: { cmd: ["deno", "run", ...cmd] },
      input: { pfs: { repo, glob: "/*" } },
      datumTries: 1,
      ...extra,
    }),
  );
  return file;
}

/** A scheduler on `store` in `mode`, its events kept in memory. */
function scheduler(
  store: Store,
  mode: SandboxMode,
  extra: { defaultMemoryBytes?: number; signal?: AbortSignal; clock?: FakeClock } = {},
) {
  return new Scheduler(store, { sandbox: mode, bus: new EventBus(), ...extra });
}

/** Poll `fn` until it gives a value, failing after 30 s. */
async function until<T>(what: string, fn: () => Promise<T | null | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

for (const mode of MODES) {
  Deno.test(`Scheduler [${mode}] fails a datum that goes past the default memory cap, naming it`, async () => {
    await using s = await tempStore();
    await tuskOk(["create", "repo", "data"], { store: s.store });
    await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store: s.store, stdin: "a" });
    await Deno.copyFile(`${HOSTILE}/memory_offheap.js`, `${s.path}/memory_offheap.js`);
    const spec = await writeSpec(s.path, "hog", "data", ["memory_offheap.js", "1024"]);
    await tuskOk(["create", "pipeline", "-f", spec, "--no-wait"], { store: s.store });

    const store = await Store.open(s.store);
    const ran: JobRecord[] = await scheduler(store, mode, { defaultMemoryBytes: 192 * MIB })
      .runPending();
    assert.equal(ran.length, 1);
    const job = ran[0]!;
    assert.equal(job.state, "FAILURE");
    const datum = job.datums[0]!;
    assert.equal(datum.state, "FAILED");
    assert.equal(
      datum.message,
      "Stage exceeded the default memory limit of 192 MiB (the spec sets no resourceLimits.memory)",
    );
    assert.match(job.reason!, /default memory limit of 192 MiB/);
  });
}

Deno.test("Scheduler runs pipeline B's job to the end while pipeline A's long job still runs", async () => {
  await using s = await tempStore();
  const cli = { store: s.store };
  await tuskOk(["create", "repo", "a"], cli);
  await tuskOk(["create", "repo", "b"], cli);
  for (const f of ["sleepy.ts", "upper.ts"]) {
    await Deno.copyFile(`${STAGES}/${f}`, `${s.path}/${f}`);
  }
  // "a-slow" sorts first, so a scheduler running one job at a time would start it first.
  const slow = await writeSpec(s.path, "a-slow", "a", ["sleepy.ts", "/pfs/a/", "/pfs/out/"]);
  const fast = await writeSpec(s.path, "b-fast", "b", ["upper.ts", "/pfs/b/", "/pfs/out/"]);
  await tuskOk(["create", "pipeline", "-f", slow, "--no-wait"], cli);
  await tuskOk(["create", "pipeline", "-f", fast, "--no-wait"], cli);
  await tuskOk(["put", "file", "a@master:/1.txt", "-f", "-", "--no-wait"], { ...cli, stdin: "1" });

  const store = await Store.open(s.store);
  const stop = new AbortController();
  const clock = new FakeClock(Date.now());
  const pending = scheduler(store, "deno", { signal: stop.signal, clock }).runPending({
    rescanMs: 100,
  });
  try {
    const jobsOf = (pipeline: string) => listJobs(store, { pipeline });
    await until("a-slow running", async () => (await jobsOf("a-slow"))[0]?.state === "RUNNING");
    // Commits made while A runs: B's input, and A's own input again.
    await tuskOk(["put", "file", "b@master:/x.txt", "-f", "-", "--no-wait"], {
      ...cli,
      stdin: "x",
    });
    await tuskOk(["put", "file", "a@master:/2.txt", "-f", "-", "--no-wait"], {
      ...cli,
      stdin: "2",
    });
    // Nothing tells the scheduler of those commits: its next re-scan finds them.
    await clock.advance(100);
    const b = await until("b-fast's job to end", async () => {
      const job = (await jobsOf("b-fast"))[0];
      return job && ["SUCCESS", "FAILURE", "KILLED"].includes(job.state) ? job : null;
    });
    assert.equal(b.state, "SUCCESS", b.reason);
    const a = await jobsOf("a-slow");
    assert.equal(a.length, 1, "one job of a pipeline at a time: A's next job waits");
    assert.equal(a[0]!.state, "RUNNING");
  } finally {
    stop.abort();
  }
  const ran = await pending;
  // The scheduler's shutdown leaves A's job to resume: no verdict on it.
  assert.deepEqual(ran.map((j) => [j.pipeline, j.state]).sort(), [
    ["a-slow", "RUNNING"],
    ["b-fast", "SUCCESS"],
  ]);
});

Deno.test("runJob() makes a job UNRUNNABLE, naming the variable, when its stored spec passes an env name now refused", async () => {
  await using s = await tempStore();
  await tuskOk(["create", "repo", "data"], { store: s.store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store: s.store, stdin: "a" });
  await Deno.copyFile(`${STAGES}/upper.ts`, `${s.path}/upper.ts`);
  const spec = await writeSpec(s.path, "upper", "data", ["upper.ts", "/pfs/data/", "/pfs/out/"]);
  await tuskOk(["create", "pipeline", "-f", spec, "--no-wait"], { store: s.store });

  const store = await Store.open(s.store);
  const state = await store.state();
  const stored = (await pipelinesOf(state))[0]!;
  // As if the spec had been stored by a version that accepted the name.
  const p = {
    ...stored,
    parsed: {
      ...stored.parsed,
      transform: { ...stored.parsed.transform, env: { SSLKEYLOGFILE: "/tmp/keys.log" } },
    },
  };
  const ctx = {
    store,
    jobs: new JobStore(store),
    bus: new EventBus(),
    sandbox: "deno",
    cores: 1,
  } as const;
  const job = await runJob(ctx, p, await createJob(ctx, p, currentTrigger(state, p)!));
  assert.equal(job.state, "UNRUNNABLE");
  assert.match(job.reason!, /"SSLKEYLOGFILE"/);
});

Deno.test("runJob() makes a job UNRUNNABLE when its stored spec gives TZ a path, which is now refused", async () => {
  await using s = await tempStore();
  await tuskOk(["create", "repo", "data"], { store: s.store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store: s.store, stdin: "a" });
  await Deno.copyFile(`${STAGES}/upper.ts`, `${s.path}/upper.ts`);
  const spec = await writeSpec(s.path, "upper", "data", ["upper.ts", "/pfs/data/", "/pfs/out/"]);
  await tuskOk(["create", "pipeline", "-f", spec, "--no-wait"], { store: s.store });

  const store = await Store.open(s.store);
  const state = await store.state();
  const stored = (await pipelinesOf(state))[0]!;
  // As if the spec had been stored by a version that accepted a path for TZ.
  const env = { TZ: "/usr/share/zoneinfo/America/New_York" };
  const p = {
    ...stored,
    parsed: { ...stored.parsed, transform: { ...stored.parsed.transform, env } },
  };
  const ctx = {
    store,
    jobs: new JobStore(store),
    bus: new EventBus(),
    sandbox: "deno",
    cores: 1,
  } as const;
  const job = await runJob(ctx, p, await createJob(ctx, p, currentTrigger(state, p)!));
  assert.equal(job.state, "UNRUNNABLE");
  assert.match(job.reason!, /"TZ"/);
});

Deno.test("Scheduler skips a damaged newest job record: it reports it once and runs the pipeline's next job", async () => {
  await using s = await tempStore();
  const cli = { store: s.store };
  await tuskOk(["create", "repo", "data"], cli);
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { ...cli, stdin: "a" });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], cli);
  const store = await Store.open(s.store);
  const [damaged] = await listJobs(store, { pipeline: "upper" });
  const file = `${s.store}/jobs/upper/${damaged!.id}.json`;
  await Deno.writeTextFile(file, "");
  await tuskOk(["put", "file", "data@master:/b.txt", "-f", "-", "--no-wait"], {
    ...cli,
    stdin: "b",
  });

  const bus = new EventBus();
  const seen: { job: string; pipeline: string; message: string }[] = [];
  bus.on((e) => {
    if (e.type === "job:damaged") {
      seen.push({ job: e.job, pipeline: e.pipeline, message: e.message });
    }
  });
  const sched = new Scheduler(store, { sandbox: "deno", bus });
  const ran = await sched.runPending();
  assert.deepEqual(ran.map((j) => [j.pipeline, j.state]), [["upper", "SUCCESS"]]);
  assert.equal((await tuskOk(["get", "file", "upper@master:/b.txt"], cli)).stdout, "B");
  assert.equal(seen.length, 1, "the damaged record is reported");
  assert.equal(seen[0]!.job, damaged!.id);
  assert.equal(seen[0]!.pipeline, "upper");
  assert.ok(seen[0]!.message.includes(file), "the report names the file to remove");
  // Left as it was: the remedy is the user's, and nothing more is reported for it.
  assert.equal(await Deno.readTextFile(file), "");
  assert.deepEqual(await sched.runPending(), []);
  assert.equal(seen.length, 1);
});

Deno.test("Scheduler shutting down mid-batch keeps the datums answered ok and takes back the try of the others", async () => {
  await using s = await tempStore();
  const cli = { store: s.store };
  await tuskOk(["create", "repo", "data"], cli);
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/hang_batch.json`, "--no-wait"], cli);
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-", "--no-wait"], {
    ...cli,
    stdin: "fine\n",
  });
  await tuskOk(["put", "file", "data@master:/h.txt", "-f", "-", "--no-wait"], {
    ...cli,
    stdin: "hang\n",
  });
  const store = await Store.open(s.store);
  const bus = new EventBus();
  const shutdown = new AbortController();
  bus.on((e) => {
    if (e.type === "stage:log" && e.line === "hang started batch") shutdown.abort();
  });
  const ran = await new Scheduler(store, { sandbox: "deno", bus, signal: shutdown.signal })
    .runPending();
  assert.equal(ran.length, 1);
  const [job] = ran;
  assert.equal(job!.state, "RUNNING", "left to resume");
  const jobs = new JobStore(store);
  const byPath = new Map(job!.datums.map((d) => [d.inputs[0]!.path, d]));
  // Only the run that finished counts: the one the shutdown ended was taken back.
  assert.deepEqual([...(await jobs.attempts("hangbatch", job!.id)).entries()], [
    [byPath.get("/a.txt")!.id, 1],
  ]);
  assert.equal(byPath.get("/a.txt")!.state, "SUCCESS");
  assert.equal(byPath.get("/h.txt")!.state, "STARTING");
  assert.equal(byPath.get("/h.txt")!.tries, 0);
  const index = await jobs.datumIndex("hangbatch");
  assert.ok(index.has(byPath.get("/a.txt")!.hash), "a.txt's output is kept for the resumption");
  assert.equal(
    (await jobs.latest("hangbatch"))?.state,
    "RUNNING",
    "the saved record says so too",
  );
});

/**
 * Run pipeline "chatty" once in `s`: 1,200 KiB of control characters on each stream per
 * run, failing its 3 tries; the bus journals to `journal`. Returns the job.
 */
async function runChatty(
  s: { path: string; store: string },
  journal: string,
): Promise<{ store: Store; job: JobRecord }> {
  await tuskOk(["create", "repo", "data"], { store: s.store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store: s.store, stdin: "a" });
  await Deno.copyFile(`${HOSTILE}/log_flood.js`, `${s.path}/log_flood.js`);
  const spec = await writeSpec(s.path, "chatty", "data", ["log_flood.js", "1200", "1"], {
    datumTries: 3,
  });
  await tuskOk(["create", "pipeline", "-f", spec, "--no-wait"], { store: s.store });
  const store = await Store.open(s.store);
  const bus = new EventBus({ journal });
  try {
    const ran = await new Scheduler(store, { sandbox: "deno", bus }).runPending();
    assert.equal(ran.length, 1);
    return { store, job: ran[0]! };
  } finally {
    bus.close();
  }
}

Deno.test("Scheduler keeps a chatty datum's logs of all its tries within the datum's cap", async () => {
  await using s = await tempStore();
  const { store, job } = await runChatty(s, `${s.path}/events.jsonl`);
  const datum = job.datums[0]!;
  assert.equal(datum.state, "FAILED");
  assert.equal(datum.tries, 3);
  const bytes = await store.objects.read(datum.logs!);
  assert.ok(bytes.length <= DATUM_LOG_BYTES + 4096, `${bytes.length} bytes of logs`);
  const logs = JSON.parse(new TextDecoder().decode(bytes)) as {
    attempts: { attempt: number; stdout: string; stderr: string }[];
  };
  assert.deepEqual(logs.attempts.map((a) => a.attempt), [1, 2, 3]);
  assert.ok(logs.attempts[2]!.stderr.startsWith("\x01".repeat(99) + "\n"));
  assert.ok(logs.attempts[0]!.stdout.endsWith(DATUM_LOG_MARKER));
});

Deno.test("Scheduler journals a chatty datum's log lines within the datum's journal budget", async () => {
  await using s = await tempStore();
  const journal = `${s.path}/events.jsonl`;
  const { job } = await runChatty(s, journal);
  const text = await Deno.readTextFile(journal);
  const logLines = text.split("\n").filter((l) => l.includes('"type":"stage:log"'));
  const bytes = logLines.reduce((n, l) => n + new TextEncoder().encode(l).length + 1, 0);
  assert.ok(bytes <= DATUM_JOURNAL_BYTES + 1024, `${bytes} bytes of log lines journaled`);
  const last = JSON.parse(logLines.at(-1)!);
  assert.equal(last.line, JOURNAL_LOG_MARKER);
  assert.equal(last.datum, job.datums[0]!.id);
  // The journal still holds the datum's end, after the lines it left out.
  assert.match(text, /"type":"datum:finished"[^\n]*"state":"FAILED"/);
});
