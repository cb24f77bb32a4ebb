/**
 * `tusk`: the command line. The table below is Pachyderm's 2.x grammar (`create repo`) at a
 * glance: each top-level word, and which noun's rows declare it; the rows themselves (the
 * arguments, options and handler of each command, and its pachctl 1.x form, `create-repo`,
 * as data) are in `cli/<noun>_table.ts`, their handlers in `cli/<noun>.ts`. `main()` loads
 * the rows of the noun the command line names (every row for help, completion scripts or a
 * word it does not know), parses, runs the handler with a `CliContext` and maps errors to
 * exit codes: 0 ok, 1 the operation failed, 2 usage or input error, 70 a bug. Only the
 * parser and the error classes load up front.
 */
import {
  type Command,
  commandTree,
  commandWords,
  parseCommandLine,
  placeRows,
  type Program,
  program,
  type TablePlace,
  unsupported,
  value,
} from "./lib/cli/command_line.ts";
import { TuskError } from "./lib/errors.ts";

/**
 * Import a module of this checkout on first use, by a specifier Deno cannot read ahead of
 * time: for a literal `import("./cli/repo.ts")`, `deno run` prepares that module's whole
 * graph (the library included) before main.ts starts, ~10 ms on every command.
 */
function load<T>(path: string): Promise<T> {
  return import(new URL(path, import.meta.url).href);
}

/**
 * A noun: its rows are in `cli/<noun>_table.ts` (named by the words of each command: `"list
 * repo"`), its handlers in `cli/<noun>.ts`.
 */
type Noun = string;

/**
 * The top level of the 2.x grammar, in the order help lists it: a command and the noun whose
 * rows declare it, or a group and the nouns whose rows (`"<word> <subcommand>"`) it holds.
 */
const TABLE: Readonly<Record<string, TablePlace>> = {
  init: "store",
  create: { about: "create a repo, branch or pipeline", from: ["repo", "branch", "pipeline"] },
  list: {
    about: "list repos, files, commits, branches, pipelines, jobs or datums",
    from: ["repo", "file", "commit", "branch", "pipeline", "job", "datum"],
  },
  inspect: {
    about: "show one repo, commit, pipeline or job in detail",
    from: ["repo", "commit", "pipeline", "job", "datum"],
  },
  delete: {
    about: "delete a repo, branch, file or pipeline",
    from: ["repo", "branch", "file", "pipeline"],
  },
  put: { about: "put files into a repo", from: ["file"] },
  get: { about: "get file contents", from: ["file"] },
  glob: { about: "match files with a glob pattern", from: ["file"] },
  diff: { about: "compare files between commits", from: ["file"] },
  revert: "commit",
  verify: "store",
  gc: "store",
  update: { about: "update a pipeline", from: ["pipeline"] },
  start: { about: "resume a pipeline", from: ["pipeline"] },
  stop: { about: "pause a pipeline or stop a job", from: ["pipeline", "job"] },
  restart: { about: "re-run datums", from: ["datum"] },
  logs: "logs",
  plan: "pipeline",
  lineage: "file",
  wait: { about: "wait for jobs to finish", from: ["commit", "job"] },
  draw: { about: "draw the pipeline DAG", from: ["pipeline"] },
  run: { about: "run a cron pipeline's tick now", from: ["pipeline"] },
  up: "up",
  metrics: { about: "show and compare the metrics a branch's commits hold", from: ["metrics"] },
  plots: "metrics",
  doctor: "doctor",
  export: { about: "export pipelines to run elsewhere", from: ["export"] },
  remote: {
    about: "remotes: folders and S3 buckets to push to, pull from and clone",
    from: ["remote"],
  },
  push: "remote",
  pull: "remote",
  clone: "remote",
  completions: "completions",
  __complete: "completions",
};

/** The program's name, version, description and global options: all but its commands. */
const PROGRAM = {
  name: "tusk",
  version: "0.1.0",
  description: "Versioned data and data-driven pipelines on one machine (Pachyderm's model)",
  options: {
    store: value("dir", "store folder (default: .tusk found upward, or $TUSK_STORE)"),
    sandbox: value("mode", "how stages are sandboxed, auto by default", {
      choices: ["auto", "deno", "bwrap"],
    }),
  },
};

