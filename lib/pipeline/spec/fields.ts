/**
 * The spec's field table: every field tusk reads, under its camelCase name, with the type
 * of its value, and for each object the Pachyderm fields tusk does not implement (refused
 * as unsupported, told apart from a typo). `readFields()` reads it twice: field names first
 * (snake_case renamed, nulls dropped, unknown fields refused), then the types, checked here
 * without a schema library. A value this check does not vouch for goes to `_schema.ts`,
 * the same table as a zod schema, which accepts exactly what this check accepts (and a few
 * objects no JSON text gives) and words the refusal: zod loads only for a spec it refuses.
 */
import { nearest } from "../../store/names.ts";
import { type Checker, isObject, joinPath, Loc } from "./_check.ts";
import { type FieldType, type Scalar, type Table, typedObject } from "./_typed_fields.ts";
import type { Combinator } from "./input.ts";

export type { FieldType, Scalar, Table };

/** What a refusal says each scalar kind should be, and each item of a list kind. */
export const EXPECTED: Readonly<Record<Scalar, string>> = {
  text: "a string",
  flag: "true or false",
  integer: "an integer (a number or a string of digits)",
  strings: "an array of strings",
  integers: "an array of integers",
  env: "an object",
  duration: 'a duration like "600s" or a number of seconds',
  memory: 'a memory quantity like "512Mi" or a number of bytes',
  reprocess: '"until_success" or "every_job"',
};

/** `reprocessSpec`'s values. */
export const REPROCESS = ["until_success", "every_job"] as const;

/** What a refusal says a list of inputs should be. */
export const EXPECTED_INPUTS = "an array of inputs";

function table(
  fields: Record<string, FieldType>,
  options: { readonly unsupported?: readonly string[]; readonly expected?: string } = {},
): Table {
  return {
    fields,
    unsupported: options.unsupported ?? [],
    expected: options.expected ?? "an object",
  };
}

const PIPELINE = table({ name: "text" }, { unsupported: ["project"] });

const TRANSFORM = table({
  cmd: "strings",
  stdin: "strings",
  env: "env",
  image: "text",
  acceptReturnCode: "integers",
  errCmd: "strings",
  datumBatching: "flag",
  workingDir: "text",
}, {
  unsupported: [
    "secrets",
    "imagePullSecrets",
    "errStdin",
    "debug",
    "user",
    "dockerfile",
    "memoryVolume",
  ],
});

const PFS = table({
  repo: "text",
  branch: "text",
  glob: "text",
  name: "text",
  joinOn: "text",
  groupBy: "text",
  outerJoin: "flag",
  emptyFiles: "flag",
  optional: "flag",
}, {
  unsupported: [
    "project",
    "repoType",
    "commit",
    "lazy",
    "s3",
    "trigger",
    "propagationSpec",
    "reference",
  ],
});

const CRON = table(
  { name: "text", spec: "text", repo: "text", overwrite: "flag", start: "text" },
  { unsupported: ["project", "commit"] },
);

const INPUT_FIELDS: Record<string, FieldType> = { pfs: PFS, cron: CRON };
const INPUT = table(INPUT_FIELDS, { expected: "an input object" });
for (const kind of ["cross", "union", "join", "group"]) INPUT_FIELDS[kind] = { list: INPUT };

/** The kinds of input, in the table's order. */
export const INPUT_KINDS = Object.keys(INPUT_FIELDS) as ("pfs" | "cron" | Combinator)[];

/** The table of a whole spec. */
export const SPEC: Table = table({
  pipeline: PIPELINE,
  description: "text",
  transform: TRANSFORM,
  input: INPUT,
  parallelismSpec: table({ constant: "integer" }),
  datumTimeout: "duration",
  jobTimeout: "duration",
  datumTries: "integer",
  resourceLimits: table({ memory: "memory" }, { unsupported: ["cpu", "gpu", "disk"] }),
  outputBranch: "text",
  reprocessSpec: "reprocess",
  salt: "text",
  datumBatching: "flag",
}, {
  unsupported: [
    "tfJob",
    "egress",
    "s3Out",
    "resourceRequests",
    "sidecarResourceLimits",
    "sidecarResourceRequests",
    "service",
    "spout",
    "datumSetSpec",
    "schedulingSpec",
    "podSpec",
    "podPatch",
    "metadata",
    "autoscaling",
    "tolerations",
    "determined",
    "maximumExpectedUptime",
    "update",
    "reprocess",
  ],
});

/** A `pfs` input object, typed. */
export interface RawPfs {
  repo?: string;
  branch?: string;
  glob?: string;
  name?: string;
  joinOn?: string;
  groupBy?: string;
  outerJoin?: boolean;
  emptyFiles?: boolean;
  optional?: boolean;
}

