/**
 * Finishing a job through the real CLI: datums whose outputs cannot be merged (a file and a
 * folder at one path, from new or reused output) fail the job naming both datums and both
 * paths; any other error while running or finishing a job fails it with the reason. Either
 * way the output branch stays where it was and every later command works: nothing is held up.
 */
import assert from "node:assert/strict";
import { ROOT, tempDir, tempStore, tusk, tuskOk } from "../_helpers.ts";
import { FINISH_TRIES } from "../../lib/scheduler/run_job.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  id: string;
  pipeline: string;
  state: string;
  restart: number;
  reason?: string;
  outputCommit?: string;
}

interface Datum {
  id: string;
  state: string;
  inputs: { path: string }[];
  outputTree?: string;
}

async function jobs(store: string, pipeline: string): Promise<Job[]> {
  const r = await tuskOk(["list", "job", "-p", pipeline, "--json"], { store });
  return JSON.parse(r.stdout) as Job[];
}

async function datums(store: string, job: string): Promise<Map<string, Datum>> {
  const r = await tuskOk(["list", "datum", job, "--json"], { store });
  return new Map((JSON.parse(r.stdout) as Datum[]).map((d) => [d.inputs[0]!.path, d]));
}

async function commits(store: string, ref: string): Promise<string[]> {
  const r = await tuskOk(["list", "commit", ref, "--json"], { store });
  return (JSON.parse(r.stdout) as { id: string }[]).map((c) => c.id);
}

async function put(store: string, ref: string, content: string): Promise<void> {
  const r = await tusk(["put", "file", ref, "-f", "-"], { store, stdin: content });
  assert.equal(r.code, 0, `put file ${ref} exits 0 whatever its jobs do:\n${r.stderr}`);
}

/** Another pipeline is created, runs and succeeds: the store is not held up. */
async function assertStoreUsable(store: string): Promise<void> {
  const r = await tusk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await jobs(store, "upper"))[0]?.state, "SUCCESS");
  await tuskOk(["verify"], { store });
}

Deno.test("datums writing a file and a folder at one path fail the job naming both datums and paths", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "a\n");
  await put(store, "data@master:/b.txt", "b\n");
  const r = await tusk(["create", "pipeline", "-f", `${STAGES}/file_or_folder.json`], { store });
  assert.equal(r.code, 0, r.stderr);
  const [job] = await jobs(store, "shape");
  assert.equal(job?.state, "FAILURE");
  const ds = await datums(store, job.id);
  const a = ds.get("/a.txt")!.id;
  const b = ds.get("/b.txt")!.id;
  const reason = job.reason ?? "";
  for (const part of [a, b, `"/x"`, `"/x/b.txt"`]) assert.ok(reason.includes(part), reason);
  assert.deepEqual(await commits(store, "shape@master"), [], "the output branch did not move");
  await put(store, "data@master:/c.txt", "c\n");
  await assertStoreUsable(store);
});

Deno.test("a skipped datum's reused file conflicting with a new datum's folder fails the job", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "a\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/file_or_folder.json`], { store });
  const [first] = await jobs(store, "shape");
  assert.equal(first?.state, "SUCCESS");
  await put(store, "data@master:/b.txt", "b\n");
  const [second] = await jobs(store, "shape");
  assert.notEqual(second!.id, first.id);
  assert.equal(second!.state, "FAILURE");
  const ds = await datums(store, second!.id);
  assert.equal(ds.get("/a.txt")!.state, "SKIPPED");
  const reason = second!.reason ?? "";
  for (const part of [ds.get("/a.txt")!.id, ds.get("/b.txt")!.id, `"/x"`, `"/x/b.txt"`]) {
    assert.ok(reason.includes(part), reason);
  }
  assert.deepEqual(await commits(store, "shape@master"), [first.outputCommit]);
  await assertStoreUsable(store);
});

Deno.test("a job an earlier run left FINISHING on a conflict is resumed once and ends failed", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "a\n");
  await put(store, "data@master:/b.txt", "b\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/file_or_folder.json`], { store });
  const [job] = await jobs(store, "shape");
  // What a crash during the merge leaves (and what a wedged store held): a FINISHING job.
  const file = `${store}/jobs/shape/${job!.id}.json`;
  const rec = JSON.parse(await Deno.readTextFile(file));
  rec.state = "FINISHING";
  delete rec.reason;
  delete rec.finished;
  await Deno.writeTextFile(file, JSON.stringify(rec));
  await assertStoreUsable(store);
  const [after] = await jobs(store, "shape");
  assert.equal(after!.id, job!.id);
  assert.equal(after!.state, "FAILURE");
  assert.equal(after!.restart, 1);
  assert.match(after!.reason ?? "", /both a file and a folder/);
  await put(store, "data@master:/b.txt", "b2\n");
  assert.equal((await jobs(store, "shape")).filter((j) => j.id === job!.id)[0]!.restart, 1);
});

