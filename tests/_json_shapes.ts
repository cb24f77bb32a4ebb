/**
 * The `--json` shapes, as one table of data: which command prints which shape. Two tests
 * read it: `tests/e2e/json_shapes_test.ts` runs every command here and checks its output
 * against its shape, and `tests/docs/json_doc_test.ts` checks that `docs/json.md` documents
 * exactly these shapes, so the documentation cannot drift from what the first test pins.
 */
import assert from "node:assert/strict";

// ---- a tiny shape language: "string", "number", "boolean", nullable scalars, enums of
// literals, nullable shapes, arrays, free-form objects, and records whose keys ending in
// "?" are optional.

/** A JSON scalar type, or one of them or null. */
export type Scalar = "string" | "number" | "boolean" | "string|null" | "number|null";

/** One of a list of literal values. */
export class OneOf {
  constructor(readonly values: readonly (string | boolean)[]) {}
}

/** An array whose every item has the shape `item`. */
export class ArrayOf {
  constructor(readonly item: Shape) {}
}

/** `shape` or null. */
export class Nullable {
  constructor(readonly shape: Shape) {}
}

/** A shape named before it is defined (a recursive one). */
export class Lazy {
  constructor(readonly get: () => Shape) {}
}

/** Any JSON object (a pipeline spec as given). */
export class AnyObject {}

/** An object whose keys are free (metric names) and whose every value has the shape `value`. */
export class RecordOf {
  constructor(readonly value: Shape) {}
}

/** A record's keys map to shapes; a key ending in "?" may be absent. */
export type Fields = { readonly [key: string]: Shape };

/** The shape of a JSON value. */
export type Shape = Scalar | OneOf | ArrayOf | Nullable | Lazy | AnyObject | RecordOf | Fields;

/** One of these literal values. */
export const oneOf = (...values: (string | boolean)[]): OneOf => new OneOf(values);
/** An array of `item`. */
export const arrayOf = (item: Shape): ArrayOf => new ArrayOf(item);
/** `shape` or null. */
export const nullable = (shape: Shape): Nullable => new Nullable(shape);
/** An object of free keys, each value of `value`. */
export const recordOf = (value: Shape): RecordOf => new RecordOf(value);

const HASH = "string";
const TIME = "string";

/** Assert that `value` has `shape`; `path` names it in failures. */
export function checkShape(value: unknown, shape: Shape, path: string): void {
  if (shape instanceof Lazy) return checkShape(value, shape.get(), path);
  if (shape instanceof Nullable) {
    if (value !== null) checkShape(value, shape.shape, path);
    return;
  }
  if (typeof shape === "string") {
    const types = shape.split("|");
    const actual = value === null ? "null" : typeof value;
    assert.ok(types.includes(actual), `${path}: expected ${shape}, got ${JSON.stringify(value)}`);
    if (typeof value === "string" && (path.endsWith(".created") || path.endsWith(".time"))) {
      assert.ok(!Number.isNaN(Date.parse(value)), `${path}: not a time: ${value}`);
    }
    return;
  }
  if (shape instanceof OneOf) {
    assert.ok(
      (shape.values as readonly unknown[]).includes(value),
      `${path}: ${JSON.stringify(value)} not in ${shape.values}`,
    );
    return;
  }
  if (shape instanceof ArrayOf) {
    assert.ok(Array.isArray(value), `${path}: expected an array, got ${JSON.stringify(value)}`);
    value.forEach((v, i) => checkShape(v, shape.item, `${path}[${i}]`));
    return;
  }
  assert.ok(
    typeof value === "object" && value !== null && !Array.isArray(value),
    `${path}: expected an object, got ${JSON.stringify(value)}`,
  );
  if (shape instanceof AnyObject) return;
  if (shape instanceof RecordOf) {
    for (const [k, v] of Object.entries(value)) checkShape(v, shape.value, `${path}[${k}]`);
    return;
  }
  const obj = value as Record<string, unknown>;
  const fields = shape as Fields;
  const known = new Set<string>();
  for (const [spec, sub] of Object.entries(fields)) {
    const optional = spec.endsWith("?");
    const key = optional ? spec.slice(0, -1) : spec;
    known.add(key);
    if (!Object.hasOwn(obj, key)) {
      assert.ok(optional, `${path}: missing key "${key}" in ${JSON.stringify(obj)}`);
      continue;
    }
    checkShape(obj[key], sub, `${path}.${key}`);
  }
  for (const key of Object.keys(obj)) {
    assert.ok(
      known.has(key),
      `${path}: unexpected key "${key}" (add it to the shape and docs/json.md)`,
    );
  }
}

// ---- the shapes, as docs/json.md documents them.

