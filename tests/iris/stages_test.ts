/**
 * The stage scripts as real subprocesses with only the permissions tusk grants (read the
 * inputs and out, write out): training output, reproducibility, inference and its failures.
 */
import assert from "node:assert/strict";
import { DATA, REFERENCE, runStage, type StageResult, tempDir, writeFiles } from "./_helpers.ts";

/** Run a training stage on data/ into `out`. */
function train(stage: "train_svm" | "train_lda", out: string): Promise<StageResult> {
  return runStage(stage, [`${DATA}/`, `${out}/`], { read: [DATA], write: out });
}

/** The names of the files in a folder, sorted. */
async function outputs(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

/** Run the inference stage. */
function infer(model: string, attributes: string, out: string): Promise<StageResult> {
  return runStage("infer", [`${model}/`, `${attributes}/`, `${out}/`], {
    read: [model, attributes],
    write: out,
  });
}

for (const stage of ["train_svm", "train_lda"] as const) {
  Deno.test(`${stage}.ts writes model.json, model.txt and metrics.json, and twice gives byte-identical files`, async () => {
    await using dir = await tempDir();
    const [a, b] = [`${dir.path}/a`, `${dir.path}/b`];
    await Deno.mkdir(a);
    await Deno.mkdir(b);
    const [first, second] = await Promise.all([train(stage, a), train(stage, b)]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(await outputs(a), ["metrics.json", "model.json", "model.txt"]);
    for (const file of await outputs(a)) {
      assert.deepEqual(
        await Deno.readFile(`${a}/${file}`),
        await Deno.readFile(`${b}/${file}`),
        file,
      );
    }
    const json = await Deno.readFile(`${a}/model.json`);
    const model = JSON.parse(new TextDecoder().decode(json));
    assert.equal(model.kind, stage === "train_svm" ? "svm" : "lda");
    const txt = await Deno.readTextFile(`${a}/model.txt`);
    assert.match(
      txt,
      stage === "train_svm" ? /^SVC\(C=1\.0, kernel='linear'/ : /^LinearDiscriminantAnalysis\(/,
    );
    assert.match(txt, /Iris-setosa, Iris-versicolor, Iris-virginica/);
    assert.match(
      txt,
      stage === "train_svm" ? /accuracy: 0\.9933 \(149\/150\)/ : /accuracy: 0\.9800 \(147\/150\)/,
    );
  });
}

for (const stage of ["train_svm", "train_lda"] as const) {
  Deno.test(`${stage}.ts trains on too few rows to cross-validate, and metrics.json says why`, async () => {
    await using dir = await tempDir();
    const rows = (species: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${5 + i / 10},3.${i},1.${i},0.${i},${species}\n`).join(
        "",
      );
    await writeFiles(dir.path, {
      "small/iris.csv": rows("Iris-setosa", 3) + rows("Iris-virginica", 2).replaceAll(",1.", ",6."),
    });
    await Deno.mkdir(`${dir.path}/out`);
    const r = await runStage(stage, [`${dir.path}/small`, `${dir.path}/out`], {
      read: [`${dir.path}/small`],
      write: `${dir.path}/out`,
    });
    assert.equal(r.code, 0, r.stderr);
    const metrics = JSON.parse(await Deno.readTextFile(`${dir.path}/out/metrics.json`));
    assert.equal(metrics.rows, 5);
    assert.deepEqual(metrics.cv, {
      splitter: "StratifiedKFold(n_splits=5, shuffle=False)",
      accuracy: null,
      folds: [],
      error: "every species has fewer than 5 rows",
    });
    assert.match(
      r.stdout,
      /^cross-validated accuracy: none \(every species has fewer than 5 rows\)$/m,
    );
  });
}

Deno.test("train_svm.ts fails with the file and line of a bad training row", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, {
    "in/iris.csv": "5.1,3.5,1.4,0.2,Iris-setosa\n5.1,3.5,Iris-setosa\n",
  });
  await Deno.mkdir(`${dir.path}/out`);
  const r = await runStage("train_svm", [`${dir.path}/in`, `${dir.path}/out`], {
    read: [`${dir.path}/in`],
    write: `${dir.path}/out`,
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /iris\.csv line 2: expected 4 numbers and a species, got 3 fields/);
});

Deno.test("infer.ts with either model writes test/1 and test/2 as scikit-learn predicts them", async () => {
  await using dir = await tempDir();
  for (const [stage, kind] of [["train_svm", "svm"], ["train_lda", "lda"]] as const) {
    const [model, out] = [`${dir.path}/${kind}-model`, `${dir.path}/${kind}-out`];
    await Deno.mkdir(model);
    await Deno.mkdir(out);
    assert.equal((await train(stage, model)).code, 0);
    const r = await infer(model, `${DATA}/test`, out);
    assert.equal(r.code, 0, r.stderr);
    const expected = REFERENCE.models[kind].test_predictions;
    assert.equal(await Deno.readTextFile(`${out}/1`), expected["1"]!.join("\n") + "\n");
    assert.equal(await Deno.readTextFile(`${out}/2`), expected["2"]!.join("\n") + "\n");
    assert.deepEqual((await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort(), [
      "1",
      "2",
    ]);
  }
});

/** A model folder (trained SVM) and a fresh out folder; attributes written by the caller. */
async function inferFixture(path: string, attributes: Record<string, string>) {
  const [model, attrs, out] = [`${path}/model`, `${path}/attributes`, `${path}/out`];
  await Deno.mkdir(model);
  await Deno.mkdir(out);
  await Deno.mkdir(attrs);
  await writeFiles(attrs, attributes);
  assert.equal((await train("train_svm", model)).code, 0);
  return { model, attrs, out };
}

Deno.test("infer.ts fails with exit code 1 and 'file line N' for bad rows", async () => {
  await using dir = await tempDir();
  const f = await inferFixture(dir.path, {});
  const cases: [string, RegExp][] = [
    [
      "5.1,3.5,1.4,0.2\n\n6.1,abc,4.7,1.2\n",
      /2\.csv line 3: expected 4 numbers, got "abc" in column 2/,
    ],
    ["5.1,3.5,1.4,0.2\n\n6.1,2.8,4.7\n", /2\.csv line 3: expected 4 numbers, got 3/],
    ["5.1,3.5,1.4,0.2,0.5\n", /2\.csv line 1: expected 4 numbers, got 5/],
  ];
  for (const [text, message] of cases) {
    await Deno.writeTextFile(`${f.attrs}/2.csv`, text);
    const r = await infer(f.model, f.attrs, f.out);
    assert.equal(r.code, 1, text);
    assert.match(r.stderr, message);
  }
});

Deno.test("infer.ts accepts an empty file, a file of blank lines and CRLF line ends", async () => {
  await using dir = await tempDir();
  const f = await inferFixture(dir.path, {
    "empty.csv": "",
    "blank.csv": "\n\n\r\n",
    "crlf.csv": "5.7,2.8,4.1,1.3\r\n6.3,3.3,6.0,2.5\r\n\r\n",
  });
  const r = await infer(f.model, f.attrs, f.out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await Deno.readTextFile(`${f.out}/empty`), "");
  assert.equal(await Deno.readTextFile(`${f.out}/blank`), "");
  assert.equal(await Deno.readTextFile(`${f.out}/crlf`), "Iris-versicolor\nIris-virginica\n");
});

Deno.test("infer.ts fails clearly, naming model.json, when model.json is 0 bytes", async () => {
  await using dir = await tempDir();
  const f = await inferFixture(dir.path, { "1.csv": "5.1,3.5,1.4,0.2\n" });
  await Deno.writeFile(`${f.model}/model.json`, new Uint8Array());
  const r = await infer(f.model, f.attrs, f.out);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Cannot load model ".*\/model\.json": the file is empty \(0 bytes\)/);
});

Deno.test("infer.ts with the wrong number of arguments prints usage and exits 2", async () => {
  await using dir = await tempDir();
  const r = await runStage("infer", [dir.path], { read: [], write: dir.path });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^Usage: infer\.ts/);
});
