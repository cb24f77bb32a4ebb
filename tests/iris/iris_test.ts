/** The shared iris code: CSV rows, model.json checks, output names, inference over a folder. */
import assert from "node:assert/strict";
import {
  encodeModel,
  inferFolder,
  IrisError,
  loadModel,
  type Model,
  outputName,
  parseAttributes,
  parseModel,
  parseTraining,
  readTrainingSet,
} from "../../pipelines/iris/iris.ts";
import { trainLda } from "../../pipelines/iris/lda.ts";
import { trainSvm } from "../../pipelines/iris/svm.ts";
import { irisTrainingSet, tempDir, writeFiles } from "./_helpers.ts";

const data = await irisTrainingSet();
const svm = trainSvm(data);
const lda = trainLda(data);

function assertIrisError(fn: () => unknown, code: string, data: Record<string, unknown>): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IrisError, `not an IrisError: ${e}`);
    assert.equal(e.code, code);
    for (const [k, v] of Object.entries(data)) assert.deepEqual(e.data[k], v, `data.${k}`);
    return true;
  });
}

Deno.test("parseAttributes() reads rows of 4 numbers and skips blank lines", () => {
  assert.deepEqual(parseAttributes("5.1,3.5,1.4,0.2\n\n  \n4.9, 3, 1.4e0 ,.2\n\n", "a.csv"), [
    [5.1, 3.5, 1.4, 0.2],
    [4.9, 3, 1.4, 0.2],
  ]);
});

Deno.test("parseAttributes() accepts CRLF line ends and a byte order mark is dropped on read", async () => {
  assert.deepEqual(parseAttributes("5.1,3.5,1.4,0.2\r\n6,3,5,2\r\n", "a.csv"), [
    [5.1, 3.5, 1.4, 0.2],
    [6, 3, 5, 2],
  ]);
  await using dir = await tempDir();
  await writeFiles(dir.path, { "in/bom.csv": "\ufeff5.1,3.5,1.4,0.2\r\n" });
  await inferFolder(svm, { attributes: `${dir.path}/in`, out: `${dir.path}/out` });
  assert.equal(await Deno.readTextFile(`${dir.path}/out/bom`), "Iris-setosa\n");
});

Deno.test("parseAttributes() gives no rows for an empty file or a file of blank lines", () => {
  assert.deepEqual(parseAttributes("", "empty.csv"), []);
  assert.deepEqual(parseAttributes("\n \r\n\t\n", "blank.csv"), []);
});

Deno.test("parseAttributes() refuses a row of 3 numbers, naming the file and line", () => {
  const text = "5.1,3.5,1.4,0.2\n\n6,3,5\n";
  assertIrisError(() => parseAttributes(text, "2.csv"), "BAD_ROW", { file: "2.csv", line: 3 });
  assert.throws(() => parseAttributes(text, "2.csv"), {
    message: "2.csv line 3: expected 4 numbers, got 3",
  });
});

Deno.test("parseAttributes() refuses a row of 5 fields, naming the file and line", () => {
  const text = "5.1,3.5,1.4,0.2,Iris-setosa\n";
  assertIrisError(() => parseAttributes(text, "1.csv"), "BAD_ROW", { file: "1.csv", line: 1 });
  assert.throws(() => parseAttributes(text, "1.csv"), {
    message: "1.csv line 1: expected 4 numbers, got 5",
  });
});

Deno.test("parseAttributes() refuses a field that is not a number, naming the column", () => {
  for (const bad of ["abc", "", "0x10", "NaN", "Infinity", "1e999", "1.2.3"]) {
    const text = `5.1,${bad},1.4,0.2\n`;
    assert.throws(() => parseAttributes(text, "x.csv"), IrisError, `field ${JSON.stringify(bad)}`);
  }
  assertIrisError(() => parseAttributes("1,2,3,4\n5.1,abc,1.4,0.2\n", "x.csv"), "BAD_ROW", {
    file: "x.csv",
    line: 2,
    column: 2,
  });
});

Deno.test("parseTraining() reads 4 numbers and a species per row", () => {
  assert.deepEqual(parseTraining("5.1,3.5,1.4,0.2,Iris-setosa\r\n\n", "t.csv"), {
    x: [[5.1, 3.5, 1.4, 0.2]],
    y: ["Iris-setosa"],
  });
  assertIrisError(() => parseTraining("5.1,3.5,1.4,0.2\n", "t.csv"), "BAD_ROW", { line: 1 });
  assertIrisError(() => parseTraining("5.1,3.5,1.4,0.2,\n", "t.csv"), "BAD_ROW", { line: 1 });
});

