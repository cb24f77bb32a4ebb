/**
 * The `--json` output of every list and inspect command is an interface for scripts: this
 * pins each shape — its keys, which are optional, and their value types — on a small store
 * with one pipeline (`upper` over repo `data`). A change here is a change to README's
 * "JSON output" section.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore } from "../_helpers.ts";
import { ok } from "./_cli.ts";

// ---- a tiny shape language: "string", "number", "boolean", nullable scalars, enums,
// arrays, free-form objects, and records whose keys ending in "?" are optional.

type Scalar = "string" | "number" | "boolean" | "string|null" | "number|null";
class OneOf {
  constructor(readonly values: readonly string[]) {}
}
class ArrayOf {
  constructor(readonly item: Shape) {}
}
class Lazy {
  constructor(readonly get: () => Shape) {}
}
/** Any JSON object (a pipeline spec as given). */
class AnyObject {}
type Shape = Scalar | OneOf | ArrayOf | Lazy | AnyObject | { readonly [key: string]: Shape };

const oneOf = (...values: string[]) => new OneOf(values);
const arrayOf = (item: Shape) => new ArrayOf(item);
const HASH = "string";
const TIME = "string";

function checkShape(value: unknown, shape: Shape, path: string): void {
  if (shape instanceof Lazy) return checkShape(value, shape.get(), path);
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
    assert.ok(shape.values.includes(value as string), `${path}: ${value} not in ${shape.values}`);
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
  const obj = value as Record<string, unknown>;
  const fields = shape as Record<string, Shape>;
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
    assert.ok(known.has(key), `${path}: unexpected key "${key}" (add it to the shape and README)`);
  }
}

// ---- the shapes, as README documents them.

const REPO = {
  name: "string",
  created: TIME,
  description: "string",
  size: "number",
  branches: arrayOf({ name: "string", head: "string|null" }),
};
const FILE = { path: "string", type: oneOf("file", "dir"), size: "number", hash: HASH };
const DIFF = {
  path: "string",
  change: oneOf("added", "removed", "modified"),
  "oldSize?": "number",
  "newSize?": "number",
};
const PROVENANCE = {
  inputs: arrayOf({ repo: "string", commit: "string" }),
  "spec?": HASH,
  "code?": HASH,
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
  inputs: arrayOf(new Lazy(() => PROVENANCE_NODE)),
};
const INSPECT_COMMIT = { ...COMMIT, "upstream?": arrayOf(PROVENANCE_NODE) };
const BRANCH = { repo: "string", name: "string", head: "string|null", created: TIME };
const PIPELINE = {
  name: "string",
  version: "number",
  input: "string",
  created: TIME,
  updated: TIME,
  state: oneOf("running", "paused"),
  lastJob: "string|null",
  lastJobState: "string|null",
  description: "string",
  specHash: HASH,
  codeHash: HASH,
  outputBranch: "string",
  cron: arrayOf({ name: "string", spec: "string", repo: "string" }),
};
const INSPECT_PIPELINE = { ...PIPELINE, spec: new AnyObject(), modules: arrayOf("string") };
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
  ok: "boolean",
  entries: "number",
  commits: "number",
  trees: "number",
  files: "number",
  objects: "number",
};
const GC = { objects: "number", bytes: "number", dryRun: "boolean" };

