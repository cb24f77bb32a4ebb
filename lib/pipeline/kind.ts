/**
 * The ledger record kind of pipelines, a module of its own so that the job files can name it
 * without importing the pipeline registry (which imports them).
 */
export const PIPELINE_KIND = "pipeline";
