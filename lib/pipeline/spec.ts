/**
 * Pipeline specs: Pachyderm's JSON as `pachctl` accepts it (camelCase or snake_case field
 * names, integers as numbers or strings), parsed and validated into a `PipelineSpec`.
 * Pure: no I/O. Every refusal is one `SpecError` naming the JSON path of the culprit, as
 * the user spelled it (`input.cross[1].pfs.join_on`). A field tusk does not implement is
 * refused, never ignored; a field set to null is unset, and so is an empty name, branch or
 * repo, as in protojson.
 */
import { z } from "zod";
import { Cron } from "croner";
import { InvalidArgumentError, TuskError } from "../errors.ts";
import { globToRegExp } from "../glob.ts";
import { reservedEnvReason } from "./env.ts";
import { checkBranchName, checkRepoName, nearest } from "../store/names.ts";

/** What a `SpecError` names: the JSON path of the culprit and, when known, the spec file. */
export type SpecErrorData = {
  /** JSON path like `input.cross[1].pfs.glob`; `""` for the whole document. */
  readonly path: string;
  readonly file?: string;
  /** 1-based line of a JSON syntax error. */
  readonly line?: number;
  /** 1-based column of a JSON syntax error. */
  readonly column?: number;
};

/** A pipeline spec is malformed or asks for something tusk does not do (usage error, exit 2). */
export class SpecError extends TuskError {
  declare readonly data: SpecErrorData;

  constructor(message: string, data: SpecErrorData) {
    super("INVALID_SPEC", message, { ...data }, 2);
  }
}

/** A `pfs` input: the files of one branch of a repo, split into datums by a glob. */
export interface PfsInput {
  readonly kind: "pfs";
  /** The folder name under `/pfs/` (defaults to the repo). */
  readonly name: string;
  readonly repo: string;
  readonly branch: string;
  /** Always `/`-rooted (`*` is given back as `/*`). */
  readonly glob: string;
  readonly joinOn?: string;
  readonly groupBy?: string;
  readonly outerJoin: boolean;
  readonly emptyFiles: boolean;
}

/** A `cron` input: a repo that receives a tick file on a schedule. */
export interface CronInput {
  readonly kind: "cron";
  readonly name: string;
  /** A five-field cron pattern, a descriptor like `@daily`, or `@every <duration>`. */
  readonly spec: string;
  /** Defaults to `<pipeline>_<name>`. */
  readonly repo: string;
  readonly overwrite: boolean;
  /** RFC 3339 time, as given. */
  readonly start?: string;
}

/** A `cross`, `union`, `join` or `group` of inputs. */
export interface CombinedInput {
  readonly kind: "cross" | "union" | "join" | "group";
  readonly inputs: readonly Input[];
}

/** One node of a pipeline's input tree. */
export type Input = PfsInput | CronInput | CombinedInput;

