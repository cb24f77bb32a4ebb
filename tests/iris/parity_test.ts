/**
 * Parity of the iris models with scikit-learn 1.2.1 (tests/fixtures/reference/sklearn-iris.json):
 * the same predictions on all 150 training rows and on test/1.csv and test/2.csv, the same
 * training accuracy, and (LDA) the same fitted numbers.
 */
import assert from "node:assert/strict";
import { parseAttributes, predict } from "../../pipelines/iris/iris.ts";
import { trainLda } from "../../pipelines/iris/lda.ts";
import { trainSvm } from "../../pipelines/iris/svm.ts";
import {
  DATA,
  irisTrainingSet,
  maxAbsoluteError,
  maxRelativeError,
  REFERENCE,
} from "./_helpers.ts";

const data = await irisTrainingSet();
const svm = trainSvm(data);
const lda = trainLda(data);
const tests = {
  "1": parseAttributes(await Deno.readTextFile(`${DATA}/test/1.csv`), "1.csv"),
  "2": parseAttributes(await Deno.readTextFile(`${DATA}/test/2.csv`), "2.csv"),
};
const TEST_2 = [
  "Iris-versicolor",
  "Iris-virginica",
  "Iris-virginica",
  "Iris-virginica",
  "Iris-setosa",
  "Iris-setosa",
];

Deno.test("the tutorial's iris.csv reads as 150 rows of 3 species", () => {
  assert.equal(data.x.length, 150);
  assert.deepEqual([...new Set(data.y)].sort(), REFERENCE.models.svm.classes);
});

Deno.test("trainSvm() predicts all 150 training rows as scikit-learn's SVC", () => {
  assert.deepEqual(predict(svm, data.x), REFERENCE.models.svm.train_predictions);
});

Deno.test("trainSvm() predicts test/1.csv and test/2.csv as scikit-learn's SVC", () => {
  assert.deepEqual(predict(svm, tests["1"]), REFERENCE.models.svm.test_predictions["1"]);
  assert.deepEqual(predict(svm, tests["2"]), REFERENCE.models.svm.test_predictions["2"]);
  assert.deepEqual(predict(svm, tests["2"]), TEST_2);
});

Deno.test("trainSvm() has scikit-learn's training accuracy (149 of 150)", () => {
  assert.equal(svm.trainingAccuracy, REFERENCE.models.svm.train_accuracy);
  assert.deepEqual(svm.classes, REFERENCE.models.svm.classes);
});

Deno.test("trainSvm() weights and biases equal scikit-learn's coef_ovo and intercept_ovo to 1e-12", () => {
  const ref = REFERENCE.models.svm;
  assert.deepEqual(svm.pairs.map((p) => p.classes), [[0, 1], [0, 2], [1, 2]]);
  const dw = Math.max(...svm.pairs.map((p, k) => maxAbsoluteError(p.weights, ref.coef_ovo[k]!)));
  const db = maxAbsoluteError(svm.pairs.map((p) => p.bias), ref.intercept_ovo);
  console.log(
    `SVM vs scikit-learn: max |Δweight| ${dw.toExponential(2)}, max |Δbias| ${db.toExponential(2)}`,
  );
  assert.ok(dw <= 1e-12, `weights differ by ${dw}`);
  assert.ok(db <= 1e-12, `biases differ by ${db}`);
});

Deno.test("trainSvm() agrees with scikit-learn whatever the order of the rows, not one lucky order", () => {
  const ref = REFERENCE.models.svm;
  let state = 7;
  const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
  for (let shuffle = 1; shuffle <= 10; shuffle++) {
    const order = data.y.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const model = trainSvm({ x: order.map((i) => data.x[i]!), y: order.map((i) => data.y[i]!) });
    assert.notDeepEqual(model.pairs, svm.pairs, `shuffle ${shuffle} fits other numbers`);
    assert.deepEqual(predict(model, data.x), ref.train_predictions, `shuffle ${shuffle}`);
    assert.deepEqual(predict(model, tests["1"]), ref.test_predictions["1"], `shuffle ${shuffle}`);
    assert.deepEqual(predict(model, tests["2"]), ref.test_predictions["2"], `shuffle ${shuffle}`);
  }
});

Deno.test("trainLda() predicts all 150 training rows as scikit-learn's LinearDiscriminantAnalysis", () => {
  assert.deepEqual(predict(lda, data.x), REFERENCE.models.lda.train_predictions);
});

Deno.test("trainLda() predicts test/1.csv and test/2.csv as scikit-learn's LinearDiscriminantAnalysis", () => {
  assert.deepEqual(predict(lda, tests["1"]), REFERENCE.models.lda.test_predictions["1"]);
  assert.deepEqual(predict(lda, tests["2"]), REFERENCE.models.lda.test_predictions["2"]);
  assert.deepEqual(predict(lda, tests["2"]), TEST_2);
});

Deno.test("trainLda() has scikit-learn's training accuracy (147 of 150)", () => {
  assert.equal(lda.trainingAccuracy, REFERENCE.models.lda.train_accuracy);
  assert.deepEqual(lda.classes, REFERENCE.models.lda.classes);
});

Deno.test("trainLda() coef, intercept, means and priors match scikit-learn to 1e-9 relative", () => {
  const ref = REFERENCE.models.lda;
  const errors = {
    coef: maxRelativeError(lda.coef.flat(), ref.coef.flat()),
    intercept: maxRelativeError(lda.intercept, ref.intercept),
    means: maxRelativeError(lda.means.flat(), ref.means.flat()),
    priors: maxRelativeError(lda.priors, ref.priors),
  };
  console.log(
    "LDA vs scikit-learn, max relative error:",
    Object.entries(errors).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(", "),
  );
  for (const [name, error] of Object.entries(errors)) {
    assert.ok(error < 1e-9, `${name} differs by ${error} (relative)`);
  }
});