Deno.test("a job whose finishing was interrupted FINISH_TRIES times ends failed instead of retrying", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "a\n");
  await put(store, "data@master:/b.txt", "b\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/file_or_folder.json`], { store });
  const [job] = await jobs(store, "shape");
  // What FINISH_TRIES crashes during the merge leave: the job FINISHING, each try noted.
  const dir = `${store}/jobs/shape`;
  const rec = JSON.parse(await Deno.readTextFile(`${dir}/${job!.id}.json`));
  rec.state = "FINISHING";
  delete rec.reason;
  await Deno.writeTextFile(`${dir}/${job!.id}.json`, JSON.stringify(rec));
  await Deno.writeTextFile(`${dir}/${job!.id}.attempts`, "finish\n".repeat(FINISH_TRIES));
  await assertStoreUsable(store);
  const [after] = await jobs(store, "shape");
  assert.equal(after!.state, "FAILURE");
  assert.match(after!.reason ?? "", new RegExp(`interrupted ${FINISH_TRIES} times`));
});

Deno.test("a reused output missing a file's object runs its datum again rather than committing without it", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "alpha\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  const [first] = await jobs(store, "upper");
  // The object of the datum's one output file is lost (a hand-made cleanup); its tree stays.
  const [file] = JSON.parse(
    (await tuskOk(["list", "file", "upper@master:/", "--json"], { store })).stdout,
  ) as { hash: string }[];
  const blob = file!.hash;
  await Deno.remove(`${store}/objects/${blob.slice(0, 2)}/${blob.slice(2)}`);
  await put(store, "data@master:/b.txt", "beta\n");
  const [second] = await jobs(store, "upper");
  assert.notEqual(second!.id, first!.id);
  assert.equal(second!.state, "SUCCESS", second!.reason);
  assert.equal((await datums(store, second!.id)).get("/a.txt")!.state, "SUCCESS", "it ran again");
  assert.equal((await tuskOk(["get", "file", "upper@master:/a.txt"], { store })).stdout, "ALPHA\n");
  await tuskOk(["verify"], { store });
});

Deno.test("any other error while finishing (a reused output is damaged) fails the job with the reason", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "alpha\n");
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  const [first] = await jobs(store, "upper");
  assert.equal(first?.state, "SUCCESS");
  // The datum's output tree is damaged (a failing disk): the next job reuses it for the
  // skipped datum and cannot read it while merging. (A missing one is run again instead.)
  const tree = (await datums(store, first.id)).get("/a.txt")!.outputTree!;
  const file = `${store}/objects/${tree.slice(0, 2)}/${tree.slice(2)}`;
  const bytes = await Deno.readFile(file);
  bytes[bytes.length >> 1]! ^= 1;
  await Deno.chmod(file, 0o644);
  await Deno.writeFile(file, bytes);
  await put(store, "data@master:/b.txt", "beta\n");
  const [second] = await jobs(store, "upper");
  assert.notEqual(second!.id, first.id);
  assert.equal(second!.state, "FAILURE");
  assert.match(second!.reason ?? "", /^Job could not finish: /);
  assert.ok(second!.reason!.includes(tree), second!.reason);
  assert.deepEqual(await commits(store, "upper@master"), [first.outputCommit]);
  // Another pipeline (whose outputs differ from the damaged tree) still runs.
  const other = await tusk(["create", "pipeline", "-f", `${STAGES}/slow.json`], { store });
  assert.equal(other.code, 0, other.stderr);
  assert.equal((await jobs(store, "slow"))[0]?.state, "SUCCESS");
});

Deno.test("an error while running a datum (an input path too long for the host) fails the job with the reason", async () => {
  await using dir = await tempDir();
  // A store in a folder 1.5 KiB deep: a datum's workspace in it has less room than the 1 KiB
  // the store leaves beside its longest paths.
  const deep = dir.path + `/${"d".repeat(250)}`.repeat(6);
  await Deno.mkdir(deep, { recursive: true });
  const s = { path: dir.path, store: `${deep}/.tusk` };
  const store = s.store;
  await tuskOk(["init"], { store });
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/a.txt", "a\n");
  // 11 names of 250 bytes: a valid path in the store, past PATH_MAX in the workspace.
  const long = "/deep" + `/${"n".repeat(250)}`.repeat(11) + "/f.txt";
  await put(store, `data@master:${long}`, "x\n");
  const r = await tusk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  assert.equal(r.code, 0, r.stderr);
  const [job] = await jobs(store, "upper");
  assert.equal(job?.state, "FAILURE");
  assert.match(
    job.reason ?? "",
    /^Job could not finish: Input "data" holds "\/deep\/n+…n+\/f\.txt"/,
  );
  assert.match(job.reason ?? "", /too long to lay out on this host/);
  // The cause is the store's deep folder: the reason says so, and what to do.
  assert.ok(job.reason!.includes(`store's own folder path is ${store.length} bytes`), job.reason);
  assert.match(job.reason ?? "", /move the store to a shorter path$/);
  assert.deepEqual(await commits(store, "upper@master"), []);
  // A pipeline on another repo is created and runs as ever.
  await tuskOk(["create", "repo", "side"], { store });
  await put(store, "side@master:/s.txt", "s\n");
  await Deno.copyFile(`${STAGES}/upper.ts`, `${s.path}/upper.ts`);
  const spec = JSON.parse(await Deno.readTextFile(`${STAGES}/upper.json`));
  spec.pipeline.name = "side_upper";
  spec.input.pfs.repo = "side";
  spec.transform.cmd[3] = "/pfs/side/";
  await Deno.writeTextFile(`${s.path}/side.json`, JSON.stringify(spec));
  const other = await tusk(["create", "pipeline", "-f", `${s.path}/side.json`], { store });
  assert.equal(other.code, 0, other.stderr);
  assert.equal((await jobs(store, "side_upper"))[0]?.state, "SUCCESS");
});