Deno.test("readTrainingSet() reads only the *.csv files of its folder, ignoring a cron tick", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, {
    "b.csv": "6,3,5,2,B\n",
    "a.csv": "5,3,1,0.2,A\n",
    "tick/time": "2024-01-01T00:00:00Z\n",
    "notes.txt": "not training data\n",
  });
  assert.deepEqual(await readTrainingSet(dir.path), {
    x: [[5, 3, 1, 0.2], [6, 3, 5, 2]],
    y: ["A", "B"],
  });
});

Deno.test("readTrainingSet() refuses a folder with no *.csv rows", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, { "README": "x\n" });
  await assert.rejects(() => readTrainingSet(dir.path), { code: "NO_TRAINING_DATA" });
});

Deno.test("trainSvm() and trainLda() refuse training data of a single species", () => {
  const one = { x: [[1, 2, 3, 4], [2, 3, 4, 5]], y: ["A", "A"] };
  assertIrisError(() => trainSvm(one), "NO_TRAINING_DATA", {});
  assertIrisError(() => trainLda(one), "NO_TRAINING_DATA", {});
});

Deno.test("trainSvm() that does not converge names C and params.json, the setting to change", () => {
  // C = 1e308 never converges on versicolor vs virginica; a small step limit stands in for
  // the 10,000,000 steps (half a minute) the stage allows.
  assert.throws(
    () => trainSvm(data, { C: 1e308, maxIterations: 1000 }),
    (e: unknown) => {
      assert.ok(e instanceof IrisError, String(e));
      assert.equal(e.code, "TRAINING_FAILED");
      assert.equal(e.data.C, 1e308);
      assert.match(e.message, /C=1e\+308/);
      assert.match(e.message, /params\.json/);
      assert.match(e.message, /1000 steps/);
      return true;
    },
  );
});

Deno.test("parseModel() round-trips both kinds of model.json", () => {
  for (const model of [svm, lda] satisfies Model[]) {
    assert.deepEqual(parseModel(encodeModel(model), "model.json"), model);
  }
});

Deno.test("parseModel() refuses an empty model.json, naming the file", () => {
  assertIrisError(() => parseModel("", "/pfs/model/model.json"), "BAD_MODEL", {
    path: "/pfs/model/model.json",
  });
  assert.throws(
    () => parseModel("", "/pfs/model/model.json"),
    /"\/pfs\/model\/model\.json".*empty/,
  );
});

Deno.test("parseModel() refuses malformed JSON and models of the wrong shape", () => {
  const svmDoc = JSON.parse(encodeModel(svm));
  const ldaDoc = JSON.parse(encodeModel(lda));
  const bad: [string, unknown][] = [
    ["truncated", encodeModel(svm).slice(0, 100)],
    ["an array", []],
    ["code", { kind: "svm", predict: "() => 1" }],
    ["unknown kind", { ...svmDoc, kind: "knn" }],
    ["other schema", { ...svmDoc, schema: 2 }],
    ["wrong features", { ...svmDoc, features: ["a", "b", "c", "d"] }],
    ["one class", { ...svmDoc, classes: ["Iris-setosa"] }],
    ["missing pair", { ...svmDoc, pairs: svmDoc.pairs.slice(1) }],
    ["short weights", {
      ...svmDoc,
      pairs: [{ ...svmDoc.pairs[0], weights: [1, 2] }, ...svmDoc.pairs.slice(1)],
    }],
    ["bias not a number", {
      ...svmDoc,
      pairs: [{ ...svmDoc.pairs[0], bias: "1" }, ...svmDoc.pairs.slice(1)],
    }],
    ["pair classes reversed", {
      ...svmDoc,
      pairs: [{ ...svmDoc.pairs[0], classes: [1, 0] }, ...svmDoc.pairs.slice(1)],
    }],
    ["coef row missing", { ...ldaDoc, coef: ldaDoc.coef.slice(1) }],
    ["intercept null", { ...ldaDoc, intercept: [null, 1, 2] }],
  ];
  for (const [why, doc] of bad) {
    const text = typeof doc === "string" ? doc : JSON.stringify(doc);
    assert.throws(() => parseModel(text, "m/model.json"), (e: unknown) => {
      assert.ok(e instanceof IrisError && e.code === "BAD_MODEL", why);
      assert.match(e.message, /"m\/model\.json"/, why);
      return true;
    });
  }
});

