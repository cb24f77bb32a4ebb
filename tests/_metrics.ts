/**
 * Metrics files for tests, shaped as the iris training stage writes them, and a real store
 * whose branch holds a commit of each, made with `put file`.
 */
import { putFile } from "../lib/commands/put_file.ts";
import { createRepo } from "../lib/commands/repo.ts";
import { Store } from "../lib/store/store.ts";

/** A metrics.json of an SVM with `C` whose training and CV accuracy are `accuracy`, `cv`. */
export function irisMetrics(C: number, accuracy: number, cv: number): string {
  const versicolor = Math.round(cv * 50);
  return JSON.stringify(
    {
      model: "svm",
      params: { C },
      rows: 150,
      accuracy,
      cv: {
        splitter: "StratifiedKFold(n_splits=5, shuffle=False)",
        accuracy: cv,
        folds: [cv, cv, cv, cv, cv],
      },
      per_class: {
        "Iris-setosa": { precision: 1, recall: 1, f1: 1, support: 50 },
        "Iris-versicolor": { precision: 1, recall: cv, f1: cv, support: 50 },
        "Iris-virginica": { precision: cv, recall: 1, f1: cv, support: 50 },
      },
      confusion_matrix: {
        labels: ["Iris-setosa", "Iris-versicolor", "Iris-virginica"],
        matrix: [[50, 0, 0], [0, versicolor, 50 - versicolor], [0, 0, 50]],
      },
    },
    null,
    2,
  ) + "\n";
}

/** Commit `text` as `path` (default /metrics.json) of `ref`; returns the commit id. */
export async function putText(
  store: Store,
  dir: string,
  ref: string,
  text: string | Uint8Array,
  path = "/metrics.json",
): Promise<string> {
  const host = `${dir}/put-${crypto.randomUUID()}`;
  if (typeof text === "string") await Deno.writeTextFile(host, text);
  else await Deno.writeFile(host, text);
  const r = await putFile(store, `${ref}:${path}`, { sources: [host] });
  await Deno.remove(host);
  return r.commit.id;
}

/**
 * A store in `dir` with repo `exp` whose master holds, oldest first, the metrics of `C` = 1,
 * 0.1 and 0.01 (CV accuracy 0.98, 0.95, 0.92). Returns the store and the commit ids.
 */
export async function experimentStore(dir: string): Promise<{ store: Store; ids: string[] }> {
  const store = await Store.init(`${dir}/.tusk`);
  await createRepo(store, "exp");
  const ids: string[] = [];
  for (const [C, acc, cv] of [[1, 0.99, 0.98], [0.1, 0.96, 0.95], [0.01, 0.93, 0.92]] as const) {
    ids.push(await putText(store, dir, "exp@master", irisMetrics(C, acc, cv)));
  }
  return { store, ids };
}
