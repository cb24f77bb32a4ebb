/**
 * Batches of bounded size: a batched job of many datums runs them in batches of at most
 * `BATCH_DATUMS` (`$TUSK_BATCH_DATUMS`), giving the same outputs as one batch per worker; a
 * scheduler killed between batches loses nothing, and the job it resumes skips what was
 * done; job records are written in pieces, as the JSON they always were.
 */
import assert from "node:assert/strict";
import { BATCH_DATUMS, batchesOf } from "../../lib/scheduler/run_job.ts";
import {
  type DatumRecord,
  type JobRecord,
  JobStore,
  recordPieces,
} from "../../lib/pipeline/jobs.ts";
import { Store } from "../../lib/store/store.ts";
import { MAIN, snapshotStore, tempStore, tusk, TUSK_PERMS, tuskOk } from "../_helpers.ts";
import { sleep } from "../faults/_util.ts";

Deno.test("batchesOf() cuts datums into consecutive batches of at most the given size", () => {
  const datums = Array.from({ length: 25 }, (_, i) => i);
  const batches = batchesOf(datums, 2, 10);
  assert.deepEqual(batches.map((b) => b.length), [10, 10, 5]);
  assert.deepEqual(batches.flat(), datums);
});

Deno.test("batchesOf() shares a small job among the workers", () => {
  assert.deepEqual(batchesOf([1, 2, 3, 4, 5], 2, BATCH_DATUMS), [[1, 2, 3], [4, 5]]);
  assert.deepEqual(batchesOf([1], 4, BATCH_DATUMS), [[1]]);
  assert.deepEqual(batchesOf([], 2, BATCH_DATUMS), []);
});

/** A job record of `n` datums. */
function jobOf(n: number): JobRecord {
  const datums: DatumRecord[] = Array.from({ length: n }, (_, i) => ({
    id: i.toString(16).padStart(32, "0"),
    hash: "a".repeat(64),
    state: "SUCCESS",
    inputs: [{ name: "data", repo: "data", commit: "b".repeat(64), path: `/f${i}.txt` }],
    tries: 1,
    durationMs: i,
    exitCode: 0,
    message: i % 7 === 0 ? `line "${i}"\n` : "",
  }));
  return {
    id: "c".repeat(32),
    pipeline: "p",
    version: 1,
    specHash: "d".repeat(64),
    codeHash: "e".repeat(64),
    inputs: [],
    trigger: "f".repeat(64),
    state: "RUNNING",
    created: "2026-01-01T00:00:00.000Z",
    restart: 0,
    progress: { total: n, processed: n, skipped: 0, failed: 0, recovered: 0 },
    datums,
  };
}

for (const n of [0, 1, 2500]) {
  Deno.test(`recordPieces() of a job of ${n} datums is the job's JSON, in pieces`, () => {
    const job = jobOf(n);
    const pieces = [...recordPieces(job)];
    assert.deepEqual(JSON.parse(pieces.join("")), job);
    const { datums, ...rest } = job;
    assert.equal(pieces.join(""), JSON.stringify({ ...rest, datums }));
    if (n > 1000) assert.ok(pieces.every((p) => p.length < JSON.stringify(job).length / 2));
  });
}

Deno.test("JobStore.save() saves a job again so that it reads back as it is, whichever of its datums changed", async () => {
  await using s = await tempStore();
  const store = await Store.open(s.store);
  const jobs = new JobStore(store);
  const job = jobOf(2500);
  const file = store.layout.job(job.pipeline, job.id);
  const log = store.layout.datumLog(job.pipeline, job.id);
  // Read afresh, as another process reads it.
  const saved = async () => await new JobStore(await Store.open(s.store)).load(job.id);
  await jobs.save(job);
  assert.deepEqual(await saved(), job);
  // One datum in the middle piece changes, then one in each of the others, then the head.
  job.datums[1500]!.state = "FAILED";
  job.datums[1500]!.message = "it failed";
  await jobs.save(job);
  assert.deepEqual(await saved(), job);
  job.datums[3]!.logs = "9".repeat(64);
  job.datums[2499]!.durationMs = 1;
  job.state = "FINISHING";
  job.progress.failed = 1;
  await jobs.save(job, { durable: true });
  assert.deepEqual(await saved(), job);
  // Each other field that can change, alone in a piece of its own.
  const changes: ((d: DatumRecord) => void)[] = [
    (d) => d.tries = 3,
    (d) => d.exitCode = 1,
    (d) => d.outputTree = "8".repeat(64),
    (d) => d.outputSize = 12,
    (d) => d.reusedFrom = "7".repeat(32),
  ];
  for (const change of changes) {
    change(job.datums[changes.indexOf(change) * 500 + 7]!);
    await jobs.save(job);
    assert.deepEqual(await saved(), job);
  }
  // Nothing changed: the same text again, and nothing appended to the log.
  const text = await Deno.readTextFile(file);
  const lines = await Deno.readTextFile(log);
  await jobs.save(job);
  assert.equal(await Deno.readTextFile(file), text);
  assert.equal(await Deno.readTextFile(log), lines);
});

