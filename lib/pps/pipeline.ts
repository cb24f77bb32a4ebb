/**
 * `create pipeline` and `update pipeline` (`createPipeline`): the spec parser loads only when
 * it parses, and no listing, lineage or job-running code comes along.
 */
export { createPipeline } from "../commands/pipelines.ts";
