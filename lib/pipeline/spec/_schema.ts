/**
 * The field table as a zod schema, and the type check that words a refusal: the first
 * issue zod finds, at its path as the user spelled it. Loaded only for a spec that
 * `_typed_fields.ts` does not vouch for.
 */
import { z } from "zod";
import { type Checker, describe, isObject } from "./_check.ts";
import {
  EXPECTED,
  EXPECTED_INPUTS,
  type FieldType,
  type RawSpec,
  REPROCESS,
  SPEC,
  type Table,
} from "./fields.ts";

const schemas = new Map<Table, z.ZodType>();

function objectSchema(of: Table): z.ZodType {
  let schema = schemas.get(of);
  if (schema === undefined) {
    const shape = Object.fromEntries(
      Object.entries(of.fields).map(([name, type]) => [name, schemaOf(type).optional()]),
    );
    schema = z.object(shape, { error: of.expected });
    schemas.set(of, schema);
  }
  return schema;
}

const integer = z.union([
  z.number().int(),
  z.string().regex(/^-?\d+$/).transform(Number),
], { error: EXPECTED.integer });

function schemaOf(type: FieldType): z.ZodType {
  switch (type) {
    case "text":
      return z.string({ error: EXPECTED.text });
    case "flag":
      return z.boolean({ error: EXPECTED.flag });
    case "integer":
      return integer;
    case "strings":
      return z.array(z.string({ error: EXPECTED.text }), { error: EXPECTED.strings });
    case "integers":
      return z.array(integer, { error: EXPECTED.integers });
    case "env":
      return z.record(z.string(), z.string({ error: EXPECTED.text }), { error: EXPECTED.env });
    case "duration":
      return z.union([z.string(), z.number()], { error: EXPECTED.duration });
    case "memory":
      return z.union([z.string(), z.number()], { error: EXPECTED.memory });
    case "reprocess":
      return z.enum(REPROCESS, { error: EXPECTED.reprocess });
  }
  // Lazy, as a list of inputs is a field of the input object it holds.
  if ("list" in type) {
    return z.lazy(() => z.array(objectSchema(type.list), { error: EXPECTED_INPUTS }));
  }
  return objectSchema(type);
}

/** The spec's schema. */
export const SPEC_SCHEMA = objectSchema(SPEC) as z.ZodType<RawSpec>;

/** The typed fields of a normalised spec, or a `SpecError` naming the first wrong value. */
export function checkTypes(c: Checker, value: Record<string, unknown>): RawSpec {
  const result = SPEC_SCHEMA.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  let loc = c.root();
  let at: unknown = value;
  for (const key of issue.path) {
    const k = typeof key === "number" ? key : String(key);
    loc = loc.child(k);
    at = isObject(at) || Array.isArray(at)
      ? (at as Record<string | number, unknown>)[k]
      : undefined;
  }
  return c.fail(
    loc,
    "WRONG_TYPE",
    `Invalid "${loc.shown}"`,
    `expected ${issue.message}, got ${describe(at)}`,
  );
}
