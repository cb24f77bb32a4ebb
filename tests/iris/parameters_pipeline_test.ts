/**
 * The iris training pipeline with its optional `parameters` input, end to end through the real
 * CLI and sandbox: a new params.json retrains by itself, the metrics show the change, the
 * predictions change as scikit-learn's do, provenance and lineage name the params commit, and
 * one revert of `parameters` brings back the earlier model byte for byte with the training
 * datum reused. A bad params.json fails the datum, naming file and key, and moves nothing.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tuskOk, type TuskOptions } from "../_helpers.ts";

const IRIS = `${ROOT}/pipelines/iris`;
const DATA = `${ROOT}/data`;

/** scikit-learn 1.2.1's predictions for data/borderline/3.csv, and its CV means. */
const BORDERLINE: { predictions: Record<string, string[]> } = JSON.parse(
  await Deno.readTextFile(`${ROOT}/tests/fixtures/reference/sklearn-iris-borderline.json`),
);
const METRICS: { models: Record<string, { cv_accuracy_mean: number; training_accuracy: number }> } =
  JSON.parse(
    await Deno.readTextFile(`${ROOT}/tests/fixtures/reference/sklearn-iris-metrics.json`),
  );

interface Job {
  pipeline: string;
  state: string;
  reason?: string;
  progress: { total: number; processed: number; skipped: number; failed: number };
}

interface Metric {
  name: string;
  old: number | null;
  new: number | null;
}

/**
 * The tutorial's pipelines and data, plus data/borderline/3.csv as attributes, and an empty
 * `parameters` repo.
 */
async function setUp(o: TuskOptions): Promise<void> {
  for (const repo of ["training", "attributes", "parameters"]) {
    await tuskOk(["create", "repo", repo], o);
  }
  await tuskOk(["put", "file", "training@master:/iris.csv", "-f", `${DATA}/iris.csv`], o);
  await tuskOk(["create", "pipeline", "-f", `${IRIS}/train.json`], o);
  await tuskOk(["create", "pipeline", "-f", `${IRIS}/infer.json`], o);
  await tuskOk(["put", "file", "attributes@master:/3.csv", "-f", `${DATA}/borderline/3.csv`], o);
}

async function params(o: TuskOptions, text: string) {
  return await tuskOk(["put", "file", "parameters@master:/params.json", "-f", "-"], {
    ...o,
    stdin: text,
  });
}

async function get(o: TuskOptions, ref: string): Promise<string> {
  return (await tuskOk(["get", "file", ref], o)).stdout;
}

async function getBytes(o: TuskOptions, ref: string): Promise<Uint8Array> {
  return (await tuskOk(["get", "file", ref], o)).stdoutBytes;
}

async function predictions(o: TuskOptions): Promise<string[]> {
  return (await get(o, "inference@master:/3")).trimEnd().split("\n");
}

async function jobs(o: TuskOptions, pipeline: string): Promise<Job[]> {
  return (JSON.parse((await tuskOk(["list", "job", "--json"], o)).stdout) as Job[])
    .filter((j) => j.pipeline === pipeline);
}

async function head(o: TuskOptions, ref: string): Promise<string> {
  return JSON.parse((await tuskOk(["inspect", "commit", ref, "--json"], o)).stdout).id;
}

async function metricsDiff(o: TuskOptions): Promise<Map<string, Metric>> {
  const d = JSON.parse((await tuskOk(["metrics", "diff", "model@master", "--json"], o)).stdout);
  return new Map((d.metrics as Metric[]).map((m) => [m.name, m]));
}

function near(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(
    typeof actual === "number" && Math.abs(actual - expected) <= 1e-9,
    `${what}: ${actual}, not ${expected}`,
  );
}

