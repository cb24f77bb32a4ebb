/**
 * main.ts loads the rows of the command table that a command line names: the program it
 * parses with must read every command line exactly as the whole program does (the same
 * command, help text, version or usage error), and hold only what was named.
 */
import assert from "node:assert/strict";
import { type Command, parseCommandLine } from "../lib/cli/command_line.ts";
import { UsageError } from "../lib/errors.ts";
import { plainClone, programFor } from "../main.ts";

type Program = Awaited<ReturnType<typeof programFor>>;

/** What parsing `argv` with `program` gives, handlers aside. */
function outcome(program: Program, argv: readonly string[]): unknown {
  try {
    const call = parseCommandLine(program, argv);
    return call.kind === "run" ? { ...call, run: "a handler" } : call;
  } catch (e) {
    assert.ok(e instanceof UsageError, `${JSON.stringify(argv)}: ${e}`);
    return { code: e.code, message: e.message, data: e.data };
  }
}

/** Command lines for every command of the whole program, its 1.x forms and its groups. */
function commandLines(whole: Program): string[][] {
  const lines: string[][] = [[], ["--help"], ["help"], ["--version"], ["lst"], ["help", "lst"]];
  const each = (path: string[], cmd: Command) => {
    lines.push(path, [...path, "--help"], ["help", ...path], [...path, "--json", "x"]);
    lines.push(["--store", "s", ...path, "-h"], ["--store=s", "--", ...path], [...path, "--nope"]);
    if (cmd.commands.size > 0) lines.push([...path, "nope"], [...path, "help"]);
    for (const [word, sub] of cmd.commands) each([...path, word], sub);
  };
  for (const [word, cmd] of whole.root.commands) each([word], cmd);
  return lines;
}

Deno.test("programFor() with no command named gives the whole program: every row, the 1.x forms and the 1.x commands tusk lacks", async () => {
  const whole = await programFor([]);
  const root = [...whole.root.commands.keys()];
  for (const name of ["init", "list", "put", "clone", "__complete", "put-file", "start-commit"]) {
    assert.ok(root.includes(name), name);
  }
  assert.deepEqual([...whole.root.commands.get("list")!.commands.keys()], [
    "repo",
    "file",
    "commit",
    "branch",
    "pipeline",
    "job",
    "datum",
  ]);
});

Deno.test("programFor() parses every command line of every command as the whole program does", async () => {
  const whole = await programFor([]);
  const lines = commandLines(whole);
  assert.ok(lines.length > 400, `${lines.length}`);
  for (const argv of lines) {
    assert.deepEqual(outcome(await programFor(argv), argv), outcome(whole, argv), argv.join(" "));
  }
});

Deno.test("programFor() holds only the rows of the noun a command line names", async () => {
  const listRepo = await programFor(["--store", "s", "list", "repo", "--json"]);
  assert.deepEqual([...listRepo.root.commands.keys()], ["create", "list", "inspect", "delete"]);
  assert.deepEqual([...listRepo.root.commands.get("list")!.commands.keys()], ["repo"]);
  const put = await programFor(["put", "file", "r@master", "-f", "a"]);
  assert.deepEqual([...put.root.commands.keys()], [
    "list",
    "delete",
    "put",
    "get",
    "glob",
    "diff",
    "lineage",
  ]);
  const oneX = await programFor(["put-file", "r", "master", "-f", "a"]);
  assert.ok(oneX.root.commands.has("put-file"));
  assert.ok(!oneX.root.commands.has("list-repo"));
  const group = await programFor(["stop"]);
  assert.deepEqual([...group.root.commands.get("stop")!.commands.keys()], ["pipeline", "job"]);
});

/**
 * What the parser gives the clone handler for `argv`: its arguments and options, or the
 * usage error; the handler is swapped for one that records what it is called with.
 */
async function parsedClone(argv: readonly string[]): Promise<unknown> {
  // programFor() builds a new program on each call: this one is the test's alone.
  const program = await programFor(argv);
  const commands = program.root.commands as Map<string, Command>;
  let got: unknown = "not run";
  commands.set("clone", {
    ...commands.get("clone")!,
    run: (args: unknown, options: unknown) => {
      got = { args, options };
      return Promise.resolve();
    },
  });
  try {
    const call = parseCommandLine(program, argv);
    if (call.kind !== "run") return call.kind;
    await call.run(undefined as never);
    return got;
  } catch (e) {
    assert.ok(e instanceof UsageError, `${JSON.stringify(argv)}: ${e}`);
    return e.code;
  }
}

Deno.test("plainClone() reads every plain clone command line as the parser does, and leaves the rest to it", async () => {
  const plain = [
    ["clone", "/r"],
    ["clone", "/r", "d"],
    ["clone", "--json", "/r"],
    ["clone", "/r", "--json", "d"],
    ["clone", "/r", "d", "--json"],
    ["clone", "--json", "/r", "d", "--json"],
    ["clone", "s3://b/p", "a b"],
    ["clone", "help", "x"],
    ["clone", "/r", "help"],
    ["clone", "file:///r"],
  ];
  for (const argv of plain) {
    const lean = plainClone(argv);
    assert.ok(lean, argv.join(" "));
    assert.deepEqual(
      { args: [lean.url, lean.dir], options: { json: lean.json } },
      await parsedClone(argv),
      argv.join(" "),
    );
  }
  const others = [
    [],
    ["clone"],
    ["clone", "--json"],
    ["clone", "/r", "d", "e"],
    ["clone", "-h"],
    ["clone", "--help"],
    ["clone", "/r", "--help"],
    ["clone", "--version"],
    ["clone", "--", "/r"],
    ["clone", "-"],
    ["clone", ""],
    ["clone", "/r", ""],
    ["clone", "--json=true", "/r"],
    ["clone", "/r", "--store", "s"],
    ["clone", "/r", "--sandbox=deno"],
    ["clone", "/r", "--nope"],
    ["--store", "s", "clone", "/r"],
    ["help", "clone"],
    ["list", "repo"],
  ];
  for (const argv of others) assert.equal(plainClone(argv), null, argv.join(" "));
});
