import assert from "node:assert/strict";
import {
  type CombinedInput,
  type CronInput,
  inputLeaves,
  leafBranch,
  type PfsInput,
} from "../../lib/pipeline/spec/input.ts";
import { parseSpec, parseSpecText } from "../../lib/pipeline/spec/parse_spec.ts";
import { SpecError, type SpecRule } from "../../lib/pipeline/spec/spec_error.ts";
import { parseCronSpec, parseDuration } from "../../lib/pipeline/spec/units.ts";
import { reservedEnvReason } from "../../lib/pipeline/env.ts";
import { TuskError } from "../../lib/errors.ts";

type Json = Record<string, unknown>;

/** Pachyderm's python_train.pipeline.json with only cmd swapped for a Deno stage. */
function trainSpec(): Json {
  return {
    pipeline: { name: "model" },
    description:
      "A pipeline that trains the model based on the data in the `training` repository by using a Python script.",
    transform: {
      image: "pachyderm/iris-train:python-svm",
      cmd: ["deno", "run", "train.ts", "/pfs/training/", "/pfs/out/"],
    },
    parallelismSpec: { constant: 1 },
    input: { pfs: { repo: "training", glob: "/" } },
  };
}

/** Pachyderm's python_infer.pipeline.json with only cmd swapped for a Deno stage. */
function inferSpec(): Json {
  return {
    pipeline: { name: "inference" },
    description:
      "An inference pipeline that makes a prediction based on the trained model by using a Python script.",
    transform: {
      image: "pachyderm/iris-infer:python",
      cmd: ["deno", "run", "infer.ts", "/pfs/model/", "/pfs/attributes/", "/pfs/out/"],
    },
    parallelismSpec: { constant: 1 },
    input: {
      cross: [
        { pfs: { repo: "attributes", glob: "/*" } },
        { pfs: { repo: "model", glob: "/" } },
      ],
    },
  };
}

/** A small valid spec reading `input`. */
function specWith(input: unknown): Json {
  return { pipeline: { name: "p" }, transform: { cmd: ["deno", "run", "stage.ts"] }, input };
}

/** Set (or with `undefined`, delete) the field at a path like `input.cross[1].pfs.glob`. */
function set(spec: Json, path: string, value: unknown): Json {
  const keys = path.match(/[^.[\]]+/g)!;
  let at = spec as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return spec;
}

/** Assert that parsing `spec` throws one SpecError for `rule` naming `path`, and return it. */
function refused(spec: unknown, path: string, rule: SpecRule): SpecError {
  let caught: unknown;
  try {
    parseSpec(spec);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SpecError, `expected a SpecError, got ${caught}`);
  assert.equal(caught.code, "INVALID_SPEC");
  assert.equal(caught.exitCode, 2);
  assert.equal(caught.rule, rule, caught.message);
  assert.equal(caught.data.path, path, caught.message);
  if (path !== "") assert.ok(caught.message.includes(`"${path}"`), caught.message);
  return caught;
}

// ----- accepted specs ------------------------------------------------------------------

Deno.test("parseSpec() accepts Pachyderm's training spec with only cmd swapped", () => {
  const spec = parseSpec(trainSpec());
  assert.equal(spec.name, "model");
  assert.equal(spec.stage, "train.ts");
  assert.deepEqual(spec.args, ["/pfs/training/", "/pfs/out/"]);
  assert.equal(spec.transform.image, "pachyderm/iris-train:python-svm");
  assert.equal(spec.parallelism, 1);
  assert.deepEqual(spec.input, {
    kind: "pfs",
    name: "training",
    repo: "training",
    branch: "master",
    glob: "/",
    outerJoin: false,
    emptyFiles: false,
  });
});

Deno.test("parseSpec() accepts Pachyderm's inference spec with only cmd swapped", () => {
  const spec = parseSpec(inferSpec());
  assert.equal(spec.name, "inference");
  assert.equal(spec.stage, "infer.ts");
  assert.equal(spec.transform.image, "pachyderm/iris-infer:python");
  const input = spec.input as CombinedInput;
  assert.equal(input.kind, "cross");
  assert.deepEqual(input.inputs.map((i) => (i as PfsInput).name), ["attributes", "model"]);
  assert.equal((input.inputs[0] as PfsInput).glob, "/*");
});

Deno.test("parseSpecText() accepts the reference spec's text", () => {
  const spec = parseSpecText(JSON.stringify(inferSpec(), null, 2), { file: "infer.json" });
  assert.equal(spec.name, "inference");
});

Deno.test("parseSpec() fills in defaults", () => {
  const spec = parseSpec(specWith({ pfs: { repo: "data", glob: "/*" } }));
  assert.equal(spec.description, "");
  assert.deepEqual(spec.transform.stdin, []);
  assert.deepEqual(spec.transform.env, {});
  assert.deepEqual(spec.transform.acceptReturnCode, []);
  assert.equal(spec.transform.image, undefined);
  assert.equal(spec.transform.errCmd, undefined);
  assert.equal(spec.parallelism, 0);
  assert.equal(spec.datumTries, 3);
  assert.equal(spec.outputBranch, "master");
  assert.equal(spec.reprocess, "until_success");
  assert.equal(spec.salt, "");
  assert.equal(spec.datumBatching, false);
  assert.equal(spec.datumTimeoutMs, undefined);
  assert.equal(spec.jobTimeoutMs, undefined);
  assert.equal(spec.memoryBytes, undefined);
  assert.deepEqual(spec.args, []);
  const pfs = spec.input as PfsInput;
  assert.equal(pfs.name, "data");
  assert.equal(pfs.branch, "master");
  assert.equal(pfs.joinOn, undefined);
  assert.equal(pfs.groupBy, undefined);
});

Deno.test("parseSpec() accepts snake_case field names at every level", () => {
  const spec = parseSpec({
    pipeline: { name: "p" },
    transform: {
      cmd: ["deno", "run", "stage.ts"],
      accept_return_code: [1],
      err_cmd: ["deno", "run", "on_error.ts"],
      datum_batching: true,
    },
    input: {
      join: [
        {
          pfs: { repo: "a", glob: "/(*).csv", join_on: "$1", outer_join: true, empty_files: true },
        },
        { pfs: { repo: "b", glob: "/(*).txt", join_on: "$1" } },
      ],
    },
    parallelism_spec: { constant: 2 },
    datum_timeout: "60s",
    job_timeout: "1h",
    datum_tries: 5,
    resource_limits: { memory: "64M" },
    output_branch: "out",
    reprocess_spec: "every_job",
  });
  assert.deepEqual(spec.transform.acceptReturnCode, [1]);
  assert.deepEqual(spec.transform.errCmd, ["deno", "run", "on_error.ts"]);
  assert.equal(spec.datumBatching, true);
  assert.equal(spec.parallelism, 2);
  assert.equal(spec.datumTimeoutMs, 60_000);
  assert.equal(spec.jobTimeoutMs, 3_600_000);
  assert.equal(spec.datumTries, 5);
  assert.equal(spec.memoryBytes, 64_000_000);
  assert.equal(spec.outputBranch, "out");
  assert.equal(spec.reprocess, "every_job");
  const a = (spec.input as CombinedInput).inputs[0] as PfsInput;
  assert.equal(a.joinOn, "$1");
  assert.equal(a.outerJoin, true);
  assert.equal(a.emptyFiles, true);
});

