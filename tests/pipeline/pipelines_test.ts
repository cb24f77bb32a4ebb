/**
 * The pipeline registry, called directly: what `createPipeline()` refuses beyond the spec's
 * own rules (input repos that do not exist, cycles through other pipelines, env names a
 * stage may not be given), each a `SpecError` with its rule and path.
 */
import assert from "node:assert/strict";
import { createRepo } from "../../lib/commands/repo.ts";
import { createPipeline } from "../../lib/pipeline/pipelines.ts";
import { SpecError, type SpecRule } from "../../lib/pipeline/spec/spec_error.ts";
import { Store } from "../../lib/store/store.ts";
import { ROOT, tempDir } from "../_helpers.ts";

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
  const file = `${dir}/${name}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      pipeline: { name },
      transform: { cmd: ["deno", "run", "upper.ts"], ...transform },
      input,
    }),
  );
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
