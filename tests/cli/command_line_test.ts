/**
 * The command-line parser on a small program shaped like tusk's: typed values, the option
 * grammar, globals at any depth, help and version, every usage error (class, code and
 * data), the help text and the tree the completion scripts read.
 */
import assert from "node:assert/strict";
import {
  command,
  commandTree,
  commandWords,
  flag,
  group,
  helpText,
  list,
  negated,
  parseCommandLine,
  placeRows,
  program,
  unsupported,
  value,
} from "../../lib/cli/command_line.ts";
import { TuskError, UsageError, type UsageErrorCode } from "../../lib/errors.ts";

/** What the last handler got, by command. */
let calls: { command: string; args: unknown[]; options: Record<string, unknown> }[] = [];

function recorder(name: string) {
  return (args: unknown[], options: Record<string, unknown>) => {
    calls.push({ command: name, args, options });
  };
}

const PUT = {
  file: list("source", "a file, or - for standard input", { short: "f" }),
  recursive: flag("a folder with everything in it", { short: "r" }),
  append: flag("append", { short: "a" }),
  message: value("text", "commit message", { short: "m" }),
  wait: negated("do not run the triggered jobs now"),
};

const demo = program({
  name: "demo",
  version: "1.2.3",
  description: "A program for the parser's tests",
  options: {
    store: value("dir", "store folder"),
    sandbox: value("mode", "sandbox", { choices: ["auto", "deno", "bwrap"] }),
  },
  commands: {
    init: command({ description: "create a store", run: recorder("init") }),
    put: group("put things", {
      file: command({
        description: "put files",
        args: ["<repo@branch[:/path]>"],
        options: PUT,
        run: recorder("put file"),
      }),
    }),
    list: group("list things", {
      repo: command({
        description: "list repos",
        options: { json: flag("print JSON") },
        run: recorder("list repo"),
      }),
      commit: command({
        description: "list commits",
        args: ["<repo>", "[branch]"],
        options: { number: value("n", "at most n", { short: "n" }) },
        run: recorder("list commit"),
      }),
    }),
    revert: command({
      description: "restore an old commit",
      args: ["<repo@branch>"],
      options: { to: value("commit", "the commit to restore", { required: true }) },
      run: recorder("revert"),
    }),
    export: group("export", {
      pachyderm: command({
        args: [{ usage: "[pipeline...]", help: "pipelines to export" }],
        run: recorder("export pachyderm"),
      }),
    }),
    completions: command({
      description: "print a completion script",
      args: [{ usage: "<shell>", help: "the shell", choices: ["bash", "zsh", "fish"] }],
      epilogue: "bash: source <(demo completions bash)\n",
      run: recorder("completions"),
    }),
    __complete: command({ args: ["<what>"], hidden: true, run: recorder("__complete") }),
    "start-commit": unsupported('demo has no "start-commit": every put is a commit'),
  },
});

/** Parse and run `argv`; returns the invocation and the handler's call, if any. */
async function run(...argv: string[]) {
  calls = [];
  const call = parseCommandLine(demo, argv);
  if (call.kind === "run") await call.run();
  return { call, ran: calls[0] };
}

/** The usage error `argv` throws. */
function usageError(...argv: string[]): UsageError {
  try {
    parseCommandLine(demo, argv);
  } catch (e) {
    assert.ok(e instanceof UsageError, `not a UsageError: ${e}`);
    return e;
  }
  throw new Error(`no error for ${JSON.stringify(argv)}`);
}

Deno.test("parseCommandLine() calls the handler with typed arguments and options filled with defaults", async () => {
  const { call, ran } = await run("put", "file", "r@master", "-f", "a.csv");
  assert.equal(call.kind, "run");
  assert.deepEqual(call.kind === "run" && call.path, ["put", "file"]);
  assert.deepEqual(ran, {
    command: "put file",
    args: ["r@master"],
    options: { file: ["a.csv"], recursive: false, append: false, message: undefined, wait: true },
  });
});

