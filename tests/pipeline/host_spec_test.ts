/**
 * Specs whose stage is a host program: Pachyderm's own python specs parse unchanged; the
 * program is a name or an absolute path, never a relative path, a sandbox path or Deno by
 * another name; arguments within what a process may be started with; workingDir only for
 * host programs and only where the sandbox shows something; errCmd the same kind as cmd.
 */
import assert from "node:assert/strict";
import { parseSpec, parseSpecText } from "../../lib/pipeline/spec/parse_spec.ts";
import { SpecError, type SpecRule } from "../../lib/pipeline/spec/spec_error.ts";
import { MAX_ARG_BYTES, MAX_COMMAND_BYTES } from "../../lib/pipeline/spec/_command.ts";
import { ROOT } from "../_helpers.ts";

const PACHYDERM = `${ROOT}/tests/fixtures/pachyderm`;

/** A host-program spec reading repo "data" (as input "data"). */
function hostSpec(transform: Record<string, unknown>): Record<string, unknown> {
  return {
    pipeline: { name: "p" },
    transform: { cmd: ["python3", "/code/run.py", "/pfs/data/", "/pfs/out/"], ...transform },
    input: { pfs: { repo: "data", glob: "/*" } },
  };
}

/** Assert the spec is refused for `rule` at `path`. */
function refused(spec: unknown, path: string, rule: SpecRule): SpecError {
  let caught: unknown;
  assert.throws(() => parseSpec(spec), (err: unknown) => {
    caught = err;
    return err instanceof SpecError;
  });
  const err = caught as SpecError;
  assert.equal(err.rule, rule, err.message);
  assert.equal(err.data.path, path, err.message);
  assert.equal(err.exitCode, 2);
  return err;
}

Deno.test("parseSpec() reads Pachyderm's python_train.pipeline.json unchanged", async () => {
  const spec = parseSpecText(await Deno.readTextFile(`${PACHYDERM}/python_train.pipeline.json`));
  assert.equal(spec.name, "model");
  assert.equal(spec.program, "python3");
  assert.deepEqual(spec.args, ["/code/pytrain.py", "/pfs/training/", "/pfs/out/"]);
  assert.equal(spec.transform.image, "pachyderm/iris-train:python-svm");
  assert.equal(spec.transform.workingDir, undefined);
  assert.equal(spec.parallelism, 1);
});

Deno.test("parseSpec() reads Pachyderm's python_infer.pipeline.json unchanged", async () => {
  const spec = parseSpecText(await Deno.readTextFile(`${PACHYDERM}/python_infer.pipeline.json`));
  assert.equal(spec.name, "inference");
  assert.equal(spec.program, "python3");
  assert.deepEqual(spec.args, ["/code/pyinfer.py", "/pfs/model/", "/pfs/attributes/", "/pfs/out/"]);
  assert.equal(spec.transform.image, "pachyderm/iris-infer:python");
});

Deno.test("parseSpec() takes a program by its absolute path", () => {
  const spec = parseSpec(hostSpec({ cmd: ["/usr/bin/python3", "/code/run.py"] }));
  assert.equal(spec.program, "/usr/bin/python3");
});

Deno.test('parseSpec() takes Pachyderm\'s ["sh"] with stdin lines', () => {
  const spec = parseSpec(hostSpec({ cmd: ["sh"], stdin: ["python3 /code/run.py /pfs/data"] }));
  assert.equal(spec.program, "sh");
  assert.deepEqual(spec.args, []);
  assert.deepEqual(spec.transform.stdin, ["python3 /code/run.py /pfs/data"]);
});

for (
  const [name, program] of [
    ["a relative path", "bin/run"],
    ["a path starting with ./", "./run.sh"],
    ["a name starting with -", "-python3"],
    ["an empty name", ""],
    ["a path inside the sandbox's /code", "/code/run.sh"],
    ["a path inside /pfs", "/pfs/data/run.sh"],
    ["a path inside /tmp", "/tmp/run.sh"],
    ["a path with ..", "/usr/bin/../../home/u/python3"],
    ["Deno by its path", "/usr/bin/deno"],
  ]
) {
  Deno.test(`parseSpec() refuses a program given as ${name}`, () => {
    refused(hostSpec({ cmd: [program, "x"] }), "transform.cmd[0]", "BAD_PROGRAM");
  });
}

Deno.test("parseSpec() refuses an argument longer than a program may be given", () => {
  const err = refused(
    hostSpec({ cmd: ["python3", "x".repeat(MAX_ARG_BYTES + 1)] }),
    "transform.cmd[1]",
    "TOO_LONG",
  );
  assert.match(err.message, /pass large data as an input/);
});

Deno.test("parseSpec() refuses arguments longer together than a command may hold", () => {
  const args = Array.from({ length: 5 }, () => "x".repeat(MAX_COMMAND_BYTES / 4));
  refused(hostSpec({ cmd: ["python3", ...args] }), "transform.cmd", "TOO_LONG");
});

Deno.test("parseSpec() refuses a /pfs/ argument of a host program naming no input", () => {
  refused(
    hostSpec({ cmd: ["python3", "/code/run.py", "/pfs/dta/"] }),
    "transform.cmd[2]",
    "UNKNOWN_INPUT",
  );
});

for (const dir of ["/code", "/code/sub", "/tmp", "/pfs/out", "/pfs/data", "/pfs/data/x"]) {
  Deno.test(`parseSpec() takes workingDir "${dir}" for a host program`, () => {
    assert.equal(parseSpec(hostSpec({ workingDir: dir })).transform.workingDir, dir);
  });
}

for (const dir of ["/home/u", "code", "/pfs/other", "/code/../etc", "/", "/code/"]) {
  Deno.test(`parseSpec() refuses workingDir "${dir}"`, () => {
    refused(hostSpec({ workingDir: dir }), "transform.workingDir", "BAD_WORKING_DIR");
  });
}

Deno.test("parseSpec() refuses workingDir for a Deno stage", () => {
  refused(
    hostSpec({ cmd: ["deno", "run", "stage.ts"], workingDir: "/code" }),
    "transform.workingDir",
    "BAD_WORKING_DIR",
  );
});

Deno.test("parseSpec() refuses a Deno errCmd beside a host program's cmd", () => {
  refused(
    hostSpec({ errCmd: ["deno", "run", "err.ts"] }),
    "transform.errCmd[0]",
    "CONFLICTING_FIELDS",
  );
});

Deno.test("parseSpec() takes a host program's errCmd beside a host program's cmd", () => {
  const spec = parseSpec(hostSpec({ errCmd: ["sh", "-c", "echo recovered > /pfs/out/r"] }));
  assert.deepEqual(spec.transform.errCmd, ["sh", "-c", "echo recovered > /pfs/out/r"]);
});

Deno.test("parseSpec() keeps a host program's spec as given in its canonical form", () => {
  const spec = parseSpec(hostSpec({ image: "me/img:1", working_dir: "/tmp" }));
  assert.deepEqual(spec.raw.transform, {
    cmd: ["python3", "/code/run.py", "/pfs/data/", "/pfs/out/"],
    image: "me/img:1",
    workingDir: "/tmp",
  });
  assert.deepEqual(parseSpec(spec.raw), spec);
});
