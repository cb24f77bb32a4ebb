/**
 * pachctl 1.x's hyphenated grammar: every 1.x command whose 2.x form tusk has gives what the
 * 2.x form gives (compared through `--json` where there is one), `put-file` appends unless
 * `-o` is given as pachctl 1.x did, and a 1.x command tusk lacks says so by name.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore } from "../_helpers.ts";
import { assertFails, ok, rows, tusk } from "./_cli.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface JobJson {
  id: string;
  pipeline: string;
  state: string;
  version: number;
  datums: { id: string }[];
}

/** A store with repo `data` (a.txt, then b.txt) and the `upper` pipeline over it. */
async function fixture() {
  const s = await tempStore();
  const opts = { store: s.store, cwd: s.path, initCwd: s.path };
  await Deno.copyFile(`${STAGES}/upper.ts`, `${s.path}/upper.ts`);
  await Deno.copyFile(`${STAGES}/upper.json`, `${s.path}/upper.json`);
  await ok(["create", "repo", "data"], opts);
  await ok(["create", "pipeline", "-f", "upper.json"], opts);
  await ok(["put", "file", "data@master:/a.txt", "-f", "-"], { ...opts, stdin: "alpha\n" });
  await ok(["put", "file", "data@master:/b.txt", "-f", "-"], { ...opts, stdin: "bravo\n" });
  const jobs = JSON.parse((await ok(["list", "job", "--json"], opts)).stdout) as JobJson[];
  const job = jobs[0]!;
  assert.equal(job.state, "SUCCESS");
  return { ...s, opts, job };
}

/** Both command lines succeed and print the same. */
async function same(
  opts: Parameters<typeof ok>[1],
  oneX: string[],
  twoX: string[],
): Promise<string> {
  const a = await ok(oneX, opts);
  const b = await ok(twoX, opts);
  assert.equal(a.stdout, b.stdout, `${oneX.join(" ")} vs ${twoX.join(" ")}`);
  assert.notEqual(a.stdout, "", `${oneX.join(" ")} printed something`);
  return a.stdout;
}

Deno.test("the 1.x read commands print what their 2.x forms print", async () => {
  await using f = await fixture();
  const o = f.opts;
  const job = f.job.id;
  const datum = f.job.datums[0]!.id;
  await same(o, ["get-logs", "--pipeline", "upper"], ["logs", "--pipeline", "upper"]);
  await same(o, ["get-logs", "--job", job, "--json"], ["logs", "--job", job, "--json"]);
  await same(o, ["list-datum", job, "--json"], ["list", "datum", job, "--json"]);
  await same(o, ["inspect-datum", job, datum, "--json"], [
    "inspect",
    "datum",
    job,
    datum,
    "--json",
  ]);
  await same(o, ["inspect-datum", job, datum.slice(0, 8)], ["inspect", "datum", job, datum]);
  await same(o, ["inspect-pipeline", "upper", "--json"], [
    "inspect",
    "pipeline",
    "upper",
    "--json",
  ]);
  await same(o, ["list-pipeline", "--json"], ["list", "pipeline", "--json"]);
  await same(o, ["inspect-job", job, "--json"], ["inspect", "job", job, "--json"]);
  await same(o, ["glob-file", "data", "master", "/*", "--json"], [
    "glob",
    "file",
    "data@master:/*",
    "--json",
  ]);
  await same(o, ["diff-file", "data", "master", "--json"], [
    "diff",
    "file",
    "data@master",
    "--json",
  ]);
  await same(o, ["diff-file", "data", "master", "/", "data", "master^", "--json"], [
    "diff",
    "file",
    "data@master:/",
    "data@master^:/",
    "--json",
  ]);
  await same(o, ["inspect-commit", "data", "master^", "--json"], [
    "inspect",
    "commit",
    "data@master^",
    "--json",
  ]);
  await same(o, ["list-commit", "data", "master", "--json"], [
    "list",
    "commit",
    "data@master",
    "--json",
  ]);
  await same(o, ["list-commit", "data", "--json"], ["list", "commit", "data", "--json"]);
  await same(o, ["list-branch", "data", "--json"], ["list", "branch", "data", "--json"]);
  await same(o, ["flush-commit", "data@master", "--json"], [
    "wait",
    "commit",
    "data@master",
    "--json",
  ]);
  await same(o, ["flush-commit", "data", "master", "--json"], [
    "wait",
    "commit",
    "data@master",
    "--json",
  ]);
  await same(o, ["garbage-collect", "--dry-run", "--json"], ["gc", "--dry-run", "--json"]);
});

