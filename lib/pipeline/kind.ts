/**
 * The ledger record kind of pipelines, a module of its own so that the job files (which the
 * registry imports) and the remote verbs (which must not load the spec parser) can name it
 * without importing the registry.
 */
export const PIPELINE_KIND = "pipeline";
