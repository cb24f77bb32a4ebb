/**
 * Optional pfs inputs (tusk's extension) end to end through the real CLI and sandbox: in a
 * cross, an optional input whose repo is missing, has no commits or has no file matching
 * its glob still gives datums, with its `/pfs/<name>` folder there and empty; once it has
 * files, the pipeline re-runs with them and provenance names its commit. Without
 * `optional`, Pachyderm's rule holds: no datums.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tusk, tuskOk } from "../_helpers.ts";

const STAGE = `${ROOT}/tests/fixtures/stages/optional_model.ts`;

interface Job {
  state: string;
  progress: { total: number; processed: number; skipped: number };
  outputCommit?: string;
}

/** Write spec `paired.json` into `dir` (the stage beside it): data `/*` ⨯ model. */
async function writeSpec(
  dir: string,
  model: Record<string, unknown>,
  more: Record<string, unknown> = {},
): Promise<string> {
  await Deno.copyFile(STAGE, `${dir}/optional_model.ts`);
  const spec = {
    pipeline: { name: "paired" },
    transform: {
      cmd: ["deno", "run", "optional_model.ts", "/pfs/data/", "/pfs/model/", "/pfs/out/"],
    },
    input: { cross: [{ pfs: { repo: "data", glob: "/*" } }, { pfs: { repo: "model", ...model } }] },
    ...more,
  };
  await Deno.writeTextFile(`${dir}/paired.json`, JSON.stringify(spec));
  return `${dir}/paired.json`;
}

async function put(store: string, ref: string, content: string): Promise<void> {
  await tuskOk(["put", "file", ref, "-f", "-"], { store, stdin: content });
}

async function jobs(store: string): Promise<Job[]> {
  return JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
}

async function output(store: string): Promise<Record<string, string>> {
  const listed = JSON.parse(
    (await tuskOk(["list", "file", "paired@master", "--json"], { store })).stdout,
  ) as { path: string }[];
  const files: Record<string, string> = {};
  for (const { path } of listed) {
    files[path] = (await tuskOk(["get", "file", `paired@master:${path}`], { store })).stdout;
  }
  return files;
}

async function provenance(store: string): Promise<string[]> {
  const c = JSON.parse(
    (await tuskOk(["inspect", "commit", "paired@master", "--json"], { store })).stdout,
  ) as { provenance: { inputs: { repo: string; commit: string }[] } };
  return c.provenance.inputs.map((i) => `${i.repo}@${i.commit}`).sort();
}

async function head(store: string, repo: string): Promise<string> {
  return JSON.parse(
    (await tuskOk(["inspect", "commit", `${repo}@master`, "--json"], { store }))
      .stdout,
  ).id;
}

/** A store with repo `data` holding 1.csv and 2.csv. */
async function withData(store: string): Promise<void> {
  await tuskOk(["create", "repo", "data"], { store });
  await put(store, "data@master:/1.csv", "one\n");
  await put(store, "data@master:/2.csv", "two\n");
}

Deno.test("a cross with an optional input whose repo has no commits runs each datum with that folder empty", async () => {
  await using s = await tempStore();
  const store = s.store;
  await withData(store);
  await tuskOk(["create", "repo", "model"], { store });
  await tuskOk(
    ["create", "pipeline", "-f", await writeSpec(s.path, { glob: "/", optional: true })],
    {
      store,
    },
  );
  const [job] = await jobs(store);
  assert.equal(job?.state, "SUCCESS");
  assert.equal(job.progress.total, 2);
  assert.deepEqual(await output(store), { "/1": "none(0):one\n", "/2": "none(0):two\n" });
  assert.deepEqual(await provenance(store), [`data@${await head(store, "data")}`]);
});

