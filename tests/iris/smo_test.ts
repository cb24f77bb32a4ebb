/**
 * smo.ts and trainSvm() against scikit-learn 1.2.1's own fits
 * (tests/fixtures/reference/sklearn-iris-svc-fits.json, written by the .py beside it): for
 * C = 0.01, 0.1, 1 and 10, on all 150 rows and on each cross-validation fold's training rows,
 * every pair of classes gets scikit-learn's weights and bias (to 1e-12), its support vectors
 * and its number of SMO steps. Then the failures, and determinism.
 */
import assert from "node:assert/strict";
import type { SvmModel, TrainingSet } from "../../pipelines/iris/iris.ts";
import { stratifiedFolds } from "../../pipelines/iris/metrics.ts";
import { smo } from "../../pipelines/iris/smo.ts";
import { SVM_PARAMS, trainSvm } from "../../pipelines/iris/svm.ts";
import { irisTrainingSet, ROOT } from "./_helpers.ts";

interface ReferenceFit {
  readonly C: number;
  /** "all" or "fold N": the rows fitted are those outside fold N. */
  readonly rows: string;
  readonly classes: string[];
  readonly coef: number[][];
  readonly intercept: number[];
  readonly n_iter: number[];
  readonly support_by_class: number[][];
}

const REFERENCE: { fits: ReferenceFit[] } = JSON.parse(
  await Deno.readTextFile(`${ROOT}/tests/fixtures/reference/sklearn-iris-svc-fits.json`),
);
const data = await irisTrainingSet();
const folds = stratifiedFolds(data.y)!;

/** The row numbers of data/iris.csv a reference fit was made on. */
function rowsOf(fit: ReferenceFit): number[] {
  const fold = fit.rows === "all" ? -1 : Number(fit.rows.replace("fold ", ""));
  return data.y.flatMap((_, i) => (folds[i] === fold ? [] : [i]));
}

function subset(rows: readonly number[]): TrainingSet {
  return { x: rows.map((i) => data.x[i]!), y: rows.map((i) => data.y[i]!) };
}

/** The support vectors of each class (row numbers of iris.csv), as scikit-learn lists them. */
function supportByClass(model: SvmModel, rows: readonly number[]): number[][] {
  return model.classes.map((c) =>
    [...new Set(model.pairs.flatMap((p) => p.supportVectors.map((i) => rows[i]!)))]
      .filter((r) => data.y[r] === c)
      .sort((a, b) => a - b)
  );
}

for (const C of [0.01, 0.1, 1, 10]) {
  Deno.test(`trainSvm() makes scikit-learn's binary fits at C = ${C}: weights, bias, support vectors, steps`, () => {
    const fits = REFERENCE.fits.filter((f) => f.C === C);
    assert.equal(fits.length, 6, "all rows and five folds");
    let dw = 0;
    let db = 0;
    for (const fit of fits) {
      const rows = rowsOf(fit);
      const model = trainSvm(subset(rows), { C });
      assert.deepEqual(model.classes, fit.classes);
      assert.deepEqual(model.pairs.map((p) => p.classes), [[0, 1], [0, 2], [1, 2]]);
      model.pairs.forEach((pair, k) => {
        pair.weights.forEach((w, f) => (dw = Math.max(dw, Math.abs(w - fit.coef[k]![f]!))));
        db = Math.max(db, Math.abs(pair.bias - fit.intercept[k]!));
      });
      assert.deepEqual(model.pairs.map((p) => p.iterations), fit.n_iter, `${fit.rows}: steps`);
      assert.deepEqual(supportByClass(model, rows), fit.support_by_class, `${fit.rows}: SVs`);
    }
    console.log(
      `C = ${C}: max |Δweight| ${dw.toExponential(2)}, max |Δbias| ${db.toExponential(2)}`,
    );
    assert.ok(dw <= 1e-12, `weights differ by ${dw}`);
    assert.ok(db <= 1e-12, `biases differ by ${db}`);
  });
}

Deno.test("smo() refuses too few rows and rows unlike labels, and fails past maxIterations", () => {
  assert.throws(() => smo([[1, 2, 3, 4]], [1], SVM_PARAMS), /less than 2 observations/);
  assert.throws(() => smo([[1], [2]], [1], SVM_PARAMS), /same length/);
  const versicolor = data.y.flatMap((y, i) => (y === "Iris-setosa" ? [] : [i]));
  const x = versicolor.map((i) => data.x[i]!);
  const labels = versicolor.map((i) => (data.y[i] === "Iris-versicolor" ? 1 : -1));
  const steps = smo(x, labels, SVM_PARAMS).iterations;
  assert.ok(steps > 1);
  assert.equal(smo(x, labels, { ...SVM_PARAMS, maxIterations: steps }).iterations, steps);
  assert.throws(
    () => smo(x, labels, { ...SVM_PARAMS, maxIterations: steps - 1 }),
    /max iterations reached/,
  );
});

Deno.test("smo() of two rows puts the boundary half way between them", () => {
  const fit = smo([[0, 0], [2, 0]], [1, -1], SVM_PARAMS);
  assert.deepEqual(fit.weights, [-1, 0]);
  assert.equal(fit.bias, 1);
  assert.deepEqual(fit.supportVectors, [0, 1]);
});

Deno.test("smo() is deterministic: the same rows give the same bits", () => {
  for (const C of [0.01, 1]) {
    assert.deepEqual(trainSvm(data, { C }), trainSvm(data, { C }));
  }
});
