/**
 * The spec parser for commands that start fresh: it checks a spec's field types by hand and
 * loads zod (about a hundred modules) only to word the refusal of a spec it does not vouch
 * for, giving then exactly what `parseSpec()` gives, value or `SpecError`.
 */
import { buildSpec, type ParseSpecOptions, type PipelineSpec } from "./_build.ts";
import type { RawSpec } from "./fields.ts";
import { parseJsonText } from "./json_text.ts";

/** Thrown where the hand check does not vouch for a spec's fields: zod must judge them. */
class NeedsSchema extends Error {}

function needsSchema(): RawSpec {
  throw new NeedsSchema();
}

/** `parseSpec()`, with zod loaded only when the spec's field types need it. */
export async function quickParseSpec(
  json: unknown,
  options: ParseSpecOptions = {},
): Promise<PipelineSpec> {
  try {
    return buildSpec(json, options, needsSchema);
  } catch (err) {
    if (!(err instanceof NeedsSchema)) throw err;
    const { parseSpec } = await import("./parse_spec.ts");
    return parseSpec(json, options);
  }
}

/** `parseSpecText()`, with zod loaded only when the spec's field types need it. */
export async function quickParseSpecText(
  text: string,
  options: ParseSpecOptions = {},
): Promise<PipelineSpec> {
  return await quickParseSpec(parseJsonText(text, options.file), options);
}
