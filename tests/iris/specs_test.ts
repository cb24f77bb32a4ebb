/**
 * The iris pipeline specs against the Pachyderm tutorial's own, and the library versions the
 * models record against the project's import map.
 */
import assert from "node:assert/strict";
import { VERSIONS } from "../../pipelines/iris/iris.ts";
import { ROOT, STAGES } from "./_helpers.ts";

const TUTORIAL = `${ROOT}/tests/fixtures/pachyderm`;

// deno-lint-ignore no-explicit-any
async function readJson(path: string): Promise<any> {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("train.json is the tutorial's training spec with a Deno SVM stage and optional parameters", async () => {
  const spec = await readJson(`${STAGES}/train.json`);
  const tutorial = await readJson(`${TUTORIAL}/python_train.pipeline.json`);
  assert.equal(spec.pipeline.name, "model");
  assert.deepEqual(spec.transform, {
    image: "denoland/deno:2.9.6",
    cmd: ["deno", "run", "train_svm.ts", "/pfs/training/", "/pfs/out/", "/pfs/parameters/"],
  });
  assert.deepEqual(spec.input, {
    cross: [
      tutorial.input,
      { pfs: { repo: "parameters", glob: "/params.json", optional: true } },
    ],
  });
  assert.deepEqual(spec.parallelismSpec, { constant: 1 });
});

Deno.test("train_lda.json is the same pipeline with the LDA stage", async () => {
  const svm = await readJson(`${STAGES}/train.json`);
  const lda = await readJson(`${STAGES}/train_lda.json`);
  assert.equal(lda.pipeline.name, "model");
  assert.deepEqual(lda.transform.cmd, [
    "deno",
    "run",
    "train_lda.ts",
    "/pfs/training/",
    "/pfs/out/",
    "/pfs/parameters/",
  ]);
  assert.deepEqual(lda.input, svm.input);
});

Deno.test("infer.json is the tutorial's inference spec with datum batching", async () => {
  const spec = await readJson(`${STAGES}/infer.json`);
  const tutorial = await readJson(`${TUTORIAL}/python_infer.pipeline.json`);
  assert.equal(spec.pipeline.name, "inference");
  assert.deepEqual(spec.transform, {
    image: "denoland/deno:2.9.6",
    cmd: ["deno", "run", "infer.ts", "/pfs/model/", "/pfs/attributes/", "/pfs/out/"],
    datumBatching: true,
  });
  assert.deepEqual(spec.input, tutorial.input);
  assert.deepEqual(spec.parallelismSpec, tutorial.parallelismSpec);
});

Deno.test("train_cron.json retrains every 60 s on the cross of training, a cron tick and the optional parameters", async () => {
  const spec = await readJson(`${STAGES}/train_cron.json`);
  assert.equal(spec.pipeline.name, "model");
  assert.deepEqual(spec.transform.cmd, [
    "deno",
    "run",
    "train_svm.ts",
    "/pfs/training/",
    "/pfs/out/",
    "/pfs/parameters/",
  ]);
  assert.deepEqual(spec.input, {
    cross: [
      { pfs: { repo: "training", glob: "/" } },
      { cron: { name: "tick", spec: "@every 60s", overwrite: true } },
      { pfs: { repo: "parameters", glob: "/params.json", optional: true } },
    ],
  });
});

Deno.test("the versions a model records are the ones the import map pins", async () => {
  const imports: Record<string, string> = (await readJson(`${ROOT}/deno.json`)).imports;
  for (const [name, version] of Object.entries(VERSIONS)) {
    assert.equal(imports[name], `npm:${name}@${version}`, name);
  }
});