/** A validated pipeline spec with every default filled in. */
export interface PipelineSpec {
  readonly name: string;
  readonly description: string;
  readonly transform: {
    /** `["deno", "run", stage, ...args]`: the deno flags tusk ignores are dropped. */
    readonly cmd: readonly string[];
    readonly stdin: readonly string[];
    readonly env: Readonly<Record<string, string>>;
    /** Kept for export; ignored locally. */
    readonly image?: string;
    readonly acceptReturnCode: readonly number[];
    /** `["deno", "run", script, ...args]`, checked like `cmd`. */
    readonly errCmd?: readonly string[];
  };
  /** cmd[2]: the stage script path, relative to the spec file's folder */
  readonly stage: string;
  /** cmd[3..]: the stage arguments (e.g. "/pfs/training/", "/pfs/out/") */
  readonly args: readonly string[];
  readonly input: Input;
  /** `parallelismSpec.constant`; 0 means one worker per core. */
  readonly parallelism: number;
  readonly datumTimeoutMs?: number;
  readonly jobTimeoutMs?: number;
  /** How many times a datum is tried before the job fails (default 3). */
  readonly datumTries: number;
  /** `resourceLimits.memory` in bytes. */
  readonly memoryBytes?: number;
  readonly outputBranch: string;
  readonly reprocess: "until_success" | "every_job";
  readonly salt: string;
  readonly datumBatching: boolean;
  /**
   * The spec as given in Pachyderm's canonical JSON form (for export and hashing):
   * camelCase names, null fields dropped, integers as numbers, durations as seconds
   * (`"90s"`), `datumBatching` under `transform` where Pachyderm reads it. No defaults are
   * added; `parseSpec(raw)` gives the same spec back.
   */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** A cron input's schedule: a fixed interval (`@every 30s`) or a pattern for croner. */
export type CronSchedule =
  | { readonly kind: "every"; readonly everyMs: number }
  | { readonly kind: "pattern"; readonly pattern: string };

/** Options of `parseSpec()` and `parseSpecText()`. */
export interface ParseSpecOptions {
  /** The spec file, named in errors. */
  readonly file?: string;
}

// ---------------------------------------------------------------------------------------
// Supported fields. Anything else is refused; a field Pachyderm has but tusk does not
// implement is told apart from a typo.

type Field = "value" | "map" | { readonly object: () => Shape } | { readonly list: () => Shape };

interface Shape {
  readonly fields: Readonly<Record<string, Field>>;
  /** Pachyderm fields of this object that tusk does not implement. */
  readonly unsupported: readonly string[];
}

const PIPELINE: Shape = { fields: { name: "value" }, unsupported: ["project"] };

const TRANSFORM: Shape = {
  fields: {
    cmd: "value",
    stdin: "value",
    env: "map",
    image: "value",
    acceptReturnCode: "value",
    errCmd: "value",
    datumBatching: "value",
  },
  unsupported: [
    "secrets",
    "imagePullSecrets",
    "errStdin",
    "debug",
    "user",
    "workingDir",
    "dockerfile",
    "memoryVolume",
  ],
};

const PFS: Shape = {
  fields: {
    repo: "value",
    branch: "value",
    glob: "value",
    name: "value",
    joinOn: "value",
    groupBy: "value",
    outerJoin: "value",
    emptyFiles: "value",
  },
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
};

const CRON: Shape = {
  fields: { name: "value", spec: "value", repo: "value", overwrite: "value", start: "value" },
  unsupported: ["project", "commit"],
};

const INPUT: Shape = {
  fields: {
    pfs: { object: () => PFS },
    cron: { object: () => CRON },
    cross: { list: () => INPUT },
    union: { list: () => INPUT },
    join: { list: () => INPUT },
    group: { list: () => INPUT },
  },
  unsupported: [],
};

const SPEC: Shape = {
  fields: {
    pipeline: { object: () => PIPELINE },
    description: "value",
    transform: { object: () => TRANSFORM },
    input: { object: () => INPUT },
    parallelismSpec: { object: () => ({ fields: { constant: "value" }, unsupported: [] }) },
    datumTimeout: "value",
    jobTimeout: "value",
    datumTries: "value",
    resourceLimits: {
      object: () => ({ fields: { memory: "value" }, unsupported: ["cpu", "gpu", "disk"] }),
    },
    outputBranch: "value",
    reprocessSpec: "value",
    salt: "value",
    datumBatching: "value",
  },
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
};

/** Deepest object nesting accepted (about 30 levels of nested inputs). */
const MAX_DEPTH = 64;

// ---------------------------------------------------------------------------------------
// Types of the values, after field names are normalised (zod; every field optional here,
// required ones are checked afterwards so that each gets its own message).

const text = z.string({ error: "a string" });
const flag = z.boolean({ error: "true or false" });
const integer = z.union([
  z.number().int(),
  z.string().regex(/^-?\d+$/).transform(Number),
], { error: "an integer (a number or a string of digits)" });
const strings = z.array(z.string({ error: "a string" }), { error: "an array of strings" });
const durationValue = z.union([z.string(), z.number()], {
  error: 'a duration like "600s" or a number of seconds',
});

interface RawPfs {
  repo?: string | undefined;
  branch?: string | undefined;
  glob?: string | undefined;
  name?: string | undefined;
  joinOn?: string | undefined;
  groupBy?: string | undefined;
  outerJoin?: boolean | undefined;
  emptyFiles?: boolean | undefined;
}

interface RawCron {
  name?: string | undefined;
  spec?: string | undefined;
  repo?: string | undefined;
  overwrite?: boolean | undefined;
  start?: string | undefined;
}

interface RawInput {
  pfs?: RawPfs | undefined;
  cron?: RawCron | undefined;
  cross?: RawInput[] | undefined;
  union?: RawInput[] | undefined;
  join?: RawInput[] | undefined;
  group?: RawInput[] | undefined;
}

const COMBINATORS = ["cross", "union", "join", "group"] as const;
const INPUT_KINDS = ["pfs", "cron", ...COMBINATORS] as const;

const inputList = (): z.ZodType<RawInput[]> =>
  z.array(inputSchema, { error: "an array of inputs" });

const inputSchema: z.ZodType<RawInput> = z.lazy(() =>
  z.object({
    pfs: z.object({
      repo: text.optional(),
      branch: text.optional(),
      glob: text.optional(),
      name: text.optional(),
      joinOn: text.optional(),
      groupBy: text.optional(),
      outerJoin: flag.optional(),
      emptyFiles: flag.optional(),
    }, { error: "an object" }).optional(),
    cron: z.object({
      name: text.optional(),
      spec: text.optional(),
      repo: text.optional(),
      overwrite: flag.optional(),
      start: text.optional(),
    }, { error: "an object" }).optional(),
    cross: inputList().optional(),
    union: inputList().optional(),
    join: inputList().optional(),
    group: inputList().optional(),
  }, { error: "an input object" })
);

const specSchema = z.object({
  pipeline: z.object({ name: text.optional() }, { error: "an object" }).optional(),
  description: text.optional(),
  transform: z.object({
    cmd: strings.optional(),
    stdin: strings.optional(),
    env: z.record(z.string(), z.string({ error: "a string" }), { error: "an object" }).optional(),
    image: text.optional(),
    acceptReturnCode: z.array(integer, { error: "an array of integers" }).optional(),
    errCmd: strings.optional(),
    datumBatching: flag.optional(),
  }, { error: "an object" }).optional(),
  input: inputSchema.optional(),
  parallelismSpec: z.object({ constant: integer.optional() }, { error: "an object" }).optional(),
  datumTimeout: durationValue.optional(),
  jobTimeout: durationValue.optional(),
  datumTries: integer.optional(),
  resourceLimits: z.object({
    memory: z.union([z.string(), z.number()], {
      error: 'a memory quantity like "512Mi" or a number of bytes',
    }).optional(),
  }, { error: "an object" }).optional(),
  outputBranch: text.optional(),
  reprocessSpec: z.enum(["until_success", "every_job"], {
    error: '"until_success" or "every_job"',
  }).optional(),
  salt: text.optional(),
  datumBatching: flag.optional(),
});

type RawSpec = z.output<typeof specSchema>;

// ---------------------------------------------------------------------------------------
// Paths and failures.

function joinPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

/** A place in the spec: its camelCase path and the path as the user spelled it. */
class Loc {
  constructor(
    readonly camel: string,
    readonly shown: string,
    private readonly spelled: ReadonlyMap<string, string>,
  ) {}

  child(key: string | number): Loc {
    const camel = joinPath(this.camel, key);
    return new Loc(camel, this.spelled.get(camel) ?? joinPath(this.shown, key), this.spelled);
  }
}

/** Advice for a value that failed a check, or the checked value. */
type Checked<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly advice: string;
};

class Checker {
  readonly spelled = new Map<string, string>();
  constructor(readonly file: string | undefined) {}

  root(): Loc {
    return new Loc("", "", this.spelled);
  }

  /** Throw `<head> [in "<file>"]: <advice>` naming `loc`. */
  fail(loc: Loc, head: string, advice: string): never {
    throw specError(head, advice, loc.shown, this.file);
  }
}

