/**
 * Helpers for the iris stage tests: paths, the scikit-learn reference, temporary folders and
 * running a stage script as a real sandboxed subprocess from the project root.
 */
import { readTrainingSet, type TrainingSet } from "../../pipelines/iris/iris.ts";

/** Absolute path of the project root. */
export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/** The tutorial data: iris.csv and test/{1,2}.csv. */
export const DATA = `${ROOT}/data`;
/** Folder of the stage scripts and specs. */
export const STAGES = `${ROOT}/pipelines/iris`;

/** scikit-learn 1.2.1's results for the tutorial's calls on data/iris.csv. */
export interface SklearnReference {
  readonly models: {
    readonly svm: {
      readonly train_predictions: string[];
      readonly train_accuracy: number;
      readonly test_predictions: Record<string, string[]>;
      readonly classes: string[];
      readonly coef_ovo: number[][];
      readonly intercept_ovo: number[];
    };
    readonly lda: {
      readonly train_predictions: string[];
      readonly train_accuracy: number;
      readonly test_predictions: Record<string, string[]>;
      readonly classes: string[];
      readonly coef: number[][];
      readonly intercept: number[];
      readonly means: number[][];
      readonly priors: number[];
    };
  };
}

/** scikit-learn 1.2.1's predictions for the tutorial's calls (tests/fixtures/reference). */
export const REFERENCE: SklearnReference = JSON.parse(
  await Deno.readTextFile(`${ROOT}/tests/fixtures/reference/sklearn-iris.json`),
);

/** The tutorial's training set, as the training stages read it. */
export function irisTrainingSet(): Promise<TrainingSet> {
  return readTrainingSet(DATA);
}

/** A temporary folder removed when disposed: `await using dir = await tempDir()`. */
export async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "tusk-iris-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** Write files (relative path → text) under `dir`, creating folders. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    const path = `${dir}/${rel}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, text);
  }
}

/** The outcome of one stage process. */
export interface StageResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run `deno run --allow-read=<read…,write> --allow-write=<write> pipelines/iris/<stage>.ts
 * <args…>` from the project root (so the import map applies), with `stdin` if given.
 */
export async function runStage(
  stage: string,
  args: readonly string[],
  options: { read: readonly string[]; write: string; stdin?: string },
): Promise<StageResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--allow-read=${[...options.read, options.write].join(",")}`,
      `--allow-write=${options.write}`,
      `pipelines/iris/${stage}.ts`,
      ...args,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** Largest |a - b| / |b| over matching entries of two equally shaped arrays. */
export function maxRelativeError(actual: readonly number[], expected: readonly number[]): number {
  let worst = 0;
  expected.forEach((e, i) => (worst = Math.max(worst, Math.abs(actual[i]! - e) / Math.abs(e))));
  return worst;
}

/** Largest |a - b| over matching entries of two equally shaped arrays. */
export function maxAbsoluteError(actual: readonly number[], expected: readonly number[]): number {
  let worst = 0;
  expected.forEach((e, i) => (worst = Math.max(worst, Math.abs(actual[i]! - e))));
  return worst;
}