Deno.test("--json output of every list and inspect command keeps its documented shape", async (t) => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "data"], o);
  await ok(["put", "file", "data@master:/a.txt", "-f", "-"], { ...o, stdin: "alpha\n" });
  await ok(["put", "file", "data@master:/sub/c.txt", "-f", "-"], { ...o, stdin: "charlie\n" });
  await ok(["create", "pipeline", "-f", `${ROOT}/tests/fixtures/stages/upper.json`], o);
  await ok(["put", "file", "data@master:/b.txt", "-f", "-"], { ...o, stdin: "bravo\n" });

  const json = async (...args: string[]): Promise<unknown> =>
    JSON.parse((await ok([...args, "--json"], o)).stdout);
  const jobs = await json("list", "job") as {
    id: string;
    datums: { id: string; state: string }[];
  }[];
  assert.equal(jobs.length, 2, "two jobs: the pipeline's first, then b.txt's");
  const job = jobs[0]!.id;
  assert.deepEqual(jobs[0]!.datums.map((d) => d.state).sort(), ["SKIPPED", "SKIPPED", "SUCCESS"]);
  const datum = jobs[0]!.datums[0]!.id;

  const cases: [string, string[], Shape][] = [
    ["list repo", ["list", "repo"], arrayOf(REPO)],
    ["inspect repo", ["inspect", "repo", "data"], REPO],
    ["list file", ["list", "file", "data@master"], arrayOf(FILE)],
    ["glob file", ["glob", "file", "data@master:/*"], arrayOf(FILE)],
    ["diff file", ["diff", "file", "data@master"], arrayOf(DIFF)],
    ["list commit", ["list", "commit", "data"], arrayOf(COMMIT)],
    ["inspect commit (user)", ["inspect", "commit", "data@master"], INSPECT_COMMIT],
    ["inspect commit (pipeline)", ["inspect", "commit", "upper@master"], INSPECT_COMMIT],
    ["list branch", ["list", "branch", "data"], arrayOf(BRANCH)],
    ["list pipeline", ["list", "pipeline"], arrayOf(PIPELINE)],
    ["inspect pipeline", ["inspect", "pipeline", "upper"], INSPECT_PIPELINE],
    ["list job", ["list", "job"], arrayOf(JOB)],
    ["inspect job", ["inspect", "job", job], JOB],
    ["list datum", ["list", "datum", job], arrayOf(DATUM)],
    ["inspect datum", ["inspect", "datum", job, datum], INSPECT_DATUM],
    ["plan", ["plan", "upper"], PLAN],
    ["lineage", ["lineage", "upper@master:/b.txt"], LINEAGE],
    ["verify", ["verify"], VERIFY],
    ["gc --dry-run", ["gc", "--dry-run"], GC],
    ["gc", ["gc"], GC],
  ];
  for (const [name, args, shape] of cases) {
    await t.step(name, async () => {
      const value = await json(...args);
      if (Array.isArray(value)) assert.ok(value.length > 0, `${name} printed an empty list`);
      checkShape(value, shape, name);
    });
  }

  await t.step("the 1.x grammar prints the same JSON", async () => {
    const pairs: [string[], string[]][] = [
      [["list-repo"], ["list", "repo"]],
      [["inspect-repo", "data"], ["inspect", "repo", "data"]],
      [["list-file", "data", "master"], ["list", "file", "data@master"]],
      [["list-commit", "data", "master"], ["list", "commit", "data@master"]],
      [["inspect-commit", "upper", "master"], ["inspect", "commit", "upper@master"]],
      [["list-branch", "data"], ["list", "branch", "data"]],
      [["inspect-pipeline", "upper"], ["inspect", "pipeline", "upper"]],
      [["list-job"], ["list", "job"]],
      [["inspect-job", job], ["inspect", "job", job]],
      [["list-datum", job], ["list", "datum", job]],
      [["inspect-datum", job, datum], ["inspect", "datum", job, datum]],
      [["list-pipeline"], ["list", "pipeline"]],
      [["glob-file", "data", "master", "/*"], ["glob", "file", "data@master:/*"]],
      [["diff-file", "data", "master"], ["diff", "file", "data@master"]],
    ];
    for (const [old, modern] of pairs) assert.deepEqual(await json(...old), await json(...modern));
  });

  await t.step(
    "a file and a folder, an added file, provenance and lineage are all there",
    async () => {
      const files = await json("list", "file", "data@master") as { type: string }[];
      assert.deepEqual(files.map((f) => f.type).sort(), ["dir", "file", "file"]);
      const c = await json("inspect", "commit", "upper@master") as Record<string, unknown>;
      assert.ok(c.provenance && c.upstream, "a pipeline's commit has provenance and upstream");
      const l = await json("lineage", "upper@master:/b.txt") as Record<string, unknown>;
      assert.equal(l.pipeline, "upper");
    },
  );
});
