/**
 * `tusk`: the command line. Declares Pachyderm's 2.x grammar (`create repo`) as a table of
 * commands, each row carrying its pachctl 1.x form (`create-repo`) as data; runs the
 * handler of `cli/<noun>.ts` that a row names, imported when it runs, with a `CliContext`;
 * and maps errors to exit codes: 0 ok, 1 the operation failed, 2 usage or input error, 70 a
 * bug. Only the parser and the error classes load up front.
 */
import { withAliases } from "./lib/cli/alias.ts";
import {
  command,
  commandTree,
  flag,
  group,
  list,
  negated,
  parseCommandLine,
  program,
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

type Cli = import("./cli/context.ts").CliContext;

/** The handler files, one per noun. */
interface Handlers {
  store: typeof import("./cli/store.ts");
  repo: typeof import("./cli/repo.ts");
  file: typeof import("./cli/file.ts");
  commit: typeof import("./cli/commit.ts");
  branch: typeof import("./cli/branch.ts");
  pipeline: typeof import("./cli/pipeline.ts");
  job: typeof import("./cli/job.ts");
  datum: typeof import("./cli/datum.ts");
  logs: typeof import("./cli/logs.ts");
  up: typeof import("./cli/up.ts");
  doctor: typeof import("./cli/doctor.ts");
  export: typeof import("./cli/export.ts");
  completions: typeof import("./cli/completions.ts");
  metrics: typeof import("./cli/metrics.ts");
  remote: typeof import("./cli/remote.ts");
}

/** A handler `(cli, args, options)` as a row's `run`: `(args, options, cli)`. */
type Run<H> = H extends (cli: Cli, args: infer A, options: infer O) => void | Promise<void>
  ? (args: A, options: O, cli: Cli) => Promise<void>
  : never;

/** The handler `name` of `cli/<noun>.ts`, imported when its command runs. */
function on<N extends keyof Handlers, H extends keyof Handlers[N] & string>(
  noun: N,
  name: H,
): Run<Handlers[N][H]> {
  const run = async (args: unknown, options: unknown, cli: Cli) => {
    const handlers = await load<Record<string, (...a: unknown[]) => unknown>>(`./cli/${noun}.ts`);
    await handlers[name]!(cli, args, options);
  };
  return run as Run<Handlers[N][H]>;
}

// ---- options several commands share ----

const JSON_OPTION = { json: flag("print JSON for scripts") };
const WAIT = { wait: negated("do not run the jobs this commit triggers now") };
const MESSAGE = { message: value("text", "commit message", { short: "m", allowEmpty: true }) };

// ---- the command table: the 2.x grammar (verb noun), each row with its 1.x form ----

/**
 * The 2.x commands. `aliases` are the pachctl 1.x forms (≤ 1.8): their own positional
 * arguments and the templates that make the 2.x ones of them; the options are the 2.x
 * command's. In 1.x form `put-file` appends, as pachctl 1.x did, and `-o` overwrites.
 */
const COMMANDS = {
  init: command({
    description: "create a new store (.tusk in the current folder, or --store DIR)",
    run: on("store", "init"),
  }),
  create: group("create a repo, branch or pipeline", {
    repo: command({
      description: "create a new repo",
      args: ["<repo>"],
      options: {
        description: value("text", "what the repo holds", { short: "d", allowEmpty: true }),
      },
      aliases: { "create-repo": {} },
      run: on("repo", "createRepo"),
    }),
    branch: command({
      description: "create a branch, or move it with --head",
      args: ["<repo@branch>"],
      options: { head: value("commit", "commit or branch to point at (repo@ref or ref)"), ...WAIT },
      aliases: { "create-branch": { args: ["<repo>", "<branch>"], to: ["{repo}@{branch}"] } },
      run: on("branch", "createBranch"),
    }),
    pipeline: command({
      description: "create a pipeline from a Pachyderm spec",
      options: {
        file: value("spec.json", "the pipeline spec (Pachyderm JSON)", {
          short: "f",
          required: true,
        }),
        wait: negated("do not run the triggered jobs now"),
      },
      aliases: { "create-pipeline": {} },
      run: on("pipeline", "createPipeline"),
    }),
  }),
  list: group("list repos, files, commits, branches, pipelines, jobs or datums", {
    repo: command({
      description: "list repos",
      options: JSON_OPTION,
      aliases: { "list-repo": {} },
      run: on("repo", "listRepo"),
    }),
    file: command({
      description: "list the files in a folder",
      args: ["<repo@ref[:/path]>"],
      options: {
        number: value("n", "at most n entries (a page)", { short: "n" }),
        after: value("name", "start after this name (the last of the page before)"),
        ...JSON_OPTION,
      },
      aliases: {
        "list-file": { args: ["<repo>", "<ref>", "[path]"], to: ["{repo}@{ref}[:{path}]"] },
      },
      run: on("file", "listFile"),
    }),
    commit: command({
      description: "list commits, newest first",
      args: ["<repo[@branch]>"],
      options: { number: value("n", "show at most n commits", { short: "n" }), ...JSON_OPTION },
      aliases: { "list-commit": { args: ["<repo>", "[branch]"], to: ["{repo}[@{branch}]"] } },
      run: on("commit", "listCommit"),
    }),
    branch: command({
      description: "list a repo's branches",
      args: ["<repo>"],
      options: JSON_OPTION,
      aliases: { "list-branch": {} },
      run: on("branch", "listBranch"),
    }),
    pipeline: command({
      description: "list pipelines",
      options: JSON_OPTION,
      aliases: { "list-pipeline": {} },
      run: on("pipeline", "listPipeline"),
    }),
    job: command({
      description: "list jobs, newest first",
      options: {
        pipeline: value("name", "only this pipeline's jobs", { short: "p" }),
        number: value("n", "at most n", { short: "n" }),
        ...JSON_OPTION,
      },
      aliases: { "list-job": {} },
      run: on("job", "listJob"),
    }),
    datum: command({
      description: "list a job's datums",
      args: ["<job>"],
      options: JSON_OPTION,
      aliases: { "list-datum": {} },
      run: on("datum", "listDatum"),
    }),
  }),
  inspect: group("show one repo, commit, pipeline or job in detail", {
    repo: command({
      description: "show a repo",
      args: ["<repo>"],
      options: JSON_OPTION,
      aliases: { "inspect-repo": {} },
      run: on("repo", "inspectRepo"),
    }),
    commit: command({
      description: "show a commit and its provenance",
      args: ["<repo@ref>"],
      options: JSON_OPTION,
      aliases: { "inspect-commit": { args: ["<repo>", "<commit>"], to: ["{repo}@{commit}"] } },
      run: on("commit", "inspectCommit"),
    }),
    pipeline: command({
      description: "show a pipeline and its spec",
      args: ["<name>"],
      options: JSON_OPTION,
      aliases: { "inspect-pipeline": {} },
      run: on("pipeline", "inspectPipeline"),
    }),
    job: command({
      description: "show a job",
      args: ["<job>"],
      options: JSON_OPTION,
      aliases: { "inspect-job": {} },
      run: on("job", "inspectJob"),
    }),
    datum: command({
      description: "show one datum of a job",
      args: ["<job>", "<datum>"],
      options: JSON_OPTION,
      aliases: { "inspect-datum": {} },
      run: on("datum", "inspectDatum"),
    }),
  }),
  delete: group("delete a repo, branch, file or pipeline", {
    repo: command({
      description: "delete a repo (its data becomes garbage for gc)",
      args: ["<repo>"],
      aliases: { "delete-repo": {} },
      run: on("repo", "deleteRepo"),
    }),
    branch: command({
      description: "delete a branch",
      args: ["<repo@branch>"],
      aliases: { "delete-branch": { args: ["<repo>", "<branch>"], to: ["{repo}@{branch}"] } },
      run: on("branch", "deleteBranch"),
    }),
    file: command({
      description: "delete a file or folder in a new commit",
      args: ["<repo@branch:/path>"],
      options: { ...MESSAGE, ...WAIT },
      aliases: {
        "delete-file": { args: ["<repo>", "<ref>", "<path>"], to: ["{repo}@{ref}:{path}"] },
      },
      run: on("file", "deleteFile"),
    }),
    pipeline: command({
      description: "delete a pipeline and its output repo",
      args: ["<name>"],
      aliases: { "delete-pipeline": {} },
      run: on("pipeline", "deletePipeline"),
    }),
  }),
  put: group("put files into a repo", {
    file: command({
      description: "put files into a new commit (overwrites; --append appends)",
      args: ["<repo@branch[:/path]>"],
      options: {
        file: list("source", "a file, a folder with -r, or - for standard input", { short: "f" }),
        recursive: flag("put a folder with everything in it", { short: "r" }),
        append: flag("append to files instead of overwriting them", { short: "a" }),
        ...MESSAGE,
        commit: flag("accepted for pachctl 1.8 (every put is its own commit)", { short: "c" }),
        skipSpecial: flag("skip symlinks, FIFOs and devices with a warning instead of failing"),
        ...WAIT,
      },
      aliases: {
        "put-file": {
          args: ["<repo>", "<branch>", "[path]"],
          to: ["{repo}@{branch}[:{path}]"],
          defaults: { append: true },
          flags: {
            overwrite: {
              short: "o",
              help: "overwrite files (in 1.x form put-file appends to them)",
              sets: { append: false },
            },
          },
          description:
            "(1.x) put files into a new commit, appending to files that exist (-o overwrites)",
        },
      },
      run: on("file", "putFile"),
    }),
  }),
  get: group("get file contents", {
    file: command({
      description: "print a file, or write files with -o",
      args: ["<repo@ref:/path>"],
      options: {
        output: value("path", "write to this file (a folder with -r)", { short: "o" }),
        recursive: flag("get a folder with everything in it", { short: "r" }),
      },
      aliases: { "get-file": { args: ["<repo>", "<ref>", "<path>"], to: ["{repo}@{ref}:{path}"] } },
      run: on("file", "getFile"),
    }),
  }),
  glob: group("match files with a glob pattern", {
    file: command({
      description: "list the files matching a pattern",
      args: ["<repo@ref:pattern>"],
      options: JSON_OPTION,
      aliases: {
        "glob-file": { args: ["<repo>", "<ref>", "<pattern>"], to: ["{repo}@{ref}:{pattern}"] },
      },
      run: on("file", "globFile"),
    }),
  }),
  diff: group("compare files between commits", {
    file: command({
      description: "list what changed (against the parent commit by default)",
      args: ["<new-repo@ref[:/path]>", "[old-repo@ref[:/path]]"],
      options: JSON_OPTION,
      aliases: {
        "diff-file": {
          args: ["<repo>", "<ref>", "[path]", "[old-repo]", "[old-ref]", "[old-path]"],
          to: ["{repo}@{ref}[:{path}]", "[{old-repo}@{old-ref}[:{old-path}]]"],
        },
      },
      run: on("file", "diffFile"),
    }),
  }),
  revert: command({
    description: "restore an old commit's files as a new commit on the branch",
    args: ["<repo@branch>"],
    options: {
      to: value("commit", "the commit to restore (id, branch^N, or repo@ref)", { required: true }),
      ...WAIT,
      ...MESSAGE,
    },
    run: on("commit", "revert"),
  }),
  verify: command({
    description: "check every hash, chain and link in the store",
    options: JSON_OPTION,
    run: on("store", "verify"),
  }),
  gc: command({
    description: "delete objects no kept ledger entry reaches",
    options: { dryRun: flag("report what would be freed, delete nothing"), ...JSON_OPTION },
    aliases: { "garbage-collect": {} },
    run: on("store", "gc"),
  }),
  update: group("update a pipeline", {
    pipeline: command({
      description: "update a pipeline from a new spec",
      options: {
        file: value("spec.json", "the new pipeline spec", { short: "f", required: true }),
        reprocess: flag(
          "re-run every datum, even those done before with the same inputs and code",
        ),
        wait: negated("do not run the triggered jobs now"),
      },
      aliases: { "update-pipeline": {} },
      run: on("pipeline", "updatePipeline"),
    }),
  }),
  start: group("resume a pipeline", {
    pipeline: command({
      description: "resume a stopped pipeline",
      args: ["<name>"],
      options: { wait: negated("do not run triggered jobs now") },
      aliases: { "start-pipeline": {} },
      run: on("pipeline", "startPipeline"),
    }),
  }),
  stop: group("pause a pipeline or stop a job", {
    pipeline: command({
      description: "start no new jobs of a pipeline until it is started again",
      args: ["<name>"],
      aliases: { "stop-pipeline": {} },
      run: on("pipeline", "stopPipeline"),
    }),
    job: command({
      description: "stop a running job",
      args: ["<job>"],
      aliases: { "stop-job": {} },
      run: on("job", "stopJob"),
    }),
  }),
  restart: group("re-run datums", {
    datum: command({
      description: "re-run a job's failed datums (or one datum)",
      args: ["<job>", "[datum]"],
      options: { wait: negated("do not run now") },
      aliases: { "restart-datum": {} },
      run: on("datum", "restartDatum"),
    }),
  }),
  logs: command({
    description: "print datum logs",
    options: {
      job: value("id", "this job's logs"),
      pipeline: value("name", "this pipeline's logs", { short: "p" }),
      datum: value("id", "this datum's logs"),
      follow: flag("keep printing new lines", { short: "f" }),
      raw: flag("print stage output as it was written (control characters are escaped otherwise)"),
      ...JSON_OPTION,
    },
    aliases: { "get-logs": {} },
    run: on("logs", "logs"),
  }),
  plan: command({
    description: "which datums the next job would run or skip, and why",
    args: ["<pipeline>"],
    options: JSON_OPTION,
    run: on("pipeline", "plan"),
  }),
  lineage: command({
    description: "which input files, model and code made this file",
    args: ["<repo@ref:/path>"],
    options: JSON_OPTION,
    run: on("file", "lineage"),
  }),
  wait: group("wait for jobs to finish", {
    commit: command({
      description:
        "wait until every downstream job of the branch head finished (run here if no scheduler runs)",
      args: ["<repo@branch>"],
      options: JSON_OPTION,
      aliases: {
        "flush-commit": {
          args: [{ usage: "<repo>", help: "the repo, or repo@commit" }, "[commit]"],
          to: ["{repo}[@{commit}]"],
        },
      },
      run: on("commit", "waitCommit"),
    }),
    job: command({
      description: "wait until a job finished (run here if no scheduler runs)",
      args: ["<job>"],
      options: JSON_OPTION,
      run: on("job", "waitJob"),
    }),
  }),
  draw: group("draw the pipeline DAG", {
    pipeline: command({
      description: "draw the pipeline DAG as text",
      run: on("pipeline", "drawPipeline"),
    }),
  }),
  run: group("run a cron pipeline's tick now", {
    cron: command({
      description: "commit a tick to a cron pipeline's input now",
      args: ["<pipeline>"],
      options: { wait: negated("do not run the triggered job now") },
      run: on("pipeline", "runCron"),
    }),
  }),
  up: command({
    description: "run the scheduler (with the dashboard, or --headless)",
    options: { headless: flag("plain log lines instead of the dashboard") },
    run: on("up", "up"),
  }),
  metrics: group("show and compare the metrics a branch's commits hold", {
    show: command({
      description: "each commit's metrics (metrics.json), newest first",
      args: [{
        usage: "<repo@branch[:/path]>",
        help: "the branch (and file, /metrics.json by default)",
      }],
      options: {
        number: value("n", "at most n commits", { short: "n" }),
        metric: list("name", "metrics or patterns (per_class.*.f1) to show"),
        all: flag("show every metric, not the headline ones"),
        ...JSON_OPTION,
      },
      run: on("metrics", "metricsShow"),
    }),
    diff: command({
      description: "each metric's old and new value (default: the commit against its parent)",
      args: [
        { usage: "<repo@ref>", help: "the new side (:/path for another file), or the old of two" },
        { usage: "[repo@ref]", help: "the new side (repo@ref, or a ref of the first's repo)" },
      ],
      options: {
        metric: list("name", "metrics or patterns (per_class.*.f1) to compare"),
        all: flag("list unchanged metrics too"),
        ...JSON_OPTION,
      },
      run: on("metrics", "metricsDiff"),
    }),
  }),
  plots: command({
    description: "draw a metric over a branch's commits and the newest confusion matrix",
    args: [{
      usage: "<repo@branch[:/path]>",
      help: "the branch (and file, /metrics.json by default)",
    }],
    options: {
      output: value("file", "the file to write: FILE.svg or FILE.html", {
        short: "o",
        required: true,
      }),
      metric: list("name", "metrics to plot (default cv.accuracy, else accuracy)"),
      number: value("n", "the newest n commits only", { short: "n" }),
    },
    run: on("metrics", "plots"),
  }),
  doctor: command({
    description: "check this machine and store: Deno, sandbox, scheduler, store health",
    options: JSON_OPTION,
    run: on("doctor", "doctor"),
  }),
  export: group("export pipelines to run elsewhere", {
    pachyderm: command({
      description: "write Pachyderm specs, stage bundles and a README with the pachctl commands",
      args: [{ usage: "[pipeline...]", help: "pipelines to export (default: all)" }],
      options: {
        output: value("dir", "folder to write into (an empty or new one)", {
          short: "o",
          required: true,
        }),
        force: flag("replace files of the same names already in the folder"),
        ...JSON_OPTION,
      },
      run: on("export", "exportPachyderm"),
    }),
  }),
  remote: group("remotes: folders and S3 buckets to push to, pull from and clone", {
    add: command({
      description: "add a remote: a folder, file:///path or s3://bucket/prefix",
      args: ["<name>", "<url>"],
      options: JSON_OPTION,
      run: on("remote", "remoteAdd"),
    }),
    list: command({
      description: "list the remotes",
      options: JSON_OPTION,
      run: on("remote", "remoteList"),
    }),
    remove: command({
      description: "forget a remote (the remote itself is left as it is)",
      args: ["<name>"],
      options: JSON_OPTION,
      run: on("remote", "remoteRemove"),
    }),
    verify: command({
      description: "check a whole remote: its log, every pack and object re-hashed",
      args: ["<name>"],
      options: JSON_OPTION,
      run: on("remote", "remoteVerify"),
    }),
  }),
  push: command({
    description: "send repos, pipelines and jobs to a remote (branches move fast-forward only)",
    args: ["<remote>", {
      usage: "[repo[@branch]...]",
      help: "what to push (default: every repo, branch and pipeline)",
    }],
    options: JSON_OPTION,
    run: on("remote", "push"),
  }),
  pull: command({
    description: "take repos, pipelines and jobs from a remote (fast-forward only)",
    args: ["<remote>", {
      usage: "[repo[@branch]...]",
      help: "what to pull (default: every repo, branch and pipeline)",
    }],
    options: { ...JSON_OPTION, wait: negated("do not run the jobs the pulled commits trigger") },
    run: on("remote", "pull"),
  }),
  clone: command({
    description: "make a new store from a remote (in <dir>/.tusk, or at --store)",
    args: ["<url>", "[dir]"],
    options: JSON_OPTION,
    run: on("remote", "clone"),
  }),
  completions: command({
    description: "print a shell completion script",
    args: [{
      usage: "<shell>",
      help: "the shell to complete in",
      choices: ["bash", "zsh", "fish"],
    }],
    epilogue: "bash: source <(tusk completions bash)   zsh: source <(tusk completions zsh)\n" +
      "fish: tusk completions fish > ~/.config/fish/completions/tusk.fish\n",
    run: on("completions", "completions"),
  }),
  __complete: command({
    description: "names for completion scripts: repos, branches <repo> or pipelines",
    args: ["<what>", "[arg]"],
    hidden: true,
    run: on("completions", "complete"),
  }),
};

/** pachctl 1.x commands tusk does not have, and what to do instead. */
const PACHCTL_1X_LACKING: Readonly<Record<string, string>> = {
  "start-commit": "every put file, delete file and revert is a commit of its own",
  "finish-commit": "every put file, delete file and revert is a commit of its own",
  "delete-commit":
    'commits are never deleted; "tusk revert" makes a commit with an older one\'s files',
  "subscribe-commit": '"tusk up --headless" prints every commit as it is made',
  "copy-file": 'copy with "tusk get file … -o" and "tusk put file"',
  "inspect-file": '"tusk list file --json" gives a file\'s type, size and hash',
  "set-branch": '"tusk create branch <repo>@<branch> --head <commit>" points a branch at a commit',
  "create-job": "jobs start by themselves when a pipeline's inputs change",
  "run-pipeline":
    'jobs start by themselves when inputs change; "tusk update pipeline -f <spec> --reprocess" re-runs every datum',
  "delete-job": "jobs are kept with the store's history",
  "edit-pipeline": 'edit the spec file, then run "tusk update-pipeline -f <spec>"',
  "extract": 'a store is a folder: copy it (or "tusk export pachyderm" for a cluster)',
  "extract-pipeline": '"tusk inspect pipeline <name> --json" prints the spec',
  "restore": "a store is a folder: copy it back",
  "delete-all": 'a store is a folder: remove it, then "tusk init"',
  "update-repo": "a repo's description is set when it is created",
  "get-object": '"tusk get file" reads files; objects are internal',
  "get-tag": '"tusk get file" reads files; objects are internal',
  "deploy": 'tusk needs no cluster: "tusk init" makes a store',
  "undeploy": "tusk needs no cluster",
  "port-forward": "tusk needs no cluster or network",
  "inspect-cluster": 'tusk needs no cluster: "tusk doctor" reports on this machine and store',
  "update-dash": 'the dashboard is "tusk up"',
  "mount": '"tusk get file <repo>@<ref>:/ -r -o <dir>" writes a commit\'s files to a folder',
  "unmount": "tusk mounts nothing",
  "migrate": "tusk has one store format",
  "version": '"tusk --version" prints the version',
  "completion": '"tusk completions bash|zsh|fish" prints a completion script',
};

const tusk = program({
  name: "tusk",
  version: "0.1.0",
  description: "Versioned data and data-driven pipelines on one machine (Pachyderm's model)",
  options: {
    store: value("dir", "store folder (default: .tusk found upward, or $TUSK_STORE)"),
    sandbox: value("mode", "how stages are sandboxed, auto by default", {
      choices: ["auto", "deno", "bwrap"],
    }),
  },
  commands: {
    ...withAliases(COMMANDS, "(1.x)"),
    ...Object.fromEntries(
      Object.entries(PACHCTL_1X_LACKING).map(([name, instead]) => [
        name,
        unsupported(`tusk has no "${name}" (pachctl 1.x): ${instead}`),
      ]),
    ),
  },
});

/** Parse and run; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { CliContext } = await load<typeof import("./cli/context.ts")>("./cli/context.ts");
  const cli = new CliContext({ commandTree: () => commandTree(tusk) });
  try {
    const call = parseCommandLine(tusk, args);
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