Deno.test("parseSpec() accepts group_by in snake_case", () => {
  const spec = parseSpec(
    specWith({ group: [{ pfs: { repo: "a", glob: "/(*)-*", group_by: "$1" } }] }),
  );
  assert.equal(((spec.input as CombinedInput).inputs[0] as PfsInput).groupBy, "$1");
});

Deno.test("parseSpec() accepts integers given as strings", () => {
  const spec = parseSpec(
    set(set(trainSpec(), "parallelismSpec.constant", "4"), "datumTries", "2"),
  );
  assert.equal(spec.parallelism, 4);
  assert.equal(spec.datumTries, 2);
});

Deno.test("parseSpec() accepts exit codes given as strings", () => {
  const spec = parseSpec(set(trainSpec(), "transform.acceptReturnCode", ["1", 2]));
  assert.deepEqual(spec.transform.acceptReturnCode, [1, 2]);
});

Deno.test("parseSpec() raw is camelCase with integers as numbers and durations in seconds", () => {
  const spec = parseSpec({
    ...trainSpec(),
    datum_tries: "2",
    datum_timeout: "1m30s",
    job_timeout: 7200,
    datum_batching: true,
    resource_limits: { memory: 1024 },
  });
  assert.deepEqual(spec.raw.datumTries, 2);
  assert.equal(spec.raw.datumTimeout, "90s");
  assert.equal(spec.raw.jobTimeout, "7200s");
  assert.deepEqual(spec.raw.resourceLimits, { memory: "1024" });
  assert.equal(spec.raw.datumBatching, undefined);
  assert.equal((spec.raw.transform as Json).datumBatching, true);
  assert.equal("datum_tries" in spec.raw, false);
});

Deno.test("parseSpec() raw keeps no defaults", () => {
  const spec = parseSpec(specWith({ pfs: { repo: "data", glob: "/*" } }));
  assert.deepEqual(spec.raw, specWith({ pfs: { repo: "data", glob: "/*" } }));
});

Deno.test("parseSpec() of a spec's raw gives the same spec back", () => {
  const spec = parseSpec({
    ...inferSpec(),
    datum_timeout: "1.5s",
    datum_batching: true,
  });
  assert.deepEqual(parseSpec(spec.raw), spec);
});

Deno.test("parseSpec() keeps environment variable names as given", () => {
  const spec = parseSpec(set(trainSpec(), "transform.env", { MY_VAR: "1", snake_case: "2" }));
  assert.deepEqual(spec.transform.env, { MY_VAR: "1", snake_case: "2" });
});

Deno.test("parseSpec() treats null fields as unset", () => {
  const spec = parseSpec({ ...trainSpec(), egress: null, salt: null, description: null });
  assert.equal(spec.salt, "");
  assert.equal(spec.raw.salt, undefined);
  assert.equal(spec.description, "");
  assert.equal("egress" in spec.raw, false);
});

Deno.test("parseSpec() treats an empty input name and branch as unset, as protojson", () => {
  const spec = parseSpec(specWith({ pfs: { repo: "data", name: "", branch: "", glob: "/" } }));
  assert.equal((spec.input as PfsInput).name, "data");
  assert.equal((spec.input as PfsInput).branch, "master");
});

Deno.test('parseSpec() gives a glob "*" back as "/*"', () => {
  const spec = parseSpec(specWith({ pfs: { repo: "data", glob: "*" } }));
  assert.equal((spec.input as PfsInput).glob, "/*");
});

Deno.test("parseSpec() keeps a pfs input's own name", () => {
  const spec = parseSpec(specWith({ pfs: { repo: "data", name: "in", glob: "/" } }));
  assert.equal((spec.input as PfsInput).name, "in");
});

Deno.test("parseSpec() defaults a cron input's repo to <pipeline>_<name>", () => {
  const spec = parseSpec(specWith({ cron: { name: "tick", spec: "@every 2s" } }));
  assert.deepEqual(spec.input, {
    kind: "cron",
    name: "tick",
    spec: "@every 2s",
    repo: "p_tick",
    overwrite: false,
  });
});

Deno.test("parseSpec() accepts a cron input with repo, overwrite and start", () => {
  const spec = parseSpec(specWith({
    cron: {
      name: "tick",
      spec: "*/10 * * * *",
      repo: "ticks",
      overwrite: true,
      start: "2024-01-01T00:00:00Z",
    },
  }));
  const cron = spec.input as CronInput;
  assert.equal(cron.repo, "ticks");
  assert.equal(cron.overwrite, true);
  assert.equal(cron.start, "2024-01-01T00:00:00Z");
});

Deno.test('parseSpec() accepts the cron descriptor "@daily"', () => {
  const spec = parseSpec(specWith({ cron: { name: "tick", spec: "@daily" } }));
  assert.equal((spec.input as CronInput).spec, "@daily");
});

Deno.test("parseSpec() accepts inputs of a union that share a name, as Pachyderm", () => {
  const spec = parseSpec(specWith({
    union: [
      { pfs: { repo: "a", name: "in", glob: "/*" } },
      { pfs: { repo: "b", name: "in", glob: "/*" } },
    ],
  }));
  assert.deepEqual(inputLeaves(spec.input).map((i) => i.name), ["in", "in"]);
});

Deno.test('parseSpec() accepts and drops "--quiet" before the stage script', () => {
  const spec = parseSpec(
    set(trainSpec(), "transform.cmd", ["deno", "run", "--quiet", "train.ts", "/pfs/out/"]),
  );
  assert.equal(spec.stage, "train.ts");
  assert.deepEqual(spec.args, ["/pfs/out/"]);
  assert.deepEqual(spec.transform.cmd, ["deno", "run", "train.ts", "/pfs/out/"]);
});

Deno.test('parseSpec() normalises a stage path "./stages/train.ts"', () => {
  const spec = parseSpec(set(trainSpec(), "transform.cmd", ["deno", "run", "./stages/train.ts"]));
  assert.equal(spec.stage, "stages/train.ts");
});

Deno.test("parseSpec() accepts transform.stdin without datum batching", () => {
  const spec = parseSpec(set(trainSpec(), "transform.stdin", ["line 1", "line 2"]));
  assert.deepEqual(spec.transform.stdin, ["line 1", "line 2"]);
});