function specError(head: string, advice: string, path: string, file?: string): SpecError {
  const where = file === undefined ? "" : ` in "${file}"`;
  return new SpecError(
    `${head}${where}: ${advice}`,
    file === undefined ? { path } : { path, file },
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  return String(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

// ---------------------------------------------------------------------------------------
// Step 1: field names to camelCase, nulls dropped, unknown fields refused.

function normalise(c: Checker, value: unknown, shape: Shape, loc: Loc, depth: number): unknown {
  if (!isObject(value)) return value;
  if (depth > MAX_DEPTH) {
    c.fail(loc, `Spec nested too deeply at "${loc.shown}"`, `use at most ${MAX_DEPTH} levels`);
  }
  const out: Record<string, unknown> = {};
  const given = new Map<string, string>();
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    const name = camelCase(key);
    const camel = joinPath(loc.camel, name);
    const shown = joinPath(loc.shown, key);
    const here = new Loc(camel, shown, c.spelled);
    const field = Object.hasOwn(shape.fields, name) ? shape.fields[name] : undefined;
    if (field === undefined) unknownField(c, shape, here, key, name, loc);
    const twin = given.get(name);
    if (twin !== undefined) {
      c.fail(
        here,
        `Field "${shown}" is given twice, also as "${joinPath(loc.shown, twin)}"`,
        "keep one",
      );
    }
    given.set(name, key);
    if (shown !== camel) c.spelled.set(camel, shown);
    if (field === "value" || field === "map") out[name] = v;
    else if ("object" in field) out[name] = normalise(c, v, field.object(), here, depth + 1);
    else if (Array.isArray(v)) {
      const item = field.list();
      out[name] = v.map((x, i) => normalise(c, x, item, here.child(i), depth + 1));
    } else out[name] = v;
  }
  return out;
}

function unknownField(
  c: Checker,
  shape: Shape,
  here: Loc,
  key: string,
  name: string,
  parent: Loc,
): never {
  if (shape.unsupported.includes(name)) {
    c.fail(here, `Unsupported field "${here.shown}"`, "tusk does not implement it");
  }
  const near = nearest(key, Object.keys(shape.fields));
  if (near !== undefined) c.fail(here, `Unknown field "${here.shown}"`, `did you mean "${near}"?`);
  c.fail(
    here,
    `Unknown field "${here.shown}"`,
    parent.shown === ""
      ? "it is not a pipeline spec field; check its spelling and nesting"
      : `it is not a field of "${parent.shown}"; check its spelling and nesting`,
  );
}

// ---------------------------------------------------------------------------------------
// Step 2: value types (zod).

function checkTypes(c: Checker, value: Record<string, unknown>): RawSpec {
  const result = specSchema.safeParse(value);
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
  return c.fail(loc, `Invalid "${loc.shown}"`, `expected ${issue.message}, got ${describe(at)}`);
}

// ---------------------------------------------------------------------------------------
// Step 3: meaning.

const NAME_RULE = 'use letters, digits, "_" and "-", at most 63 characters';

function nameWhy(name: string): string {
  if (name.length === 0) return "it is empty";
  if (name.length > 63) return `it is ${name.length} characters long`;
  return `it contains ${JSON.stringify(name.match(/[^a-zA-Z0-9_-]/)?.[0] ?? "")}`;
}

function checkName(c: Checker, loc: Loc, name: string, what: string, advice = NAME_RULE): void {
  try {
    checkRepoName(name);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    c.fail(loc, `Invalid ${what} "${name}" at "${loc.shown}"`, `${nameWhy(name)}; ${advice}`);
  }
}

function checkBranch(c: Checker, loc: Loc, branch: string): void {
  try {
    checkBranchName(branch);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    const why = /^[a-zA-Z0-9_-]{1,63}$/.test(branch)
      ? "it looks like a commit id"
      : nameWhy(branch);
    c.fail(loc, `Invalid branch name "${branch}" at "${loc.shown}"`, `${why}; ${NAME_RULE}`);
  }
}

/** Deno flags a spec may give between `run` and the script: accepted and dropped. */
const IGNORED_DENO_FLAGS = new Set([
  "-q",
  "--quiet",
  "--no-prompt",
  "--check",
  "--check=all",
  "--no-check",
  "--cached-only",
  "--no-remote",
  "--no-config",
]);

/** Permission, permission-set, unstable and V8 flags: tusk sets these itself. */
const REFUSED_FLAG =
  /^(?:--allow-[a-z-]*|--deny-[a-z-]*|--unstable(?:-[a-z0-9-]*)?|--v8-flags|--permission-set|-[ARWNESPI])(?:=.*)?$/;

const STAGE_EXTENSIONS = /\.(?:ts|js|mts|mjs|tsx)$/;

interface Command {
  /** `["deno", "run", script, ...args]`. */
  readonly cmd: string[];
  readonly script: string;
  readonly args: string[];
  /** Index in the given array of each of `args`. */
  readonly argIndex: number[];
}

function parseCommand(c: Checker, given: readonly string[], loc: Loc): Command {
  if (given[0] !== "deno") {
    c.fail(
      loc.child(0),
      `Invalid command ${describe(given[0])} at "${loc.child(0).shown}"`,
      `stages run on Deno; start "${loc.shown}" with "deno", "run" and the stage script`,
    );
  }
  given.forEach((arg, i) => {
    if (i > 0 && REFUSED_FLAG.test(arg)) {
      const at = loc.child(i);
      c.fail(
        at,
        `Refused flag "${arg}" at "${at.shown}"`,
        "tusk adds the permission flags itself; remove it",
      );
    }
  });
  if (given[1] === undefined) {
    c.fail(
      loc.child(1),
      `Missing "${loc.child(1).shown}"`,
      'follow "deno" with "run", then the stage script',
    );
  }
  if (given[1] !== "run") {
    c.fail(
      loc.child(1),
      `Invalid deno subcommand "${given[1]}" at "${loc.child(1).shown}"`,
      'use "run": ["deno", "run", "stage.ts", …]',
    );
  }
  let i = 2;
  for (; i < given.length && given[i]!.startsWith("-"); i++) {
    if (!IGNORED_DENO_FLAGS.has(given[i]!)) {
      const at = loc.child(i);
      c.fail(
        at,
        `Unsupported deno flag "${given[i]}" at "${at.shown}"`,
        `tusk runs stages with its own flags; remove it (only ${
          [...IGNORED_DENO_FLAGS].map((f) => `"${f}"`).join(", ")
        } are accepted, and ignored)`,
      );
    }
  }
  const at = loc.child(i);
  const script = given[i];
  if (script === undefined || script === "") {
    c.fail(
      at,
      `Missing stage script at "${at.shown}"`,
      'put it after "run": ["deno", "run", "stage.ts", …]',
    );
  }
  const bad = (advice: string): never =>
    c.fail(at, `Invalid stage script "${script}" at "${at.shown}"`, advice);
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(script)) {
    bad("give a local file, relative to the spec file's folder");
  }
  if (script.startsWith("/")) {
    bad('give a path relative to the spec file\'s folder, e.g. "train.ts"');
  }
  const segments = script.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) bad('it must stay inside the spec file\'s folder; remove ".."');
  if (!STAGE_EXTENSIONS.test(script)) bad("use a .ts, .js, .mts, .mjs or .tsx file");
  const stage = segments.join("/");
  const args = given.slice(i + 1);
  return {
    cmd: ["deno", "run", stage, ...args],
    script: stage,
    args,
    argIndex: args.map((_, k) => i + 1 + k),
  };
}