Deno.test("JobStore.save() writes every datum again when the record's file is not the one it saved", async () => {
  await using s = await tempStore();
  const store = await Store.open(s.store);
  const jobs = new JobStore(store);
  const job = jobOf(2500);
  const file = store.layout.job(job.pipeline, job.id);
  await jobs.save(job);
  // Another writer put a shorter record there (of the single form).
  await Deno.writeTextFile(file, JSON.stringify({ ...job, datums: job.datums.slice(0, 10) }));
  job.datums[0]!.tries = 2;
  await jobs.save(job);
  assert.deepEqual(await new JobStore(await Store.open(s.store)).load(job.id), job);
});

/**
 * A batching stage: each datum's files upper-cased into its out folder, and one log line
 * naming the stage process (a random id: in bubblewrap every process is pid 2 of its own),
 * so the number of processes shows in the datums' logs. With
 * `slow` in its args each datum takes 100 ms.
 */
const STAGE = `
const slow = Deno.args.includes("slow");
const me = crypto.randomUUID();
let buffer = "";
const answer = (line) => {
  if (!line) return;
  const { datum, args } = JSON.parse(line);
  for (const e of Deno.readDirSync(args[0])) {
    const text = Deno.readTextFileSync(args[0] + "/" + e.name);
    Deno.writeTextFileSync(args[1] + "/" + e.name, text.toUpperCase());
  }
  if (slow) { const until = Date.now() + 100; while (Date.now() < until) {} }
  console.log("process " + me);
  console.log(JSON.stringify({ datum, status: "ok" }));
};
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf("\\n")) >= 0) {
    answer(buffer.slice(0, nl));
    buffer = buffer.slice(nl + 1);
  }
}
answer(buffer);
`;

/** A store whose repo `data` holds `count` one-line files, and the batching spec beside it. */
async function filesStore(count: number, options: { slow?: boolean } = {}) {
  const s = await tempStore();
  await tuskOk(["create", "repo", "data"], { store: s.store });
  const src = `${s.path}/src`;
  await Deno.mkdir(src);
  for (let i = 0; i < count; i++) {
    await Deno.writeTextFile(`${src}/f${String(i).padStart(3, "0")}.txt`, `line ${i}\n`);
  }
  await tuskOk(["put", "file", "data@master", "-r", "-f", `${src}/.`], { store: s.store });
  await Deno.writeTextFile(`${s.path}/upper.ts`, STAGE);
  await Deno.writeTextFile(
    `${s.path}/upper.json`,
    JSON.stringify({
      pipeline: { name: "upper" },
      transform: {
        cmd: [
          "deno",
          "run",
          "upper.ts",
          "/pfs/data/",
          "/pfs/out/",
          ...(options.slow ? ["slow"] : []),
        ],
        datumBatching: true,
      },
      parallelismSpec: { constant: 1 },
      input: { pfs: { repo: "data", glob: "/*" } },
    }),
  );
  return s;
}

interface Job {
  id: string;
  state: string;
  reason?: string;
  restart: number;
  outputCommit?: string;
  progress: { total: number; processed: number; skipped: number; failed: number };
}

async function onlyJob(store: string): Promise<Job> {
  const jobs = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
  assert.equal(jobs.length, 1);
  return jobs[0]!;
}

