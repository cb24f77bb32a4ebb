/**
 * Iris training stage, SVM: `train_svm.ts <training folder> <out folder>`
 * (Pachyderm: `/pfs/training/ /pfs/out/`). Reads every *.csv in the training folder and
 * writes model.json and model.txt. A one-vs-one linear SVM with ml-svm's SMO, as
 * scikit-learn's `SVC(kernel='linear', C=1.0)`; a seeded random makes it reproducible.
 */
import SVM from "ml-svm";
import {
  accuracy,
  classesOf,
  FEATURES,
  IrisError,
  MODEL_SCHEMA,
  predict,
  readTrainingSet,
  summaryTail,
  type SvmModel,
  type SvmPair,
  type TrainingSet,
  VERSIONS,
  writeModel,
} from "./iris.ts";

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

/** The parts of ml-svm (untyped) the stage uses. */
interface MlSvm {
  train(features: number[][], labels: number[]): void;
  readonly W: number[];
  readonly b: number;
  readonly iterations: number;
  supportVectors(): number[];
}
type MlSvmConstructor = new (options: Record<string, unknown>) => MlSvm;

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

/** Fit the one-vs-one SVM: one binary SMO per pair of classes, lower class index first. */
export function trainSvm(data: TrainingSet, options: { seed?: number } = {}): SvmModel {
  const seed = options.seed ?? SEED;
  const classes = classesOf(data.y);
  const random = seededRandom(seed);
  const pairs: SvmPair[] = [];
  for (let a = 0; a < classes.length; a++) {
    for (let b = a + 1; b < classes.length; b++) {
      const rows: number[] = [];
      data.y.forEach((label, i) => {
        if (label === classes[a] || label === classes[b]) rows.push(i);
      });
      const svm = new (SVM as unknown as MlSvmConstructor)({ ...SVM_PARAMS, random });
      try {
        svm.train(rows.map((i) => data.x[i]!), rows.map((i) => data.y[i] === classes[a] ? 1 : -1));
      } catch (e) {
        throw new IrisError(
          "TRAINING_FAILED",
          `Cannot fit ${classes[a]} vs ${classes[b]}: ml-svm says "${(e as Error).message}"`,
          { classes: [classes[a], classes[b]] },
        );
      }
      pairs.push({
        classes: [a, b],
        weights: [...svm.W],
        bias: svm.b,
        supportVectors: svm.supportVectors().map((i) => rows[i]!),
        iterations: svm.iterations,
      });
    }
  }
  const model: SvmModel = {
    schema: MODEL_SCHEMA,
    kind: "svm",
    features: [...FEATURES],
    classes,
    params: SVM_PARAMS,
    seed,
    pairs,
    trainingRows: data.y.length,
    trainingAccuracy: 0,
    versions: { "ml-svm": VERSIONS["ml-svm"] },
  };
  return { ...model, trainingAccuracy: accuracy(predict(model, data.x), data.y) };
}

/** model.txt: scikit-learn's repr of the equivalent estimator, then classes and accuracy. */
export function svmSummary(model: SvmModel): string {
  const p = model.params;
  return `SVC(C=${p.C.toFixed(1)}, kernel='${p.kernel}', decision_function_shape='ovo', ` +
    `random_state=${model.seed})\n` +
    `solver: ml-svm SMO, one-vs-one over ${model.pairs.length} pairs ` +
    `(tol=${p.tol}, maxPasses=${p.maxPasses}, whitening=${p.whitening})\n` +
    summaryTail(model);
}

/** Run the stage on `[trainingDir, outDir]`. */
export async function main(args: readonly string[]): Promise<number> {
  if (args.length !== 2) {
    console.error("Usage: train_svm.ts <training folder> <out folder>");
    return 2;
  }
  try {
    const model = trainSvm(await readTrainingSet(args[0]!));
    await writeModel(args[1]!, { model, summary: svmSummary(model) });
    console.log(svmSummary(model).trimEnd());
    return 0;
  } catch (e) {
    console.error(`train_svm: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
