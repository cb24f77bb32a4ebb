/**
 * The iris SVM: scikit-learn's `SVC(kernel='linear', C=…)`, a one-vs-one linear SVM with one
 * binary SVM per pair of classes, each fitted by LIBSVM's SMO (smo.ts) on the same rows in
 * the same order as scikit-learn gives it. Deterministic. Fitting, and model.txt's summary.
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
} from "./iris.ts";
import { smo } from "./smo.ts";

/** The SMO settings: scikit-learn's defaults (`tol=1e-3`, no iteration limit but a safe one). */
export const SVM_PARAMS = {
  C: 1,
  kernel: "linear",
  tol: 1e-3,
  maxIterations: 10_000_000,
} as const satisfies SvmModel["params"];

/** What model.json and model.txt say fitted the pairs. */
export const SVM_SOLVER = "LIBSVM's SMO (second-order working set selection)";

/** Options of `trainSvm()`. */
export interface SvmOptions {
  /** The regularisation parameter, a finite number > 0 (default 1). */
  readonly C?: number;
  /** The SMO's step limit per pair (default `SVM_PARAMS.maxIterations`). */
  readonly maxIterations?: number;
}

/**
 * Fit the one-vs-one SVM: one binary SVM per pair of classes, lower class index first and
 * labelled +1. As LIBSVM (scikit-learn's `svm_group_classes`), a pair's rows are those of
 * its first class, then those of its second, each in file order.
 */
export function trainSvm(data: TrainingSet, options: SvmOptions = {}): SvmModel {
  const params = {
    ...SVM_PARAMS,
    C: options.C ?? SVM_PARAMS.C,
    maxIterations: options.maxIterations ?? SVM_PARAMS.maxIterations,
  };
  const classes = classesOf(data.y);
  const rowsOf = classes.map((c) => data.y.flatMap((label, i) => (label === c ? [i] : [])));
  const pairs: SvmPair[] = [];
  for (let a = 0; a < classes.length; a++) {
    for (let b = a + 1; b < classes.length; b++) {
      const rows = [...rowsOf[a]!, ...rowsOf[b]!];
      let fit;
      try {
        fit = smo(
          rows.map((i) => data.x[i]!),
          rows.map((i) => (data.y[i] === classes[a] ? 1 : -1)),
          params,
        );
      } catch (e) {
        const why = (e as Error).message === "max iterations reached"
          ? `with C=${params.C}, the SMO did not converge within ${params.maxIterations} steps; ` +
            `a smaller "C" in params.json converges`
          : `the SMO says "${(e as Error).message}"`;
        throw new IrisError(
          "TRAINING_FAILED",
          `Cannot fit ${classes[a]} vs ${classes[b]}: ${why}`,
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
    solver: SVM_SOLVER,
    pairs,
    trainingRows: data.y.length,
    trainingAccuracy: 0,
    versions: {},
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
  return `SVC(C=${pythonFloat(p.C)}, kernel='${p.kernel}', tol=${pythonFloat(p.tol)}, ` +
    `decision_function_shape='ovo')\n` +
    `solver: ${model.solver}, one-vs-one over ${model.pairs.length} pairs\n` +
    summaryTail(model);
}