Deno.test("loadModel() names model.json when the model folder has none", async () => {
  await using dir = await tempDir();
  await assert.rejects(() => loadModel(`${dir.path}/`), (e: unknown) => {
    assert.ok(e instanceof IrisError && e.code === "BAD_MODEL");
    assert.equal(e.data.path, `${dir.path}/model.json`);
    return true;
  });
});

Deno.test("outputName() drops the folder and the last extension", () => {
  assert.equal(outputName("1.csv"), "1");
  assert.equal(outputName("sub/2.csv"), "2");
  assert.equal(outputName("a.b.csv"), "a.b");
  assert.equal(outputName("README"), "README");
  assert.equal(outputName(".hidden"), ".hidden");
});

Deno.test("inferFolder() writes one species per line for every file, walking sub-folders", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, {
    "in/1.csv": "5.9,3.0,5.1,1.8\n",
    "in/sub/3.csv": "5.1,3.5,1.4,0.2\n\n5.7,2.8,4.1,1.3\n",
  });
  const written = await inferFolder(lda, { attributes: `${dir.path}/in/`, out: `${dir.path}/out` });
  assert.deepEqual(written, [
    { file: "1.csv", output: "1", rows: 1 },
    { file: "sub/3.csv", output: "3", rows: 2 },
  ]);
  assert.equal(await Deno.readTextFile(`${dir.path}/out/1`), "Iris-virginica\n");
  assert.equal(await Deno.readTextFile(`${dir.path}/out/3`), "Iris-setosa\nIris-versicolor\n");
});

Deno.test("inferFolder() writes an empty output for an empty file or one of blank lines", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, { "in/empty.csv": "", "in/blank.csv": "\n\r\n  \n" });
  await inferFolder(svm, { attributes: `${dir.path}/in`, out: `${dir.path}/out` });
  assert.equal(await Deno.readTextFile(`${dir.path}/out/empty`), "");
  assert.equal(await Deno.readTextFile(`${dir.path}/out/blank`), "");
});

Deno.test("inferFolder() refuses two inputs that map to one output name and writes nothing", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, { "in/1.csv": "1,2,3,4\n", "in/1.txt": "1,2,3,4\n" });
  await assert.rejects(
    () => inferFolder(svm, { attributes: `${dir.path}/in`, out: `${dir.path}/out` }),
    {
      code: "OUTPUT_CONFLICT",
    },
  );
  await assert.rejects(() => Deno.stat(`${dir.path}/out/1`), Deno.errors.NotFound);
});

Deno.test("inferFolder() writes nothing when one input has a bad row", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, { "in/1.csv": "1,2,3,4\n", "in/2.csv": "1,2,3,4\n1,2,3\n" });
  await assert.rejects(
    () => inferFolder(svm, { attributes: `${dir.path}/in`, out: `${dir.path}/out` }),
    {
      code: "BAD_ROW",
      data: { file: "2.csv", line: 2, fields: 3 },
    },
  );
  await assert.rejects(() => Deno.stat(`${dir.path}/out/1`), Deno.errors.NotFound);
});

Deno.test("inferFolder() accepts a single attributes file in place of a folder", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, { "in/4.csv": "6.3,3.3,6.0,2.5\n" });
  await inferFolder(lda, { attributes: `${dir.path}/in/4.csv`, out: `${dir.path}/out` });
  assert.equal(await Deno.readTextFile(`${dir.path}/out/4`), "Iris-virginica\n");
});

Deno.test("trainSvm() and trainLda() fit two species with one pair and two score rows", () => {
  const keep = data.y.map((s, i) => (s === "Iris-virginica" ? -1 : i)).filter((i) => i >= 0);
  const two = { x: keep.map((i) => data.x[i]!), y: keep.map((i) => data.y[i]!) };
  const svm2 = trainSvm(two);
  const lda2 = trainLda(two);
  assert.equal(svm2.pairs.length, 1);
  assert.equal(lda2.coef.length, 2);
  assert.equal(svm2.trainingAccuracy, 1);
  assert.equal(lda2.trainingAccuracy, 1);
});