/** Count the capture groups of a glob: `(` not inside `[...]`. */
function captureGroups(glob: string): number {
  let n = 0;
  let inClass = false;
  for (const ch of glob) {
    if (ch === "[") inClass = true;
    else if (ch === "]") inClass = false;
    else if (ch === "(" && !inClass) n++;
  }
  return n;
}

interface Context {
  readonly pipeline: string;
  /** Input name → path of its first use. */
  readonly names: Map<string, string>;
  readonly parent: "cross" | "union" | "join" | "group" | undefined;
  readonly inJoin: boolean;
  readonly inGroup: boolean;
}

function buildInput(c: Checker, raw: RawInput, loc: Loc, ctx: Context): Input {
  const kinds = INPUT_KINDS.filter((k) => raw[k] !== undefined);
  if (kinds.length === 0) {
    c.fail(
      loc,
      `Empty input at "${loc.shown}"`,
      'set one of "pfs", "cron", "cross", "union", "join" or "group"',
    );
  }
  if (kinds.length > 1) {
    c.fail(
      loc,
      `Input at "${loc.shown}" sets both "${kinds[0]}" and "${kinds[1]}"`,
      'set one kind per input object and nest them with "cross" or "union"',
    );
  }
  const kind = kinds[0]!;
  if (kind === "pfs") return buildPfs(c, raw.pfs!, loc.child("pfs"), ctx);
  if (kind === "cron") return buildCron(c, raw.cron!, loc.child("cron"), ctx);
  const list = raw[kind]!;
  const here = loc.child(kind);
  if (list.length === 0) c.fail(here, `Empty "${here.shown}"`, "give it at least one input");
  const child = (names: Map<string, string>): Context => ({
    pipeline: ctx.pipeline,
    names,
    parent: kind,
    inJoin: ctx.inJoin || kind === "join",
    inGroup: ctx.inGroup || kind === "group",
  });
  if (kind !== "union") {
    const inputs = list.map((x, i) => buildInput(c, x, here.child(i), child(ctx.names)));
    return { kind, inputs };
  }
  // As Pachyderm: the inputs of a union may share a name (each datum comes from one of
  // them), but none may clash with a name outside the union.
  const seen: Map<string, string>[] = [];
  const inputs = list.map((x, i) => {
    const names = new Map(ctx.names);
    seen.push(names);
    return buildInput(c, x, here.child(i), child(names));
  });
  for (const names of seen) for (const [n, p] of names) if (!ctx.names.has(n)) ctx.names.set(n, p);
  return { kind, inputs };
}

function claimName(c: Checker, name: string, nameLoc: Loc, inputLoc: Loc, ctx: Context): void {
  checkName(c, nameLoc, name, "input name");
  if (name === "out") {
    c.fail(
      nameLoc,
      `Invalid input name "out" at "${nameLoc.shown}"`,
      '"/pfs/out" is the output folder; set another "name"',
    );
  }
  const first = ctx.names.get(name);
  if (first !== undefined) {
    c.fail(
      inputLoc,
      `Duplicate input name "${name}" at "${inputLoc.shown}"`,
      `"${first}" has it too; give one of them another "name"`,
    );
  }
  ctx.names.set(name, inputLoc.shown);
}

