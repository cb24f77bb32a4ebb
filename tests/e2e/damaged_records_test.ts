/**
 * One damaged job record through the real CLI: a command whose commit landed exits 0 and
 * warns; `list job`, `list pipeline`, `inspect pipeline` and `doctor` skip the record and
 * flag it, saying what to do; nothing else of the store is held up by it.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore } from "../_helpers.ts";
import { ok, tusk } from "./_cli.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  id: string;
  pipeline: string;
  state: string;
}

/**
 * A store with repo `data` and pipeline `upper`, two jobs of it run, and the newer job's
 * record emptied (as a torn write or a full disk leaves it). Returns both jobs' ids.
 */
async function withDamagedRecord() {
  const s = await tempStore();
  const o = { store: s.store };
  await ok(["create", "repo", "data"], o);
  await ok(["put", "file", "data@master:/a.txt", "-f", "-"], { ...o, stdin: "a\n" });
  await ok(["create", "pipeline", "-f", `${STAGES}/upper.json`], o);
  await ok(["put", "file", "data@master:/b.txt", "-f", "-"], { ...o, stdin: "b\n" });
  const [newer, older] = JSON.parse((await ok(["list", "job", "--json"], o)).stdout) as Job[];
  assert.ok(newer && older, "two jobs ran");
  await Deno.writeTextFile(`${s.store}/jobs/upper/${newer.id}.json`, "");
  return { s, o, newer, older, [Symbol.asyncDispose]: () => s[Symbol.asyncDispose]() };
}

/** The one warning about the damaged record: it names the job and says to remove the file. */
function assertWarns(stderr: string, job: Job): void {
  const lines = stderr.split("\n").filter((l) => l.includes(job.id));
  assert.ok(lines.length >= 1, `a warning names job ${job.id}: ${stderr}`);
  assert.match(lines[0]!, /^tusk: warning: /);
  assert.match(lines[0]!, /damaged/);
  assert.match(lines[0]!, new RegExp(`remove ".*/jobs/upper/${job.id}\\.json"`));
}

Deno.test("put file whose commit landed exits 0 and warns when a job record is damaged", async () => {
  await using d = await withDamagedRecord();
  const r = await tusk(["put", "file", "data@master:/c.txt", "-f", "-"], { ...d.o, stdin: "c\n" });
  assert.equal(r.code, 0, r.stderr);
  assertWarns(r.stderr, d.newer);
  assert.equal((await ok(["get", "file", "data@master:/c.txt"], d.o)).stdout, "c\n");
  // The record is skipped, not in the way: the pipeline itself ran its job on the commit.
  assert.equal((await ok(["get", "file", "upper@master:/c.txt"], d.o)).stdout, "C\n");
});

Deno.test("wait commit runs the jobs of a commit past a damaged record, and warns", async () => {
  await using d = await withDamagedRecord();
  await ok(["put", "file", "data@master:/c.txt", "-f", "-", "--no-wait"], { ...d.o, stdin: "c\n" });
  const r = await tusk(["wait", "commit", "data@master", "--json"], d.o);
  assert.equal(r.code, 0, r.stderr);
  assertWarns(r.stderr, d.newer);
  const [job] = JSON.parse(r.stdout) as Job[];
  assert.equal(job?.state, "SUCCESS");
  assert.equal((await ok(["get", "file", "upper@master:/c.txt"], d.o)).stdout, "C\n");
});

Deno.test("put-file (1.x, appends) whose commit landed exits 0, so a script does not append twice", async () => {
  await using d = await withDamagedRecord();
  const r = await tusk(["put-file", "data", "master", "/a.txt", "-f", "-"], {
    ...d.o,
    stdin: "more\n",
  });
  assert.equal(r.code, 0, r.stderr);
  assertWarns(r.stderr, d.newer);
  assert.equal((await ok(["get", "file", "data@master:/a.txt"], d.o)).stdout, "a\nmore\n");
});

Deno.test("list job lists the readable jobs and flags the damaged record", async () => {
  await using d = await withDamagedRecord();
  const r = await tusk(["list", "job"], d.o);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(d.older.id));
  assert.doesNotMatch(r.stdout, new RegExp(d.newer.id));
  assertWarns(r.stderr, d.newer);
  const json = await tusk(["list", "job", "--json"], d.o);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual((JSON.parse(json.stdout) as Job[]).map((j) => j.id), [d.older.id]);
  assertWarns(json.stderr, d.newer);
});

Deno.test("list job skips a job record that is a folder, naming it in a warning", async () => {
  await using d = await withDamagedRecord();
  const file = `${d.s.store}/jobs/upper/${d.newer.id}.json`;
  await Deno.remove(file);
  await Deno.mkdir(file);
  const r = await tusk(["list", "job", "--json"], d.o);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as Job[]).map((j) => j.id), [d.older.id]);
  assert.match(r.stderr, /^tusk: warning: /);
  assert.ok(r.stderr.includes(`"${file}"`), r.stderr);
});