Deno.test("parseSpec() accepts datumBatching at the top level", () => {
  const spec = parseSpec({ ...trainSpec(), datumBatching: true });
  assert.equal(spec.datumBatching, true);
});

Deno.test("parseSpec() accepts a join whose pfs inputs have joinOn", () => {
  const spec = parseSpec(specWith({
    join: [
      { pfs: { repo: "a", glob: "/(*).csv", joinOn: "$1" } },
      { pfs: { repo: "b", glob: "/(*).txt", joinOn: "${1}" } },
    ],
  }));
  assert.equal(spec.input.kind, "join");
});

Deno.test("parseSpec() accepts /pfs/ arguments naming an input, the output or a file below", () => {
  const spec = parseSpec(set(inferSpec(), "transform.cmd", [
    "deno",
    "run",
    "infer.ts",
    "/pfs/model/model.json",
    "/pfs/attributes",
    "/pfs/out/",
  ]));
  assert.equal(spec.args.length, 3);
});

for (
  const [quantity, bytes] of [
    ["64M", 64_000_000],
    ["1Gi", 2 ** 30],
    ["512Mi", 512 * 2 ** 20],
    ["100000", 100_000],
    ["1.5Ki", 1536],
  ] as const
) {
  Deno.test(`parseSpec() reads resourceLimits.memory "${quantity}" as ${bytes} bytes`, () => {
    const spec = parseSpec(set(trainSpec(), "resourceLimits", { memory: quantity }));
    assert.equal(spec.memoryBytes, bytes);
  });
}

Deno.test("parseSpec() returns a frozen spec", () => {
  const spec = parseSpec(inferSpec());
  assert.ok(Object.isFrozen(spec));
  assert.ok(Object.isFrozen(spec.transform.cmd));
  assert.ok(Object.isFrozen(spec.raw));
});

Deno.test("parseSpec() does not change the object it is given", () => {
  const given = { ...inferSpec(), datum_batching: true };
  const copy = structuredClone(given);
  parseSpec(given);
  assert.deepEqual(given, copy);
});

// ----- unknown and unsupported fields --------------------------------------------------

Deno.test("parseSpec() refuses an unsupported field and names its path", () => {
  refused(
    { ...trainSpec(), egress: { URL: "s3://bucket" } },
    "egress",
    "UNSUPPORTED_FIELD",
  );
});

Deno.test('parseSpec() refuses the unsupported field "transform.user"', () => {
  refused(
    set(trainSpec(), "transform.user", "root"),
    "transform.user",
    "UNSUPPORTED_FIELD",
  );
});

Deno.test('parseSpec() refuses the unsupported field "input.pfs.lazy"', () => {
  refused(set(trainSpec(), "input.pfs.lazy", true), "input.pfs.lazy", "UNSUPPORTED_FIELD");
});

Deno.test('parseSpec() refuses the unsupported field "pipeline.project"', () => {
  refused(
    set(trainSpec(), "pipeline.project", { name: "default" }),
    "pipeline.project",
    "UNSUPPORTED_FIELD",
  );
});

Deno.test("parseSpec() refuses an unsupported snake_case field by its given name", () => {
  refused({ ...trainSpec(), pod_patch: "[]" }, "pod_patch", "UNSUPPORTED_FIELD");
});

Deno.test("parseSpec() refuses a misspelled field and suggests the right one", () => {
  const err = refused(set(trainSpec(), "transform.comd", []), "transform.comd", "UNKNOWN_FIELD");
  assert.equal(err.data.suggestion, "cmd");
});

Deno.test("parseSpec() refuses a field that belongs elsewhere", () => {
  refused(set(trainSpec(), "input.glob", "/"), "input.glob", "UNKNOWN_FIELD");
});

Deno.test("parseSpec() refuses a field given in both camelCase and snake_case", () => {
  refused(
    { ...trainSpec(), parallelism_spec: { constant: 1 } },
    "parallelism_spec",
    "DUPLICATE_FIELD",
  );
});

Deno.test("parseSpec() refuses a spec that is not a JSON object", () => {
  refused([trainSpec()], "", "WRONG_TYPE");
});

Deno.test("parseSpec() refuses inputs nested too deeply", () => {
  let input: unknown = { pfs: { repo: "a", glob: "/" } };
  for (let i = 0; i < 100; i++) input = { cross: [input] };
  refused(specWith(input), "input" + ".cross[0]".repeat(64), "TOO_DEEP");
});

// ----- types ---------------------------------------------------------------------------

Deno.test("parseSpec() refuses a string field given a number", () => {
  refused({ ...trainSpec(), salt: 5 }, "salt", "WRONG_TYPE");
});

Deno.test("parseSpec() refuses a non-string in transform.cmd and names its index", () => {
  refused(set(trainSpec(), "transform.cmd[3]", 1), "transform.cmd[3]", "WRONG_TYPE");
});

Deno.test("parseSpec() refuses an integer field given words", () => {
  refused(
    set(trainSpec(), "parallelismSpec.constant", "one"),
    "parallelismSpec.constant",
    "WRONG_TYPE",
  );
});

Deno.test("parseSpec() refuses a fractional integer", () => {
  refused({ ...trainSpec(), datumTries: 1.5 }, "datumTries", "WRONG_TYPE");
});

Deno.test("parseSpec() refuses a boolean given as a string", () => {
  refused(set(trainSpec(), "input.pfs.emptyFiles", "true"), "input.pfs.emptyFiles", "WRONG_TYPE");
});

Deno.test("parseSpec() refuses an environment value that is not a string", () => {
  refused(set(trainSpec(), "transform.env", { N: 1 }), "transform.env.N", "WRONG_TYPE");
});

Deno.test('parseSpec() refuses an unknown reprocessSpec "always"', () => {
  refused({ ...trainSpec(), reprocessSpec: "always" }, "reprocessSpec", "WRONG_TYPE");
});

Deno.test("parseSpec() names a bad snake_case field by its given name", () => {
  const spec = trainSpec();
  delete spec.parallelismSpec;
  refused(
    { ...spec, parallelism_spec: { constant: -1 } },
    "parallelism_spec.constant",
    "OUT_OF_RANGE",
  );
});

// ----- pipeline name -------------------------------------------------------------------

Deno.test("parseSpec() refuses a spec without pipeline and names pipeline.name", () => {
  const spec = trainSpec();
  delete spec.pipeline;
  refused(spec, "pipeline.name", "MISSING_FIELD");
});

Deno.test("parseSpec() refuses a pipeline without a name", () => {
  refused(set(trainSpec(), "pipeline", {}), "pipeline.name", "MISSING_FIELD");
});

