/**
 * The pipeline registry, called directly: what `createPipeline()` refuses beyond the spec's
 * own rules (input repos that do not exist, cycles through other pipelines, env names a
 * stage may not be given), each a `SpecError` with its rule and path; and the parsed spec a
 * record keeps, read back without validating, while records that keep none still load.
 */
import assert from "node:assert/strict";
import { createRepo } from "../../lib/commands/repo.ts";
import {
  createPipeline,
  namedProgram,
  type Pipeline,
  PIPELINE_KIND,
  pipelineOf,
  type PipelineRecord,
  pipelinesOf,
  STORED_SPEC_FORMAT,
  type StoredSpec,
} from "../../lib/pipeline/pipelines.ts";
import { parseSpec } from "../../lib/pipeline/spec/parse_spec.ts";
import { SpecError, type SpecRule } from "../../lib/pipeline/spec/spec_error.ts";
import { Store } from "../../lib/store/store.ts";
import { ROOT, tempDir, tusk, tuskOk } from "../_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

/** A fresh store in a temp folder holding the `upper.ts` stage, and repo `data`. */
async function setUp(): Promise<AsyncDisposable & { path: string; store: Store }> {
  const dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createRepo(store, "data");
  await Deno.copyFile(`${STAGES}/upper.ts`, `${dir.path}/upper.ts`);
  return { path: dir.path, store, [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose]() };
}

/** Write a spec reading `input` as `<name>.json` and give its path. */
async function writeSpec(
  dir: string,
  name: string,
  input: unknown,
  transform: Record<string, unknown> = {},
): Promise<string> {
  const spec = {
    pipeline: { name },
    transform: { cmd: ["deno", "run", "upper.ts"], ...transform },
    input,
  };
  const file = `${dir}/${name}.json`;
  await Deno.writeTextFile(file, JSON.stringify(spec));
  return file;
}

/** Assert that `promise` rejects with a SpecError for `rule` whose path contains `path`. */
async function assertRefused(promise: Promise<unknown>, rule: SpecRule, path: string) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SpecError, String(err));
    assert.equal(err.rule, rule, err.message);
    assert.ok(err.data.path.includes(path), err.data.path);
    assert.ok(err.message.includes(path), err.message);
    return true;
  });
}

Deno.test("createPipeline() refuses an input repo that does not exist (UNKNOWN_REPO)", async () => {
  await using s = await setUp();
  const spec = await writeSpec(s.path, "p", { pfs: { repo: "nope", glob: "/" } });
  await assertRefused(createPipeline(s.store, spec), "UNKNOWN_REPO", "nope");
});

Deno.test("namedProgram() gives the host program a spec's transform.cmd names, unchecked", () => {
  const spec = (cmd: unknown) => JSON.stringify({ pipeline: { name: "p" }, transform: { cmd } });
  assert.equal(namedProgram(spec(["python3", "/code/train.py"])), "python3");
  assert.equal(namedProgram(spec(["/usr/bin/env", "sh"])), "/usr/bin/env");
  assert.equal(namedProgram(spec(["no such program!"])), "no such program!");
  for (const cmd of [["deno", "run", "s.ts"], ["/usr/bin/deno"], [""], [3], [], "python3", null]) {
    assert.equal(namedProgram(spec(cmd)), null, JSON.stringify(cmd));
  }
  assert.equal(namedProgram("{ not json"), null);
  assert.equal(namedProgram("null"), null);
  assert.equal(namedProgram(JSON.stringify({ transform: null })), null);
});

Deno.test("createPipeline() names the host program to prepare before the spec is parsed, and a refused spec stores nothing", async () => {
  await using s = await setUp();
  const spec = await writeSpec(s.path, "p", { pfs: { repo: "data", glob: "/" } }, {
    cmd: ["python3", "/code/x.py"],
    env: { "A-B": "1" },
  });
  const before = await s.store.state();
  const prepared: string[] = [];
  await assertRefused(
    createPipeline(s.store, spec, {
      prepareProgram: (name) => void prepared.push(name),
      resolveProgram: () => Promise.reject(new Error("not called for a refused spec")),
    }),
    "REFUSED_ENV",
    "transform.env",
  );
  assert.deepEqual(prepared, ["python3"]);
  assert.deepEqual(await s.store.state(), before);
});

Deno.test("createPipeline() refuses an update that reads a pipeline reading this one (CYCLE)", async () => {
  await using s = await setUp();
  await createPipeline(s.store, await writeSpec(s.path, "a", { pfs: { repo: "data", glob: "/" } }));
  await createPipeline(s.store, await writeSpec(s.path, "b", { pfs: { repo: "a", glob: "/" } }));
  const cycle = await writeSpec(s.path, "a", { pfs: { repo: "b", glob: "/" } });
  await assertRefused(createPipeline(s.store, cycle, { update: true }), "CYCLE", "b");
});

Deno.test('createPipeline() refuses the env name "A-B", which a stage may not be given (REFUSED_ENV)', async () => {
  await using s = await setUp();
  const spec = await writeSpec(s.path, "p", { pfs: { repo: "data", glob: "/" } }, {
    env: { "A-B": "1" },
  });
  await assertRefused(createPipeline(s.store, spec), "REFUSED_ENV", "transform.env");
});

Deno.test("createPipeline() refuses a TZ naming a host file (REFUSED_ENV)", async () => {
  await using s = await setUp();
  const spec = await writeSpec(s.path, "p", { pfs: { repo: "data", glob: "/" } }, {
    env: { TZ: "/usr/share/zoneinfo/America/New_York" },
  });
  await assertRefused(createPipeline(s.store, spec), "REFUSED_ENV", "transform.env.TZ");
});

