/**
 * Aliases: another grammar's form of a command, made by data. Positional arguments become
 * the target's through templates (optional parts, nested ones, missing ones refused), options
 * pass through with the alias's defaults and flags, and a spec that does not fit its target
 * is refused with TypeError when the alias is made.
 */
import assert from "node:assert/strict";
import { alias, type AliasSpec, withAliases } from "../../lib/cli/alias.ts";
import {
  type Command,
  command,
  flag,
  group,
  list,
  negated,
  parseCommandLine,
  program,
} from "../../lib/cli/command_line.ts";
import { UsageError } from "../../lib/errors.ts";

let calls: { args: unknown[]; options: Record<string, unknown> }[] = [];

const TARGETS: Record<string, Command> = {
  put: group("put things", {
    file: command({
      description: "put files",
      args: ["<repo@branch[:/path]>"],
      options: {
        file: list("source", "sources", { short: "f" }),
        append: flag("append", { short: "a" }),
        wait: negated("do not wait"),
      },
      run: (args, options) => void calls.push({ args, options }),
    }),
  }),
  diff: group("diff things", {
    file: command({
      description: "diff files",
      args: ["<new>", "[old]"],
      run: (args, options) => void calls.push({ args, options }),
    }),
  }),
  many: command({ args: ["[names...]"], run: () => {} }),
  logs: command({
    description: "print logs",
    args: ["[job]"],
    options: { json: flag("JSON") },
    run: (args, options) => void calls.push({ args, options }),
  }),
};

const SPECS: Record<string, AliasSpec> = {
  "put-file": {
    for: "put file",
    args: ["<repo>", "<branch>", "[path]"],
    to: ["{repo}@{branch}[:{path}]"],
    defaults: { append: true },
    flags: { overwrite: { short: "o", help: "overwrite", sets: { append: false } } },
  },
  "diff-file": {
    for: "diff file",
    args: ["<repo>", "<ref>", "[path]", "[old-repo]", "[old-ref]", "[old-path]"],
    to: ["{repo}@{ref}[:{path}]", "[{old-repo}@{old-ref}[:{old-path}]]"],
  },
  "get-logs": { for: "logs" },
  "put-maybe": { for: "put file", args: ["[repo]"], to: ["[{repo}@master]"] },
};

function demo() {
  const commands: Record<string, Command> = { ...TARGETS };
  for (const [name, spec] of Object.entries(SPECS)) {
    commands[name] = alias(TARGETS, name, spec, "(old)");
  }
  return program({ name: "demo", version: "1", description: "", options: {}, commands });
}

async function run(...argv: string[]) {
  calls = [];
  const call = parseCommandLine(demo(), argv);
  assert.equal(call.kind, "run");
  if (call.kind === "run") await call.run();
  assert.equal(calls.length, 1);
  return calls[0]!;
}

Deno.test("alias() fills the target's argument from a template, leaving out optional parts", async () => {
  assert.deepEqual((await run("put-file", "r", "master")).args, ["r@master"]);
  assert.deepEqual((await run("put-file", "r", "master", "/x")).args, ["r@master:/x"]);
});

Deno.test("alias() leaves out a whole optional group and refuses one given in part", async () => {
  assert.deepEqual((await run("diff-file", "r", "m")).args, ["r@m", undefined]);
  assert.deepEqual((await run("diff-file", "r", "m", "/p", "s", "n")).args, ["r@m:/p", "s@n"]);
  assert.deepEqual((await run("diff-file", "r", "m", "/p", "s", "n", "/q")).args, [
    "r@m:/p",
    "s@n:/q",
  ]);
  calls = [];
  const call = parseCommandLine(demo(), ["diff-file", "r", "m", "/p", "s"]);
  assert.equal(call.kind, "run");
  await assert.rejects(
    async () => call.kind === "run" && await call.run(),
    (e: unknown) =>
      e instanceof UsageError && e.code === "MISSING_ARGUMENT" && e.exitCode === 2 &&
      e.message === 'Missing argument [old-ref] of "diff-file <repo> <ref> [path] [old-repo] ' +
          '[old-ref] [old-path]"',
  );
  assert.equal(calls.length, 0, "the target did not run");
});

Deno.test("alias() refuses a command line that leaves a required argument of the target empty", async () => {
  assert.deepEqual((await run("put-maybe", "r")).args, ["r@master"]);
  const call = parseCommandLine(demo(), ["put-maybe"]);
  assert.equal(call.kind, "run");
  await assert.rejects(
    async () => call.kind === "run" && await call.run(),
    (e: unknown) =>
      e instanceof UsageError && e.code === "MISSING_ARGUMENT" &&
      e.message === 'Missing argument <repo@branch[:/path]> of "put-maybe [repo]"',
  );
});

Deno.test("alias() passes the target's options, with its defaults and flags applied", async () => {
  assert.deepEqual((await run("put-file", "r", "m", "-f", "a", "b")).options, {
    file: ["a", "b"],
    append: true,
    wait: true,
  });
  assert.equal((await run("put-file", "r", "m", "-a")).options.append, true);
  assert.equal((await run("put-file", "r", "m", "-o")).options.append, false);
  assert.equal((await run("put-file", "r", "m", "--no-wait")).options.wait, false);
  assert.ok(!("overwrite" in (await run("put-file", "r", "m", "-o")).options));
});