Deno.test("inspect datum shows a datum's inputs and state; a wrong datum exits 1", async () => {
  await using f = await fixture();
  const job = f.job.id;
  const datum = f.job.datums[0]!.id;
  const text = (await ok(["inspect-datum", job, datum], f.opts)).stdout;
  assert.match(text, new RegExp(`^ID: ${datum}$`, "m"));
  assert.match(text, new RegExp(`^Job: ${job} \\(pipeline upper\\)$`, "m"));
  assert.match(text, /^State: (SUCCESS|SKIPPED)$/m);
  assert.match(text, /^ {2}data: data@[0-9a-f]{64}:\/[ab]\.txt$/m);
  assertFails(await tusk(["inspect", "datum", job, "ffffffff"], f.opts), 1, /"ffffffff"/);
  assertFails(await tusk(["inspect-datum", job], f.opts), 2, /<datum>/);
});

Deno.test("the 1.x commands that change things do what their 2.x forms do", async () => {
  await using f = await fixture();
  const o = f.opts;
  await ok(["delete-file", "data", "master", "/b.txt", "-m", "drop b"], o);
  const files = rows((await ok(["list", "file", "data@master"], o)).stdout).slice(1);
  assert.deepEqual(files.map((r) => r[0]), ["/a.txt"]);
  const commits = JSON.parse((await ok(["list-commit", "data", "--json"], o)).stdout);
  assert.equal(commits[0].message, "drop b");
  assert.deepEqual(
    rows((await ok(["list", "file", "upper@master"], o)).stdout).slice(1).map((r) => r[0]),
    ["/a.txt"],
    "delete-file ran the triggered job",
  );

  await ok(["create-branch", "data", "dev", "--head", "master^"], o);
  const branches = JSON.parse((await ok(["list", "branch", "data", "--json"], o)).stdout) as {
    name: string;
    head: string;
  }[];
  const parent = JSON.parse((await ok(["inspect", "commit", "data@master^", "--json"], o)).stdout);
  assert.equal(branches.find((b) => b.name === "dev")?.head, parent.id);
  await ok(["delete-branch", "data", "dev"], o);
  assert.doesNotMatch((await ok(["list", "branch", "data"], o)).stdout, /^dev\s/m);

  const state = async () =>
    JSON.parse((await ok(["inspect", "pipeline", "upper", "--json"], o)).stdout).state;
  await ok(["stop-pipeline", "upper"], o);
  assert.equal(await state(), "paused");
  await ok(["start-pipeline", "upper"], o);
  assert.equal(await state(), "running");

  await ok(["update-pipeline", "-f", "upper.json", "--reprocess"], o);
  const jobs = JSON.parse((await ok(["list", "job", "--json"], o)).stdout) as JobJson[];
  assert.equal(jobs[0]!.version, 2);
  assert.equal(jobs[0]!.state, "SUCCESS");

  assert.equal((await ok(["stop-job", jobs[0]!.id], o)).stdout, `${jobs[0]!.id}\n`);
  await ok(["restart-datum", jobs[0]!.id], o);
  const restarted = JSON.parse((await ok(["inspect", "job", jobs[0]!.id, "--json"], o)).stdout);
  assert.equal(restarted.restart, 1);

  await ok(["delete-pipeline", "upper"], o);
  assert.deepEqual(JSON.parse((await ok(["list", "pipeline", "--json"], o)).stdout), []);
});

Deno.test("put-file appends to a file that exists; put-file -o and put file overwrite", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  const get = async () => (await ok(["get", "file", "r@master:/log.txt"], o)).stdout;
  await ok(["create-repo", "r"], o);
  await ok(["put-file", "r", "master", "log.txt", "-f", "-"], { ...o, stdin: "one\n" });
  await ok(["put-file", "r", "master", "log.txt", "-c", "-f", "-"], { ...o, stdin: "two\n" });
  assert.equal(await get(), "one\ntwo\n");
  await ok(["put-file", "r", "master", "log.txt", "-o", "-f", "-"], { ...o, stdin: "three\n" });
  assert.equal(await get(), "three\n");
  await ok(["put-file", "r", "master", "log.txt", "--overwrite", "-f", "-"], {
    ...o,
    stdin: "four\n",
  });
  assert.equal(await get(), "four\n");
  await ok(["put", "file", "r@master:/log.txt", "-f", "-"], { ...o, stdin: "five\n" });
  assert.equal(await get(), "five\n");
  await ok(["put", "file", "r@master:/log.txt", "-f", "-"], { ...o, stdin: "six\n" });
  assert.equal(await get(), "six\n");
});

Deno.test("a 1.x command tusk lacks says so by name and exits 2, whatever follows it", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  for (
    const argv of [
      ["start-commit", "r", "master"],
      ["start-commit", "r@master", "--bogus"],
      ["finish-commit", "-h"],
      ["help", "copy-file"],
      ["--store", s.store, "inspect-file", "r", "master", "/a"],
    ]
  ) {
    const name = argv.find((w) => /-(commit|file)$/.test(w))!;
    assertFails(
      await tusk(argv, o),
      2,
      new RegExp(`^tusk: tusk has no "${name}" \\(pachctl 1\\.x\\): `, "m"),
    );
  }
  assertFails(await tusk(["strat-commit"], o), 2, /Unknown command "strat-commit"/);
  assert.doesNotMatch((await ok(["--help"], o)).stdout, /start-commit/);
});