Deno.test("parseCommandLine() refuses an empty value of an option taking a name or path (EMPTY_VALUE)", () => {
  const cases: [string[], string][] = [
    [["list", "commit", "r", "-n", ""], "--number"],
    [["list", "commit", "r", "--number="], "--number"],
    [["revert", "r@m", "--to", ""], "--to"],
    [["--store", "", "init"], "--store"],
    [["put", "file", "r@m", "-f", ""], "--file"],
    [["put", "file", "r@m", "-f", "a", "", "b"], "--file"],
    [["put", "file", "r@m", "--file="], "--file"],
  ];
  for (const [argv, option] of cases) {
    const e = usageError(...argv);
    assert.equal(e.code, "EMPTY_VALUE", argv.join(" "));
    assert.equal(e.exitCode, 2);
    assert.equal(e.data.option, option, argv.join(" "));
    assert.match(e.message, /cannot be empty/);
  }
});

Deno.test("parseCommandLine() takes an empty value of an option that allows one", async () => {
  const p = program({
    name: "demo",
    version: "1",
    description: "",
    options: {},
    commands: {
      commit: command({
        options: { message: value("text", "message", { short: "m", allowEmpty: true }) },
        run: (_args, options) => void calls.push({ command: "commit", args: [], options }),
      }),
    },
  });
  calls = [];
  const call = parseCommandLine(p, ["commit", "-m", ""]);
  assert.ok(call.kind === "run");
  await call.run();
  assert.deepEqual(calls[0]?.options, { message: "" });
});

Deno.test("parseCommandLine() hands the context given to run() to the handler as its third argument", async () => {
  let got: unknown[] = [];
  const p = program({
    name: "demo",
    version: "1",
    description: "",
    options: {},
    commands: {
      show: command({
        args: ["<name>"],
        run: ([name], _options, context: { greeting: string }) => {
          got = [name, context.greeting];
        },
      }),
    },
  });
  const call = parseCommandLine(p, ["show", "x"]);
  assert.ok(call.kind === "run");
  await call.run({ greeting: "hi" });
  assert.deepEqual(got, ["x", "hi"]);
});

Deno.test("parseCommandLine() reads --name value, --name=value, -n value and -nvalue alike", async () => {
  for (
    const argv of [
      ["list", "commit", "r", "--number", "5"],
      ["list", "commit", "r", "--number=5"],
      ["list", "commit", "r", "-n", "5"],
      ["list", "commit", "-n5", "r"],
    ]
  ) {
    const { ran } = await run(...argv);
    assert.deepEqual(ran?.options, { number: "5" }, argv.join(" "));
    assert.deepEqual(ran?.args, ["r", undefined], argv.join(" "));
  }
});

Deno.test("parseCommandLine() reads combined short flags, the last one taking a value", async () => {
  const { ran } = await run("put", "file", "r@m", "-ra", "-mhello");
  assert.deepEqual(ran?.options, {
    file: [],
    recursive: true,
    append: true,
    message: "hello",
    wait: true,
  });
  const { ran: taking } = await run("put", "file", "r@m", "-raf", "x", "y");
  assert.deepEqual(taking?.options.file, ["x", "y"]);
  assert.equal(taking?.options.recursive, true);
});

Deno.test("parseCommandLine() gives a value option the next word even when it starts with a dash", async () => {
  const { ran } = await run("put", "file", "r@m", "-m", "-r", "-f", "-");
  assert.equal(ran?.options.message, "-r");
  assert.equal(ran?.options.recursive, false);
  assert.deepEqual(ran?.options.file, ["-"]);
});