const REPO = {
  name: "string",
  created: TIME,
  description: "string",
  size: "number|null",
  branches: arrayOf({ name: "string", head: "string|null" }),
  "damaged?": "string",
};
const FILE = { path: "string", type: oneOf("file", "dir"), size: "number", hash: HASH };
const DIFF = {
  path: "string",
  change: oneOf("added", "removed", "modified"),
  "oldSize?": "number",
  "newSize?": "number",
};
const PROGRAM_RAN = { path: "string", realPath: "string", version: "string|null", sha256: HASH };
const PROGRAM = { name: "string", ...PROGRAM_RAN };
const PROVENANCE = {
  inputs: arrayOf({ repo: "string", commit: "string" }),
  "spec?": HASH,
  "code?": HASH,
  "program?": PROGRAM_RAN,
  "pipeline?": "string",
  "job?": "string",
};
const COMMIT = {
  id: "string",
  repo: "string",
  branch: "string",
  parent: "string|null",
  tree: HASH,
  size: "number",
  time: TIME,
  message: "string",
  origin: oneOf("user", "revert", "pipeline"),
  "revertOf?": "string",
  "provenance?": PROVENANCE,
  heads: arrayOf("string"),
};
const PROVENANCE_NODE: Shape = {
  repo: "string",
  commit: "string",
  "pipeline?": "string",
  "job?": "string",
  "spec?": HASH,
  "code?": HASH,
  "program?": PROGRAM_RAN,
  inputs: arrayOf(new Lazy(() => PROVENANCE_NODE)),
};
const INSPECT_COMMIT = { ...COMMIT, "upstream?": arrayOf(PROVENANCE_NODE) };
const BRANCH = { repo: "string", name: "string", head: "string|null", created: TIME };
const JOB_STATE = oneOf(
  "CREATED",
  "STARTING",
  "RUNNING",
  "FINISHING",
  "SUCCESS",
  "FAILURE",
  "KILLED",
  "UNRUNNABLE",
);
const PIPELINE = {
  name: "string",
  version: "number",
  input: "string",
  created: TIME,
  updated: TIME,
  state: oneOf("running", "paused"),
  lastJob: "string|null",
  lastJobState: nullable(JOB_STATE),
  description: "string",
  specHash: HASH,
  codeHash: HASH,
  outputBranch: "string",
  cron: arrayOf({ name: "string", spec: "string", repo: "string" }),
  "image?": "string",
  "program?": PROGRAM,
  "errProgram?": PROGRAM,
  "workingDir?": "string",
};
const INSPECT_PIPELINE = { ...PIPELINE, spec: new AnyObject(), modules: arrayOf("string") };
const DATUM = {
  id: "string",
  hash: HASH,
  state: oneOf("STARTING", "SUCCESS", "FAILED", "SKIPPED", "RECOVERED"),
  inputs: arrayOf({ name: "string", repo: "string", commit: "string", path: "string" }),
  tries: "number",
  durationMs: "number",
  exitCode: "number|null",
  "message?": "string",
  "logs?": HASH,
  "outputTree?": HASH,
  "outputSize?": "number",
  "reusedFrom?": "string",
};
const INSPECT_DATUM = { ...DATUM, job: "string", pipeline: "string" };
const JOB = {
  id: "string",
  pipeline: "string",
  "pipelineSeq?": "number",
  version: "number",
  specHash: HASH,
  codeHash: HASH,
  inputs: arrayOf({ name: "string", repo: "string", branch: "string", commit: "string|null" }),
  trigger: HASH,
  state: JOB_STATE,
  "reason?": "string",
  created: TIME,
  "started?": TIME,
  "finished?": TIME,
  restart: "number",
  progress: {
    total: "number",
    processed: "number",
    skipped: "number",
    failed: "number",
    recovered: "number",
  },
  "outputCommit?": "string",
  datums: arrayOf(DATUM),
  "rerunOf?": "string",
  "reprocess?": "boolean",
  "program?": PROGRAM,
};
const LOG_LINE = {
  job: "string",
  pipeline: "string",
  datum: "string",
  attempt: "number",
  stream: oneOf("stdout", "stderr"),
  line: "string",
};
const PLAN = {
  trigger: "string|null",
  rows: arrayOf({
    datum: "string",
    action: oneOf("run", "skip"),
    why: "string",
    inputs: arrayOf("string"),
  }),
};
const LINEAGE: Shape = {
  repo: "string",
  commit: "string",
  path: "string",
  origin: oneOf("user", "revert", "pipeline"),
  "pipeline?": "string",
  "job?": "string",
  "datum?": "string",
  "code?": HASH,
  "spec?": HASH,
  "program?": PROGRAM_RAN,
  inputs: arrayOf({
    name: "string",
    repo: "string",
    commit: "string",
    path: "string",
    files: arrayOf("string"),
  }),
  upstream: arrayOf(new Lazy(() => LINEAGE)),
};
const VERIFY = {
  ok: oneOf(true),
  entries: "number",
  commits: "number",
  trees: "number",
  files: "number",
  objects: "number",
};
const GC = {
  objects: "number",
  bytes: "number",
  dryRun: "boolean",
  kept: "number",
  stale: "number",
};
const DOCTOR = {
  deno: "string",
  store: "string",
  health: "string",
  sandbox: oneOf("bwrap", "deno"),
  sandboxReason: "string",
  processLimit: "string",
  programs: arrayOf({
    name: "string",
    path: "string",
    version: "string|null",
    pipelines: arrayOf("string"),
    present: "boolean",
    "changed?": "string|null",
    "problem?": "string",
  }),
  scheduler: "string",
  cron: arrayOf({ pipeline: "string", input: "string", spec: "string", next: "string|null" }),
  problems: arrayOf("string"),
};
const EXPORT = {
  dir: "string",
  image: "string",
  readme: "string",
  repos: arrayOf("string"),
  upstream: arrayOf("string"),
  pipelines: arrayOf({
    name: "string",
    specFile: "string",
    "stageFile?": "string",
    "errStageFile?": "string",
    "codeRepo?": "string",
    "codeDir?": "string",
    "dockerfile?": "string",
    "image?": "string",
    dropped: arrayOf("string"),
    spec: new AnyObject(),
  }),
};

