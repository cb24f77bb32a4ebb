/**
 * The type check of a normalised spec without a schema library: the value the zod schema
 * of `_schema.ts` gives for a spec it accepts, built by hand (fresh objects and arrays,
 * each object's fields in the table's order, strings of digits as numbers), or undefined
 * for anything it does not vouch for, which the schema then checks and most often refuses.
 * The schema accepts only a few of those: an environment with a variable named
 * `__proto__` or `constructor`, or made other than JSON text makes objects.
 */
import { isObject } from "./_check.ts";

/** A type of the table: a scalar kind, an object of fields, or a list of such objects. */
export type FieldType = Scalar | Table | { readonly list: Table };

/** The values a field may hold that are not objects of the table. */
export type Scalar =
  | "text"
  | "flag"
  | "integer"
  | "strings"
  | "integers"
  | "env"
  | "duration"
  | "memory"
  | "reprocess";

/** One object of the table. Every field is optional here: the parser checks required ones. */
export interface Table {
  readonly fields: Readonly<Record<string, FieldType>>;
  /** Pachyderm fields tusk does not implement. */
  readonly unsupported: readonly string[];
  /** What a refusal says the value should be. */
  readonly expected: string;
}

/** Returned by a check that does not vouch for a value. */
const NO: unique symbol = Symbol("no");
type Checked = unknown | typeof NO;

/**
 * `value`'s fields typed as `spec` says, as the schema gives them, or undefined when this
 * check does not vouch for them.
 */
export function typedObject(
  spec: Table,
  value: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const out = object(spec, value);
  return out === NO ? undefined : out as Record<string, unknown>;
}

function object(of: Table, value: unknown): Checked {
  if (!isObject(value)) return NO;
  const out: Record<string, unknown> = {};
  // Fields outside the table (the renaming leaves none) are dropped, as the schema does.
  for (const [name, type] of Object.entries(of.fields)) {
    if (!(name in value)) continue;
    const v = typed(type, value[name]);
    if (v === NO) return NO;
    out[name] = v;
  }
  return out;
}

function typed(type: FieldType, v: unknown): Checked {
  switch (type) {
    case "text":
      return typeof v === "string" ? v : NO;
    case "flag":
      return typeof v === "boolean" ? v : NO;
    case "integer":
      return integer(v);
    case "strings":
      return list(v, (x) => typeof x === "string" ? x : NO);
    case "integers":
      return list(v, integer);
    case "env":
      return env(v);
    case "duration":
    case "memory":
      return typeof v === "string" || (typeof v === "number" && Number.isFinite(v)) ? v : NO;
    case "reprocess":
      return v === "until_success" || v === "every_job" ? v : NO;
  }
  if ("list" in type) return list(v, (x) => object(type.list, x));
  return object(type, v);
}

/** A safe integer, or a string of digits as the number it spells (which may not be safe). */
function integer(v: unknown): Checked {
  if (typeof v === "number") return Number.isSafeInteger(v) ? v : NO;
  return typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : NO;
}

function list(v: unknown, item: (x: unknown) => Checked): Checked {
  if (!Array.isArray(v)) return NO;
  const out: unknown[] = [];
  for (let i = 0; i < v.length; i++) {
    if (!Object.hasOwn(v, i)) return NO;
    const x = item(v[i]);
    if (x === NO) return NO;
    out.push(x);
  }
  return out;
}

/** Names to strings, from an object as JSON text gives it. */
function env(v: unknown): Checked {
  if (!isObject(v) || Object.getPrototypeOf(v) !== Object.prototype) return NO;
  const keys = Object.keys(v);
  if (Reflect.ownKeys(v).length !== keys.length) return NO;
  const out: Record<string, string> = {};
  for (const key of keys) {
    const x = v[key];
    if (key === "__proto__" || key === "constructor" || typeof x !== "string") return NO;
    out[key] = x;
  }
  return out;
}