type Tusk = Program<typeof PROGRAM.options>;

/** Every noun, for the whole program. */
const NOUNS: readonly Noun[] = [
  ...new Set(Object.values(TABLE).flatMap((row) => typeof row === "string" ? [row] : row.from)),
];

/**
 * The program with the rows of `nouns` placed as TABLE says; with `all`, also the 1.x forms
 * the rows declare (`withAliases()`) and the 1.x commands tusk lacks.
 */
async function build(nouns: readonly Noun[], all: boolean): Promise<Tusk> {
  const tables = await Promise.all(
    nouns.map((n) => load<{ rows: Record<string, Command> }>(`./cli/${n}_table.ts`)),
  );
  const commands = placeRows(TABLE, new Map(nouns.map((n, i) => [n, tables[i]!.rows])));
  if (!all) return program({ ...PROGRAM, commands });
  const [{ withAliases }, { PACHCTL_1X_LACKING }] = await Promise.all([
    load<typeof import("./lib/cli/alias.ts")>("./lib/cli/alias.ts"),
    load<typeof import("./cli/pachctl_1x.ts")>("./cli/pachctl_1x.ts"),
  ]);
  const lacking = Object.entries(PACHCTL_1X_LACKING).map(([name, instead]) =>
    [name, unsupported(`tusk has no "${name}" (pachctl 1.x): ${instead}`)] as const
  );
  return program({
    ...PROGRAM,
    commands: { ...withAliases(commands, "(1.x)"), ...Object.fromEntries(lacking) },
  });
}

/**
 * The program `argv` needs, which parses it as the whole one does: the rows of the nouns its
 * first words name (`list repo`: repo's; `create-repo`, a 1.x form: repo's, with their 1.x
 * forms), when they hold the command those words name or all of a group named without a
 * subcommand of it; else every row.
 */
export async function programFor(argv: readonly string[]): Promise<Tusk> {
  const [first = "", second = ""] = commandWords(program({ ...PROGRAM, commands: {} }), argv, 2);
  const row = TABLE[first];
  if (typeof row === "string") return await build([row], false);
  if (row) {
    const nouns = row.from.includes(second) ? [second] : row.from;
    const p = await build(nouns, false);
    if (p.root.commands.get(first)?.commands.has(second) || nouns === row.from) return p;
  }
  const [verb = "", noun = ""] = first.split("-");
  const verbRow = TABLE[verb];
  if (typeof verbRow === "object" && verbRow.from.includes(noun)) {
    const p = await build([noun], true);
    if (p.root.commands.has(first)) return p;
  }
  return await build(NOUNS, true);
}

/** Parse and run; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  // The rows load while the context does; a failure to build them is reported below.
  const tusk = programFor(args);
  tusk.catch(() => {});
  const { CliContext } = await load<typeof import("./cli/context.ts")>("./cli/context.ts");
  const cli = new CliContext({ commandTree: async () => commandTree(await build(NOUNS, true)) });
  try {
    const call = parseCommandLine(await tusk, args);
    switch (call.kind) {
      case "help":
        (call.error ? cli.err : cli.out)(call.text);
        return call.error ? 2 : 0;
      case "version":
        cli.out(`${call.text}\n`);
        return 0;
      case "run": {
        const context = cli.with({ store: call.globals.store, sandbox: call.globals.sandbox });
        await context.sandboxRequest();
        await context.batchDatums();
        await call.run(context);
        return 0;
      }
    }
  } catch (e) {
    // The reader went away (`tusk list file … | head`): stop quietly, as a process killed
    // by SIGPIPE would, with its exit status.
    if (e instanceof Deno.errors.BrokenPipe) return 141;
    if (e instanceof TuskError) {
      cli.err(`tusk: ${e.message}\n`);
      if (e.exitCode === 2) cli.err('(run "tusk --help" for usage)\n');
      return e.exitCode;
    }
    cli.err(
      `tusk: internal error (a bug; please report it):\n${
        e instanceof Error ? e.stack : String(e)
      }\n`,
    );
    return 70;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