Deno.test('parseSpec() refuses the pipeline name "my model"', () => {
  refused(set(trainSpec(), "pipeline.name", "my model"), "pipeline.name", "BAD_NAME");
});

Deno.test("parseSpec() refuses a pipeline name of 64 characters", () => {
  refused(set(trainSpec(), "pipeline.name", "m".repeat(64)), "pipeline.name", "BAD_NAME");
});

// ----- transform -----------------------------------------------------------------------

Deno.test("parseSpec() refuses a spec without transform", () => {
  const spec = trainSpec();
  delete spec.transform;
  refused(spec, "transform.cmd", "MISSING_FIELD");
});

Deno.test("parseSpec() refuses an empty transform.cmd", () => {
  refused(set(trainSpec(), "transform.cmd", []), "transform.cmd", "MISSING_FIELD");
});

Deno.test("parseSpec() takes a cmd that is not deno as a host program and its arguments", () => {
  const spec = parseSpec(
    set(trainSpec(), "transform.cmd", ["python3", "/code/pytrain.py", "/pfs/training/"]),
  );
  assert.equal(spec.program, "python3");
  assert.equal(spec.stage, "");
  assert.deepEqual(spec.args, ["/code/pytrain.py", "/pfs/training/"]);
  assert.deepEqual(spec.transform.cmd, ["python3", "/code/pytrain.py", "/pfs/training/"]);
});

Deno.test('parseSpec() refuses a deno subcommand other than "run"', () => {
  refused(
    set(trainSpec(), "transform.cmd", ["deno", "eval", "train.ts"]),
    "transform.cmd[1]",
    "BAD_COMMAND",
  );
});

Deno.test('parseSpec() refuses a cmd of "deno" alone', () => {
  refused(set(trainSpec(), "transform.cmd", ["deno"]), "transform.cmd[1]", "BAD_COMMAND");
});

for (
  const flag of [
    "-A",
    "--allow-all",
    "--allow-run",
    "--allow-net",
    "--allow-net=example.com",
    "--allow-env",
    "--allow-ffi",
    "--allow-sys",
    "--allow-read",
    "--allow-write=/tmp",
    "--allow-import",
    "--unstable",
    "--unstable-kv",
    "--v8-flags=--max-old-space-size=10000",
    "-R",
    "-W",
    "-N",
    "-E",
    "-S",
    "-R=/",
  ]
) {
  Deno.test(`parseSpec() refuses the flag "${flag}" before the stage script`, () => {
    refused(
      set(trainSpec(), "transform.cmd", ["deno", "run", flag, "train.ts"]),
      "transform.cmd[2]",
      "REFUSED_FLAG",
    );
  });
}

Deno.test("parseSpec() refuses a permission flag after the stage script", () => {
  refused(
    set(trainSpec(), "transform.cmd", ["deno", "run", "train.ts", "--allow-net"]),
    "transform.cmd[3]",
    "REFUSED_FLAG",
  );
});

Deno.test("parseSpec() refuses a permission flag before run", () => {
  refused(
    set(trainSpec(), "transform.cmd", ["deno", "-A", "run", "train.ts"]),
    "transform.cmd[1]",
    "REFUSED_FLAG",
  );
});

Deno.test('parseSpec() refuses a deno flag it does not ignore, like "--reload"', () => {
  refused(
    set(trainSpec(), "transform.cmd", ["deno", "run", "--reload", "train.ts"]),
    "transform.cmd[2]",
    "UNSUPPORTED_FLAG",
  );
});

Deno.test("parseSpec() refuses a cmd without a stage script", () => {
  refused(set(trainSpec(), "transform.cmd", ["deno", "run"]), "transform.cmd[2]", "BAD_COMMAND");
});

Deno.test("parseSpec() refuses a cmd whose only arguments are ignored flags", () => {
  refused(
    set(trainSpec(), "transform.cmd", ["deno", "run", "--quiet"]),
    "transform.cmd[3]",
    "BAD_COMMAND",
  );
});

Deno.test("parseSpec() refuses an absolute stage script path", () => {
  refused(
    set(trainSpec(), "transform.cmd", ["deno", "run", "/code/train.ts"]),
    "transform.cmd[2]",
    "BAD_STAGE_PATH",
  );
});

Deno.test('parseSpec() refuses a stage script path with ".."', () => {
  refused(
    set(trainSpec(), "transform.cmd", ["deno", "run", "../train.ts"]),
    "transform.cmd[2]",
    "BAD_STAGE_PATH",
  );
});

Deno.test('parseSpec() refuses a stage script ending in ".py"', () => {
  refused(
    set(trainSpec(), "transform.cmd", ["deno", "run", "train.py"]),
    "transform.cmd[2]",
    "BAD_STAGE_PATH",
  );
});

Deno.test("parseSpec() refuses a remote stage script", () => {
  refused(
    set(trainSpec(), "transform.cmd", ["deno", "run", "https://example.com/train.ts"]),
    "transform.cmd[2]",
    "BAD_STAGE_PATH",
  );
});

Deno.test("parseSpec() refuses a /pfs/ argument naming no input and suggests one", () => {
  const err = refused(
    set(trainSpec(), "transform.cmd", ["deno", "run", "train.ts", "/pfs/trainig/", "/pfs/out/"]),
    "transform.cmd[3]",
    "UNKNOWN_INPUT",
  );
  assert.equal(err.data.suggestion, "/pfs/training/");
});

Deno.test("parseSpec() refuses an errCmd that is a host program beside a Deno cmd", () => {
  refused(
    set(trainSpec(), "transform.errCmd", ["sh", "-c", "true"]),
    "transform.errCmd[0]",
    "CONFLICTING_FIELDS",
  );
});

Deno.test("parseSpec() refuses a permission flag in errCmd", () => {
  refused(
    set(trainSpec(), "transform.errCmd", ["deno", "run", "--allow-net", "err.ts"]),
    "transform.errCmd[2]",
    "REFUSED_FLAG",
  );
});

Deno.test("parseSpec() refuses transform.stdin with datum batching", () => {
  const spec = set(set(trainSpec(), "transform.stdin", ["x"]), "transform.datumBatching", true);
  refused(spec, "transform.stdin", "CONFLICTING_FIELDS");
});

Deno.test("parseSpec() refuses datumBatching given both at the top level and in transform", () => {
  refused(
    { ...set(trainSpec(), "transform.datumBatching", true), datumBatching: true },
    "datumBatching",
    "DUPLICATE_FIELD",
  );
});

Deno.test('parseSpec() refuses the environment variable "DENO_V8_FLAGS"', () => {
  refused(
    set(trainSpec(), "transform.env", { DENO_V8_FLAGS: "--max-old-space-size=99999" }),
    "transform.env.DENO_V8_FLAGS",
    "REFUSED_ENV",
  );
});