function buildPfs(c: Checker, raw: RawPfs, loc: Loc, ctx: Context): PfsInput {
  if (raw.repo === undefined || raw.repo === "") {
    c.fail(loc.child("repo"), `Missing "${loc.child("repo").shown}"`, "name the repo to read");
  }
  const repo = raw.repo;
  checkName(c, loc.child("repo"), repo, "repo name");
  if (repo === ctx.pipeline) {
    c.fail(
      loc.child("repo"),
      `Input repo "${repo}" at "${loc.child("repo").shown}" is this pipeline's own output repo`,
      "a pipeline cannot read its own output (that is a cycle); read another repo",
    );
  }
  const name = raw.name || repo;
  const nameLoc = loc.child(raw.name ? "name" : "repo");
  if (!raw.name && repo === "out") {
    c.fail(
      nameLoc,
      `Input repo "out" at "${nameLoc.shown}" needs a "name"`,
      '"/pfs/out" is the output folder; set "name"',
    );
  }
  claimName(c, name, nameLoc, loc, ctx);
  const branch = raw.branch || "master";
  checkBranch(c, loc.child("branch"), branch);
  if (raw.glob === undefined || raw.glob === "") {
    c.fail(
      loc.child("glob"),
      `Missing "${loc.child("glob").shown}"`,
      'say which files make a datum, e.g. "/" (the whole repo) or "/*" (one per top-level entry)',
    );
  }
  const glob = raw.glob.startsWith("/") ? raw.glob : "/" + raw.glob;
  try {
    globToRegExp(glob);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    c.fail(loc.child("glob"), `Invalid glob at "${loc.child("glob").shown}"`, err.message);
  }
  const joinOn = keyTemplate(c, raw.joinOn, "joinOn", "join", ctx.inJoin, glob, loc);
  const groupBy = keyTemplate(c, raw.groupBy, "groupBy", "group", ctx.inGroup, glob, loc);
  if (ctx.parent === "join" && joinOn === undefined) {
    c.fail(
      loc.child("joinOn"),
      `Missing "${loc.child("joinOn").shown}"`,
      'each pfs input of a "join" needs "joinOn", e.g. "$1" with a glob like "/(*).csv"',
    );
  }
  if (ctx.parent === "group" && groupBy === undefined) {
    c.fail(
      loc.child("groupBy"),
      `Missing "${loc.child("groupBy").shown}"`,
      'each pfs input of a "group" needs "groupBy", e.g. "$1" with a glob like "/(*)-*.csv"',
    );
  }
  const outerJoin = raw.outerJoin ?? false;
  if (outerJoin && !ctx.inJoin) {
    const at = loc.child("outerJoin");
    c.fail(at, `Unused "${at.shown}"`, 'it only applies to inputs of a "join"; remove it');
  }
  return {
    kind: "pfs",
    name,
    repo,
    branch,
    glob,
    ...(joinOn === undefined ? {} : { joinOn }),
    ...(groupBy === undefined ? {} : { groupBy }),
    outerJoin,
    emptyFiles: raw.emptyFiles ?? false,
  };
}

/** Check a `joinOn` / `groupBy` key: inside its combinator, naming existing capture groups. */
function keyTemplate(
  c: Checker,
  value: string | undefined,
  field: "joinOn" | "groupBy",
  combinator: "join" | "group",
  inside: boolean,
  glob: string,
  loc: Loc,
): string | undefined {
  if (value === undefined || value === "") return undefined;
  const at = loc.child(field);
  if (!inside) {
    c.fail(at, `Unused "${at.shown}"`, `it only applies to inputs of a "${combinator}"; remove it`);
  }
  const groups = captureGroups(glob);
  for (const m of value.matchAll(/\$(?:\{(\d+)\}|(\d+))/g)) {
    const n = Number(m[1] ?? m[2]);
    if (n > groups) {
      c.fail(
        at,
        `Invalid ${field} "${value}" at "${at.shown}"`,
        groups === 0
          ? `glob "${glob}" has no capture group; wrap part of it in parentheses, e.g. "/(*).csv"`
          : `glob "${glob}" has ${groups} capture group${
            groups === 1 ? "" : "s"
          }; use $1 to $${groups}`,
      );
    }
  }
  return value;
}

function buildCron(c: Checker, raw: RawCron, loc: Loc, ctx: Context): CronInput {
  if (ctx.parent === "join" || ctx.parent === "group") {
    c.fail(
      loc,
      `Cron input at "${loc.shown}" cannot be in a "${ctx.parent}"`,
      `it has no "${
        ctx.parent === "join" ? "joinOn" : "groupBy"
      }" key; cross it with the ${ctx.parent} instead`,
    );
  }
  if (raw.name === undefined || raw.name === "") {
    c.fail(
      loc.child("name"),
      `Missing "${loc.child("name").shown}"`,
      'name the cron input, e.g. "tick"',
    );
  }
  const name = raw.name;
  claimName(c, name, loc.child("name"), loc, ctx);
  if (raw.spec === undefined || raw.spec === "") {
    c.fail(
      loc.child("spec"),
      `Missing "${loc.child("spec").shown}"`,
      'give a schedule, e.g. "@every 1m" or "*/10 * * * *"',
    );
  }
  const spec = raw.spec.trim();
  const schedule = cronSchedule(spec);
  if (!schedule.ok) {
    c.fail(
      loc.child("spec"),
      `Invalid cron spec "${raw.spec}" at "${loc.child("spec").shown}"`,
      schedule.advice,
    );
  }
  const repo = raw.repo || `${ctx.pipeline}_${name}`;
  checkName(
    c,
    loc.child("repo"),
    repo,
    "repo name",
    !raw.repo ? `set "repo" (it defaults to "<pipeline>_<name>"); ${NAME_RULE}` : NAME_RULE,
  );
  if (repo === ctx.pipeline) {
    c.fail(
      loc.child("repo"),
      `Cron repo "${repo}" at "${loc.child("repo").shown}" is this pipeline's own output`,
      'set another "repo"',
    );
  }
  if (raw.start) {
    const at = loc.child("start");
    if (
      !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/i.test(raw.start) ||
      Number.isNaN(Date.parse(raw.start))
    ) {
      c.fail(
        at,
        `Invalid start time "${raw.start}" at "${at.shown}"`,
        'use an RFC 3339 time like "2024-01-01T00:00:00Z"',
      );
    }
  }
  return {
    kind: "cron",
    name,
    spec,
    repo,
    overwrite: raw.overwrite ?? false,
    ...(raw.start ? { start: raw.start } : {}),
  };
}

const CRON_DESCRIPTORS = new Set([
  "@yearly",
  "@annually",
  "@monthly",
  "@weekly",
  "@daily",
  "@midnight",
  "@hourly",
]);
const CRON_ADVICE =
  'use five fields (minute hour day-of-month month day-of-week) like "*/10 * * * *", a descriptor like "@hourly", or "@every 30s"';

