/**
 * `tusk gc` while a job runs frees nothing the job wrote: the job finishes, its datums'
 * outputs and logs are all there and `tusk verify` passes. The race is made deterministic by
 * a stage that holds one datum until the test lets it go, and gc runs in that window, after
 * the job's other batch has written its outputs and logs. A datum whose cached output is
 * gone (freed, or damaged) is a cache miss: it runs again, and the job succeeds.
 */
import assert from "node:assert/strict";
import { Scheduler, Store } from "../../lib/mod.ts";
import { EventBus } from "../../lib/scheduler/events.ts";
import { encodeTree } from "../../lib/store/codec.ts";
import { ROOT, tempStore, tusk, tuskOk } from "../_helpers.ts";
import { sleep, tuskCommand } from "./_util.ts";

const GATE = `${ROOT}/tests/fixtures/stages/gate.json`;
const SCRATCHY = `${ROOT}/tests/fixtures/stages/scratchy.json`;
const UPPER = `${ROOT}/tests/fixtures/stages/upper.json`;

/** The first folder under `dir` holding a file named `name`, or null. */
function findFile(dir: string, name: string): string | null {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return null;
  }
  for (const e of entries) {
    if (e.isFile && e.name === name) return dir;
    if (e.isDirectory) {
      const found = findFile(`${dir}/${e.name}`, name);
      if (found) return found;
    }
  }
  return null;
}

/** Lines of a pipeline's datum index so far. */
function indexed(store: string, pipeline: string): number {
  try {
    return Deno.readTextFileSync(`${store}/jobs/${pipeline}/datums.jsonl`).split("\n")
      .filter(Boolean).length;
  } catch {
    return 0;
  }
}

Deno.test("gc while a job runs frees none of what the job wrote: it succeeds and verify passes", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await Deno.writeTextFile(`${s.path}/a.txt`, "alpha\n");
  await Deno.writeTextFile(`${s.path}/b.txt`, "wait\n");
  await tuskOk([
    "put",
    "file",
    "data@master:/",
    "-r",
    "-f",
    `${s.path}/a.txt`,
    "-f",
    `${s.path}/b.txt`,
  ], {
    store,
  });
  const job = tuskCommand(["create", "pipeline", "-f", GATE], store).spawn();
  const output = job.output();
  let released = false;
  try {
    // The window: one batch holds its datum, the other has written its output and logs.
    let gate: string | null = null;
    for (let i = 0; i < 1200 && (gate === null || indexed(store, "gate") < 1); i++) {
      await sleep(50);
      gate = findFile(`${store}/work`, "waiting");
    }
    assert.ok(gate, "the stage holds a datum");
    assert.equal(indexed(store, "gate"), 1, "the other datum is done");
    const gc = await tusk(["gc", "--json"], { store });
    assert.equal(gc.code, 0, gc.stderr);
    // What the done batch wrote is kept, not freed: by the running job's rule while nothing
    // names it yet (its logs), or by the job's record once its progress is saved.
    const freed = JSON.parse(gc.stdout) as { objects: number; kept: number };
    assert.equal(freed.objects, 0, gc.stdout);
    await Deno.writeTextFile(`${gate}/go`, "");
    released = true;
    const r = await output;
    const dec = new TextDecoder();
    assert.equal(r.code, 0, dec.decode(r.stderr) + dec.decode(r.stdout));
  } finally {
    if (!released) {
      try {
        job.kill("SIGKILL");
      } catch { /* gone */ }
      await output.catch(() => {});
    }
  }
  const [rec] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as {
    id: string;
    state: string;
  }[];
  assert.equal(rec?.state, "SUCCESS");
  const verify = await tusk(["verify"], { store });
  assert.equal(verify.code, 0, verify.stderr);
  const logs = await tusk(["logs", "--job", rec!.id], { store });
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /gate: a\.txt/);
  assert.match(logs.stdout, /gate: b\.txt/);
  const files = await tuskOk(["get", "file", "gate@master:/a.txt"], { store });
  assert.equal(files.stdout, "ALPHA\n");
});