Deno.test('parseSpec() refuses the environment variable "LD_PRELOAD"', () => {
  refused(
    set(trainSpec(), "transform.env", { LD_PRELOAD: "/tmp/x.so" }),
    "transform.env.LD_PRELOAD",
    "REFUSED_ENV",
  );
});

Deno.test('parseSpec() refuses the environment variable "SSLKEYLOGFILE", saying why', () => {
  const err = refused(
    set(trainSpec(), "transform.env", { SSLKEYLOGFILE: "/tmp/keys.log" }),
    "transform.env.SSLKEYLOGFILE",
    "REFUSED_ENV",
  );
  assert.ok(err.message.includes(reservedEnvReason("SSLKEYLOGFILE")!), err.message);
});

Deno.test('parseSpec() refuses an environment variable name with "="', () => {
  refused(set(trainSpec(), "transform.env", { "A=B": "1" }), "transform.env.A=B", "REFUSED_ENV");
});

for (
  const tz of [
    "/usr/share/zoneinfo/America/New_York",
    ":/etc/localtime",
    "../../../etc/passwd",
    "Europe/../../x",
    "a b",
  ]
) {
  Deno.test(`parseSpec() refuses TZ ${JSON.stringify(tz)}, which is not a zone name or a POSIX rule`, () => {
    refused(set(trainSpec(), "transform.env", { TZ: tz }), "transform.env.TZ", "REFUSED_ENV");
  });
}

Deno.test("parseSpec() takes TZ zone names and POSIX rules", () => {
  for (
    const tz of [
      "UTC",
      "",
      "Europe/Paris",
      "America/Argentina/Buenos_Aires",
      "Etc/GMT+5",
      "EST5EDT",
      "CET-1CEST,M3.5.0,M10.5.0/3",
      "<+0330>-3:30",
    ]
  ) {
    assert.equal(parseSpec(set(trainSpec(), "transform.env", { TZ: tz })).transform.env.TZ, tz);
  }
});

Deno.test("parseSpec() refuses an environment value over 32 KiB (REFUSED_ENV)", () => {
  const err = refused(
    set(trainSpec(), "transform.env", { BIG: "x".repeat(300 * 1024) }),
    "transform.env.BIG",
    "REFUSED_ENV",
  );
  assert.match(err.message, /32768 bytes/);
  assert.ok(err.message.length < 1000, "the message does not quote the value");
});

Deno.test("parseSpec() refuses an environment over 64 KiB in all (REFUSED_ENV)", () => {
  const env = Object.fromEntries([1, 2, 3].map((n) => [`V${n}`, "x".repeat(30 * 1024)]));
  refused(set(trainSpec(), "transform.env", env), "transform.env", "REFUSED_ENV");
});

Deno.test("parseSpec() refuses an accepted return code over 255", () => {
  refused(
    set(trainSpec(), "transform.acceptReturnCode", [1, 300]),
    "transform.acceptReturnCode[1]",
    "OUT_OF_RANGE",
  );
});

// ----- input tree ----------------------------------------------------------------------

Deno.test("parseSpec() refuses a spec without input", () => {
  const spec = trainSpec();
  delete spec.input;
  refused(spec, "input", "MISSING_FIELD");
});

Deno.test("parseSpec() refuses an input object with no kind", () => {
  refused(set(trainSpec(), "input", {}), "input", "EMPTY_INPUT");
});

Deno.test("parseSpec() refuses an input object with two kinds", () => {
  refused(
    set(trainSpec(), "input.cross", [{ pfs: { repo: "a", glob: "/" } }]),
    "input",
    "MIXED_INPUT",
  );
});

Deno.test("parseSpec() refuses an empty cross", () => {
  refused(specWith({ cross: [] }), "input.cross", "EMPTY_INPUT");
});

Deno.test("parseSpec() refuses an empty union inside a cross", () => {
  refused(
    specWith({ cross: [{ pfs: { repo: "a", glob: "/" } }, { union: [] }] }),
    "input.cross[1].union",
    "EMPTY_INPUT",
  );
});

Deno.test("parseSpec() refuses an empty join", () => {
  refused(specWith({ join: [] }), "input.join", "EMPTY_INPUT");
});

Deno.test("parseSpec() refuses an empty group", () => {
  refused(specWith({ group: [] }), "input.group", "EMPTY_INPUT");
});

Deno.test("parseSpec() refuses a null inside a cross", () => {
  refused(
    specWith({ cross: [{ pfs: { repo: "a", glob: "/" } }, null] }),
    "input.cross[1]",
    "WRONG_TYPE",
  );
});

Deno.test("parseSpec() refuses a pfs input without repo", () => {
  refused(specWith({ pfs: { glob: "/" } }), "input.pfs.repo", "MISSING_FIELD");
});

Deno.test('parseSpec() refuses the repo name "a/b"', () => {
  refused(specWith({ pfs: { repo: "a/b", glob: "/" } }), "input.pfs.repo", "BAD_NAME");
});

Deno.test("parseSpec() refuses a pipeline reading its own output repo", () => {
  refused(specWith({ pfs: { repo: "p", glob: "/" } }), "input.pfs.repo", "CYCLE");
});

Deno.test('parseSpec() refuses an input named "out"', () => {
  refused(
    specWith({ pfs: { repo: "a", name: "out", glob: "/" } }),
    "input.pfs.name",
    "RESERVED_NAME",
  );
});

Deno.test('parseSpec() refuses the repo "out" without a name', () => {
  refused(specWith({ pfs: { repo: "out", glob: "/" } }), "input.pfs.repo", "RESERVED_NAME");
});

Deno.test("parseSpec() refuses a bad input name", () => {
  refused(
    specWith({ pfs: { repo: "a", name: "in put", glob: "/" } }),
    "input.pfs.name",
    "BAD_NAME",
  );
});

Deno.test("parseSpec() refuses a bad branch name", () => {
  refused(
    specWith({ pfs: { repo: "a", branch: "dev/x", glob: "/" } }),
    "input.pfs.branch",
    "BAD_NAME",
  );
});

Deno.test("parseSpec() refuses a pfs input without glob", () => {
  refused(specWith({ pfs: { repo: "a" } }), "input.pfs.glob", "MISSING_FIELD");
});

Deno.test('parseSpec() refuses the glob "/[a" and names its path', () => {
  refused(
    specWith({ cross: [{ pfs: { repo: "a", glob: "/" } }, { pfs: { repo: "b", glob: "/[a" } }] }),
    "input.cross[1].pfs.glob",
    "BAD_GLOB",
  );
});

Deno.test("parseSpec() refuses two inputs with one name in a cross", () => {
  refused(
    specWith({ cross: [{ pfs: { repo: "a", glob: "/" } }, { pfs: { repo: "a", glob: "/*" } }] }),
    "input.cross[1].pfs",
    "DUPLICATE_NAME",
  );
});

