/**
 * Iris training stage, LDA by default: `train_lda.ts <training folder> <out folder>
 * [<parameters folder>]` (Pachyderm: `/pfs/training/ /pfs/out/ [/pfs/parameters/]`). Writes
 * model.json, model.txt and metrics.json; scikit-learn's `LinearDiscriminantAnalysis()`
 * unless the parameters folder's params.json says otherwise (see train.ts, params.ts).
 */
import { main as train } from "./train.ts";

/** Run the stage on `[trainingDir, outDir, parametersDir?]`; the exit code. */
export function main(args: readonly string[]): Promise<number> {
  return train(args, { stage: "train_lda", model: "lda" });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
