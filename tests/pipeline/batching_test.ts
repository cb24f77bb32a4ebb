/** Datum batching through the real CLI: one process for many datums, per-datum results. */
import assert from "node:assert/strict";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  id: string;
  state: string;
  reason?: string;
  progress: { total: number; processed: number; skipped: number; failed: number };
}

for (const mode of ["bwrap", "deno"] as const) {
  Deno.test(`[${mode}] a batched job runs every datum in one process and keeps per-datum outputs`, async () => {
    await using s = await tempStore();
    const store = s.store;
    const env = { TUSK_SANDBOX: mode };
    await tuskOk(["create", "repo", "data"], { store });
    for (const n of ["a", "b", "c"]) {
      await tuskOk(["put", "file", `data@master:/${n}.txt`, "-f", "-"], { store, stdin: n });
    }
    await tuskOk(["create", "pipeline", "-f", `${STAGES}/batch_upper.json`], { store, env });
    const [job] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
    assert.equal(job!.state, "SUCCESS", job!.reason);
    assert.equal(job!.progress.processed, 3);
    for (const n of ["a", "b", "c"]) {
      const r = await tuskOk(["get", "file", `batched@master:/${n}.txt`], { store });
      assert.equal(r.stdout, n.toUpperCase());
    }
  });
}

Deno.test("a datum the batch answers with an error fails alone, naming its message", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "fine" });
  await tuskOk(["put", "file", "data@master:/b.txt", "-f", "-"], { store, stdin: "bad" });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/batch_upper.json`], { store });
  const [job] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
  assert.equal(job!.state, "FAILURE");
  assert.equal(job!.progress.processed, 1);
  assert.equal(job!.progress.failed, 1);
  assert.match(job!.reason!, /b\.txt is bad/);
});

interface Datum {
  id: string;
  state: string;
  message?: string;
  tries: number;
  inputs: { path: string }[];
}

interface LogLine {
  datum: string;
  stream: string;
  line: string;
}

/** A store with repo `data` holding `files` (name → content) and the batching stage. */
async function batchStore(files: Record<string, string>) {
  const s = await tempStore();
  await tuskOk(["create", "repo", "data"], { store: s.store });
  for (const [name, text] of Object.entries(files)) {
    await tuskOk(["put", "file", `data@master:/${name}`, "-f", "-"], {
      store: s.store,
      stdin: text,
    });
  }
  await Deno.copyFile(`${STAGES}/batch_upper.ts`, `${s.path}/batch_upper.ts`);
  return s;
}

/** The datums of the one job of the store, by the input file they read. */
async function datumsByFile(store: string): Promise<{ job: Job; by: Map<string, Datum> }> {
  const [job] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
  const full = JSON.parse((await tuskOk(["inspect", "job", job!.id, "--json"], { store })).stdout);
  const by = new Map<string, Datum>();
  for (const d of full.datums as Datum[]) by.set(d.inputs[0]!.path, d);
  return { job: job!, by };
}

for (const mode of ["bwrap", "deno"] as const) {
  Deno.test(`[${mode}] a batched datum past its datumTimeout fails alone; the others succeed`, async () => {
    await using s = await batchStore({ "a.txt": "a", "b.txt": "loop", "c.txt": "c" });
    const env = { TUSK_SANDBOX: mode };
    await Deno.writeTextFile(
      `${s.path}/loop.json`,
      JSON.stringify({
        pipeline: { name: "batched" },
        transform: { cmd: ["deno", "run", "batch_upper.ts", "/pfs/data/", "/pfs/out/"] },
        datumBatching: true,
        datumTimeout: "2s",
        // Without a per-datum clock the looping batch would run until this.
        jobTimeout: "60s",
        datumTries: 1,
        parallelismSpec: { constant: 1 },
        input: { pfs: { repo: "data", glob: "/*" } },
      }),
    );
    await tuskOk(["create", "pipeline", "-f", `${s.path}/loop.json`], { store: s.store, env });
    const { job, by } = await datumsByFile(s.store);
    assert.equal(job.state, "FAILURE");
    assert.equal(by.get("/b.txt")!.state, "FAILED");
    assert.equal(by.get("/b.txt")!.tries, 1);
    assert.match(by.get("/b.txt")!.message!, /^Stage exceeded its datum timeout of 2 s/);
    assert.equal(by.get("/a.txt")!.state, "SUCCESS", by.get("/a.txt")!.message);
    assert.equal(by.get("/c.txt")!.state, "SUCCESS", by.get("/c.txt")!.message);
    assert.match(job.reason!, /1 datum\(s\) failed/);
  });
}

Deno.test("datumTimeout applies to each batched datum, not to the whole batch", async () => {
  await using s = await batchStore({ "a.txt": "slow", "b.txt": "slow", "c.txt": "slow" });
  await Deno.writeTextFile(
    `${s.path}/slow.json`,
    JSON.stringify({
      pipeline: { name: "batched" },
      transform: { cmd: ["deno", "run", "batch_upper.ts", "/pfs/data/", "/pfs/out/"] },
      datumBatching: true,
      // Each datum takes 1.2 s: the batch takes longer than this, no datum does.
      datumTimeout: "3s",
      datumTries: 1,
      parallelismSpec: { constant: 1 },
      input: { pfs: { repo: "data", glob: "/*" } },
    }),
  );
  await tuskOk(["create", "pipeline", "-f", `${s.path}/slow.json`], { store: s.store });
  const { job, by } = await datumsByFile(s.store);
  assert.equal(job.state, "SUCCESS", job.reason);
  for (const d of by.values()) assert.equal(d.tries, 1);
});

Deno.test("logs of a batched job show each datum's own output, and --json names the datum", async () => {
  await using s = await batchStore({ "a.txt": "a", "b.txt": "b" });
  const store = s.store;
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/batch_upper.json`], { store });
  const { job, by } = await datumsByFile(store);
  assert.equal(job.state, "SUCCESS", job.reason);
  const all = (await tuskOk(["logs", "--pipeline", "batched"], { store })).stdout;
  for (const name of ["a.txt", "b.txt"]) {
    assert.match(all, new RegExp(`^upper: reading ${name}$`, "m"));
    assert.match(all, new RegExp(`^upper: note on ${name}$`, "m"));
  }
  assert.doesNotMatch(all, /"status"/, "answers are not logs");
  // stdout is the answers' own stream, so its lines go to their datum exactly.
  const a = by.get("/a.txt")!.id;
  const one = (await tuskOk(["logs", "--job", job.id, "--datum", a], { store })).stdout;
  assert.match(one, /^upper: reading a\.txt$/m);
  assert.doesNotMatch(one, /reading b\.txt/);
  const json = (await tuskOk(["logs", "--job", job.id, "--json"], { store })).stdout;
  const lines = json.trim().split("\n").map((l) => JSON.parse(l) as LogLine);
  assert.deepEqual(
    lines.filter((l) => l.stream === "stdout").map((l) => [l.datum, l.line]).sort(),
    [[a, "upper: reading a.txt"], [by.get("/b.txt")!.id, "upper: reading b.txt"]].sort(),
  );
  assert.equal(lines.filter((l) => l.stream === "stderr").length, 2);
});

