/**
 * Pipeline specs: Pachyderm's JSON as `pachctl` accepts it (camelCase or snake_case field
 * names, integers as numbers or strings), parsed and validated into a `PipelineSpec`.
 * Pure: no I/O. Every refusal is one `SpecError` with the rule broken and the JSON path of
 * the culprit, as the user spelled it (`input.cross[1].pfs.join_on`). A field tusk does not
 * implement is refused, never ignored; a field set to null is unset, and so is an empty
 * name, branch or repo, as in protojson.
 *
 * The folder holds the input tree and its walker (`input.ts`), the field table
 * (`fields.ts`) with its type check by hand (`_typed_fields.ts`) and as a zod schema
 * (`_schema.ts`), the units (`units.ts`), the JSON text reader (`json_text.ts`), the rules
 * (`spec_error.ts`), the builder of a spec (`_build.ts`) with its input-tree and command
 * checks beside it, and two parsers: this one, which loads zod with it, and
 * `quick_parse_spec.ts`, which loads zod only for a spec it refuses.
 */
import { buildSpec, type ParseSpecOptions, type PipelineSpec } from "./_build.ts";
import { checkTypes } from "./_schema.ts";
import { parseJsonText } from "./json_text.ts";

export {
  MAX_DATUM_TRIES,
  MAX_PARALLELISM,
  type ParseSpecOptions,
  type PipelineSpec,
} from "./_build.ts";

/** Validate a parsed pipeline spec (Pachyderm's JSON) and fill in its defaults. */
export function parseSpec(json: unknown, options: ParseSpecOptions = {}): PipelineSpec {
  return buildSpec(json, options, checkTypes);
}

/** Parse a pipeline spec file's text; a JSON syntax error names the line and column. */
export function parseSpecText(text: string, options: ParseSpecOptions = {}): PipelineSpec {
  return parseSpec(parseJsonText(text, options.file), options);
}