Deno.test("list pipeline and inspect pipeline show the pipeline and flag the damaged record", async () => {
  await using d = await withDamagedRecord();
  const list = await tusk(["list", "pipeline"], d.o);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^upper +1 /m);
  assertWarns(list.stderr, d.newer);
  const inspect = await tusk(["inspect", "pipeline", "upper", "--json"], d.o);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.equal(JSON.parse(inspect.stdout).lastJob, d.older.id);
  assertWarns(inspect.stderr, d.newer);
});

Deno.test("doctor reports the damaged record as a problem with its remedy, and verifies the rest", async () => {
  await using d = await withDamagedRecord();
  const r = await tusk(["doctor", "--json"], d.o);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { health: string; problems: string[] };
  assert.equal(report.health, "ok");
  const problem = report.problems.find((p) => p.includes(d.newer.id));
  assert.ok(problem, `a problem names the record: ${report.problems}`);
  assert.match(problem, new RegExp(`remove ".*/jobs/upper/${d.newer.id}\\.json"`));
});

Deno.test("inspect job of the damaged record exits 1 saying which file to remove", async () => {
  await using d = await withDamagedRecord();
  const r = await tusk(["inspect", "job", d.newer.id], d.o);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`remove ".*/jobs/upper/${d.newer.id}\\.json"`));
});

Deno.test("removing the damaged record, as the warning says, leaves a store that runs and verifies", async () => {
  await using d = await withDamagedRecord();
  await Deno.remove(`${d.s.store}/jobs/upper/${d.newer.id}.json`);
  await ok(["put", "file", "data@master:/c.txt", "-f", "-"], { ...d.o, stdin: "c\n" });
  assert.equal((await ok(["get", "file", "upper@master:/c.txt"], d.o)).stdout, "C\n");
  await ok(["verify"], d.o);
});

/** A store with repos `a` and `b`, each with one commit, and `b`'s head commit object flipped. */
async function withDamagedCommit() {
  const s = await tempStore();
  const o = { store: s.store };
  for (const repo of ["a", "b"]) {
    await ok(["create", "repo", repo], o);
    await ok(["put", "file", `${repo}@master:/x.txt`, "-f", "-"], { ...o, stdin: `${repo}\n` });
  }
  const id = JSON.parse((await ok(["inspect", "commit", "b@master", "--json"], o)).stdout).id;
  const file = `${s.store}/objects/${id.slice(0, 2)}/${id.slice(2)}`;
  const bytes = await Deno.readFile(file);
  bytes[bytes.length >> 1]! ^= 1;
  await Deno.chmod(file, 0o644);
  await Deno.writeFile(file, bytes);
  return { s, o, id, [Symbol.asyncDispose]: () => s[Symbol.asyncDispose]() };
}

Deno.test("list repo with one damaged head commit lists every repo, marks that one and exits 1 naming it", async () => {
  await using d = await withDamagedCommit();
  const r = await tusk(["list", "repo"], d.o);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^a +.* 2 B$/m);
  assert.match(r.stdout, /^b +.* damaged$/m);
  const messages = r.stderr.split("\n").filter((l) => l.startsWith("tusk: "));
  assert.equal(messages.length, 1, r.stderr);
  assert.match(messages[0]!, /repo "b"/);
  assert.match(messages[0]!, new RegExp(d.id));
});

Deno.test("list repo --json with one damaged head commit gives every repo, that one with damaged and no size", async () => {
  await using d = await withDamagedCommit();
  const r = await tusk(["list", "repo", "--json"], d.o);
  assert.equal(r.code, 1, r.stderr);
  const repos = JSON.parse(r.stdout) as { name: string; size: number | null; damaged?: string }[];
  const by = new Map(repos.map((x) => [x.name, x]));
  assert.deepEqual([...by.keys()].sort(), ["a", "b"]);
  assert.equal(by.get("a")!.size, 2);
  assert.equal(by.get("a")!.damaged, undefined);
  assert.equal(by.get("b")!.size, null);
  assert.match(by.get("b")!.damaged ?? "", new RegExp(d.id));
  assert.match(r.stderr, /repo "b"/);
});

Deno.test("a job's datum log cut short: inspect job and verify exit 1 naming the record and its log", async () => {
  await using d = await withDamagedRecord();
  // The emptied record removed, as its warning says: the older job's log is the one damaged.
  await Deno.remove(`${d.s.store}/jobs/upper/${d.newer.id}.json`);
  await ok(["verify"], d.o);
  const log = `${d.s.store}/jobs/upper/${d.older.id}.datums`;
  await Deno.truncate(log, (await Deno.stat(log)).size - 3);
  const files = new RegExp(
    `remove ".*/jobs/upper/${d.older.id}\\.json" and ".*/jobs/upper/${d.older.id}\\.datums"`,
  );
  const inspect = await tusk(["inspect", "job", d.older.id], d.o);
  assert.equal(inspect.code, 1);
  assert.match(inspect.stderr, files);
  const verify = await tusk(["verify"], d.o);
  assert.equal(verify.code, 1);
  assert.match(verify.stdout + verify.stderr, files);
});
