/**
 * Defaults a parsed spec leaves unset, for the readers that fill them in: here rather than
 * in the parser, so that a reader of pipeline records loads no parser (nor zod).
 */

/** Where a host program starts when the spec gives no `transform.workingDir`. */
export const DEFAULT_WORKING_DIR = "/code";
