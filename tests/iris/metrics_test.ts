/**
 * The metrics of the iris stages as scikit-learn 1.2.1 computes them
 * (tests/fixtures/reference/sklearn-folds-and-scores.json): StratifiedKFold's folds,
 * per-class scores with their zero divisions, the confusion matrix, cross-validation when a
 * fold cannot be fitted, and metrics.json's bytes.
 */
import assert from "node:assert/strict";
import { IrisError } from "../../pipelines/iris/iris.ts";
import {
  classScores,
  confusionMatrix,
  crossValidate,
  CV_SPLITTER,
  encodeMetrics,
  type Metrics,
  stratifiedFolds,
} from "../../pipelines/iris/metrics.ts";
import { ROOT } from "./_helpers.ts";

interface FoldsReference {
  readonly cases: { name: string; y: string[]; test_fold: number[] }[];
  readonly scores: {
    y_true: string[];
    y_pred: string[];
    labels: string[];
    confusion_matrix: number[][];
    precision: number[];
    recall: number[];
    f1: number[];
    support: number[];
  };
}

const REFERENCE: FoldsReference = JSON.parse(
  await Deno.readTextFile(`${ROOT}/tests/fixtures/reference/sklearn-folds-and-scores.json`),
);
const IRIS = JSON.parse(
  await Deno.readTextFile(`${ROOT}/tests/fixtures/reference/sklearn-iris-metrics.json`),
);

Deno.test("stratifiedFolds() gives every iris row scikit-learn's StratifiedKFold(5) test fold", () => {
  const y: string[] = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"].flatMap((c) =>
    new Array(50).fill(c)
  );
  assert.deepEqual(stratifiedFolds(y), IRIS.cv.test_fold);
});

for (const c of REFERENCE.cases) {
  Deno.test(`stratifiedFolds() gives scikit-learn's folds for ${c.name}`, () => {
    assert.deepEqual(stratifiedFolds(c.y), c.test_fold);
  });
}

Deno.test("stratifiedFolds() gives null when every class has fewer than 5 rows, as scikit-learn refuses", () => {
  assert.equal(stratifiedFolds(["a", "a", "a", "a", "b", "b", "b", "b"]), null);
  assert.equal(stratifiedFolds([]), null);
});

Deno.test("confusionMatrix() counts rows true by predicted, in the labels' order", () => {
  const s = REFERENCE.scores;
  assert.deepEqual(confusionMatrix(s.y_true, s.y_pred, s.labels), {
    labels: s.labels,
    matrix: s.confusion_matrix,
  });
});

Deno.test("classScores() gives scikit-learn's precision, recall, F1 and support, 0 on a zero division", () => {
  const s = REFERENCE.scores;
  const scores = classScores(confusionMatrix(s.y_true, s.y_pred, s.labels));
  assert.deepEqual(Object.keys(scores), s.labels);
  s.labels.forEach((label, i) => {
    assert.deepEqual(scores[label], {
      precision: s.precision[i],
      recall: s.recall[i],
      f1: s.f1[i],
      support: s.support[i],
    }, label);
  });
});

/** A predictor that always answers the first label of its training rows. */
function firstLabel(train: { y: string[] }): (rows: number[][]) => string[] {
  return (rows) => rows.map(() => train.y[0]!);
}

Deno.test("crossValidate() scores each fold on the rows it holds out and averages the five", () => {
  const y = [...new Array(10).fill("a"), ...new Array(5).fill("b")];
  const x = y.map((_, i) => [i]);
  const seen: number[][] = [];
  const cv = crossValidate({ x, y }, (train) => {
    seen.push(train.x.map((r) => r[0]!));
    return firstLabel(train);
  });
  // Fold f tests rows 2f, 2f+1 (a) and 10+f (b); the rest train it.
  assert.deepEqual(seen[0], [2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14]);
  assert.deepEqual(cv.folds, [2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3]);
  assert.equal(cv.accuracy, (2 / 3 + 2 / 3 + 2 / 3 + 2 / 3 + 2 / 3) / 5);
  assert.equal(cv.splitter, CV_SPLITTER);
  assert.equal(cv.error, undefined);
});

Deno.test("crossValidate() gives a null accuracy naming the fold whose fit fails", () => {
  const y = [...new Array(5).fill("a"), "b"];
  const cv = crossValidate({ x: y.map(() => [0]), y }, (train) => {
    if (new Set(train.y).size < 2) {
      throw new IrisError("NO_TRAINING_DATA", "Cannot train on 1 species");
    }
    return firstLabel(train);
  });
  assert.equal(cv.accuracy, null);
  assert.deepEqual(cv.folds, [null, 1, 1, 1, 1]);
  assert.match(cv.error!, /^fold 0: Cannot train on 1 species/);
});

Deno.test("crossValidate() gives a null accuracy, and says why, when every class has fewer than 5 rows", () => {
  const y = ["a", "a", "b", "b"];
  const cv = crossValidate({ x: y.map(() => [0]), y }, firstLabel);
  assert.deepEqual(cv, {
    splitter: CV_SPLITTER,
    accuracy: null,
    folds: [],
    error: "every species has fewer than 5 rows",
  });
});

Deno.test("encodeMetrics() writes nested objects, lists of numbers on one line, and reads back equal", () => {
  const metrics: Metrics = {
    model: "svm",
    params: { C: 0.5 },
    rows: 3,
    accuracy: 2 / 3,
    cv: { splitter: CV_SPLITTER, accuracy: null, folds: [], error: "why" },
    per_class: { a: { precision: 1, recall: 0.5, f1: 2 / 3, support: 2 } },
    confusion_matrix: { labels: ["a", "b"], matrix: [[1, 1], [0, 1]] },
  };
  const text = encodeMetrics(metrics);
  assert.deepEqual(JSON.parse(text), metrics);
  assert.ok(text.endsWith("}\n"));
  assert.match(text, /^ {4}"folds": \[\],$/m);
  assert.match(text, /^ {4}"labels": \["a", "b"\],$/m);
  assert.match(text, /^ {6}\[1, 1\],\n {6}\[0, 1\]\n {4}\]$/m);
  assert.match(text, /^ {2}"per_class": \{\n {4}"a": \{\n {6}"precision": 1,$/m);
  assert.equal(encodeMetrics({ ...metrics, params: {} }).includes(`"params": {},`), true);
});
