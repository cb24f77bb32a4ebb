/**
 * smo.ts against the ml-svm package it ports: on every pair of iris classes, in the full set
 * and in each cross-validation fold, at every C the parity tests use and for several seeds,
 * the same weights, bias, support vectors and sweep count, bit for bit; the same failures.
 */
import assert from "node:assert/strict";
import SVM from "ml-svm";
import { classesOf, type TrainingSet } from "../../pipelines/iris/iris.ts";
import { stratifiedFolds } from "../../pipelines/iris/metrics.ts";
import { smo, type SmoOptions } from "../../pipelines/iris/smo.ts";
import { seededRandom, SVM_PARAMS } from "../../pipelines/iris/svm.ts";
import { irisTrainingSet } from "./_helpers.ts";

/** The parts of ml-svm (untyped) the comparison reads. */
interface MlSvm {
  train(features: number[][], labels: number[]): void;
  readonly W: number[];
  readonly b: number;
  readonly iterations: number;
  supportVectors(): number[];
}
type MlSvmConstructor = new (options: Record<string, unknown>) => MlSvm;

const data = await irisTrainingSet();
const folds = stratifiedFolds(data.y)!;

/** The binary problems one one-vs-one fit of `set` solves, in order. */
function pairsOf(set: TrainingSet): { x: number[][]; labels: number[] }[] {
  const classes = classesOf(set.y);
  const pairs = [];
  for (let a = 0; a < classes.length; a++) {
    for (let b = a + 1; b < classes.length; b++) {
      const rows = set.y.flatMap((label, i) =>
        label === classes[a] || label === classes[b] ? [i] : []
      );
      pairs.push({
        x: rows.map((i) => set.x[i]!),
        labels: rows.map((i) => set.y[i] === classes[a] ? 1 : -1),
      });
    }
  }
  return pairs;
}

/** The full set (fold -1) or the training rows of fold `f`. */
function trainingRows(f: number): TrainingSet {
  const keep = data.y.flatMap((_, i) => folds[i] === f ? [] : [i]);
  return { x: keep.map((i) => data.x[i]!), y: keep.map((i) => data.y[i]!) };
}

/** Fit every pair of `set` with both, sharing one random stream each as trainSvm() does. */
function compare(set: TrainingSet, options: Omit<SmoOptions, "random">, seed: number): number {
  const [forPort, forPackage] = [seededRandom(seed), seededRandom(seed)];
  let fits = 0;
  for (const pair of pairsOf(set)) {
    const svm = new (SVM as unknown as MlSvmConstructor)({
      ...SVM_PARAMS,
      ...options,
      random: forPackage,
    });
    svm.train(pair.x, pair.labels);
    const fit = smo(pair.x, pair.labels, { ...options, random: forPort });
    assert.deepEqual(fit, {
      weights: svm.W,
      bias: svm.b,
      supportVectors: svm.supportVectors(),
      iterations: svm.iterations,
    });
    fits++;
  }
  return fits;
}

for (const C of [0.01, 0.1, 1, 10]) {
  Deno.test(`smo() fits every iris pair, whole and in each fold, as ml-svm does at C = ${C}`, () => {
    let fits = 0;
    for (let f = -1; f < 5; f++) fits += compare(trainingRows(f), { ...SVM_PARAMS, C }, 42);
    assert.equal(fits, 18);
  });
}

Deno.test("smo() fits the iris pairs as ml-svm does for seeds 1 to 5", () => {
  for (let seed = 1; seed <= 5; seed++) compare(data, SVM_PARAMS, seed);
});

Deno.test("smo() fails where ml-svm fails: too few rows, and no convergence within maxIterations", () => {
  const options = { ...SVM_PARAMS, random: seededRandom(1) };
  assert.throws(() => smo([[1, 2, 3, 4]], [1], options), /less than 2 observations/);
  const pair = pairsOf(data)[2]!;
  const short = { ...SVM_PARAMS, C: 1000, maxIterations: 40 };
  const svm = new (SVM as unknown as MlSvmConstructor)({ ...short, random: seededRandom(1) });
  assert.throws(() => svm.train(pair.x, pair.labels), /max iterations reached/);
  assert.throws(
    () => smo(pair.x, pair.labels, { ...short, random: seededRandom(1) }),
    /max iterations reached/,
  );
});
