/**
 * The job index after a crash: a process saving new jobs (appending to the index, and
 * merging older ids in) is killed with SIGKILL at random moments; after each kill, listings
 * and prefixes are exactly what the job records on disk say, `verify` passes, and the next
 * writer carries on.
 */
import assert from "node:assert/strict";
import { verify } from "../../lib/commands/integrity.ts";
import { JOB_INDEX_LINE, JobIndex } from "../../lib/pipeline/job_index.ts";
import { JobStore } from "../../lib/pipeline/jobs.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir, tusk, TUSK_PERMS } from "../_helpers.ts";
import { fixture } from "./_util.ts";

/** Start the saving child with ids from `from`; resolves once it saved its first job. */
async function killMidWrite(store: string, from: number, afterMs: number): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, fixture("save_jobs.ts"), store, String(from)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assert.match(new TextDecoder().decode(value), /ready/);
  await new Promise((r) => setTimeout(r, afterMs));
  child.kill("SIGKILL");
  reader.releaseLock();
  await child.stdout.cancel();
  assert.equal((await child.status).signal, "SIGKILL");
}

/** What the records on disk say: every job id of `p`, newest first. */
async function truth(store: Store, p: string): Promise<string[]> {
  return (await new JobIndex(store.layout, p).records()).sort().reverse();
}

async function checkListings(root: string): Promise<number> {
  const store = await Store.open(root);
  const jobs = new JobStore(store);
  const a = await truth(store, "a");
  const b = await truth(store, "b");
  assert.deepEqual((await jobs.list({ pipeline: "a" })).map((j) => j.id), a);
  assert.deepEqual((await jobs.list({ pipeline: "b" })).map((j) => j.id), b);
  const all = [...a, ...b].sort().reverse();
  assert.deepEqual((await jobs.list({ limit: 20 })).map((j) => j.id), all.slice(0, 20));
  assert.equal((await jobs.load(all[0]!.slice(0, 24))).id, all[0]);
  // An index holds whole lines but for one torn last line, and names every record.
  const size = (await Deno.stat(store.layout.jobIndex("a"))).size;
  assert.ok(Math.floor(size / JOB_INDEX_LINE) >= a.length);
  await verify(store);
  return all.length;
}

Deno.test("a process killed while saving new jobs leaves listings, prefixes and verify right", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/.tusk`;
  await Store.init(root);
  let seen = 0;
  for (const [i, ms] of [30, 75, 120, 10, 200].entries()) {
    await killMidWrite(root, 1_000_000 + i * 100_000, ms);
    const n = await checkListings(root);
    assert.ok(n > seen, `round ${i}: the child saved jobs (${n} after ${seen})`);
    seen = n;
  }
});

Deno.test("a process killed while merging older jobs into the index leaves listings right", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/.tusk`;
  await Store.init(root);
  await killMidWrite(root, 5_000_000, 50);
  let seen = await checkListings(root);
  // Ids older than the index's newest: each save merges and rewrites the index.
  for (const [i, ms] of [40, 90, 15].entries()) {
    await killMidWrite(root, 1 + i * 1_000_000, ms);
    const n = await checkListings(root);
    assert.ok(n > seen, `round ${i}: the child saved jobs (${n} after ${seen})`);
    seen = n;
  }
  const r = await tusk(["list", "job", "-n", "3"], { store: root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, 4);
});