Deno.test("parseSpec() refuses a name clash between a union member and an input crossed with it", () => {
  refused(
    specWith({
      cross: [
        { union: [{ pfs: { repo: "a", glob: "/" } }, { pfs: { repo: "b", glob: "/" } }] },
        { pfs: { repo: "c", name: "b", glob: "/" } },
      ],
    }),
    "input.cross[1].pfs",
    "DUPLICATE_NAME",
  );
});

Deno.test("parseSpec() refuses a pfs input and a cron input with one name", () => {
  refused(
    specWith({
      cross: [{ pfs: { repo: "a", name: "tick", glob: "/" } }, {
        cron: { name: "tick", spec: "@hourly" },
      }],
    }),
    "input.cross[1].cron",
    "DUPLICATE_NAME",
  );
});

Deno.test("parseSpec() refuses joinOn on an input outside a join", () => {
  refused(
    specWith({
      cross: [{ pfs: { repo: "a", glob: "/(*)", joinOn: "$1" } }, {
        pfs: { repo: "b", glob: "/" },
      }],
    }),
    "input.cross[0].pfs.joinOn",
    "MISPLACED_FIELD",
  );
});

Deno.test("parseSpec() refuses groupBy on an input outside a group", () => {
  refused(
    specWith({ pfs: { repo: "a", glob: "/(*)", groupBy: "$1" } }),
    "input.pfs.groupBy",
    "MISPLACED_FIELD",
  );
});

Deno.test("parseSpec() refuses outerJoin on an input outside a join", () => {
  refused(
    specWith({ pfs: { repo: "a", glob: "/", outerJoin: true } }),
    "input.pfs.outerJoin",
    "MISPLACED_FIELD",
  );
});

Deno.test("parseSpec() refuses a pfs input of a join without joinOn", () => {
  refused(
    specWith({
      join: [{ pfs: { repo: "a", glob: "/(*)", joinOn: "$1" } }, {
        pfs: { repo: "b", glob: "/(*)" },
      }],
    }),
    "input.join[1].pfs.joinOn",
    "MISSING_FIELD",
  );
});

Deno.test("parseSpec() refuses a pfs input of a group without groupBy", () => {
  refused(
    specWith({ group: [{ pfs: { repo: "a", glob: "/(*)" } }] }),
    "input.group[0].pfs.groupBy",
    "MISSING_FIELD",
  );
});

Deno.test("parseSpec() refuses a joinOn naming a capture group the glob does not have", () => {
  refused(
    specWith({
      join: [{ pfs: { repo: "a", glob: "/(*)", joinOn: "$2" } }, {
        pfs: { repo: "b", glob: "/(*)", joinOn: "$1" },
      }],
    }),
    "input.join[0].pfs.joinOn",
    "BAD_CAPTURE_GROUP",
  );
});

Deno.test("parseSpec() refuses a cron input inside a join", () => {
  refused(
    specWith({
      join: [{ pfs: { repo: "a", glob: "/(*)", joinOn: "$1" } }, {
        cron: { name: "t", spec: "@hourly" },
      }],
    }),
    "input.join[1].cron",
    "MISPLACED_FIELD",
  );
});

// ----- optional (tusk's extension) -----------------------------------------------------

Deno.test("parseSpec() reads optional: true on a pfs input, and leaves it out when false or absent", () => {
  const cross = (optional?: boolean) =>
    parseSpec(specWith({
      cross: [{ pfs: { repo: "a", glob: "/*" } }, {
        pfs: { repo: "params", glob: "/", ...(optional === undefined ? {} : { optional }) },
      }],
    })).input as CombinedInput;
  assert.equal((cross(true).inputs[1] as PfsInput).optional, true);
  for (const off of [false, undefined]) {
    assert.equal("optional" in (cross(off).inputs[1] as PfsInput), false, `optional: ${off}`);
  }
  assert.equal("optional" in (cross(true).inputs[0] as PfsInput), false);
});

Deno.test('parseSpec() refuses optional that is not true or false ("true", 1, "yes")', () => {
  for (const value of ["true", 1, "yes"]) {
    refused(set(trainSpec(), "input.pfs.optional", value), "input.pfs.optional", "WRONG_TYPE");
  }
});

Deno.test("parseSpec() refuses optional on a cron input and on a cross (UNKNOWN_FIELD)", () => {
  refused(
    specWith({
      cross: [{ pfs: { repo: "a", glob: "/" } }, {
        cron: { name: "tick", spec: "@hourly", optional: true },
      }],
    }),
    "input.cross[1].cron.optional",
    "UNKNOWN_FIELD",
  );
  refused(
    specWith({ cross: [{ pfs: { repo: "a", glob: "/" } }], optional: true }),
    "input.optional",
    "UNKNOWN_FIELD",
  );
});

Deno.test("parseSpec() refuses optional on an input of a join or a group (MISPLACED_FIELD)", () => {
  refused(
    specWith({
      join: [{ pfs: { repo: "a", glob: "/(*)", joinOn: "$1" } }, {
        pfs: { repo: "b", glob: "/(*)", joinOn: "$1", optional: true },
      }],
    }),
    "input.join[1].pfs.optional",
    "MISPLACED_FIELD",
  );
  refused(
    specWith({ group: [{ pfs: { repo: "a", glob: "/(*)", groupBy: "$1", optional: true } }] }),
    "input.group[0].pfs.optional",
    "MISPLACED_FIELD",
  );
});

// ----- cron ----------------------------------------------------------------------------

Deno.test("parseSpec() refuses a cron input without a name", () => {
  refused(specWith({ cron: { spec: "@hourly" } }), "input.cron.name", "MISSING_FIELD");
});

Deno.test("parseSpec() refuses a cron input without a spec", () => {
  refused(specWith({ cron: { name: "tick" } }), "input.cron.spec", "MISSING_FIELD");
});

Deno.test('parseSpec() refuses the cron spec "61 * * * *"', () => {
  refused(specWith({ cron: { name: "tick", spec: "61 * * * *" } }), "input.cron.spec", "BAD_CRON");
});

Deno.test("parseSpec() refuses a cron spec with six fields", () => {
  refused(
    specWith({ cron: { name: "tick", spec: "*/5 * * * * *" } }),
    "input.cron.spec",
    "BAD_CRON",
  );
});

Deno.test('parseSpec() refuses the cron spec "@every 2x"', () => {
  refused(specWith({ cron: { name: "tick", spec: "@every 2x" } }), "input.cron.spec", "BAD_CRON");
});

Deno.test('parseSpec() refuses the cron spec "@every 500ms"', () => {
  refused(
    specWith({ cron: { name: "tick", spec: "@every 500ms" } }),
    "input.cron.spec",
    "BAD_CRON",
  );
});