Deno.test("an optional input's first commit re-runs the pipeline with it, and provenance and lineage name it", async () => {
  await using s = await tempStore();
  const store = s.store;
  await withData(store);
  await tuskOk(["create", "repo", "model"], { store });
  await tuskOk(
    ["create", "pipeline", "-f", await writeSpec(s.path, { glob: "/", optional: true })],
    {
      store,
    },
  );
  await put(store, "model@master:/model.txt", "m1\n");
  const list = await jobs(store);
  assert.equal(list.length, 2);
  assert.equal(list[0]!.progress.processed, 2);
  assert.deepEqual(await output(store), { "/1": "m1:one\n", "/2": "m1:two\n" });
  const model = await head(store, "model");
  assert.deepEqual(await provenance(store), [
    `data@${await head(store, "data")}`,
    `model@${model}`,
  ]);
  const l = JSON.parse((await tuskOk(["lineage", "paired@master:/2", "--json"], { store })).stdout);
  const inputs = l.inputs.map((i: { name: string; commit: string; files: string[] }) =>
    `${i.name}@${i.commit}:${i.files.join(",")}`
  ).sort();
  assert.deepEqual(inputs, [
    `data@${await head(store, "data")}:/2.csv`,
    `model@${model}:/model.txt`,
  ]);
});

Deno.test("an optional input may name a repo created later: its datums run empty until it has files", async () => {
  await using s = await tempStore();
  const store = s.store;
  await withData(store);
  await tuskOk(
    ["create", "pipeline", "-f", await writeSpec(s.path, { glob: "/", optional: true })],
    {
      store,
    },
  );
  assert.deepEqual(await output(store), { "/1": "none(0):one\n", "/2": "none(0):two\n" });
  const shown = (await tuskOk(["inspect", "pipeline", "paired"], { store })).stdout;
  assert.match(shown, /^Input: \(data:\/\* ⨯ model:\/ \(optional\)\)$/m);
  await tuskOk(["create", "repo", "model"], { store });
  assert.equal((await jobs(store)).length, 1, "an empty repo changes no input");
  await put(store, "model@master:/model.txt", "m1\n");
  assert.deepEqual(await output(store), { "/1": "m1:one\n", "/2": "m1:two\n" });
  const deleted = await tusk(["delete", "repo", "model"], { store });
  assert.equal(deleted.code, 2, "a repo a pipeline reads, optionally or not, stays");
  assert.match(deleted.stderr, /pipeline "paired" reads it/);
  await tuskOk(["inspect", "repo", "model"], { store });
});

Deno.test("an optional input with no file matching its glob gives an empty folder; a matching file fills it", async () => {
  await using s = await tempStore();
  const store = s.store;
  await withData(store);
  await tuskOk(["create", "repo", "model"], { store });
  await put(store, "model@master:/README.md", "not a model\n");
  const spec = await writeSpec(s.path, { glob: "/*.txt", optional: true });
  await tuskOk(["create", "pipeline", "-f", spec], { store });
  assert.deepEqual(await output(store), { "/1": "none(0):one\n", "/2": "none(0):two\n" });
  await put(store, "model@master:/model.txt", "m2\n");
  assert.deepEqual(await output(store), { "/1": "m2:one\n", "/2": "m2:two\n" });
});

Deno.test("an optional input's empty folder is there in a batched run too", async () => {
  await using s = await tempStore();
  const store = s.store;
  await withData(store);
  await tuskOk(["create", "repo", "model"], { store });
  const spec = await writeSpec(s.path, { glob: "/", optional: true }, { datumBatching: true });
  await tuskOk(["create", "pipeline", "-f", spec], { store });
  assert.equal((await jobs(store))[0]?.state, "SUCCESS");
  assert.deepEqual(await output(store), { "/1": "none(0):one\n", "/2": "none(0):two\n" });
});

Deno.test("without optional, an input repo with no commits gives no job, and one with no match no datums", async () => {
  await using s = await tempStore();
  const store = s.store;
  await withData(store);
  await tuskOk(["create", "repo", "model"], { store });
  await tuskOk(["create", "pipeline", "-f", await writeSpec(s.path, { glob: "/*.txt" })], {
    store,
  });
  assert.deepEqual(await jobs(store), []);
  await put(store, "model@master:/README.md", "not a model\n");
  const [job] = await jobs(store);
  assert.equal(job?.state, "SUCCESS");
  assert.equal(job.progress.total, 0);
  assert.deepEqual(await output(store), {});
});

Deno.test("without optional, an input repo that does not exist is refused (exit 2, UNKNOWN_REPO)", async () => {
  await using s = await tempStore();
  const store = s.store;
  await withData(store);
  const r = await tusk(["create", "pipeline", "-f", await writeSpec(s.path, { glob: "/" })], {
    store,
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown input repo "model"/);
  assert.equal((await tusk(["inspect", "pipeline", "paired"], { store })).code, 1);
});
