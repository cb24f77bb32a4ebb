/**
 * The spec's field table: every field tusk reads, under its camelCase name, with the type
 * of its value, and for each object the Pachyderm fields tusk does not implement (refused
 * as unsupported, told apart from a typo). Both checks of `readFields()` read it: field
 * names first (snake_case renamed, nulls dropped, unknown fields refused), then the types.
 */
import { z } from "zod";
import { nearest } from "../../store/names.ts";
import { type Checker, describe, isObject, joinPath, Loc } from "./_check.ts";
import type { Combinator } from "./input.ts";

/** The Pachyderm fields of each object of the table that tusk does not implement. */
const UNSUPPORTED = new WeakMap<z.ZodType, readonly string[]>();

type Optional<S extends Record<string, z.ZodType>> = { [K in keyof S]: z.ZodOptional<S[K]> };

/**
 * One object of the table. Every field is optional here: the parser checks required ones,
 * each with its own message.
 */
function fields<S extends Record<string, z.ZodType>>(
  shape: S,
  options: { readonly unsupported?: readonly string[]; readonly error?: string } = {},
): z.ZodObject<Optional<S>> {
  const optional = Object.fromEntries(
    Object.entries(shape).map(([name, type]) => [name, type.optional()]),
  ) as Optional<S>;
  const object = z.object(optional, { error: options.error ?? "an object" });
  UNSUPPORTED.set(object, options.unsupported ?? []);
  return object;
}

const text = z.string({ error: "a string" });
const flag = z.boolean({ error: "true or false" });
const integer = z.union([
  z.number().int(),
  z.string().regex(/^-?\d+$/).transform(Number),
], { error: "an integer (a number or a string of digits)" });
const strings = z.array(z.string({ error: "a string" }), { error: "an array of strings" });
const duration = z.union([z.string(), z.number()], {
  error: 'a duration like "600s" or a number of seconds',
});

const PIPELINE = fields({ name: text }, { unsupported: ["project"] });

const TRANSFORM = fields({
  cmd: strings,
  stdin: strings,
  env: z.record(z.string(), z.string({ error: "a string" }), { error: "an object" }),
  image: text,
  acceptReturnCode: z.array(integer, { error: "an array of integers" }),
  errCmd: strings,
  datumBatching: flag,
  workingDir: text,
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

const PFS = fields({
  repo: text,
  branch: text,
  glob: text,
  name: text,
  joinOn: text,
  groupBy: text,
  outerJoin: flag,
  emptyFiles: flag,
  optional: flag,
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

const CRON = fields(
  { name: text, spec: text, repo: text, overwrite: flag, start: text },
  { unsupported: ["project", "commit"] },
);

/** The inputs that read a repo, by kind: the leaves of the input tree. */
const LEAF_FIELDS = { pfs: PFS, cron: CRON };

/** A `pfs` input object, typed. */
export type RawPfs = z.output<typeof PFS>;
/** A `cron` input object, typed. */
export type RawCron = z.output<typeof CRON>;
/** An input object, typed: one kind set (the parser checks that). */
export type RawInput =
  & { [K in keyof typeof LEAF_FIELDS]?: z.output<typeof LEAF_FIELDS[K]> | undefined }
  & { [K in Combinator]?: RawInput[] | undefined };

const inputList = z.lazy(() => z.array(INPUT, { error: "an array of inputs" }));

const INPUT_FIELDS = {
  ...LEAF_FIELDS,
  cross: inputList,
  union: inputList,
  join: inputList,
  group: inputList,
};

const INPUT: z.ZodType<RawInput> = fields(INPUT_FIELDS, { error: "an input object" });

/** The kinds of input, in the table's order. */
export const INPUT_KINDS = Object.keys(INPUT_FIELDS) as (keyof typeof INPUT_FIELDS)[];

const SPEC = fields({
  pipeline: PIPELINE,
  description: text,
  transform: TRANSFORM,
  input: INPUT,
  parallelismSpec: fields({ constant: integer }),
  datumTimeout: duration,
  jobTimeout: duration,
  datumTries: integer,
  resourceLimits: fields({
    memory: z.union([z.string(), z.number()], {
      error: 'a memory quantity like "512Mi" or a number of bytes',
    }),
  }, { unsupported: ["cpu", "gpu", "disk"] }),
  outputBranch: text,
  reprocessSpec: z.enum(["until_success", "every_job"], {
    error: '"until_success" or "every_job"',
  }),
  salt: text,
  datumBatching: flag,
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

/** A spec object with its fields named and typed as the table says, none required yet. */
export type RawSpec = z.output<typeof SPEC>;

/** Deepest object nesting accepted (about 30 levels of nested inputs). */
const MAX_DEPTH = 64;

/**
 * The fields of a spec object, named and typed by the table: snake_case names become
 * camelCase, null fields are dropped, and an unknown field, one given under two spellings
 * or a value of the wrong type is refused, naming its path as the user spelled it.
 */
export function readFields(c: Checker, json: Record<string, unknown>): RawSpec {
  return checkTypes(c, normalise(c, json, SPEC, c.root(), 0) as Record<string, unknown>);
}

/** The table object a field holds, itself or as each item of a list, if any. */
function nested(type: z.ZodType): { object?: z.ZodObject; list?: z.ZodObject } {
  const inner = unwrap(type);
  if (inner instanceof z.ZodObject) return { object: inner };
  if (inner instanceof z.ZodArray) {
    const item = unwrap(inner.element as z.ZodType);
    if (item instanceof z.ZodObject) return { list: item };
  }
  return {};
}

function unwrap(type: z.ZodType): z.ZodType {
  let t = type;
  while (t instanceof z.ZodOptional || t instanceof z.ZodLazy) t = t.unwrap() as z.ZodType;
  return t;
}

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function normalise(
  c: Checker,
  value: unknown,
  table: z.ZodObject,
  loc: Loc,
  depth: number,
): unknown {
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
    const field = Object.hasOwn(table.shape, name) ? table.shape[name] as z.ZodType : undefined;
    if (field === undefined) unknownField(c, table, here, key, name, loc);
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
    const { object, list } = nested(field);
    if (object) out[name] = normalise(c, v, object, here, depth + 1);
    else if (list && Array.isArray(v)) {
      out[name] = v.map((x, i) => normalise(c, x, list, here.child(i), depth + 1));
    } else out[name] = v;
  }
  return out;
}

function unknownField(
  c: Checker,
  table: z.ZodObject,
  here: Loc,
  key: string,
  name: string,
  parent: Loc,
): never {
  if (UNSUPPORTED.get(table)?.includes(name)) {
    c.fail(
      here,
      "UNSUPPORTED_FIELD",
      `Unsupported field "${here.shown}"`,
      "tusk does not implement it",
    );
  }
  const near = nearest(key, Object.keys(table.shape));
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

function checkTypes(c: Checker, value: Record<string, unknown>): RawSpec {
  const result = SPEC.safeParse(value);
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