Deno.test('parseSpec() refuses the cron spec "@reboot"', () => {
  refused(specWith({ cron: { name: "tick", spec: "@reboot" } }), "input.cron.spec", "BAD_CRON");
});

Deno.test("parseSpec() refuses a cron input whose default repo name is too long", () => {
  refused(
    {
      ...specWith({ cron: { name: "t".repeat(40), spec: "@hourly" } }),
      pipeline: { name: "p".repeat(40) },
    },
    "input.cron.repo",
    "BAD_NAME",
  );
});

Deno.test("parseSpec() refuses a cron start that is not a time", () => {
  refused(
    specWith({ cron: { name: "tick", spec: "@hourly", start: "yesterday" } }),
    "input.cron.start",
    "BAD_TIME",
  );
});

// ----- numbers, durations, memory, branches --------------------------------------------

Deno.test("parseSpec() refuses datumTries 0", () => {
  refused({ ...trainSpec(), datumTries: 0 }, "datumTries", "OUT_OF_RANGE");
});

Deno.test('parseSpec() refuses datumTries "0" given as a string', () => {
  refused({ ...trainSpec(), datum_tries: "0" }, "datum_tries", "OUT_OF_RANGE");
});

Deno.test("parseSpec() refuses datumTries over 100, given as a number or a string of digits", () => {
  refused({ ...trainSpec(), datumTries: 101 }, "datumTries", "OUT_OF_RANGE");
  refused(
    { ...trainSpec(), datumTries: "99999999999999999999999" },
    "datumTries",
    "OUT_OF_RANGE",
  );
  assert.equal(parseSpec({ ...trainSpec(), datumTries: 100 }).datumTries, 100);
});

Deno.test("parseSpec() refuses a parallelismSpec.constant over 256", () => {
  refused(
    set(trainSpec(), "parallelismSpec.constant", 1e12),
    "parallelismSpec.constant",
    "OUT_OF_RANGE",
  );
  refused(
    set(trainSpec(), "parallelismSpec.constant", 257),
    "parallelismSpec.constant",
    "OUT_OF_RANGE",
  );
  assert.equal(parseSpec(set(trainSpec(), "parallelismSpec.constant", 256)).parallelism, 256);
});

Deno.test("parseSpec() refuses a negative parallelismSpec.constant", () => {
  refused(
    set(trainSpec(), "parallelismSpec.constant", -1),
    "parallelismSpec.constant",
    "OUT_OF_RANGE",
  );
});

Deno.test('parseSpec() refuses the datumTimeout "10 minutes"', () => {
  refused({ ...trainSpec(), datumTimeout: "10 minutes" }, "datumTimeout", "BAD_DURATION");
});

Deno.test('parseSpec() refuses the jobTimeout "0s"', () => {
  refused({ ...trainSpec(), jobTimeout: "0s" }, "jobTimeout", "BAD_DURATION");
});

Deno.test('parseSpec() refuses the memory limit "64MB"', () => {
  refused(
    set(trainSpec(), "resourceLimits", { memory: "64MB" }),
    "resourceLimits.memory",
    "BAD_MEMORY",
  );
});

Deno.test('parseSpec() refuses the memory limit "0"', () => {
  refused(
    set(trainSpec(), "resourceLimits", { memory: "0" }),
    "resourceLimits.memory",
    "BAD_MEMORY",
  );
});

Deno.test("parseSpec() refuses a bad outputBranch", () => {
  refused({ ...trainSpec(), outputBranch: "my branch" }, "outputBranch", "BAD_NAME");
});

Deno.test('parseSpec() refuses the outputBranch "HEAD", saying it is reserved', () => {
  const err = refused({ ...trainSpec(), outputBranch: "HEAD" }, "outputBranch", "BAD_NAME");
  assert.match(err.message, /reserved/);
  assert.doesNotMatch(err.message, /commit id/);
});

Deno.test('parseSpec() refuses an outputBranch of hex digits, "deadbeef", a commit id prefix lookalike', () => {
  const err = refused({ ...trainSpec(), outputBranch: "deadbeef" }, "outputBranch", "BAD_NAME");
  assert.match(err.message, /commit id prefix/);
  assert.equal(parseSpec({ ...trainSpec(), outputBranch: "dead-beef" }).outputBranch, "dead-beef");
});

Deno.test("parseSpec() takes an input branch of hex digits, which names a branch made before the rule", () => {
  const spec = set(trainSpec(), "input.pfs.branch", "cafe");
  assert.deepEqual(parseSpec(spec).input.kind, "pfs");
});

// ----- files and JSON syntax -----------------------------------------------------------

Deno.test("parseSpec() names the spec file in the error and its data", () => {
  let caught: unknown;
  try {
    parseSpec({ ...trainSpec(), egress: {} }, { file: "pipelines/train.json" });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SpecError);
  assert.equal(caught.data.file, "pipelines/train.json");
  assert.ok(caught.message.includes('"pipelines/train.json"'), caught.message);
});

Deno.test("parseSpecText() names the file, line and column of a JSON syntax error", () => {
  let caught: unknown;
  try {
    parseSpecText('{\n  "pipeline": {"name": "p"},\n  "salt" "x"\n}', { file: "p.json" });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SpecError);
  assert.equal(caught.code, "INVALID_SPEC");
  assert.equal(caught.rule, "BAD_JSON");
  assert.equal(caught.data.file, "p.json");
  assert.equal(caught.data.line, 3);
  assert.equal(caught.data.column, 10);
  assert.ok(caught.message.includes('"p.json"'), caught.message);
});

Deno.test("parseSpecText() locates a bad literal", () => {
  let caught: unknown;
  try {
    parseSpecText('{"salt": tru}');
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SpecError);
  assert.equal(caught.rule, "BAD_JSON");
  assert.equal(caught.data.line, 1);
  assert.equal(caught.data.column, 10);
});

Deno.test("parseSpecText() refuses an empty file", () => {
  let caught: unknown;
  try {
    parseSpecText("", { file: "empty.json" });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SpecError);
  assert.equal(caught.data.line, 1);
  assert.equal(caught.data.column, 1);
});

Deno.test("parseSpecText() accepts a byte order mark", () => {
  assert.equal(parseSpecText("\uFEFF" + JSON.stringify(trainSpec())).name, "model");
});

Deno.test("SpecError is a TuskError with code INVALID_SPEC and exit code 2", () => {
  const err = new SpecError("Bad", { rule: "UNKNOWN_FIELD", path: "salt" });
  assert.ok(err instanceof TuskError);
  assert.equal(err.name, "SpecError");
  assert.equal(err.code, "INVALID_SPEC");
  assert.equal(err.exitCode, 2);
  assert.equal(err.rule, "UNKNOWN_FIELD");
  assert.deepEqual(err.toJSON(), {
    code: "INVALID_SPEC",
    message: "Bad",
    data: { rule: "UNKNOWN_FIELD", path: "salt" },
  });
});