Deno.test("a batch stage that reads every request before answering any still works", async () => {
  await using s = await batchStore({ "a.txt": "a", "b.txt": "b" });
  await Deno.writeTextFile(
    `${s.path}/slurp.json`,
    JSON.stringify({
      pipeline: { name: "batched" },
      transform: { cmd: ["deno", "run", "batch_upper.ts", "/pfs/data/", "/pfs/out/", "slurp"] },
      datumBatching: true,
      datumTimeout: "20s",
      datumTries: 1,
      input: { pfs: { repo: "data", glob: "/*" } },
    }),
  );
  await tuskOk(["create", "pipeline", "-f", `${s.path}/slurp.json`], { store: s.store });
  const { job } = await datumsByFile(s.store);
  assert.equal(job.state, "SUCCESS", job.reason);
  assert.equal(job.progress.processed, 2);
});

Deno.test("acknowledgements a batch prints after 1 MiB of stdout still count", async () => {
  await using s = await batchStore({ "a.txt": "flood", "b.txt": "b", "c.txt": "c" });
  const store = s.store;
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/batch_upper.json`], { store });
  const { job, by } = await datumsByFile(store);
  assert.equal(job.state, "SUCCESS", job.reason);
  assert.equal(job.progress.processed, 3);
  for (const d of by.values()) assert.equal(d.tries, 1);
  for (const n of ["a", "b", "c"]) {
    const r = await tuskOk(["get", "file", `batched@master:/${n}.txt`], { store });
    assert.equal(r.stdout, n === "a" ? "FLOOD" : n.toUpperCase());
  }
});

Deno.test("a batch whose out folder is refused keeps no datum's outputs: each is run again alone", async () => {
  await using s = await batchStore({ "a.txt": "a", "b.txt": "ctrl" });
  await Deno.writeTextFile(
    `${s.path}/ctrl.json`,
    JSON.stringify({
      pipeline: { name: "batched" },
      transform: { cmd: ["deno", "run", "batch_upper.ts", "/pfs/data/", "/pfs/out/"] },
      datumBatching: true,
      datumTries: 2,
      parallelismSpec: { constant: 1 },
      input: { pfs: { repo: "data", glob: "/*" } },
    }),
  );
  await tuskOk(["create", "pipeline", "-f", `${s.path}/ctrl.json`], { store: s.store });
  const { job, by } = await datumsByFile(s.store);
  assert.equal(job.state, "FAILURE");
  assert.equal(by.get("/a.txt")!.state, "SUCCESS", by.get("/a.txt")!.message);
  assert.equal(by.get("/a.txt")!.tries, 2);
  assert.equal(by.get("/b.txt")!.state, "FAILED");
  assert.match(by.get("/b.txt")!.message!, /control character/);
});

/** Spec `<dir>/protocol.json` of the protocol-only batch stage, with `extra` fields. */
async function protocolOnly(dir: string, extra: Record<string, unknown> = {}): Promise<string> {
  await Deno.copyFile(`${STAGES}/protocol_only.ts`, `${dir}/protocol_only.ts`);
  const file = `${dir}/protocol.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      pipeline: { name: "batched" },
      transform: { cmd: ["deno", "run", "protocol_only.ts", "/pfs/data/", "/pfs/out/"] },
      datumBatching: true,
      input: { pfs: { repo: "data", glob: "/*" } },
      ...extra,
    }),
  );
  return file;
}