Deno.test('parseCommandLine() collects a list option\'s values until the next option or "--"', async () => {
  const { ran } = await run("put", "file", "-f", "a", "b", "-", "-r", "r@m", "-f", "c");
  assert.deepEqual(ran?.options.file, ["a", "b", "-", "c"]);
  assert.deepEqual(ran?.args, ["r@m"]);
  const { ran: ended } = await run("put", "file", "-f", "a", "--", "r@m");
  assert.deepEqual([ended?.options.file, ended?.args], [["a"], ["r@m"]]);
  const { ran: inline } = await run("put", "file", "--file=a", "r@m");
  assert.deepEqual([inline?.options.file, inline?.args], [["a"], ["r@m"]], "--x=v collects one");
});

Deno.test('parseCommandLine() reads every word after "--" as an argument, commands included', async () => {
  const { ran } = await run("--", "list", "commit", "r", "-n");
  assert.deepEqual([ran?.command, ran?.args, ran?.options], ["list commit", ["r", "-n"], {
    number: undefined,
  }]);
});

Deno.test("parseCommandLine() sets a --no-x option false; it is true unless given", async () => {
  assert.equal((await run("put", "file", "r@m")).ran?.options.wait, true);
  assert.equal((await run("put", "file", "r@m", "--no-wait")).ran?.options.wait, false);
});

Deno.test("parseCommandLine() keeps the last of a repeated value option", async () => {
  const { ran } = await run("put", "file", "r@m", "-m", "one", "--message", "two");
  assert.equal(ran?.options.message, "two");
});

Deno.test("parseCommandLine() accepts global options before, between and after the command's words", async () => {
  for (
    const argv of [
      ["--store", "/s", "list", "repo"],
      ["list", "--store=/s", "repo"],
      ["list", "repo", "--json", "--store", "/s"],
    ]
  ) {
    const { call } = await run(...argv);
    assert.ok(call.kind === "run", argv.join(" "));
    assert.deepEqual(call.globals, { store: "/s", sandbox: undefined }, argv.join(" "));
  }
  const { call } = await run("--sandbox", "deno", "init");
  assert.deepEqual(call.kind === "run" && call.globals.sandbox, "deno");
});

Deno.test("parseCommandLine() gives a variadic argument every remaining word", async () => {
  assert.deepEqual((await run("export", "pachyderm")).ran?.args, [[]]);
  assert.deepEqual((await run("export", "pachyderm", "a", "b")).ran?.args, [["a", "b"]]);
});

Deno.test("parseCommandLine() answers -h/--help anywhere with that command's help, before any error", async () => {
  for (
    const argv of [
      ["list", "repo", "--help"],
      ["list", "repo", "-h", "--bogus"],
      ["list", "repo", "--bogus", "extra", "-h"],
      ["help", "list", "repo"],
      ["list", "help", "repo"],
    ]
  ) {
    const { call, ran } = await run(...argv);
    assert.equal(ran, undefined, "no handler ran");
    assert.ok(call.kind === "help" && !call.error, argv.join(" "));
    assert.match(call.text, /^Usage: demo list repo \[options\]\n/, argv.join(" "));
  }
  const { call } = await run("help");
  assert.ok(call.kind === "help" && /^Usage: demo \[options\] \[command\]\n/.test(call.text));
});

Deno.test("parseCommandLine() reports an unknown command even when -h or -V is given", () => {
  for (const argv of [["lsit", "-h"], ["lsit", "--help"], ["list", "rpeo", "-h"], ["lsit", "-V"]]) {
    assert.throws(
      () => parseCommandLine(demo, argv),
      (e) => e instanceof UsageError && e.code === "UNKNOWN_COMMAND",
      argv.join(" "),
    );
  }
});

Deno.test("parseCommandLine() names a short option outside the BMP whole", () => {
  assert.throws(
    () => parseCommandLine(demo, ["list", "repo", "-\u{1D11E}"]),
    (e) =>
      e instanceof UsageError && e.code === "UNKNOWN_OPTION" &&
      e.message.startsWith('Unknown option "-\u{1D11E}" for "demo list repo"'),
  );
});

