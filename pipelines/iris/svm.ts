/**
 * The iris SVM: scikit-learn's `SVC(kernel='linear', C=…)` as a one-vs-one linear SVM, one
 * binary SMO (ml-svm 2.1.2's, see smo.ts) per pair of classes; a seeded random makes it
 * reproducible. Fitting, and model.txt's summary.
 */
import {
  accuracy,
  classesOf,
  FEATURES,
  IrisError,
  MODEL_SCHEMA,
  predict,
  summaryTail,
  type SvmModel,
  type SvmPair,
  type TrainingSet,
  VERSIONS,
} from "./iris.ts";
import { smo } from "./smo.ts";

/** The SMO settings: tight enough that predictions match scikit-learn's libsvm. */
export const SVM_PARAMS = {
  C: 1,
  kernel: "linear",
  tol: 1e-8,
  maxPasses: 300,
  maxIterations: 100_000,
  alphaTol: 1e-6,
  whitening: false,
} as const satisfies SvmModel["params"];

/** Seed of the SMO's random choice of the second multiplier. */
export const SEED = 42;

/** A seeded uniform generator on [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of `trainSvm()`. */
export interface SvmOptions {
  /** Seed of the SMO's random (default `SEED`). */
  readonly seed?: number;
  /** The regularisation parameter, a finite number > 0 (default 1). */
  readonly C?: number;
}

/** Fit the one-vs-one SVM: one binary SMO per pair of classes, lower class index first. */
export function trainSvm(data: TrainingSet, options: SvmOptions = {}): SvmModel {
  const seed = options.seed ?? SEED;
  const params = { ...SVM_PARAMS, C: options.C ?? SVM_PARAMS.C };
  const classes = classesOf(data.y);
  const random = seededRandom(seed);
  const pairs: SvmPair[] = [];
  for (let a = 0; a < classes.length; a++) {
    for (let b = a + 1; b < classes.length; b++) {
      const rows: number[] = [];
      data.y.forEach((label, i) => {
        if (label === classes[a] || label === classes[b]) rows.push(i);
      });
      let fit;
      try {
        fit = smo(
          rows.map((i) => data.x[i]!),
          rows.map((i) => data.y[i] === classes[a] ? 1 : -1),
          { ...params, random },
        );
      } catch (e) {
        throw new IrisError(
          "TRAINING_FAILED",
          `Cannot fit ${classes[a]} vs ${classes[b]}: the SMO says "${(e as Error).message}"`,
          { classes: [classes[a], classes[b]], C: params.C },
        );
      }
      pairs.push({
        classes: [a, b],
        weights: fit.weights,
        bias: fit.bias,
        supportVectors: fit.supportVectors.map((i) => rows[i]!),
        iterations: fit.iterations,
      });
    }
  }
  const model: SvmModel = {
    schema: MODEL_SCHEMA,
    kind: "svm",
    features: [...FEATURES],
    classes,
    params,
    seed,
    pairs,
    trainingRows: data.y.length,
    trainingAccuracy: 0,
    versions: { "ml-svm": VERSIONS["ml-svm"] },
  };
  return { ...model, trainingAccuracy: accuracy(predict(model, data.x), data.y) };
}

/**
 * A number as Python's `repr` of a float writes it (scikit-learn's reprs show parameters so):
 * shortest round-trip digits, `1.0` for whole numbers, an exponent below 1e-4 or from 1e16.
 */
export function pythonFloat(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  const [mantissa, exp] = value.toExponential().split("e") as [string, string];
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** model.txt: scikit-learn's repr of the equivalent estimator, then classes and accuracy. */
export function svmSummary(model: SvmModel): string {
  const p = model.params;
  return `SVC(C=${pythonFloat(p.C)}, kernel='${p.kernel}', decision_function_shape='ovo', ` +
    `random_state=${model.seed})\n` +
    `solver: ml-svm SMO, one-vs-one over ${model.pairs.length} pairs ` +
    `(tol=${p.tol}, maxPasses=${p.maxPasses}, whitening=${p.whitening})\n` +
    summaryTail(model);
}
