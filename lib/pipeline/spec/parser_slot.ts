/**
 * Where code that reads stored pipelines finds the spec parser without loading it: loading
 * `parse_spec.ts` loads zod too (tens of milliseconds), which a command that only runs jobs
 * does not need, since each pipeline record keeps its spec parsed. The parser puts itself
 * here when its module loads; `pipelines.ts` asks for it only for a record an older version
 * of tusk wrote, and `loadSpecParserFor()` there loads it for a store that has one.
 */

/** Parses a spec's JSON as `parseSpec()` does (its result typed by the caller). */
export type StoredSpecParser = (json: unknown) => unknown;

let parser: StoredSpecParser | undefined;

/** Called by `parse_spec.ts` as it loads. */
export function setSpecParser(parse: StoredSpecParser): void {
  parser = parse;
}

/** The spec parser, if its module has loaded. */
export function specParser(): StoredSpecParser | undefined {
  return parser;
}