Deno.test("createPipeline() refuses a 300 KB env value, which no stage could be started with (REFUSED_ENV)", async () => {
  await using s = await setUp();
  const spec = await writeSpec(s.path, "p", { pfs: { repo: "data", glob: "/" } }, {
    env: { HUGE: "x".repeat(300 * 1000) },
  });
  await assertRefused(createPipeline(s.store, spec), "REFUSED_ENV", "transform.env.HUGE");
});

/** A store with pipeline `p` reading `data`, and the pipeline as created. */
async function withPipeline(s: { path: string; store: Store }): Promise<Pipeline> {
  const spec = await writeSpec(s.path, "p", { pfs: { repo: "data", glob: "/*" } }, {
    env: { MODE: "fast" },
  });
  return await createPipeline(s.store, spec);
}

/** Put `value` as pipeline `p`'s record, keeping the objects it names alive. */
async function putRecord(store: Store, value: PipelineRecord): Promise<void> {
  await store.transact(async (tx) => {
    tx.change({
      type: "meta:put",
      kind: PIPELINE_KIND,
      name: value.name,
      objects: [value.specHash, value.codeHash],
      value,
    });
    await Promise.resolve();
  });
}

Deno.test("createPipeline() keeps the parsed spec in the record, and reading it gives the same spec", async () => {
  await using s = await setUp();
  const created = await withPipeline(s);
  const state = await s.store.state();
  const record = state.meta[PIPELINE_KIND]!["p"]!.value as PipelineRecord;
  assert.equal(record.parsedSpec?.format, STORED_SPEC_FORMAT);
  assert.equal("raw" in record.parsedSpec!.spec, false);
  assert.deepEqual((await pipelineOf(state, "p")).parsed, created.parsed);
  assert.deepEqual((await pipelinesOf(state))[0]!.parsed, created.parsed);
});

Deno.test("pipelinesOf() validates nothing: a record whose spec no longer parses still loads", async () => {
  await using s = await setUp();
  const created = await withPipeline(s);
  const state = await s.store.state();
  const record = state.meta[PIPELINE_KIND]!["p"]!.value as PipelineRecord;
  // As if the rules had changed since: this spec would be refused now.
  const spec = { ...record.spec, egress: { URL: "s3://bucket" } };
  state.meta[PIPELINE_KIND]!["p"]!.value = { ...record, spec };
  assert.throws(() => parseSpec(spec), SpecError);
  const [p] = await pipelinesOf(state);
  assert.deepEqual({ ...p!.parsed, raw: created.parsed.raw }, created.parsed);
  assert.deepEqual(p!.parsed.raw, spec);
});

Deno.test("pipelinesOf() parses the spec of a record that keeps none, as older versions wrote", async () => {
  await using s = await setUp();
  const created = await withPipeline(s);
  const { parsedSpec: _, ...old } = (await s.store.state()).meta[PIPELINE_KIND]!["p"]!
    .value as PipelineRecord;
  await putRecord(s.store, old);
  const reopened = await Store.open(s.store.root);
  const state = await reopened.state();
  assert.equal((state.meta[PIPELINE_KIND]!["p"]!.value as PipelineRecord).parsedSpec, undefined);
  assert.deepEqual((await pipelinesOf(state))[0]!.parsed, created.parsed);
  assert.deepEqual((await pipelineOf(state, "p")).parsed, created.parsed);
});

Deno.test("pipelinesOf() parses the spec of a record that keeps it in another format", async () => {
  await using s = await setUp();
  const created = await withPipeline(s);
  const record = (await s.store.state()).meta[PIPELINE_KIND]!["p"]!.value as PipelineRecord;
  const other = { format: STORED_SPEC_FORMAT + 1, spec: { name: "not what parseSpec gives" } };
  await putRecord(s.store, { ...record, parsedSpec: other as unknown as StoredSpec });
  assert.deepEqual((await pipelinesOf(await s.store.state()))[0]!.parsed, created.parsed);
});

Deno.test("a commit's jobs run a pipeline whose record keeps no parsed spec: put file loads the parser for it", async () => {
  await using s = await setUp();
  await createPipeline(
    s.store,
    await writeSpec(s.path, "p", { pfs: { repo: "data", glob: "/*" } }, {
      cmd: ["deno", "run", "upper.ts", "/pfs/data", "/pfs/out"],
    }),
  );
  const { parsedSpec: _, ...old } = (await s.store.state()).meta[PIPELINE_KIND]!["p"]!
    .value as PipelineRecord;
  await putRecord(s.store, old);
  await Deno.writeTextFile(`${s.path}/a.txt`, "alpha\n");
  const put = await tuskOk(["put", "file", "data@master:/a.txt", "-f", `${s.path}/a.txt`], {
    store: s.store.root,
  });
  assert.equal(put.stderr, "");
  const got = await tuskOk(["get", "file", "p@master:/a.txt"], { store: s.store.root });
  assert.equal(got.stdout, "ALPHA\n");
});

Deno.test("delete repo refuses (exit 2) to delete a repo read by a pipeline whose record keeps no parsed spec", async () => {
  await using s = await setUp();
  await withPipeline(s);
  const { parsedSpec: _, ...old } = (await s.store.state()).meta[PIPELINE_KIND]!["p"]!
    .value as PipelineRecord;
  await putRecord(s.store, old);
  const r = await tusk(["delete", "repo", "data"], { store: s.store.root });
  assert.equal(r.code, 2, r.stderr);
  assert.ok((await s.store.state()).repos["data"], "the repo is still there");
});