function cronSchedule(spec: string): Checked<CronSchedule> {
  const s = spec.trim();
  if (s === "@every" || s.startsWith("@every ")) {
    const d = durationMs(s.slice("@every".length).trim());
    if (!d.ok) {
      return {
        ok: false,
        advice: '"@every" needs a duration like "@every 30s", "@every 1m30s" or "@every 2h"',
      };
    }
    if (d.value < 1000) return { ok: false, advice: 'use "@every 1s" or longer' };
    return { ok: true, value: { kind: "every", everyMs: d.value } };
  }
  if (s.startsWith("@") && !CRON_DESCRIPTORS.has(s)) {
    return {
      ok: false,
      advice:
        'use "@every <duration>", "@hourly", "@daily", "@midnight", "@weekly", "@monthly" or "@yearly"',
    };
  }
  if (!s.startsWith("@") && s.split(/\s+/).length !== 5) return { ok: false, advice: CRON_ADVICE };
  try {
    new Cron(s, { paused: true }).stop();
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern:\s*/, "") : String(err);
    return { ok: false, advice: `${why}; ${CRON_ADVICE}` };
  }
  return { ok: true, value: { kind: "pattern", pattern: s } };
}

/** Longest duration accepted: timers in JavaScript overflow past 2^31 − 1 ms. */
const MAX_DURATION_MS = 2 ** 31 - 1;
const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION_ADVICE = 'use a number of seconds or a duration like "600s", "1m30s" or "2h"';

function durationMs(value: string | number): Checked<number> {
  let ms: number;
  if (typeof value === "number") ms = value * 1000;
  else {
    const s = value.trim();
    if (/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(s)) ms = Number(s) * 1000;
    else {
      const part = /(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)/y;
      ms = 0;
      let end = 0;
      for (let m = part.exec(s); m !== null; m = part.exec(s)) {
        ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
        end = part.lastIndex;
      }
      if (s === "" || end !== s.length) return { ok: false, advice: DURATION_ADVICE };
    }
  }
  if (!Number.isFinite(ms) || Math.round(ms) < 1) {
    return { ok: false, advice: `it must be more than zero; ${DURATION_ADVICE}` };
  }
  if (ms > MAX_DURATION_MS) return { ok: false, advice: "use at most 596h" };
  return { ok: true, value: Math.round(ms) };
}

const QUANTITY_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

