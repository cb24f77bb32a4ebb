/**
 * The iris LDA: scikit-learn's `LinearDiscriminantAnalysis()` default (solver 'svd', priors
 * from class frequencies, no shrinkage, tol 1e-4) on ml-matrix. Fitting, and model.txt's
 * summary.
 */
import { Matrix, SVD } from "ml-matrix";
import {
  accuracy,
  classesOf,
  FEATURES,
  IrisError,
  type LdaModel,
  MODEL_SCHEMA,
  predict,
  summaryTail,
  type TrainingSet,
  VERSIONS,
} from "./iris.ts";

/** Singular values at or below this (relative for the between-class step) are dropped. */
export const LDA_TOL = 1e-4;

/** Fit LDA as scikit-learn's `_solve_svd`. */
export function trainLda(data: TrainingSet): LdaModel {
  const classes = classesOf(data.y);
  const n = data.x.length;
  const k = classes.length;
  const d = FEATURES.length;
  const groups = classes.map((c) => data.x.filter((_, i) => data.y[i] === c));
  const priors = groups.map((g) => g.length / n);
  const means = groups.map((g) => {
    const m = new Array<number>(d).fill(0);
    for (const row of g) row.forEach((v, j) => (m[j]! += v));
    return m.map((v) => v / g.length);
  });
  const xbar = new Array<number>(d).fill(0);
  means.forEach((m, c) => m.forEach((v, j) => (xbar[j]! += priors[c]! * v)));

  // 1) Within-class centred data, scaled by each feature's within-class std-dev.
  const centred = groups.flatMap((g, c) => g.map((row) => row.map((v, j) => v - means[c]![j]!)));
  const std = new Array<number>(d).fill(0).map((_, j) => {
    let mean = 0;
    for (const row of centred) mean += row[j]!;
    mean /= n;
    let sq = 0;
    for (const row of centred) sq += (row[j]! - mean) ** 2;
    const s = Math.sqrt(sq / n);
    return s === 0 ? 1 : s;
  });
  const within = Math.sqrt(1 / (n - k));
  const scaled = new Matrix(centred.map((row) => row.map((v, j) => (within * v) / std[j]!)));
  const svd1 = new SVD(scaled, { computeLeftSingularVectors: false, autoTranspose: true });
  const s1 = svd1.diagonal;
  const rank1 = s1.filter((s) => s > LDA_TOL).length;
  if (rank1 === 0) {
    throw new IrisError(
      "TRAINING_FAILED",
      "Cannot fit LDA: every row equals its species' mean, so there is no within-class spread",
      { rows: n },
    );
  }
  // scalings[j][r] = V[j][r] / std[j] / S[r]
  const v1 = svd1.rightSingularVectors;
  const scalings1 = new Matrix(d, rank1);
  for (let j = 0; j < d; j++) {
    for (let r = 0; r < rank1; r++) scalings1.set(j, r, v1.get(j, r) / std[j]! / s1[r]!);
  }

  // 2) Between-class: weighted centres in the scaled space, and the directions they span.
  const between = k === 1 ? 1 : 1 / (k - 1);
  const centres = new Matrix(
    means.map((m, c) => m.map((v, j) => Math.sqrt(n * priors[c]! * between) * (v - xbar[j]!))),
  ).mmul(scalings1);
  const svd2 = new SVD(centres, { computeLeftSingularVectors: false, autoTranspose: true });
  const s2 = svd2.diagonal;
  const rank2 = s2.filter((s) => s > LDA_TOL * s2[0]!).length;
  const scalings = scalings1.mmul(svd2.rightSingularVectors.subMatrix(0, rank1 - 1, 0, rank2 - 1));

  // 3) Linear decision functions: coef = (means - xbar) S Sᵀ, intercept from the priors.
  const projected = new Matrix(means.map((m) => m.map((v, j) => v - xbar[j]!))).mmul(scalings);
  const coef = projected.mmul(scalings.transpose());
  const coefRows = coef.to2DArray();
  const intercept = projected.to2DArray().map((row, c) =>
    -0.5 * row.reduce((s, v) => s + v * v, 0) + Math.log(priors[c]!) -
    xbar.reduce((s, v, j) => s + v * coefRows[c]![j]!, 0)
  );

  const model: LdaModel = {
    schema: MODEL_SCHEMA,
    kind: "lda",
    features: [...FEATURES],
    classes,
    priors,
    means,
    coef: coefRows,
    intercept,
    scalings: scalings.to2DArray(),
    trainingRows: n,
    trainingAccuracy: 0,
    versions: { "ml-matrix": VERSIONS["ml-matrix"] },
  };
  return { ...model, trainingAccuracy: accuracy(predict(model, data.x), data.y) };
}

/** model.txt: scikit-learn's repr of the equivalent estimator, then classes and accuracy. */
export function ldaSummary(model: LdaModel): string {
  return `LinearDiscriminantAnalysis(solver='svd')\n` +
    `priors: ${model.priors.map((p) => p.toFixed(4)).join(", ")}\n` +
    summaryTail(model);
}