Deno.test("params.json C 1 → 0.01 retrains by itself: CV 0.98 → 0.92, new predictions; a revert brings the model back", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await setUp(o);
  const defaults = await getBytes(o, "model@master:/model.json");
  await params(o, `{"C": 1}\n`);
  const c1 = await getBytes(o, "model@master:/model.json");
  assert.deepEqual(c1, defaults, "C = 1 is the default: the same model");
  assert.deepEqual(await predictions(o), BORDERLINE.predictions["svm C=1.0"]);

  await params(o, `{"C": 0.01}\n`);
  const [retrained] = await jobs(o, "model");
  assert.deepEqual([retrained!.state, retrained!.progress.processed], ["SUCCESS", 1]);
  assert.match(await get(o, "model@master:/model.txt"), /^SVC\(C=0\.01, kernel='linear'/);
  assert.deepEqual(await predictions(o), BORDERLINE.predictions["svm C=0.01"]);
  const diff = await metricsDiff(o);
  near(diff.get("cv.accuracy")?.old, METRICS.models["svm C=1.0"]!.cv_accuracy_mean, "old CV");
  near(diff.get("cv.accuracy")?.new, METRICS.models["svm C=0.01"]!.cv_accuracy_mean, "new CV");
  near(diff.get("accuracy")?.new, METRICS.models["svm C=0.01"]!.training_accuracy, "accuracy");

  const paramsCommit = await head(o, "parameters@master");
  const model = JSON.parse(
    (await tuskOk(["inspect", "commit", "model@master", "--json"], o)).stdout,
  );
  assert.deepEqual(
    model.provenance.inputs.map((i: { repo: string; commit: string }) => `${i.repo}@${i.commit}`)
      .sort(),
    [`parameters@${paramsCommit}`, `training@${await head(o, "training@master")}`],
  );
  const l = JSON.parse((await tuskOk(["lineage", "model@master:/model.json", "--json"], o)).stdout);
  const input = l.inputs.find((i: { name: string }) => i.name === "parameters");
  assert.deepEqual([input?.commit, input?.files], [paramsCommit, ["/params.json"]]);

  await tuskOk(["revert", "parameters@master", "--to", "master^"], o);
  assert.deepEqual(await getBytes(o, "model@master:/model.json"), c1);
  const [back] = await jobs(o, "model");
  assert.deepEqual(
    [back!.progress.processed, back!.progress.skipped],
    [0, 1],
    "the training datum is reused, not re-run",
  );
  assert.deepEqual(await predictions(o), BORDERLINE.predictions["svm C=1.0"]);
});

Deno.test('params.json {"model": "lda"} switches the model, and a revert switches it back unchanged', async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await setUp(o);
  await params(o, `{"C": 1}\n`);
  const svm = await getBytes(o, "model@master:/model.json");
  await params(o, `{"model": "lda"}\n`);
  assert.match(await get(o, "model@master:/model.txt"), /^LinearDiscriminantAnalysis\(/);
  assert.deepEqual(await predictions(o), BORDERLINE.predictions["lda"]);
  const diff = await metricsDiff(o);
  near(diff.get("accuracy")?.old, METRICS.models["svm C=1.0"]!.training_accuracy, "SVM");
  near(diff.get("accuracy")?.new, METRICS.models["lda"]!.training_accuracy, "LDA");
  await tuskOk(["revert", "parameters@master", "--to", "master^"], o);
  assert.deepEqual(await getBytes(o, "model@master:/model.json"), svm);
  const [back] = await jobs(o, "model");
  assert.deepEqual([back!.progress.processed, back!.progress.skipped], [0, 1]);
});

Deno.test("a bad params.json fails the training datum naming the file and key; model and predictions stay", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await setUp(o);
  const model = await head(o, "model@master");
  const inference = await head(o, "inference@master");
  const r = await params(o, `{"C": 0}\n`);
  assert.match(r.stderr, /job \S+ of pipeline model ended FAILURE: .*params\.json: "C"/);
  const [failed] = await jobs(o, "model");
  assert.equal(failed!.state, "FAILURE");
  assert.equal(failed!.progress.failed, 1);
  const logs = (await tuskOk(["logs", "--pipeline", "model"], o)).stdout;
  assert.match(logs, /params\.json: "C" must be a finite number greater than 0, got 0/);
  assert.equal(await head(o, "model@master"), model, "the model branch did not move");
  assert.equal(await head(o, "inference@master"), inference);
});

Deno.test("data/borderline/3.csv is rows 53, 71, 120 and 134 of iris.csv without their labels", async () => {
  const rows = (await Deno.readTextFile(`${DATA}/iris.csv`)).split("\n");
  const picked = [53, 71, 120, 134].map((n) => rows[n - 1]!.split(",").slice(0, 4).join(","));
  assert.equal(await Deno.readTextFile(`${DATA}/borderline/3.csv`), picked.join("\n") + "\n");
});