/** The output commit's files: path → content. */
async function outputFiles(store: string): Promise<Map<string, string>> {
  const listed = JSON.parse(
    (await tuskOk(["list", "file", "upper@master:/", "--json"], { store })).stdout,
  ) as { path: string }[];
  const out = new Map<string, string>();
  for (const f of listed) {
    out.set(f.path, (await tuskOk(["get", "file", `upper@master:${f.path}`], { store })).stdout);
  }
  return out;
}

/** How many stage processes the job's datums' logs name. */
async function processes(store: string): Promise<number> {
  const r = await tuskOk(["logs", "--pipeline", "upper"], { store });
  return new Set(r.stdout.match(/process [0-9a-f-]{36}/g) ?? []).size;
}

Deno.test("a job in batches of 7 gives the outputs of one batch, from one process per batch", async () => {
  await using small = await filesStore(60);
  await using whole = await filesStore(60);
  const env = { TUSK_BATCH_DATUMS: "7" };
  await tuskOk(["create", "pipeline", "-f", `${small.path}/upper.json`], {
    store: small.store,
    env,
  });
  await tuskOk(["create", "pipeline", "-f", `${whole.path}/upper.json`], { store: whole.store });
  const [a, b] = [await onlyJob(small.store), await onlyJob(whole.store)];
  assert.equal(a.state, "SUCCESS", a.reason);
  assert.equal(b.state, "SUCCESS", b.reason);
  assert.deepEqual(a.progress, b.progress);
  assert.equal(a.progress.processed, 60);
  const files = await outputFiles(small.store);
  assert.equal(files.size, 60);
  assert.equal(files.get("/f042.txt"), "LINE 42\n");
  assert.deepEqual(files, await outputFiles(whole.store));
  assert.equal(await processes(small.store), Math.ceil(60 / 7));
  assert.equal(await processes(whole.store), 1);
});

Deno.test("a scheduler killed between batches loses nothing: the resumed job skips what was done", async () => {
  await using s = await filesStore(24, { slow: true });
  const store = s.store;
  await tuskOk(["create", "pipeline", "-f", `${s.path}/upper.json`, "--no-wait"], { store });
  const index = `${store}/jobs/upper/datums.jsonl`;
  const indexed = async () => {
    try {
      return (await Deno.readTextFile(index)).split("\n").filter((l) => l).length;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return 0;
      throw err;
    }
  };
  const up = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...TUSK_PERMS, MAIN, "up", "--headless"],
      env: { TUSK_STORE: store, NO_COLOR: "1", TUSK_BATCH_DATUMS: "4" },
      stdout: "null",
      stderr: "null",
    }).spawn();
  const first = up();
  const deadline = Date.now() + 60_000;
  while ((await indexed()) < 8 && Date.now() < deadline) await sleep(20);
  first.kill("SIGKILL");
  await first.status;
  const before = await indexed();
  assert.ok(before >= 8 && before < 24, `${before} datums were done before the kill`);

  const second = up();
  try {
    let job: Job | undefined;
    while (Date.now() < deadline + 60_000) {
      job = await onlyJob(store);
      if (job.state === "SUCCESS" || job.state === "FAILURE") break;
      await sleep(100);
    }
    assert.equal(job?.state, "SUCCESS", job?.reason);
    assert.equal(job!.restart, 1);
    assert.ok(job!.progress.skipped >= before, `skipped ${job!.progress.skipped} of ${before}`);
    assert.equal(job!.progress.processed + job!.progress.skipped, 24);
  } finally {
    second.kill("SIGTERM");
    await second.status;
  }
  const files = await outputFiles(store);
  assert.equal(files.size, 24);
  for (let i = 0; i < 24; i++) {
    assert.equal(files.get(`/f${String(i).padStart(3, "0")}.txt`), `LINE ${i}\n`);
  }
  assert.equal(await indexed(), 24, "each datum is indexed once");
  await tuskOk(["verify"], { store });
});

for (const bad of ["0", "-3", "many", "2.5", "1000001"]) {
  Deno.test(`$TUSK_BATCH_DATUMS="${bad}" is refused with exit code 2, changing nothing`, async () => {
    await using s = await filesStore(3);
    const before = await snapshotStore(s.store);
    const r = await tusk(["create", "pipeline", "-f", `${s.path}/upper.json`], {
      store: s.store,
      env: { TUSK_BATCH_DATUMS: bad },
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /TUSK_BATCH_DATUMS/);
    assert.equal(await snapshotStore(s.store), before);
  });
}
