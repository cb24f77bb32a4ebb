/**
 * `wait commit`, `flush-commit` and `wait job` through the real CLI when no scheduler runs:
 * the due jobs run in the waiting process, as after `put file`, and a job nothing would
 * finish is refused with exit 1; neither hangs. Each run is bounded, so a hang fails.
 */
import assert from "node:assert/strict";
import { MAIN, ROOT, tempStore, TUSK_PERMS, type TuskResult } from "../_helpers.ts";
import { assertFails, ok } from "./_cli.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

/** Run `tusk <args>` on `store`, killed (and failing the test) after `ms`. */
async function tuskWithin(args: string[], store: string, ms = 60_000): Promise<TuskResult> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, MAIN, ...args],
    env: { NO_COLOR: "1", TUSK_STORE: store, INIT_CWD: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(ms),
  }).output();
  assert.ok(r.signal === null, `tusk ${args.join(" ")} did not end within ${ms} ms`);
  const dec = new TextDecoder();
  return {
    code: r.code,
    stdout: dec.decode(r.stdout),
    stderr: dec.decode(r.stderr),
    stdoutBytes: r.stdout,
  };
}

interface Job {
  id: string;
  pipeline: string;
  state: string;
}

/** A store with repo `data` and pipeline `upper`, and a commit whose job was never run. */
async function withPendingJob() {
  const s = await tempStore();
  const o = { store: s.store };
  await ok(["create", "repo", "data"], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${STAGES}/upper.json`], o);
  await ok(["put", "file", "data@master:/w.txt", "-f", "-", "--no-wait"], { ...o, stdin: "w\n" });
  return s;
}

Deno.test("wait commit with no scheduler runs the job a --no-wait commit left, and prints it", async () => {
  await using s = await withPendingJob();
  const r = await tuskWithin(["wait", "commit", "data@master", "--json"], s.store);
  assert.equal(r.code, 0, r.stderr);
  const jobs = JSON.parse(r.stdout) as Job[];
  assert.deepEqual(jobs.map((j) => [j.pipeline, j.state]), [["upper", "SUCCESS"]]);
  const out = await ok(["get", "file", "upper@master:/w.txt"], { store: s.store });
  assert.equal(out.stdout, "W\n");
});

Deno.test("flush-commit (1.x) with no scheduler runs the pending job rather than hang", async () => {
  await using s = await withPendingJob();
  const r = await tuskWithin(["flush-commit", "data", "master"], s.store);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^upper [0-9a-f]{32} SUCCESS$/m);
});

Deno.test("wait job with no scheduler resumes the job a killed scheduler left running", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await ok(["create", "repo", "data"], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${STAGES}/slow.json`], o);
  await ok(["put", "file", "data@master:/a.txt", "-f", "-", "--no-wait"], { ...o, stdin: "a\n" });
  const up = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, MAIN, "up", "--headless"],
    env: { TUSK_STORE: s.store, NO_COLOR: "1" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  let job: Job | undefined;
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && job?.state !== "RUNNING") {
      const r = await ok(["list", "job", "--json"], o);
      job = (JSON.parse(r.stdout) as Job[])[0];
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    up.kill("SIGKILL");
    await up.status;
  }
  assert.equal(job?.state, "RUNNING", "the job was running when the scheduler died");
  const r = await tuskWithin(["wait", "job", job.id], s.store);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${job.id} SUCCESS\n`);
});

Deno.test("wait job of a running job whose pipeline was deleted exits 1: nothing will finish it", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await ok(["create", "repo", "data"], o);
  await ok(["create", "pipeline", "-f", `${STAGES}/upper.json`], o);
  await ok(["put", "file", "data@master:/a.txt", "-f", "-"], { ...o, stdin: "a\n" });
  const [job] = JSON.parse((await ok(["list", "job", "--json"], o)).stdout) as Job[];
  // As a scheduler killed mid-job leaves the record, then the pipeline is deleted.
  const file = `${s.store}/jobs/upper/${job!.id}.json`;
  const record = JSON.parse(await Deno.readTextFile(file));
  // The record's datums are in its datum log beside it.
  const log = `${s.store}/jobs/upper/${job!.id}.datums`;
  const datums = await Deno.readFile(log);
  await ok(["delete", "pipeline", "upper"], o);
  await Deno.mkdir(`${s.store}/jobs/upper`, { recursive: true });
  await Deno.writeFile(log, datums);
  await Deno.writeTextFile(file, JSON.stringify({ ...record, state: "RUNNING" }));
  const r = await tuskWithin(["wait", "job", job!.id], s.store);
  assertFails(r, 1, new RegExp(`Job ${job!.id} of pipeline "upper" is RUNNING`), /nothing will/);
});
