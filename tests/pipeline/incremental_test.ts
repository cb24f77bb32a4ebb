/**
 * Pipelines end to end through the real CLI: jobs, incremental datums, output reuse,
 * cross inputs, code updates, reprocess, failures and the 2.x output-merge rule.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tusk, tuskOk } from "../_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  id: string;
  pipeline: string;
  state: string;
  progress: { total: number; processed: number; skipped: number; failed: number };
  outputCommit?: string;
  reason?: string;
}

async function jobs(store: string, pipeline?: string): Promise<Job[]> {
  const r = await tuskOk(["list", "job", "--json", ...(pipeline ? ["-p", pipeline] : [])], {
    store,
  });
  return JSON.parse(r.stdout) as Job[];
}

async function files(store: string, ref: string): Promise<Map<string, string>> {
  const r = await tuskOk(["list", "file", ref, "--json"], { store });
  return new Map(
    (JSON.parse(r.stdout) as { path: string; hash: string }[]).map((f) => [f.path, f.hash]),
  );
}

async function put(store: string, ref: string, content: string): Promise<void> {
  await tuskOk(["put", "file", ref, "-f", "-"], { store, stdin: content });
}

function progress(j: Job): string {
  return `${j.progress.processed} + ${j.progress.skipped} / ${j.progress.total}`;
}

Deno.test("a glob /* pipeline runs one datum per file, then only the new or changed ones", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "alpha\n");
  await put(store, "data@master:/b.txt", "beta\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  let list = await jobs(store, "upper");
  assert.equal(list.length, 1);
  assert.equal(list[0]!.state, "SUCCESS");
  assert.equal(progress(list[0]!), "2 + 0 / 2");
  const first = await files(store, "upper@master");
  assert.deepEqual([...first.keys()].sort(), ["/a.txt", "/b.txt"]);
  const got = await tuskOk(["get", "file", "upper@master:/a.txt"], { store });
  assert.equal(got.stdout, "ALPHA\n");

  await put(store, "data@master:/c.txt", "gamma\n");
  list = await jobs(store, "upper");
  assert.equal(list.length, 2);
  assert.equal(progress(list[0]!), "1 + 2 / 3");
  const second = await files(store, "upper@master");
  assert.equal(second.get("/a.txt"), first.get("/a.txt"));
  assert.equal(second.get("/b.txt"), first.get("/b.txt"));
  assert.ok(second.has("/c.txt"));

  await put(store, "data@master:/b.txt", "beta two\n");
  list = await jobs(store, "upper");
  assert.equal(list.length, 3);
  assert.equal(progress(list[0]!), "1 + 2 / 3");
  assert.equal(
    (await tuskOk(["get", "file", "upper@master:/b.txt"], { store })).stdout,
    "BETA TWO\n",
  );
});

Deno.test("list job prints pachctl's columns with progress as processed + skipped / total", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "alpha\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  const r = await tuskOk(["list", "job"], { store });
  const [header, row] = r.stdout.split("\n");
  assert.match(
    header!,
    /^ID\s+PIPELINE\s+OUTPUT COMMIT\s+STARTED\s+DURATION\s+RESTART\s+PROGRESS\s+STATE$/,
  );
  assert.match(
    row!,
    /^[0-9a-f]{32}\s+upper\s+upper@[0-9a-f]{32}\s+.+ ago\s+.+\s+0\s+1 \+ 0 \/ 1\s+success$/,
  );
});

Deno.test("in a cross with a / input, changing the / side re-runs every datum", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "repo", "model"], { store });
  await put(store, "data@master:/1.csv", "one\n");
  await put(store, "data@master:/2.csv", "two\n");
  await put(store, "model@master:/model.txt", "m1\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/cross.json`], { store });
  assert.equal(progress((await jobs(store, "paired"))[0]!), "2 + 0 / 2");
  assert.equal((await tuskOk(["get", "file", "paired@master:/2"], { store })).stdout, "m1:two\n");
  await put(store, "model@master:/model.txt", "m2\n");
  const list = await jobs(store, "paired");
  assert.equal(progress(list[0]!), "2 + 0 / 2");
  assert.equal((await tuskOk(["get", "file", "paired@master:/2"], { store })).stdout, "m2:two\n");
  await put(store, "data@master:/3.csv", "three\n");
  assert.equal(progress((await jobs(store, "paired"))[0]!), "1 + 2 / 3");
});

Deno.test("update pipeline with new stage code re-runs every datum; --reprocess re-runs with the same code", async () => {
  await using s = await tempStore();
  const store = s.store;
  const dir = `${s.path}/stage`;
  await Deno.mkdir(dir);
  await Deno.copyFile(`${STAGES}/upper.ts`, `${dir}/upper.ts`);
  await Deno.copyFile(`${STAGES}/upper.json`, `${dir}/upper.json`);
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "alpha\n");
  await put(store, "data@master:/b.txt", "beta\n");
  await tuskOk(["create", "pipeline", "-f", `${dir}/upper.json`], { store });
  // Editing the working copy changes nothing until update pipeline: jobs run the snapshot.
  const code = await Deno.readTextFile(`${dir}/upper.ts`);
  await Deno.writeTextFile(`${dir}/upper.ts`, code.replace("text.toUpperCase()", "`v2:${text}`"));
  await put(store, "data@master:/c.txt", "gamma\n");
  assert.equal((await tuskOk(["get", "file", "upper@master:/c.txt"], { store })).stdout, "GAMMA\n");
  await tuskOk(["update", "pipeline", "-f", `${dir}/upper.json`], { store });
  let list = await jobs(store, "upper");
  assert.equal(progress(list[0]!), "3 + 0 / 3");
  assert.equal(
    (await tuskOk(["get", "file", "upper@master:/a.txt"], { store })).stdout,
    "v2:alpha\n",
  );
  await tuskOk(["update", "pipeline", "-f", `${dir}/upper.json`, "--reprocess"], { store });
  list = await jobs(store, "upper");
  assert.equal(progress(list[0]!), "3 + 0 / 3");
  const insp = JSON.parse(
    (await tuskOk(["inspect", "pipeline", "upper", "--json"], { store })).stdout,
  );
  assert.equal(insp.version, 3);
});

Deno.test("a failed job leaves the output branch where it was and names the failing datum", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "good\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/fail_on_bad.json`], { store });
  const before = JSON.parse(
    (await tuskOk(["inspect", "commit", "strict@master", "--json"], { store })).stdout,
  );
  const r = await tusk(["put", "file", "data@master:/b.txt", "-f", "-"], { store, stdin: "bad\n" });
  assert.equal(r.code, 0);
  assert.match(r.stderr, /FAILURE/);
  const list = await jobs(store, "strict");
  assert.equal(list[0]!.state, "FAILURE");
  assert.equal(list[0]!.progress.failed, 1);
  assert.match(list[0]!.reason ?? "", /exit|code 3/i);
  const after = JSON.parse(
    (await tuskOk(["inspect", "commit", "strict@master", "--json"], { store })).stdout,
  );
  assert.equal(after.id, before.id);
  const logs = await tuskOk(["logs", "--pipeline", "strict"], { store });
  assert.match(logs.stdout, /refusing b\.txt: it contains "bad"/);
});

Deno.test("two datums writing one output path fail the job and name both datums", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "a\n");
  await put(store, "data@master:/b.txt", "b\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/same_path.json`], { store });
  const [job] = await jobs(store, "clash");
  assert.equal(job!.state, "FAILURE");
  const datums = JSON.parse(
    (await tuskOk(["list", "datum", job!.id, "--json"], { store })).stdout,
  ) as {
    id: string;
  }[];
  assert.equal(datums.length, 2);
  for (const d of datums) assert.ok(job!.reason!.includes(d.id), job!.reason);
  assert.match(job!.reason!, /result\.txt/);
});

Deno.test("tusk plan shows which datums would run or be skipped, and why", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "a\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  await tuskOk(["put", "file", "data@master:/b.txt", "-f", "-", "--no-wait"], {
    store,
    stdin: "b\n",
  });
  const plan = JSON.parse((await tuskOk(["plan", "upper", "--json"], { store })).stdout) as {
    rows: { action: string; why: string; inputs: string[] }[];
  };
  const byAction = plan.rows.map((r) => `${r.action}:${r.inputs[0]!.split(":").pop()}`).sort();
  assert.deepEqual(byAction, ["run:/b.txt", "skip:/a.txt"]);
  assert.match(plan.rows.find((r) => r.action === "skip")!.why, /succeeded in job/);
});

Deno.test("gc keeps datum outputs and logs of live pipelines, and frees a deleted pipeline's", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "alpha\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  const dry = JSON.parse((await tuskOk(["gc", "--dry-run", "--json"], { store })).stdout);
  assert.equal(dry.objects, 0);
  await tuskOk(["gc"], { store });
  await tuskOk(["verify"], { store });
  const logs = await tuskOk(["logs", "--pipeline", "upper"], { store });
  assert.match(logs.stdout, /upper a\.txt/);
  await tuskOk(["delete", "pipeline", "upper"], { store });
  const freed = JSON.parse((await tuskOk(["gc", "--json"], { store })).stdout);
  assert.ok(freed.objects > 0, "the deleted pipeline's outputs, logs and code are freed");
  await tuskOk(["verify"], { store });
  const again = await tusk(["list", "job", "-p", "upper"], { store });
  assert.equal(again.code, 1);
});