Deno.test("parseCommandLine() answers -V/--version with the version", async () => {
  for (const argv of [["--version"], ["-V"], ["list", "repo", "--version"]]) {
    const { call } = await run(...argv);
    assert.deepEqual(call, { kind: "version", text: "1.2.3" }, argv.join(" "));
  }
});

Deno.test("parseCommandLine() answers a group without its subcommand with the group's help, as an error", async () => {
  for (const [argv, usage] of [[[], "demo"], [["list"], "demo list"]] as const) {
    const { call } = await run(...argv);
    assert.ok(call.kind === "help" && call.error, usage);
    assert.ok(call.text.startsWith(`Usage: ${usage} [options] [command]\n`), call.text);
  }
});

interface ErrorCase {
  readonly argv: readonly string[];
  readonly code: UsageErrorCode;
  readonly message: string;
  readonly data: Record<string, unknown>;
}

const ERRORS: ErrorCase[] = [
  {
    argv: ["lst", "repo"],
    code: "UNKNOWN_COMMAND",
    message: 'Unknown command "lst": did you mean "list"?',
    data: { command: "demo", name: "lst" },
  },
  {
    argv: ["list", "repos"],
    code: "UNKNOWN_COMMAND",
    message: 'Unknown command "list repos": did you mean "list repo"?',
    data: { command: "demo list", name: "repos" },
  },
  {
    argv: ["xyzzy"],
    code: "UNKNOWN_COMMAND",
    message: 'Unknown command "xyzzy"',
    data: { command: "demo", name: "xyzzy" },
  },
  {
    argv: ["help", "lsit"],
    code: "UNKNOWN_COMMAND",
    message: 'Unknown command "lsit": did you mean "list"?',
    data: { command: "demo", name: "lsit" },
  },
  {
    argv: ["list", "repo", "--jsn"],
    code: "UNKNOWN_OPTION",
    message: 'Unknown option "--jsn" for "demo list repo": did you mean "--json"?',
    data: { command: "demo list repo", option: "--jsn" },
  },
  {
    argv: ["put", "file", "r@m", "--wait"],
    code: "UNKNOWN_OPTION",
    message: 'Unknown option "--wait" for "demo put file": did you mean "--no-wait"?',
    data: { command: "demo put file", option: "--wait" },
  },
  {
    argv: ["put", "file", "r@m", "-rz"],
    code: "UNKNOWN_OPTION",
    message: 'Unknown option "-z" for "demo put file"',
    data: { command: "demo put file", option: "-z" },
  },
  {
    argv: ["list", "--json", "repo"],
    code: "UNKNOWN_OPTION",
    message: 'Unknown option "--json" for "demo list"',
    data: { command: "demo list", option: "--json" },
  },
  {
    argv: ["list", "repo", "--json=yes"],
    code: "UNEXPECTED_VALUE",
    message: 'Option "--json" takes no value',
    data: { command: "demo list repo", option: "--json", value: "yes" },
  },
  {
    argv: ["put", "file", "r@m", "-f"],
    code: "MISSING_VALUE",
    message: 'Option "-f, --file <source...>" needs a value',
    data: { command: "demo put file", option: "--file" },
  },
  {
    argv: ["--store"],
    code: "MISSING_VALUE",
    message: 'Option "--store <dir>" needs a value',
    data: { command: "demo", option: "--store" },
  },
  {
    argv: ["--sandbox", "docker", "init"],
    code: "INVALID_CHOICE",
    message: 'Invalid --sandbox "docker": expected one of auto, deno, bwrap',
    data: {
      command: "demo",
      option: "--sandbox",
      value: "docker",
      choices: ["auto", "deno", "bwrap"],
    },
  },
  {
    argv: ["completions", "tcsh"],
    code: "INVALID_CHOICE",
    message: 'Invalid shell "tcsh": expected one of bash, zsh, fish',
    data: {
      command: "demo completions",
      argument: "shell",
      value: "tcsh",
      choices: ["bash", "zsh", "fish"],
    },
  },
  {
    argv: ["list", "commit"],
    code: "MISSING_ARGUMENT",
    message: 'Missing argument <repo> of "demo list commit <repo> [branch]"',
    data: { command: "demo list commit", argument: "repo" },
  },
  {
    argv: ["put", "file", "-f", "a.csv", "r@m"],
    code: "MISSING_ARGUMENT",
    message: 'Missing argument <repo@branch[:/path]> of "demo put file <repo@branch[:/path]>"',
    data: { command: "demo put file", argument: "repo@branch[:/path]" },
  },
  {
    argv: ["list", "commit", "r", "master", "extra"],
    code: "UNEXPECTED_ARGUMENT",
    message: 'Unexpected argument "extra" for "demo list commit <repo> [branch]"',
    data: { command: "demo list commit", argument: "extra" },
  },
  {
    argv: ["init", "--", "-x"],
    code: "UNEXPECTED_ARGUMENT",
    message: 'Unexpected argument "-x" for "demo init"',
    data: { command: "demo init", argument: "-x" },
  },
  {
    argv: ["revert", "r@master"],
    code: "MISSING_OPTION",
    message: 'Missing required option "--to <commit>" for "demo revert"',
    data: { command: "demo revert", option: "--to" },
  },
];