// ----- helpers -------------------------------------------------------------------------

/** A tree with a pfs input on branch dev, crossed with a union of a pfs and a cron input. */
function treeSpec() {
  return parseSpec(specWith({
    cross: [
      { pfs: { repo: "a", glob: "/", branch: "dev" } },
      {
        union: [{ pfs: { repo: "b", name: "x", glob: "/" } }, {
          cron: { name: "tick", spec: "@hourly" },
        }],
      },
    ],
  }));
}

Deno.test("inputLeaves() lists the pfs and cron inputs of a tree in order", () => {
  assert.deepEqual(inputLeaves(treeSpec().input).map((i) => [i.kind, i.name, i.repo]), [
    ["pfs", "a", "a"],
    ["pfs", "x", "b"],
    ["cron", "tick", "p_tick"],
  ]);
});

Deno.test('inputLeaves() with kind "cron" lists only the cron inputs', () => {
  assert.deepEqual(inputLeaves(treeSpec().input, "cron"), [
    { kind: "cron", name: "tick", spec: "@hourly", repo: "p_tick", overwrite: false },
  ]);
});

Deno.test("leafBranch() gives a pfs input's branch and master for a cron input", () => {
  assert.deepEqual(inputLeaves(treeSpec().input).map(leafBranch), ["dev", "master", "master"]);
});

for (
  const [given, ms] of [
    ["600s", 600_000],
    ["1m30s", 90_000],
    ["2h", 7_200_000],
    ["1.5s", 1500],
    ["500ms", 500],
    ["90", 90_000],
    [30, 30_000],
  ] as const
) {
  Deno.test(`parseDuration() reads ${JSON.stringify(given)} as ${ms} ms`, () => {
    assert.equal(parseDuration(given, "datumTimeout"), ms);
  });
}

for (const given of ["", "abc", "1x", "1h30", "-5s", "0", "1000h"]) {
  Deno.test(`parseDuration() refuses ${JSON.stringify(given)} and names the path`, () => {
    assert.throws(() => parseDuration(given, "jobTimeout"), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.equal(err.rule, "BAD_DURATION");
      assert.equal(err.data.path, "jobTimeout");
      assert.ok(err.message.includes('"jobTimeout"'), err.message);
      return true;
    });
  });
}

Deno.test('parseCronSpec() reads "@every 1m" as an interval', () => {
  assert.deepEqual(parseCronSpec("@every 1m", "input.cron.spec"), {
    kind: "every",
    everyMs: 60_000,
  });
});

Deno.test('parseCronSpec() reads "*/10 * * * *" as a pattern', () => {
  assert.deepEqual(parseCronSpec("*/10 * * * *", "input.cron.spec"), {
    kind: "pattern",
    pattern: "*/10 * * * *",
  });
});

Deno.test('parseCronSpec() reads "@hourly" as a pattern', () => {
  assert.deepEqual(parseCronSpec("@hourly", "input.cron.spec"), {
    kind: "pattern",
    pattern: "@hourly",
  });
});

Deno.test('parseCronSpec() refuses "@reboot" and names the path', () => {
  assert.throws(() => parseCronSpec("@reboot", "input.cron.spec"), (err: unknown) => {
    assert.ok(err instanceof SpecError);
    assert.equal(err.rule, "BAD_CRON");
    assert.equal(err.data.path, "input.cron.spec");
    assert.ok(err.message.includes('"input.cron.spec"'), err.message);
    return true;
  });
});

/** The SpecError `parseSpecText(text)` throws. */
function specErrorOf(text: string, file?: string): SpecError {
  try {
    parseSpecText(text, file === undefined ? {} : { file });
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return err;
  }
  throw new Error("parseSpecText() accepted the spec");
}

Deno.test("parseSpecText() refuses a key given twice, naming it, its JSON path, line and column", () => {
  const err = specErrorOf(
    '{\n  "pipeline": {"name": "a", "name": "b"},\n  "transform": {"cmd": ["deno"]}\n}',
    "p.json",
  );
  assert.equal(err.code, "INVALID_SPEC");
  assert.equal(err.data.path, "pipeline.name");
  assert.equal(err.data.file, "p.json");
  assert.deepEqual([err.data.line, err.data.column], [2, 29]);
  assert.equal(err.rule, "DUPLICATE_KEY");
  assert.ok(err.message.includes('"pipeline.name"'), err.message);
});

Deno.test("parseSpecText() finds a key given twice at any depth, inside arrays too", () => {
  const spec = (inner: string) =>
    `{"pipeline": {"name": "p"}, "transform": {"cmd": ["deno", "run", "s.ts"]}, ${inner}}`;
  const cases: [string, string][] = [
    [
      '"input": {"cross": [{"pfs": {"repo": "a", "glob": "/"}}, {"pfs": {"repo": "b", "glob": "/", "glob": "/*"}}]}',
      "input.cross[1].pfs.glob",
    ],
    ['"salt": "x", "salt": "x"', "salt"],
    ['"transform": {"env": {"A": "1", "A": "2"}}', "transform"],
  ];
  for (const [inner, path] of cases) assert.equal(specErrorOf(spec(inner)).data.path, path);
  // An escaped spelling of the same key is the same key.
  assert.equal(specErrorOf('{"salt": "x", "s\\u0061lt": "y"}').data.path, "salt");
  const env = specErrorOf(
    '{"pipeline": {"name": "p"}, "transform": {"cmd": ["deno"], "env": {"A": "1", "A": "2"}}}',
  );
  assert.equal(env.data.path, "transform.env.A");
});

Deno.test("parseSpecText() accepts equal keys in different objects", () => {
  const text = JSON.stringify({
    ...inferSpec(),
    input: {
      cross: [{ pfs: { repo: "attributes", glob: "/*" } }, { pfs: { repo: "model", glob: "/" } }],
    },
  });
  assert.equal(parseSpecText(text).name, "inference");
});

/** A JSON array nested `depth` levels deep. */
function nested(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

Deno.test("parseSpecText() refuses a value nested 20,000 levels deep by its type, not a crash", () => {
  const err = specErrorOf(`{"pipeline": {"name": "p"}, "salt": ${nested(20_000)}}`);
  assert.equal(err.rule, "WRONG_TYPE");
  assert.equal(err.data.path, "salt");
});

Deno.test("parseSpecText() refuses broken JSON nested 20,000 levels deep as BAD_JSON, not a crash", () => {
  const err = specErrorOf(`{"salt": ${nested(20_000)}`);
  assert.equal(err.rule, "BAD_JSON");
});
