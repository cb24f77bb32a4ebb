/**
 * The iris training stage, run as train_svm.ts or train_lda.ts:
 * `<training folder> <out folder> [<parameters folder>]` (Pachyderm: `/pfs/training/
 * /pfs/out/ /pfs/parameters/`). Reads every *.csv of the training folder and the optional
 * params.json, fits the kind of model params.json names (the stage's own by default) with
 * its parameters, and writes model.json, model.txt and metrics.json.
 */
import { type Model, predict, readTrainingSet, type TrainingSet, writeModel } from "./iris.ts";
import { ldaSummary, trainLda } from "./lda.ts";
import {
  classScores,
  confusionMatrix,
  crossValidate,
  encodeMetrics,
  type Metrics,
} from "./metrics.ts";
import {
  type ModelKind,
  PARAMS_FILE,
  readParams,
  settingsOf,
  type TrainSettings,
} from "./params.ts";
import { svmSummary, trainSvm } from "./svm.ts";

/** Fit the model `settings` name on `data`. */
export function fit(data: TrainingSet, settings: TrainSettings): Model {
  return settings.model === "svm" ? trainSvm(data, { C: settings.C }) : trainLda(data);
}

/** model.txt for a model of either kind. */
export function summaryOf(model: Model): string {
  return model.kind === "svm" ? svmSummary(model) : ldaSummary(model);
}

/**
 * The metrics of `model`, fitted on `data` with `settings`: on the training rows, and
 * cross-validated by fitting the same settings on each fold's other rows.
 */
export function measure(data: TrainingSet, settings: TrainSettings, model: Model): Metrics {
  const confusion = confusionMatrix(data.y, predict(model, data.x), model.classes);
  return {
    model: settings.model,
    // The fit's settings: the SVM's C; the LDA has none of its own, so its kind.
    params: settings.model === "svm" ? { C: settings.C } : { model: "lda" },
    rows: data.y.length,
    accuracy: model.trainingAccuracy,
    cv: crossValidate(data, (rows) => {
      const foldModel = fit(rows, settings);
      return (x) => predict(foldModel, x);
    }),
    per_class: classScores(confusion),
    confusion_matrix: confusion,
  };
}

/** What one training run makes. */
export interface Trained {
  readonly model: Model;
  readonly summary: string;
  readonly metrics: Metrics;
}

/**
 * Train on the training folder with the parameters folder's params.json (if a folder is
 * given) over the defaults of a stage of kind `model`.
 */
export async function train(
  folders: { readonly training: string; readonly parameters?: string | undefined },
  model: ModelKind,
): Promise<Trained> {
  const params = folders.parameters === undefined ? {} : await readParams(folders.parameters);
  const settings = settingsOf(params, model);
  const data = await readTrainingSet(folders.training);
  const fitted = fit(data, settings);
  return { model: fitted, summary: summaryOf(fitted), metrics: measure(data, settings, fitted) };
}

/** Write model.json, model.txt and metrics.json into `outDir`. */
export async function writeTrained(outDir: string, trained: Trained): Promise<void> {
  await writeModel(outDir, { model: trained.model, summary: trained.summary });
  await Deno.writeTextFile(`${outDir}/metrics.json`, encodeMetrics(trained.metrics));
}

/** Which entry point runs the stage: its name (for messages) and its own kind of model. */
export interface StageOptions {
  readonly stage: string;
  readonly model: ModelKind;
}

/** Run the stage on `[trainingDir, outDir, parametersDir?]`; the exit code. */
export async function main(args: readonly string[], options: StageOptions): Promise<number> {
  if (args.length !== 2 && args.length !== 3) {
    console.error(
      `Usage: ${options.stage}.ts <training folder> <out folder> [<parameters folder>]\n` +
        `  The parameters folder may hold ${PARAMS_FILE}, e.g. {"C": 0.1} or {"model": "lda"}.`,
    );
    return 2;
  }
  try {
    const trained = await train({ training: args[0]!, parameters: args[2] }, options.model);
    await writeTrained(args[1]!, trained);
    const cv = trained.metrics.cv;
    console.log(
      trained.summary.trimEnd() + "\n" +
        (cv.accuracy === null
          ? `cross-validated accuracy: none (${cv.error})`
          : `cross-validated accuracy: ${cv.accuracy.toFixed(4)} (${cv.splitter})`),
    );
    return 0;
  } catch (e) {
    console.error(`${options.stage}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
