/**
 * `list job` without `-n` prints as it reads, a piece of rows at a time: the same rows, in
 * the same order, as `-n` gives them, and the same JSON. `verify` names a job record the job
 * index lacks, and the listing is right again once the index is removed (rebuilt).
 */
import assert from "node:assert/strict";
import { type JobRecord, JobStore } from "../../lib/pipeline/jobs.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir, tusk } from "../_helpers.ts";

function record(p: string, n: number): JobRecord {
  return {
    id: n.toString(16).padStart(12, "0") + "f".repeat(20),
    pipeline: p,
    version: 1,
    specHash: "0".repeat(64),
    codeHash: "0".repeat(64),
    inputs: [],
    trigger: "1".repeat(64),
    state: n % 7 === 0 ? "FAILURE" : "SUCCESS",
    created: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    restart: 0,
    progress: { total: 2, processed: 2, skipped: 0, failed: 0, recovered: 0 },
    datums: [],
  };
}

const JOBS = 2500;

async function storeWithJobs(dir: string): Promise<Store> {
  const store = await Store.init(`${dir}/.tusk`);
  const jobs = new JobStore(store);
  for (let n = 1; n <= JOBS; n++) await jobs.save(record(n % 3 ? "train" : "infer", n));
  return store;
}

Deno.test("list job without -n streams the rows -n gives, in order, table and JSON alike", async () => {
  await using dir = await tempDir();
  const store = await storeWithJobs(dir.path);
  const all = await tusk(["list", "job"], { store: store.root });
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trimEnd().split("\n");
  assert.equal(lines.length, JOBS + 1);
  const ids = lines.slice(1).map((l) => l.split(/\s+/)[0]);
  const want = Array.from({ length: JOBS }, (_, i) => record("x", JOBS - i).id);
  assert.deepEqual(ids, want);
  // The first piece is laid out exactly as -n lays it out.
  const first = await tusk(["list", "job", "-n", "1000"], { store: store.root });
  assert.equal(lines.slice(0, 1001).join("\n") + "\n", first.stdout);

  const json = await tusk(["list", "job", "--json"], { store: store.root });
  const limited = await tusk(["list", "job", "--json", "-n", String(JOBS)], { store: store.root });
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.stdout, limited.stdout);
  assert.equal((JSON.parse(json.stdout) as unknown[]).length, JOBS);
});

Deno.test("list job without -n on a store with no jobs prints the header, and [] with --json", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const r = await tusk(["list", "job"], { store: store.root });
  assert.equal(r.stdout.split("\n")[0]!.split(/\s+/)[0], "ID");
  assert.equal(r.stdout.trimEnd().split("\n").length, 1);
  assert.equal((await tusk(["list", "job", "--json"], { store: store.root })).stdout, "[]\n");
});

Deno.test("verify names a job record the job index lacks; removing the index rebuilds it", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const jobs = new JobStore(store);
  for (let n = 1; n <= 3; n++) await jobs.save(record("train", n));
  const index = store.layout.jobIndex("train");
  const kept = (await Deno.readTextFile(index)).split("\n").filter((_, i) => i !== 1).join("\n");
  await Deno.writeTextFile(index, kept);
  const v = await tusk(["verify"], { store: store.root });
  assert.equal(v.code, 1, v.stderr);
  assert.ok(v.stderr.includes(index), v.stderr);
  assert.ok(v.stderr.includes(record("x", 2).id), v.stderr);
  await Deno.remove(index);
  const r = await tusk(["list", "job", "--json"], { store: store.root });
  assert.deepEqual(
    (JSON.parse(r.stdout) as JobRecord[]).map((j) => j.id),
    [3, 2, 1].map((n) => record("x", n).id),
  );
  assert.equal((await tusk(["verify"], { store: store.root })).code, 0);
});
