/**
 * main.ts loads the rows of the command table that a command line names: the program it
 * parses with must read every command line exactly as the whole program does (the same
 * command, help text, version or usage error), and hold only what was named.
 */
import assert from "node:assert/strict";
import { type Command, parseCommandLine } from "../lib/cli/command_line.ts";
import { UsageError } from "../lib/errors.ts";
import { programFor } from "../main.ts";

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