for (const c of ERRORS) {
  Deno.test(`parseCommandLine() refuses "${c.argv.join(" ")}" with ${c.code}`, () => {
    const e = usageError(...c.argv);
    assert.ok(e instanceof TuskError);
    assert.deepEqual([e.code, e.exitCode, e.message, e.data], [c.code, 2, c.message, c.data]);
  });
}

Deno.test("parseCommandLine() reports the first of several errors", () => {
  assert.equal(usageError("list", "repo", "--bogus", "extra").code, "UNKNOWN_OPTION");
});

Deno.test("parseCommandLine() neither runs nor suggests a hidden command's name wrongly", async () => {
  assert.equal((await run("__complete", "repos")).ran?.command, "__complete");
  assert.equal(usageError("__compete").message, 'Unknown command "__compete"');
});

Deno.test("parseCommandLine() refuses an unsupported command with its message, whatever follows", () => {
  for (
    const argv of [
      ["start-commit"],
      ["start-commit", "r@master", "extra"],
      ["start-commit", "--bogus", "-x"],
      ["start-commit", "-h"],
      ["start-commit", "--version"],
      ["--store", "s", "start-commit", "--store", "t"],
      ["help", "start-commit"],
    ]
  ) {
    const e = usageError(...argv);
    assert.deepEqual(
      [e.code, e.exitCode, e.message, e.data],
      [
        "UNSUPPORTED_COMMAND",
        2,
        'demo has no "start-commit": every put is a commit',
        { command: "demo start-commit" },
      ],
      argv.join(" "),
    );
  }
});

Deno.test("an unsupported command is neither shown in help and completion nor suggested", () => {
  assert.doesNotMatch(helpText(demo, [], demo.root), /start-commit/);
  assert.ok(!commandTree(demo).commands.some((c) => c.name === "start-commit"));
  assert.equal(usageError("start-comit").message, 'Unknown command "start-comit"');
});

Deno.test("helpText() shows usage, description, arguments, options with notes, commands and epilogue", () => {
  const leaf = helpText(demo, ["completions"], demo.root.commands.get("completions")!);
  assert.equal(
    leaf,
    [
      "Usage: demo completions [options] <shell>",
      "",
      "print a completion script",
      "",
      "Arguments:",
      "  shell  the shell (one of bash, zsh, fish)",
      "",
      "Options:",
      "  -h, --help  print help for the command",
      "",
      "bash: source <(demo completions bash)",
      "",
    ].join("\n"),
  );
  const revert = helpText(demo, ["revert"], demo.root.commands.get("revert")!);
  assert.match(revert, /^ {2}--to <commit> {2}the commit to restore \(required\)$/m);
  const root = helpText(demo, [], demo.root);
  assert.match(root, /^ {2}-V, --version +print the version$/m);
  assert.match(root, /^ {2}put +put things$/m);
  assert.match(root, /^ {2}revert \[options\] <repo@branch> +restore an old commit$/m);
  assert.match(root, /^ {2}help \[command\] +print help for a command$/m);
  assert.doesNotMatch(root, /__complete/);
});

