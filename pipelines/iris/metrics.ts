/**
 * Model metrics of the iris training stages, as scikit-learn 1.2.1 computes them: accuracy,
 * the folds of `StratifiedKFold(n_splits=5, shuffle=False)`, cross-validated accuracy,
 * per-class precision, recall, F1 and support, and the confusion matrix. Pure functions.
 */
import { accuracy, type TrainingSet } from "./iris.ts";

/** Number of cross-validation folds. */
export const CV_FOLDS = 5;

/** The splitter, as scikit-learn names it. */
export const CV_SPLITTER = `StratifiedKFold(n_splits=${CV_FOLDS}, shuffle=False)`;

/**
 * The test fold of every row under scikit-learn's `StratifiedKFold(k, shuffle=False)`
 * (`_make_test_folds` of 1.2): classes are numbered in order of first appearance; their
 * sorted labels are dealt round-robin to the `k` folds, which gives how many rows of each
 * class every fold tests; then each class's rows, in file order, fill fold 0, 1, … in
 * contiguous blocks of those sizes. Null when every class has fewer than `k` rows
 * (scikit-learn refuses that split).
 */
export function stratifiedFolds(y: readonly string[], k: number = CV_FOLDS): number[] | null {
  const order = new Map<string, number>();
  for (const label of y) if (!order.has(label)) order.set(label, order.size);
  const counts = new Array<number>(order.size).fill(0);
  for (const label of y) counts[order.get(label)!]!++;
  if (counts.every((count) => count < k)) return null;
  // allocation[f][c]: rows of class c that fold f tests (bincount of y_order[f::k]).
  const allocation = Array.from({ length: k }, () => new Array<number>(counts.length).fill(0));
  let position = 0;
  counts.forEach((count, c) => {
    for (let i = 0; i < count; i++, position++) allocation[position % k]![c]!++;
  });
  const fold = counts.map(() => 0);
  const used = counts.map(() => 0);
  return y.map((label) => {
    const c = order.get(label)!;
    while (used[c] === allocation[fold[c]!]![c]) {
      fold[c]!++;
      used[c] = 0;
    }
    used[c]!++;
    return fold[c]!;
  });
}

/** Precision, recall, F1 and support of one class. */
export interface ClassScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

/** Confusion matrix: `matrix[t][p]` counts rows of class `labels[t]` predicted `labels[p]`. */
export interface ConfusionMatrix {
  readonly labels: string[];
  readonly matrix: number[][];
}

/** Cross-validated accuracy: each fold's and their mean; null where no fit was possible. */
export interface CrossValidation {
  readonly splitter: string;
  /** Mean of the folds' accuracies (numpy's order of summation); null if any fold is. */
  readonly accuracy: number | null;
  /** Accuracy on each fold's test rows of a model fitted on the other folds. */
  readonly folds: (number | null)[];
  /** Why `accuracy` is null; absent when it is a number. */
  readonly error?: string;
}

/** The bytes of metrics.json: nested keys, so `cv.accuracy` or `per_class.<class>.f1`. */
export interface Metrics {
  readonly model: string;
  readonly params: Readonly<Record<string, number | string>>;
  readonly rows: number;
  readonly accuracy: number;
  readonly cv: CrossValidation;
  readonly per_class: Record<string, ClassScores>;
  readonly confusion_matrix: ConfusionMatrix;
}

/** The confusion matrix of predictions, rows true, columns predicted, in `labels` order. */
export function confusionMatrix(
  actual: readonly string[],
  predicted: readonly string[],
  labels: readonly string[],
): ConfusionMatrix {
  const index = new Map(labels.map((label, i) => [label, i]));
  const matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  actual.forEach((label, i) => {
    const t = index.get(label);
    const p = index.get(predicted[i]!);
    if (t !== undefined && p !== undefined) matrix[t]![p]!++;
  });
  return { labels: [...labels], matrix };
}

/**
 * Per-class scores from a confusion matrix, as scikit-learn's
 * `precision_recall_fscore_support` (a ratio with a zero denominator is 0).
 */
export function classScores(confusion: ConfusionMatrix): Record<string, ClassScores> {
  const { labels, matrix } = confusion;
  const scores: Record<string, ClassScores> = {};
  labels.forEach((label, c) => {
    const tp = matrix[c]![c]!;
    const support = matrix[c]!.reduce((s, v) => s + v, 0);
    const predicted = matrix.reduce((s, row) => s + row[c]!, 0);
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const denominator = precision + recall;
    const f1 = 2 * precision * recall / (denominator === 0 ? 1 : denominator);
    scores[label] = { precision, recall, f1, support };
  });
  return scores;
}

/**
 * Cross-validate `fit` (a model's training) over the stratified folds of `data`: each
 * fold's rows are predicted by a model fitted on the rest. A fold whose fit throws (too few
 * species left, say) has a null accuracy, and so has the mean, with the reason in `error`.
 */
export function crossValidate(
  data: TrainingSet,
  fit: (train: TrainingSet) => (rows: number[][]) => string[],
): CrossValidation {
  const folds = stratifiedFolds(data.y);
  if (folds === null) {
    return {
      splitter: CV_SPLITTER,
      accuracy: null,
      folds: [],
      error: `every species has fewer than ${CV_FOLDS} rows`,
    };
  }
  const results: (number | null)[] = [];
  let error: string | undefined;
  for (let f = 0; f < CV_FOLDS; f++) {
    const train = { x: [] as number[][], y: [] as string[] };
    const test = { x: [] as number[][], y: [] as string[] };
    folds.forEach((fold, i) => {
      const into = fold === f ? test : train;
      into.x.push(data.x[i]!);
      into.y.push(data.y[i]!);
    });
    try {
      results.push(accuracy(fit(train)(test.x), test.y));
    } catch (e) {
      results.push(null);
      error ??= `fold ${f}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  if (error !== undefined) return { splitter: CV_SPLITTER, accuracy: null, folds: results, error };
  let sum = 0;
  for (const r of results) sum += r!;
  return { splitter: CV_SPLITTER, accuracy: sum / CV_FOLDS, folds: results };
}

/** JSON with objects indented by two spaces and arrays of numbers or strings on one line. */
function pretty(value: unknown, indent: string): string {
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== "object" || v === null)) {
      return `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
    }
    return `[\n${value.map((v) => inner + pretty(v, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  const lines = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`);
  return `{\n${lines.join(",\n")}\n${indent}}`;
}

/**
 * The exact bytes of metrics.json: stable key order, objects indented, each list of numbers
 * (a fold's accuracies, a confusion matrix row) on one line, newline-terminated.
 */
export function encodeMetrics(metrics: Metrics): string {
  return pretty(metrics, "") + "\n";
}
