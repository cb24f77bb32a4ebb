/**
 * The ledger kind of pipeline records, for push and pull: named here so that the remote
 * verbs do not load the pipeline layer's spec parser (and its npm packages) to read it. The
 * type ties it to the pipeline layer's own constant.
 */
import type { PIPELINE_KIND as Kind } from "../pipeline/pipelines.ts";

/** The `meta:put` kind of a pipeline record. */
export const PIPELINE_KIND: typeof Kind = "pipeline";