Deno.test("gc racing a job frees no datum output the job has stored, even without the running-job rule", async () => {
  // The scheduler runs here without the lease, so gc's rule for what a running job wrote is
  // off: only the datum index can keep each output, and it must name it before the ingest
  // lock is let go. Each datum's folder (5,000 scratch files) takes a while to remove after
  // its outputs are stored: a gc running then finds them, as one racing a real job may.
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  for (const name of ["a", "b", "c"]) {
    await tuskOk(["put", "file", `data@master:/${name}.txt`, "-f", "-"], { store, stdin: name });
  }
  await tuskOk(["create", "pipeline", "-f", SCRATCHY, "--no-wait"], { store });
  const opened = await Store.open(store);
  const running = new Scheduler(opened, { sandbox: "deno", bus: new EventBus() }).runPending();
  let done = false;
  let gcs = 0;
  const gcFailures: string[] = [];
  const racing = (async () => {
    while (!done) {
      const gc = await tusk(["gc"], { store });
      if (gc.code !== 0) gcFailures.push(gc.stderr);
      gcs++;
    }
  })();
  let ran;
  try {
    ran = await running;
  } finally {
    done = true;
    await racing;
  }
  assert.ok(gcs > 0);
  assert.deepEqual(gcFailures, [], "no gc found an output named but gone");
  assert.equal(ran.length, 1);
  assert.equal(ran[0]!.state, "SUCCESS", ran[0]!.reason);
  for (const name of ["a", "b", "c"]) {
    const r = await tuskOk(["get", "file", `scratchy@master:/${name}.txt`], { store });
    assert.equal(r.stdout, name.toUpperCase());
  }
});

/** The datum index entries of `pipeline`. */
async function indexLines(store: string, pipeline: string): Promise<{ tree: string }[]> {
  return (await Deno.readTextFile(`${store}/jobs/${pipeline}/datums.jsonl`)).split("\n")
    .filter(Boolean).map((l) => JSON.parse(l));
}

Deno.test("a cached datum whose output tree is gone runs again: the next job succeeds with its output", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "a" });
  await tuskOk(["put", "file", "data@master:/b.txt", "-f", "-"], { store, stdin: "b" });
  await tuskOk(["create", "pipeline", "-f", UPPER], { store });
  // As if a gc had freed the output of datum "a.txt" while its index entry stayed: the entry
  // names a tree the store does not hold.
  const index = `${store}/jobs/upper/datums.jsonl`;
  const text = await Deno.readTextFile(index);
  const [first] = await indexLines(store, "upper");
  const gone = "f".repeat(64);
  await Deno.writeTextFile(index, text.replace(first!.tree, gone));
  const plan = await tuskOk(["plan", "upper", "--json"], { store });
  assert.match(plan.stdout, /no longer in the store/);

  await tuskOk(["put", "file", "data@master:/c.txt", "-f", "-"], { store, stdin: "c" });
  const [job] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as {
    state: string;
    reason?: string;
    progress: { processed: number; skipped: number };
  }[];
  assert.equal(job?.state, "SUCCESS", job?.reason);
  assert.deepEqual([job.progress.processed, job.progress.skipped], [2, 1]);
  for (const name of ["a", "b", "c"]) {
    const r = await tuskOk(["get", "file", `upper@master:/${name}.txt`], { store });
    assert.equal(r.stdout, name.toUpperCase());
  }
});

Deno.test("a cached datum whose output lacks a folder's tree runs again rather than failing the job", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "a" });
  await tuskOk(["create", "pipeline", "-f", UPPER], { store });
  // A root tree that the store holds, naming a folder whose tree it does not: the reused
  // output cannot be read whole, which only the merge finds.
  const opened = await Store.open(store);
  const missing = "e".repeat(64);
  const batch = opened.objects.batch();
  const root = await opened.withIngest(async () => {
    const hash = await batch.add(
      encodeTree([{ name: "sub", kind: "dir", hash: missing, size: 1 }]),
    );
    await batch.flush();
    return hash;
  });
  assert.ok(await opened.objects.has(root));
  const index = `${store}/jobs/upper/datums.jsonl`;
  const [first] = await indexLines(store, "upper");
  await Deno.writeTextFile(index, (await Deno.readTextFile(index)).replace(first!.tree, root));

  await tuskOk(["put", "file", "data@master:/b.txt", "-f", "-"], { store, stdin: "b" });
  const [job] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as {
    state: string;
    reason?: string;
    progress: { processed: number; skipped: number };
  }[];
  assert.equal(job?.state, "SUCCESS", job?.reason);
  assert.deepEqual([job.progress.processed, job.progress.skipped], [2, 0]);
  for (const name of ["a", "b"]) {
    const r = await tuskOk(["get", "file", `upper@master:/${name}.txt`], { store });
    assert.equal(r.stdout, name.toUpperCase());
  }
});
