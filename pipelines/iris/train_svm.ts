/**
 * Iris training stage, SVM by default: `train_svm.ts <training folder> <out folder>
 * [<parameters folder>]` (Pachyderm: `/pfs/training/ /pfs/out/ [/pfs/parameters/]`). Writes
 * model.json, model.txt and metrics.json; scikit-learn's `SVC(kernel='linear', C=1.0)`
 * unless the parameters folder's params.json says otherwise (see train.ts, params.ts).
 */
import { main as train } from "./train.ts";

/** Run the stage on `[trainingDir, outDir, parametersDir?]`; the exit code. */
export function main(args: readonly string[]): Promise<number> {
  return train(args, { stage: "train_svm", model: "svm" });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