/** A `cron` input object, typed. */
export interface RawCron {
  name?: string;
  spec?: string;
  repo?: string;
  overwrite?: boolean;
  start?: string;
}

/** An input object, typed: one kind set (the parser checks that). */
export type RawInput =
  & { pfs?: RawPfs; cron?: RawCron }
  & { [K in Combinator]?: RawInput[] };

/** A spec object with its fields named and typed as the table says, none required yet. */
export interface RawSpec {
  pipeline?: { name?: string };
  description?: string;
  transform?: {
    cmd?: string[];
    stdin?: string[];
    env?: Record<string, string>;
    image?: string;
    acceptReturnCode?: number[];
    errCmd?: string[];
    datumBatching?: boolean;
    workingDir?: string;
  };
  input?: RawInput;
  parallelismSpec?: { constant?: number };
  datumTimeout?: string | number;
  jobTimeout?: string | number;
  datumTries?: number;
  resourceLimits?: { memory?: string | number };
  outputBranch?: string;
  reprocessSpec?: typeof REPROCESS[number];
  salt?: string;
  datumBatching?: boolean;
}

/**
 * How the types of a normalised spec are checked where `_typed_fields.ts` does not vouch
 * for them: the zod schema's check, which returns the typed spec or refuses it.
 */
export type SchemaCheck = (c: Checker, value: Record<string, unknown>) => RawSpec;

/** Deepest object nesting accepted (about 30 levels of nested inputs). */
const MAX_DEPTH = 64;

/**
 * The fields of a spec object, named and typed by the table: snake_case names become
 * camelCase, null fields are dropped, and an unknown field, one given under two spellings
 * or a value of the wrong type is refused, naming its path as the user spelled it.
 * `schema` checks what `_typed_fields.ts` does not vouch for.
 */
export function readFields(
  c: Checker,
  json: Record<string, unknown>,
  schema: SchemaCheck,
): RawSpec {
  const named = normalise(c, json, SPEC, c.root(), 0) as Record<string, unknown>;
  return (typedObject(SPEC, named) as RawSpec | undefined) ?? schema(c, named);
}

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function normalise(c: Checker, value: unknown, of: Table, loc: Loc, depth: number): unknown {
  if (!isObject(value)) return value;
  if (depth > MAX_DEPTH) {
    c.fail(
      loc,
      "TOO_DEEP",
      `Spec nested too deeply at "${loc.shown}"`,
      `use at most ${MAX_DEPTH} levels`,
    );
  }
  const out: Record<string, unknown> = {};
  const given = new Map<string, string>();
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    const name = camelCase(key);
    const camel = joinPath(loc.camel, name);
    const shown = joinPath(loc.shown, key);
    const here = new Loc(camel, shown, c.spelled);
    const field = Object.hasOwn(of.fields, name) ? of.fields[name]! : undefined;
    if (field === undefined) unknownField(c, of, here, key, name, loc);
    const twin = given.get(name);
    if (twin !== undefined) {
      c.fail(
        here,
        "DUPLICATE_FIELD",
        `Field "${shown}" is given twice, also as "${joinPath(loc.shown, twin)}"`,
        "keep one",
      );
    }
    given.set(name, key);
    if (shown !== camel) c.spelled.set(camel, shown);
    if (typeof field === "string") out[name] = v;
    else if ("list" in field) {
      out[name] = Array.isArray(v)
        ? v.map((x, i) => normalise(c, x, field.list, here.child(i), depth + 1))
        : v;
    } else out[name] = normalise(c, v, field, here, depth + 1);
  }
  return out;
}

function unknownField(
  c: Checker,
  of: Table,
  here: Loc,
  key: string,
  name: string,
  parent: Loc,
): never {
  if (of.unsupported.includes(name)) {
    c.fail(
      here,
      "UNSUPPORTED_FIELD",
      `Unsupported field "${here.shown}"`,
      "tusk does not implement it",
    );
  }
  const near = nearest(key, Object.keys(of.fields));
  if (near !== undefined) {
    c.fail(
      here,
      "UNKNOWN_FIELD",
      `Unknown field "${here.shown}"`,
      `did you mean "${near}"?`,
      { suggestion: near },
    );
  }
  c.fail(
    here,
    "UNKNOWN_FIELD",
    `Unknown field "${here.shown}"`,
    parent.shown === ""
      ? "it is not a pipeline spec field; check its spelling and nesting"
      : `it is not a field of "${parent.shown}"; check its spelling and nesting`,
  );
}