Deno.test("alias() refuses a flag of its own given with a target option it contradicts (CONFLICTING_OPTIONS)", async () => {
  for (const argv of [["-o", "-a"], ["--overwrite", "--append"], ["-a", "-o"], ["-oa"]]) {
    calls = [];
    const call = parseCommandLine(demo(), ["put-file", "r", "m", ...argv]);
    assert.equal(call.kind, "run");
    await assert.rejects(
      async () => call.kind === "run" && await call.run(),
      (e: unknown) =>
        e instanceof UsageError && e.code === "CONFLICTING_OPTIONS" && e.exitCode === 2 &&
        JSON.stringify(e.data.options) === '["--overwrite","--append"]',
      argv.join(" "),
    );
    assert.equal(calls.length, 0, "the target did not run");
  }
});

Deno.test("alias() without templates takes the target's arguments and options as they are", async () => {
  assert.deepEqual(await run("get-logs", "j1", "--json"), {
    args: ["j1"],
    options: { json: true },
  });
  const help = parseCommandLine(demo(), ["get-logs", "-h"]);
  assert.ok(help.kind === "help");
  assert.match(help.text, /^Usage: demo get-logs \[options\] \[job\]$/m);
  assert.match(help.text, /^\(old\) print logs$/m);
  assert.match(help.text, /^Another form of "logs"\.$/m);
});

Deno.test("alias() refuses a spec that does not fit its target with TypeError", () => {
  const bad: [string, AliasSpec][] = [
    ["no target", { for: "put folder" }],
    ["a group as target", { for: "put" }],
    ["an unknown argument", { for: "logs", args: ["<j>"], to: ["{job}"] }],
    ["an unclosed group", { for: "logs", args: ["<j>"], to: ["[{j}"] }],
    ["a stray bracket", { for: "logs", args: ["<j>"], to: ["{j}]"] }],
    ["an unclosed brace", { for: "logs", args: ["<j>"], to: ["{j"] }],
    ["a stray brace", { for: "logs", args: ["<j>"], to: ["}{j}"] }],
    ["too many templates", { for: "logs", args: ["<j>"], to: ["{j}", "{j}"] }],
    ["a template for a variadic argument", { for: "many", args: ["<j>"], to: ["{j}"] }],
    ["a default of an unknown option", { for: "logs", defaults: { raw: true } }],
    ["a flag setting an unknown option", {
      for: "logs",
      flags: { raw: { help: "", sets: { raw: true } } },
    }],
    ["a flag spelt as the target's", {
      for: "put file",
      flags: { all: { short: "a", help: "", sets: { append: true } } },
    }],
  ];
  for (const [why, spec] of bad) {
    assert.throws(() => alias(TARGETS, "x", spec, "(old)"), TypeError, why);
  }
});

/** A program whose commands declare their aliases, as `withAliases()` reads them. */
function declared() {
  const seen: unknown[] = [];
  const handler = (args: unknown, options: unknown, context: unknown) =>
    void seen.push({ args, options, context });
  const commands = {
    list: group("list things", {
      repo: command({ aliases: { "list-repo": {} }, run: handler }),
      commit: command({
        description: "list commits",
        args: ["<repo[@branch]>"],
        aliases: { "list-commit": { args: ["<repo>", "[branch]"], to: ["{repo}[@{branch}]"] } },
        run: handler,
      }),
    }),
    gc: command({
      options: { dryRun: flag("dry") },
      aliases: { "garbage-collect": {} },
      run: handler,
    }),
  };
  return { seen, commands };
}

Deno.test("withAliases() adds the aliases commands declare at the root, after them, in tree order", () => {
  const { commands } = declared();
  const all = withAliases(commands, "(old)");
  assert.deepEqual(Object.keys(all), ["list", "gc", "list-repo", "list-commit", "garbage-collect"]);
  assert.equal(all["list-commit"]!.description, "(old) list commits");
  assert.deepEqual(all["list-commit"]!.args.map((a) => a.usage), ["<repo>", "[branch]"]);
});

Deno.test("withAliases() aliases run their target with the arguments its templates make", async () => {
  const { seen, commands } = declared();
  const p = program({
    name: "demo",
    version: "1",
    description: "",
    options: {},
    commands: withAliases(commands, "(old)"),
  });
  const call = parseCommandLine(p, ["list-commit", "r", "dev"]);
  assert.ok(call.kind === "run");
  await call.run("ctx");
  assert.deepEqual(seen, [{ args: ["r@dev"], options: {}, context: "ctx" }]);
});

Deno.test("withAliases() refuses an alias named as a command is, with TypeError", () => {
  const taken = {
    gc: command({ run: () => {} }),
    list: group("", { repo: command({ aliases: { gc: {} }, run: () => {} }) }),
  };
  assert.throws(() => withAliases(taken, "(old)"), TypeError);
  const twice = {
    a: command({ aliases: { x: {} }, run: () => {} }),
    b: command({ aliases: { x: {} }, run: () => {} }),
  };
  assert.throws(() => withAliases(twice, "(old)"), TypeError);
});