/** The stage's log lines of datum `id` of `job`, one per run of it. */
async function runsOf(store: string, job: string, id: string): Promise<string[]> {
  const r = await tuskOk(["logs", "--job", job, "--datum", id], { store });
  return r.stdout.split("\n").filter((l) => l.startsWith("protocol: datum"));
}

Deno.test("a datum a protocol-only batch stage answers with an error is retried as a batch of one, and fails", async () => {
  await using s = await batchStore({ "a.txt": "a", "b.txt": "bad" });
  const spec = await protocolOnly(s.path);
  await tuskOk(["create", "pipeline", "-f", spec], { store: s.store });
  const { job, by } = await datumsByFile(s.store);
  assert.equal(job.state, "FAILURE", "no datum ends SUCCESS without its run");
  assert.equal(by.get("/a.txt")!.state, "SUCCESS");
  const b = by.get("/b.txt")!;
  assert.equal(b.state, "FAILED");
  assert.equal(b.tries, 3);
  assert.match(b.message!, /b\.txt is bad/);
  // Every try went through the protocol: the stage saw the datum each time.
  assert.equal((await runsOf(s.store, job.id, b.id)).length, 3);
  const files = await tuskOk(["list", "file", "batched@master:/"], { store: s.store }).catch(
    () => null,
  );
  assert.equal(files, null, "a failed job commits nothing");
});

Deno.test("datums a crashed batch never reached are retried as batches of one and keep their outputs", async () => {
  await using s = await batchStore({
    "1.txt": "one",
    "2.txt": "crash",
    "3.txt": "three",
    "4.txt": "four",
    "5.txt": "five",
  });
  const spec = await protocolOnly(s.path, { parallelismSpec: { constant: 1 }, datumTries: 2 });
  await tuskOk(["create", "pipeline", "-f", spec], { store: s.store });
  const { job, by } = await datumsByFile(s.store);
  assert.equal(job.state, "FAILURE");
  assert.equal(by.get("/2.txt")!.state, "FAILED");
  assert.equal(by.get("/2.txt")!.tries, 2);
  for (const n of ["1", "3", "4", "5"]) {
    const d = by.get(`/${n}.txt`)!;
    assert.equal(d.state, "SUCCESS", `${n}.txt: ${d.message}`);
    assert.equal(d.tries, 1, `${n}.txt used one try`);
    assert.equal((await runsOf(s.store, job.id, d.id)).length, 1, `${n}.txt ran once`);
  }
  // Fix the crashing file: the next job reuses the four and runs the fifth.
  await tuskOk(["put", "file", "data@master:/2.txt", "-f", "-"], { store: s.store, stdin: "two" });
  for (const [n, text] of [["1", "ONE"], ["2", "TWO"], ["3", "THREE"], ["5", "FIVE"]]) {
    const r = await tuskOk(["get", "file", `batched@master:/${n}.txt`], { store: s.store });
    assert.equal(r.stdout, text);
  }
});