const METRICS_ROW = {
  repo: "string",
  commit: "string",
  time: TIME,
  path: "string",
  inputs: arrayOf({ repo: "string", commit: "string" }),
  params: new AnyObject(),
  metrics: recordOf("number"),
  "error?": "string",
};
const METRICS_SIDE = {
  repo: "string",
  commit: "string|null",
  path: "string",
  found: "boolean",
  params: new AnyObject(),
  "error?": "string",
};
const METRICS_DIFF = {
  old: METRICS_SIDE,
  new: METRICS_SIDE,
  metrics: arrayOf({
    name: "string",
    old: "number|null",
    new: "number|null",
    change: "number|null",
    state: oneOf("added", "removed", "changed", "unchanged"),
  }),
};

const REMOTE = { name: "string", url: "string", kind: oneOf("folder", "s3") };
const TRANSFER = {
  remote: "string",
  url: "string",
  upToDate: "boolean",
  branches: arrayOf({ repo: "string", branch: "string", from: "string|null", to: "string|null" }),
  pipelines: arrayOf({ name: "string", version: "number" }),
  jobs: "number",
  objects: "number",
  bytes: "number",
  packs: "number",
  requests: "number",
  entry: "number",
} as const;
const CLONE = { ...TRANSFER, store: "string" } as const;
const REMOTE_VERIFY = {
  ok: oneOf(true),
  url: "string",
  entries: "number",
  packs: "number",
  objects: "number",
  bytes: "number",
};

/** What one command prints with `--json`. */
export interface JsonOutput {
  /** The command in the 2.x grammar, without its arguments. */
  readonly command: string;
  readonly shape: Shape;
  /** True when the command prints one JSON value per line, each of `shape`. */
  readonly lines?: boolean;
}

/** Every command that takes `--json`, with the shape it prints. */
export const JSON_OUTPUTS: readonly JsonOutput[] = [
  { command: "list repo", shape: arrayOf(REPO) },
  { command: "inspect repo", shape: REPO },
  { command: "list file", shape: arrayOf(FILE) },
  { command: "glob file", shape: arrayOf(FILE) },
  { command: "diff file", shape: arrayOf(DIFF) },
  { command: "list commit", shape: arrayOf(COMMIT) },
  { command: "inspect commit", shape: INSPECT_COMMIT },
  { command: "list branch", shape: arrayOf(BRANCH) },
  { command: "list pipeline", shape: arrayOf(PIPELINE) },
  { command: "inspect pipeline", shape: INSPECT_PIPELINE },
  { command: "list job", shape: arrayOf(JOB) },
  { command: "inspect job", shape: JOB },
  { command: "wait job", shape: JOB },
  { command: "wait commit", shape: arrayOf(JOB) },
  { command: "list datum", shape: arrayOf(DATUM) },
  { command: "inspect datum", shape: INSPECT_DATUM },
  { command: "logs", shape: LOG_LINE, lines: true },
  { command: "plan", shape: PLAN },
  { command: "lineage", shape: LINEAGE },
  { command: "verify", shape: VERIFY },
  { command: "gc", shape: GC },
  { command: "doctor", shape: DOCTOR },
  { command: "export pachyderm", shape: EXPORT },
  { command: "metrics show", shape: arrayOf(METRICS_ROW) },
  { command: "metrics diff", shape: METRICS_DIFF },
  { command: "remote add", shape: REMOTE },
  { command: "remote list", shape: arrayOf(REMOTE) },
  { command: "remote remove", shape: REMOTE },
  { command: "remote verify", shape: REMOTE_VERIFY },
  { command: "push", shape: TRANSFER },
  { command: "pull", shape: TRANSFER },
  { command: "clone", shape: CLONE },
];

/** The documented output of `command`. */
export function jsonOutputOf(command: string): JsonOutput {
  const found = JSON_OUTPUTS.find((o) => o.command === command);
  if (!found) throw new Error(`No --json shape for "${command}"`);
  return found;
}