function memoryBytes(value: string | number): Checked<number> {
  const advice = 'use a number of bytes or a quantity like "64M", "512Mi" or "1Gi"';
  let bytes: number;
  if (typeof value === "number") bytes = value;
  else {
    const m = /^(\d+(?:\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?$/.exec(value.trim());
    if (!m) return { ok: false, advice };
    bytes = Math.ceil(Number(m[1]) * QUANTITY_UNITS[m[2] ?? ""]!);
  }
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    return { ok: false, advice: `it must be at least 1 byte; ${advice}` };
  }
  return { ok: true, value: bytes };
}

const ENV_NAME = /^[^=\0]+$/;

function checkEnv(c: Checker, env: Readonly<Record<string, string>>, loc: Loc): void {
  for (const key of Object.keys(env)) {
    const at = loc.child(key);
    if (!ENV_NAME.test(key)) {
      c.fail(
        at,
        `Invalid environment variable name ${describe(key)} at "${at.shown}"`,
        'use a name without "=" or NUL',
      );
    }
    const why = reservedEnvReason(key);
    if (why !== null) {
      c.fail(at, `Refused environment variable "${key}" at "${at.shown}"`, `${why}; remove it`);
    }
  }
}

/** Refuse `/pfs/<x>` arguments where `<x>` is neither an input name nor `out`. */
function checkPfsArgs(c: Checker, command: Command, loc: Loc, names: ReadonlySet<string>): void {
  command.args.forEach((arg, k) => {
    if (!arg.startsWith("/pfs/")) return;
    const name = arg.slice("/pfs/".length).split("/")[0]!;
    if (name === "" || name === "out" || names.has(name)) return;
    const at = loc.child(command.argIndex[k]!);
    const near = nearest(name, [...names, "out"]);
    c.fail(
      at,
      `Unknown input "${name}" in "${arg}" at "${at.shown}"`,
      near !== undefined
        ? `did you mean "/pfs/${near}/"?`
        : `the inputs are ${
          [...names].map((n) => `"/pfs/${n}/"`).join(", ")
        } and the output "/pfs/out/"`,
    );
  });
}

function secondsText(ms: number): string {
  return `${ms / 1000}s`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function build(c: Checker, json: unknown): PipelineSpec {
  const root = c.root();
  if (!isObject(json)) {
    c.fail(
      root,
      "Invalid pipeline spec",
      `expected a JSON object like {"pipeline": {"name": "model"}, …}, got ${describe(json)}`,
    );
  }
  const normalised = normalise(c, json, SPEC, root, 0) as Record<string, unknown>;
  const raw = checkTypes(c, normalised);

  const nameLoc = root.child("pipeline").child("name");
  const name = raw.pipeline?.name;
  if (name === undefined) {
    c.fail(
      nameLoc,
      `Missing "${nameLoc.shown}"`,
      'name the pipeline, e.g. "pipeline": {"name": "model"}',
    );
  }
  checkName(c, nameLoc, name, "pipeline name");

  const t = raw.transform ?? {};
  const tLoc = root.child("transform");
  const cmdLoc = tLoc.child("cmd");
  if (t.cmd === undefined || t.cmd.length === 0) {
    c.fail(
      cmdLoc,
      `Missing "${cmdLoc.shown}"`,
      'give the stage command, e.g. ["deno", "run", "stage.ts", "/pfs/in/", "/pfs/out/"]',
    );
  }
  const command = parseCommand(c, t.cmd, cmdLoc);
  const errCommand = t.errCmd === undefined || t.errCmd.length === 0
    ? undefined
    : parseCommand(c, t.errCmd, tLoc.child("errCmd"));
  const env = t.env ?? {};
  checkEnv(c, env, tLoc.child("env"));
  const acceptReturnCode = t.acceptReturnCode ?? [];
  acceptReturnCode.forEach((code, i) => {
    if (code < 0 || code > 255) {
      const at = tLoc.child("acceptReturnCode").child(i);
      c.fail(at, `Invalid exit code ${code} at "${at.shown}"`, "use a number from 0 to 255");
    }
  });
  if (raw.datumBatching !== undefined && t.datumBatching !== undefined) {
    const at = root.child("datumBatching");
    c.fail(
      at,
      `"${at.shown}" is given twice, also as "${tLoc.child("datumBatching").shown}"`,
      `keep "${tLoc.child("datumBatching").shown}", where Pachyderm reads it`,
    );
  }
  const datumBatching = t.datumBatching ?? raw.datumBatching ?? false;
  const stdin = t.stdin ?? [];
  if (datumBatching && stdin.length > 0) {
    const at = tLoc.child("stdin");
    c.fail(
      at,
      `"${at.shown}" cannot be used with datum batching`,
      'a batching stage reads its datums on stdin; remove "stdin" or "datumBatching"',
    );
  }

  const inputLoc = root.child("input");
  if (raw.input === undefined) {
    c.fail(
      inputLoc,
      `Missing "${inputLoc.shown}"`,
      'give the pipeline an input, e.g. "input": {"pfs": {"repo": "training", "glob": "/"}}',
    );
  }
  const names = new Map<string, string>();
  const input = buildInput(c, raw.input, inputLoc, {
    pipeline: name,
    names,
    parent: undefined,
    inJoin: false,
    inGroup: false,
  });
  const nameSet = new Set(names.keys());
  checkPfsArgs(c, command, cmdLoc, nameSet);
  if (errCommand) checkPfsArgs(c, errCommand, tLoc.child("errCmd"), nameSet);

  const parallelism = raw.parallelismSpec?.constant ?? 0;
  if (parallelism < 0) {
    const at = root.child("parallelismSpec").child("constant");
    c.fail(
      at,
      `Invalid worker count ${parallelism} at "${at.shown}"`,
      "use 0 (one worker per core) or a positive number",
    );
  }
  const duration = (key: "datumTimeout" | "jobTimeout"): number | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    const d = durationMs(value);
    if (!d.ok) {
      c.fail(
        root.child(key),
        `Invalid duration ${describe(value)} at "${root.child(key).shown}"`,
        d.advice,
      );
    }
    return d.value;
  };
  const datumTimeoutMs = duration("datumTimeout");
  const jobTimeoutMs = duration("jobTimeout");
  const datumTries = raw.datumTries ?? 3;
  if (datumTries < 1) {
    const at = root.child("datumTries");
    c.fail(
      at,
      `Invalid datum tries ${datumTries} at "${at.shown}"`,
      "use 1 or more (1 means no retry)",
    );
  }
  let memory: number | undefined;
  if (raw.resourceLimits?.memory !== undefined) {
    const value = raw.resourceLimits.memory;
    const m = memoryBytes(value);
    const at = root.child("resourceLimits").child("memory");
    if (!m.ok) c.fail(at, `Invalid memory limit ${describe(value)} at "${at.shown}"`, m.advice);
    memory = m.value;
  }
  const outputBranch = raw.outputBranch || "master";
  checkBranch(c, root.child("outputBranch"), outputBranch);

  return deepFreeze({
    name,
    description: raw.description ?? "",
    transform: {
      cmd: command.cmd,
      stdin,
      env,
      ...(t.image === undefined ? {} : { image: t.image }),
      acceptReturnCode,
      ...(errCommand === undefined ? {} : { errCmd: errCommand.cmd }),
    },
    stage: command.script,
    args: command.args,
    input,
    parallelism,
    ...(datumTimeoutMs === undefined ? {} : { datumTimeoutMs }),
    ...(jobTimeoutMs === undefined ? {} : { jobTimeoutMs }),
    datumTries,
    ...(memory === undefined ? {} : { memoryBytes: memory }),
    outputBranch,
    reprocess: raw.reprocessSpec ?? "until_success",
    salt: raw.salt ?? "",
    datumBatching,
    raw: canonical(raw, datumTimeoutMs, jobTimeoutMs),
  });
}

/** The spec in Pachyderm's canonical JSON form (see `PipelineSpec.raw`). */
function canonical(
  raw: RawSpec,
  datumTimeoutMs?: number,
  jobTimeoutMs?: number,
): Record<string, unknown> {
  const out = structuredClone(raw) as Record<string, unknown> & RawSpec;
  if (datumTimeoutMs !== undefined) out.datumTimeout = secondsText(datumTimeoutMs);
  if (jobTimeoutMs !== undefined) out.jobTimeout = secondsText(jobTimeoutMs);
  if (typeof out.resourceLimits?.memory === "number") {
    out.resourceLimits.memory = String(out.resourceLimits.memory);
  }
  if (out.datumBatching !== undefined) {
    out.transform = { ...out.transform, datumBatching: out.datumBatching };
    delete out.datumBatching;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Public functions.

/** Validate a parsed pipeline spec (Pachyderm's JSON) and fill in its defaults. */
export function parseSpec(json: unknown, options: ParseSpecOptions = {}): PipelineSpec {
  return build(new Checker(options.file), json);
}

/** Parse a pipeline spec file's text; a JSON syntax error names the line and column. */
export function parseSpecText(text: string, options: ParseSpecOptions = {}): PipelineSpec {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    const found = jsonSyntaxError(body);
    const offset = found?.offset ?? body.length;
    const before = body.slice(0, offset).split("\n");
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    const file = options.file;
    const where = file === undefined
      ? `at line ${line}, column ${column}`
      : `in "${file}" at line ${line}, column ${column}`;
    throw new SpecError(
      `Invalid JSON ${where}: ${found?.reason ?? "the text is not valid JSON"}; fix the syntax`,
      file === undefined ? { path: "", line, column } : { path: "", file, line, column },
    );
  }
  // JSON.parse keeps the last of two equal keys: one of the two values would be dropped.
  const twice = duplicateKey(body);
  if (twice) {
    const before = body.slice(0, twice.offset).split("\n");
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    const file = options.file;
    const where = file === undefined ? "" : ` in "${file}"`;
    throw new SpecError(
      `Key ${JSON.stringify(twice.key)} is given twice at "${twice.path}"${where} ` +
        `(line ${line}, column ${column}): keep one`,
      file === undefined
        ? { path: twice.path, line, column }
        : { path: twice.path, file, line, column },
    );
  }
  return parseSpec(json, options);
}

/** Every `pfs` and `cron` input of a tree, in order (union members may share a name). */
export function inputRepos(
  input: Input,
): { name: string; repo: string; branch: string; kind: "pfs" | "cron" }[] {
  if (input.kind === "pfs") {
    return [{ name: input.name, repo: input.repo, branch: input.branch, kind: "pfs" }];
  }
  if (input.kind === "cron") {
    return [{ name: input.name, repo: input.repo, branch: "master", kind: "cron" }];
  }
  return input.inputs.flatMap(inputRepos);
}

/**
 * A duration in milliseconds: `"600s"`, `"1m30s"`, `"2h"`, `"1.5s"`, `"500ms"`, or a number
 * of seconds (as a number or a string). It must be more than zero and at most 596h;
 * `path` names the field in the error.
 */
export function parseDuration(text: string | number, path: string): number {
  const d = durationMs(text);
  if (!d.ok) throw specError(`Invalid duration ${describe(text)} at "${path}"`, d.advice, path);
  return d.value;
}

/**
 * A cron input's schedule: `@every <duration>` (at least 1s) as an interval, a five-field
 * pattern or a descriptor (`@hourly`, `@daily`, …) as a pattern croner runs.
 */
export function parseCronSpec(spec: string, path: string): CronSchedule {
  const s = cronSchedule(spec);
  if (!s.ok) throw specError(`Invalid cron spec "${spec}" at "${path}"`, s.advice, path);
  return s.value;
}

// ---------------------------------------------------------------------------------------
// A key given twice in one object of a valid JSON text (JSON.parse keeps the last).

function duplicateKey(s: string): { path: string; key: string; offset: number } | undefined {
  type Found = { path: string; key: string; offset: number };
  let i = 0;
  const ws = () => {
    while (i < s.length && " \t\n\r".includes(s[i]!)) i++;
  };
  const str = (): string => {
    const start = i++;
    while (s[i] !== '"') i += s[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(s.slice(start, i)) as string;
  };
  const value = (path: string, depth: number): Found | undefined => {
    // Deeper than a spec may be: normalise() refuses it by name.
    if (depth > 10_000) return undefined;
    ws();
    const ch = s[i];
    if (ch === "{" || ch === "[") {
      i++;
      ws();
      if (s[i] === (ch === "{" ? "}" : "]")) {
        i++;
        return undefined;
      }
      const seen = new Set<string>();
      for (let n = 0;; n++) {
        let here = `${path}[${n}]`;
        if (ch === "{") {
          ws();
          const offset = i;
          const key = str();
          here = joinPath(path, key);
          if (seen.has(key)) return { path: here, key, offset };
          seen.add(key);
          ws();
          i++; // the ":"
        }
        const found = value(here, depth + 1);
        if (found) return found;
        ws();
        if (s[i++] !== ",") return undefined;
      }
    }
    if (ch === '"') str();
    else while (i < s.length && !",]} \t\n\r".includes(s[i]!)) i++;
    return undefined;
  };
  return value("", 0);
}

// ---------------------------------------------------------------------------------------
// Where a JSON text breaks (JSON.parse does not always say).

function jsonSyntaxError(s: string): { offset: number; reason: string } | undefined {
  let i = 0;
  class Stop {
    constructor(readonly offset: number, readonly reason: string) {}
  }
  const stop = (reason: string, at = i): never => {
    throw new Stop(at, reason);
  };
  const ws = () => {
    while (i < s.length && " \t\n\r".includes(s[i]!)) i++;
  };
  const char = () => (i < s.length ? JSON.stringify(s[i]) : "the end of the text");
  const str = () => {
    i++;
    while (true) {
      if (i >= s.length) stop("a string is not closed");
      const ch = s[i]!;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch < " ") stop("a control character inside a string: escape it");
      if (ch === "\\") {
        const e = s[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) stop("invalid \\u escape");
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else stop("invalid escape in a string");
      } else i++;
    }
  };
  const value = (depth: number): void => {
    if (depth > 10_000) stop("nested too deeply");
    ws();
    const ch = s[i];
    if (ch === "{") {
      i++;
      ws();
      if (s[i] === "}") {
        i++;
        return;
      }
      while (true) {
        ws();
        if (s[i] !== '"') stop(`expected a string key, found ${char()}`);
        str();
        ws();
        if (s[i] !== ":") stop(`expected ":" after the key, found ${char()}`);
        i++;
        value(depth + 1);
        ws();
        if (s[i] === ",") {
          i++;
          continue;
        }
        if (s[i] === "}") {
          i++;
          return;
        }
        stop(`expected "," or "}", found ${char()}`);
      }
    }
    if (ch === "[") {
      i++;
      ws();
      if (s[i] === "]") {
        i++;
        return;
      }
      while (true) {
        value(depth + 1);
        ws();
        if (s[i] === ",") {
          i++;
          continue;
        }
        if (s[i] === "]") {
          i++;
          return;
        }
        stop(`expected "," or "]", found ${char()}`);
      }
    }
    if (ch === '"') return str();
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if (ch !== undefined && /[-0-9]/.test(ch)) {
      if (!number.test(s)) stop("invalid number");
      i = number.lastIndex;
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (s.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    stop(`expected a value, found ${char()}`);
  };
  try {
    value(0);
    ws();
    if (i < s.length) stop(`unexpected ${char()} after the JSON value`);
    return undefined;
  } catch (err) {
    if (err instanceof Stop) return { offset: err.offset, reason: err.reason };
    throw err;
  }
}