Deno.test("helpText() wraps long descriptions within 80 columns", () => {
  const wordy = program({
    name: "w",
    version: "1",
    description: "",
    options: {},
    commands: {
      go: command({
        options: { far: flag("word ".repeat(40).trim()) },
        run: () => {},
      }),
    },
  });
  const text = helpText(wordy, ["go"], wordy.root.commands.get("go")!);
  assert.ok(text.split("\n").every((l) => l.length <= 80), text);
  assert.match(text, /^ {2}--far {7}word word/m);
  assert.match(text, /^ {14}word word/m);
});

Deno.test("commandTree() describes visible commands with built-in help and version for completion", () => {
  const tree = commandTree(demo);
  assert.deepEqual(tree.commands.map((c) => c.name), [
    "init",
    "put",
    "list",
    "revert",
    "export",
    "completions",
    "help",
  ]);
  assert.deepEqual(tree.options.map((o) => o.flags), [
    ["-V", "--version"],
    ["--store"],
    ["--sandbox"],
    ["-h", "--help"],
  ]);
  assert.deepEqual(tree.options[2], {
    flags: ["--sandbox"],
    name: "sandbox",
    takesValue: true,
    choices: ["auto", "deno", "bwrap"],
  });
  const put = tree.commands.find((c) => c.name === "put")!;
  assert.deepEqual(put.commands.map((c) => c.name), ["file", "help"]);
  const file = put.commands[0]!;
  assert.deepEqual(file.args, [{ name: "repo@branch[:/path]", variadic: false }]);
  assert.deepEqual(file.options.map((o) => [o.name, o.flags, o.takesValue]), [
    ["file", ["-f", "--file"], true],
    ["recursive", ["-r", "--recursive"], false],
    ["append", ["-a", "--append"], false],
    ["message", ["-m", "--message"], true],
    ["no-wait", ["--no-wait"], false],
    ["help", ["-h", "--help"], false],
  ]);
  const exp = tree.commands.find((c) => c.name === "export")!.commands[0]!;
  assert.deepEqual(exp.args, [{ name: "pipeline", variadic: true }]);
});

Deno.test("command() and flag() refuse malformed declarations with TypeError", () => {
  const noop = () => {};
  assert.throws(() => flag("x", { short: "xy" }), TypeError);
  assert.throws(() => command({ args: ["repo"], run: noop }), TypeError);
  assert.throws(() => command({ args: ["[a]", "<b>"], run: noop }), TypeError);
  assert.throws(() => command({ args: ["[a...]", "[b]"], run: noop }), TypeError);
  assert.throws(() => command({ options: { help: flag("clash") }, run: noop }), TypeError);
  assert.throws(
    () => command({ options: { x: flag("clash", { short: "h" }) }, run: noop }),
    TypeError,
  );
  const twice = { a: flag("one", { short: "x" }), b: flag("two", { short: "x" }) };
  assert.throws(() => command({ options: twice, run: noop }), TypeError);
});

/** A program whose root options take values in every way: a list, a short value, a flag. */
const globals = program({
  name: "globals",
  version: "1",
  description: "root options of every kind",
  options: {
    tag: list("t", "tags", { short: "t" }),
    store: value("dir", "store folder", { short: "s" }),
    verbose: flag("say more", { short: "v" }),
  },
  commands: {
    list: group("list things", {
      repo: command({ options: { json: flag("JSON") }, run: () => {} }),
      commit: command({ args: ["[repo]"], run: () => {} }),
    }),
  },
});

Deno.test("commandWords() gives the words the parser descends by, past the root options and their values", () => {
  const lines = [
    ["list", "repo"],
    ["--store", "list", "list", "repo"],
    ["--store=x", "list", "repo", "--json"],
    ["-s", "--", "list", "commit"],
    ["-sx", "list", "repo"],
    ["-vs", "x", "list", "repo"],
    ["-vt", "a", "b", "--verbose", "list", "repo"],
    ["--tag", "a", "b", "-v", "list", "commit", "r"],
    ["--tag=a", "list", "repo"],
    ["-ta", "list", "repo"],
    ["-hv", "list", "repo", "--json"],
    ["--", "list", "commit", "--json"],
    ["--tag", "a", "--", "list", "commit"],
  ];
  // The words the parser descended by: the run's path, else those of the help it shows.
  const descended = (argv: string[]) => {
    const call = parseCommandLine(globals, argv.includes("--") ? argv : [...argv, "--help"]);
    if (call.kind === "run") return call.path;
    assert.equal(call.kind, "help", JSON.stringify(argv));
    return /^Usage: globals (.*?) \[options\]/.exec(call.kind === "help" ? call.text : "")![1]!
      .split(" ");
  };
  for (const argv of lines) {
    assert.deepEqual(commandWords(globals, argv, 2), descended(argv), JSON.stringify(argv));
  }
  // An unknown option is a usage error of the root, whatever the words name; they are named.
  assert.deepEqual(commandWords(globals, ["-x", "list", "repo"], 2), ["list", "repo"]);
  assert.deepEqual(commandWords(globals, ["--nope", "list", "repo"], 2), ["list", "repo"]);
  assert.deepEqual(commandWords(demo, ["--store", "s"], 2), []);
  assert.deepEqual(commandWords(demo, ["help", "put", "file"], 2), ["help", "put"]);
  assert.deepEqual(commandWords(demo, ["init", "--store", "s", "x"], 2), ["init", "x"]);
});

/** Rows of two nouns, as the command tables of a program declare them. */
const ROWS = {
  repo: {
    "list repo": command({ description: "list repos", run: () => {} }),
    "create repo": command({ description: "create a repo", run: () => {} }),
  },
  file: {
    "list file": command({ description: "list files", run: () => {} }),
    lineage: command({ description: "where a file came from", run: () => {} }),
  },
};
const PLACES = {
  create: { about: "create things", from: ["repo"] },
  list: { about: "list things", from: ["repo", "file"] },
  lineage: "file",
};

Deno.test("placeRows() places each noun's rows as the table says, in the table's order", () => {
  const commands = placeRows(PLACES, new Map(Object.entries(ROWS)));
  assert.deepEqual(Object.keys(commands), ["create", "list", "lineage"]);
  assert.deepEqual([...commands.list!.commands.keys()], ["repo", "file"]);
  assert.equal(commands.list!.description, "list things");
  assert.equal(commands.lineage, ROWS.file.lineage);
  assert.equal(commands.create!.commands.get("repo"), ROWS.repo["create repo"]);
});

Deno.test("placeRows() leaves out the places of nouns not loaded", () => {
  const commands = placeRows(PLACES, new Map([["file", ROWS.file]]));
  assert.deepEqual(Object.keys(commands), ["list", "lineage"]);
  assert.deepEqual([...commands.list!.commands.keys()], ["file"]);
});

Deno.test("placeRows() refuses a row no place takes, and a place its loaded noun has no row for", () => {
  const stray = { ...ROWS.repo, "drop repo": command({ run: () => {} }) };
  assert.throws(
    () => placeRows(PLACES, new Map([["repo", stray]])),
    { name: "TypeError", message: 'Invalid row "drop repo" of noun "repo": no place takes it' },
  );
  assert.throws(
    () => placeRows({ ...PLACES, plan: "repo" }, new Map([["repo", ROWS.repo]])),
    { name: "TypeError", message: 'Invalid place "plan": noun "repo" has no row for it' },
  );
});
