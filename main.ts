/**
 * `tusk`: the command line. Declares both of Pachyderm's grammars (`create repo` and
 * `create-repo`), calls lib/, prints, and maps errors to exit codes: 0 ok, 1 the operation
 * failed, 2 usage or input error, 70 a bug.
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";

type Lib = typeof import("./lib/mod.ts");
let libPromise: Promise<Lib> | undefined;
/** The library, imported on first use so `--help` stays fast. */
function lib(): Promise<Lib> {
  return libPromise ??= import("./lib/mod.ts");
}

const encoder = new TextEncoder();
function out(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text));
}
function err(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/** The user's working folder: `INIT_CWD` when run through `deno task`. */
function userCwd(): string {
  return Deno.env.get("INIT_CWD") || Deno.cwd();
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${userCwd()}/${path}`;
}

let storeFlag: string | undefined;

async function openStore() {
  const { Store, NoStoreError } = await lib();
  const explicit = storeFlag ?? Deno.env.get("TUSK_STORE");
  if (explicit) return await Store.open(absolute(explicit));
  const found = await Store.find(userCwd());
  if (!found) {
    throw new NoStoreError(
      `No tusk store in "${userCwd()}" or any folder above it: run "tusk init" first (or pass --store)`,
      { cwd: userCwd() },
    );
  }
  return await Store.open(found);
}

function json(value: unknown): void {
  out(JSON.stringify(value, null, 2) + "\n");
}

function short(id: string | null): string {
  return id ?? "-";
}

const program = new Command()
  .name("tusk")
  .description("Versioned data and data-driven pipelines on one machine (Pachyderm's model)")
  .version("0.1.0")
  .option("--store <dir>", "store folder (default: .tusk found upward, or $TUSK_STORE)")
  .showSuggestionAfterError(true)
  .showHelpAfterError('(run "tusk --help" for usage)')
  .hook("preAction", (cmd) => {
    storeFlag = cmd.opts().store;
  });

program.command("init")
  .description("create a new store (.tusk in the current folder, or --store DIR)")
  .action(async () => {
    const { Store, STORE_DIR } = await lib();
    const dir = absolute(storeFlag ?? Deno.env.get("TUSK_STORE") ?? STORE_DIR);
    await Store.init(dir);
    out(`Initialised an empty tusk store in ${dir}\n`);
  });

// ---- repos ----

async function doCreateRepo(name: string, opts: { description?: string }) {
  const { createRepo } = await lib();
  await createRepo(
    await openStore(),
    name,
    opts.description ? { description: opts.description } : {},
  );
}

async function doListRepo(opts: { json?: boolean }) {
  const { listRepos, formatTable, formatAge, formatSize } = await lib();
  const store = await openStore();
  const repos = await listRepos(store);
  if (opts.json) return json(repos);
  const now = store.now();
  out(formatTable(
    ["NAME", "CREATED", "SIZE"],
    repos.map((r) => [r.name, formatAge(r.created, now), formatSize(r.size)]),
  ));
}

async function doInspectRepo(name: string, opts: { json?: boolean }) {
  const { inspectRepo, formatAge, formatSize } = await lib();
  const store = await openStore();
  const r = await inspectRepo(store, name);
  if (opts.json) return json(r);
  out(
    `Name: ${r.name}\nDescription: ${r.description}\nCreated: ${
      formatAge(r.created, store.now())
    }\n` +
      `Size of HEAD on master: ${formatSize(r.size)}\nBranches: ${
        r.branches.map((b) => b.name).join(", ")
      }\n`,
  );
}

async function doDeleteRepo(name: string) {
  const { deleteRepo } = await lib();
  await deleteRepo(await openStore(), name);
}

// ---- files ----

interface PutOpts {
  file?: string[];
  recursive?: boolean;
  append?: boolean;
  message?: string;
  skipSpecial?: boolean;
}

async function doPutFile(target: string, opts: PutOpts) {
  const { putFile, formatSize } = await lib();
  const store = await openStore();
  const tty = Deno.stderr.isTerminal();
  let last = 0;
  const result = await putFile(store, target, {
    sources: opts.file ?? [],
    recursive: opts.recursive ?? false,
    append: opts.append ?? false,
    skipSpecial: opts.skipSpecial ?? false,
    cwd: userCwd(),
    ...(opts.message !== undefined ? { message: opts.message } : {}),
    ...(tty
      ? {
        onProgress: (done: number, total: number) => {
          const now = Date.now();
          if (total < 16 << 20 || (now - last < 100 && done < total)) return;
          last = now;
          const pct = total ? Math.floor((done / total) * 100) : 100;
          err(`\r\x1b[2Kputting ${formatSize(done)} / ${formatSize(total)} (${pct}%)`);
          if (done >= total) err("\r\x1b[2K");
        },
      }
      : {}),
  });
  for (const s of result.skipped) err(`tusk: skipped "${s}": not a regular file or folder\n`);
}

async function doGetFile(ref: string, opts: { output?: string; recursive?: boolean }) {
  const { getFile } = await lib();
  const r = await getFile(await openStore(), ref, {
    recursive: opts.recursive ?? false,
    cwd: userCwd(),
    ...(opts.output ? { output: opts.output } : {}),
  });
  if (r.stream) await r.stream.pipeTo(Deno.stdout.writable, { preventClose: true });
}

async function doListFile(ref: string, opts: { json?: boolean }) {
  const { listFile, formatTable, formatSize } = await lib();
  const files = await listFile(await openStore(), ref);
  if (opts.json) return json(files);
  out(formatTable(
    ["NAME", "TYPE", "SIZE"],
    files.map((f) => [f.path, f.type, formatSize(f.size)]),
  ));
}

async function doGlobFile(ref: string, opts: { json?: boolean }) {
  const { globFile, formatTable, formatSize } = await lib();
  const files = await globFile(await openStore(), ref);
  if (opts.json) return json(files);
  out(formatTable(
    ["NAME", "TYPE", "SIZE"],
    files.map((f) => [f.path, f.type, formatSize(f.size)]),
  ));
}

async function doDiffFile(newRef: string, oldRef: string | undefined, opts: { json?: boolean }) {
  const { diffFile, formatTable, formatSize } = await lib();
  const rows = await diffFile(await openStore(), newRef, oldRef);
  if (opts.json) return json(rows);
  out(formatTable(
    ["CHANGE", "NAME", "SIZE"],
    rows.map((r) => [
      r.change,
      r.path,
      r.change === "removed"
        ? formatSize(r.oldSize ?? 0)
        : r.change === "added"
        ? formatSize(r.newSize ?? 0)
        : `${formatSize(r.oldSize ?? 0)} -> ${formatSize(r.newSize ?? 0)}`,
    ]),
  ));
}

async function doDeleteFile(ref: string, opts: { message?: string }) {
  const { deleteFile } = await lib();
  await deleteFile(
    await openStore(),
    ref,
    opts.message !== undefined ? { message: opts.message } : {},
  );
}

// ---- commits and branches ----

async function doListCommit(ref: string, opts: { json?: boolean; number?: string }) {
  const { listCommit, formatTable, formatAge, formatSize } = await lib();
  const store = await openStore();
  const limit = opts.number !== undefined ? Number(opts.number) : undefined;
  const commits = await listCommit(store, ref, limit ? { limit } : {});
  if (opts.json) return json(commits);
  const now = store.now();
  out(formatTable(
    ["REPO", "BRANCH", "COMMIT", "FINISHED", "SIZE", "ORIGIN", "DESCRIPTION"],
    commits.map((c) => [
      c.repo,
      c.branch,
      c.id,
      formatAge(c.time, now),
      formatSize(c.size),
      c.origin.toUpperCase(),
      c.message,
    ]),
  ));
}

async function doInspectCommit(ref: string, opts: { json?: boolean }) {
  const { inspectCommit, formatAge, formatSize } = await lib();
  const store = await openStore();
  const c = await inspectCommit(store, ref);
  if (opts.json) return json(c);
  let text = `Commit: ${c.repo}@${c.id}\nOriginal Branch: ${c.branch}\n`;
  if (c.heads.length) text += `Head of: ${c.heads.join(", ")}\n`;
  text += `Parent: ${short(c.parent)}\nFinished: ${formatAge(c.time, store.now())} (${c.time})\n` +
    `Size: ${formatSize(c.size)}\nOrigin: ${c.origin.toUpperCase()}\nTree: ${c.tree}\n`;
  if (c.revertOf) text += `Reverts to: ${c.revertOf}\n`;
  if (c.message) text += `Description: ${c.message}\n`;
  if (c.provenance) {
    text += "Provenance:\n";
    for (const i of c.provenance.inputs) text += `  ${i.repo}@${i.commit}\n`;
  }
  out(text);
}

async function doCreateBranch(ref: string, opts: { head?: string }) {
  const { createBranch } = await lib();
  await createBranch(await openStore(), ref, opts.head !== undefined ? { head: opts.head } : {});
}

async function doListBranch(repo: string, opts: { json?: boolean }) {
  const { listBranch, formatTable } = await lib();
  const branches = await listBranch(await openStore(), repo);
  if (opts.json) return json(branches);
  out(formatTable(["BRANCH", "HEAD"], branches.map((b) => [b.name, short(b.head)])));
}

async function doDeleteBranch(ref: string) {
  const { deleteBranch } = await lib();
  await deleteBranch(await openStore(), ref);
}

// ---- the 2.x grammar: verb noun ----

const jsonOpt = () => new Option("--json", "print JSON for scripts");

const create = program.command("create").description("create a repo or branch");
create.command("repo").argument("<repo>").description("create a new repo")
  .option("-d, --description <text>", "what the repo holds")
  .action(doCreateRepo);
create.command("branch").argument("<repo@branch>").description(
  "create a branch, or move it with --head",
)
  .option("--head <commit>", "commit or branch to point at (repo@ref or ref)")
  .action(doCreateBranch);

const list = program.command("list").description("list repos, files, commits or branches");
list.command("repo").description("list repos").addOption(jsonOpt()).action(doListRepo);
list.command("file").argument("<repo@ref[:/path]>").description("list the files in a folder")
  .addOption(jsonOpt()).action(doListFile);
list.command("commit").argument("<repo[@branch]>").description("list commits, newest first")
  .option("-n, --number <n>", "show at most n commits").addOption(jsonOpt()).action(doListCommit);
list.command("branch").argument("<repo>").description("list a repo's branches")
  .addOption(jsonOpt()).action(doListBranch);

const inspect = program.command("inspect").description("show one repo or commit in detail");
inspect.command("repo").argument("<repo>").addOption(jsonOpt()).action(doInspectRepo);
inspect.command("commit").argument("<repo@ref>").addOption(jsonOpt()).action(doInspectCommit);

const del = program.command("delete").description("delete a repo, branch or file");
del.command("repo").argument("<repo>").action(doDeleteRepo);
del.command("branch").argument("<repo@branch>").action(doDeleteBranch);
del.command("file").argument("<repo@branch:/path>").option("-m, --message <text>", "commit message")
  .action(doDeleteFile);

const put = program.command("put").description("put files into a repo");
put.command("file").argument("<repo@branch[:/path]>")
  .description("put files into a new commit (overwrites; --append appends)")
  .option("-f, --file <source...>", "a file, a folder with -r, or - for standard input")
  .option("-r, --recursive", "put a folder with everything in it")
  .option("-a, --append", "append to files instead of overwriting them")
  .option("-m, --message <text>", "commit message")
  .option("-c, --commit", "accepted for pachctl 1.8 (every put is its own commit)")
  .option("--skip-special", "skip symlinks, FIFOs and devices with a warning instead of failing")
  .action((target, opts) => doPutFile(target, opts));

const get = program.command("get").description("get file contents");
get.command("file").argument("<repo@ref:/path>")
  .option("-o, --output <path>", "write to this file (a folder with -r)")
  .option("-r, --recursive", "get a folder with everything in it")
  .action(doGetFile);

const glob = program.command("glob").description("match files with a glob pattern");
glob.command("file").argument("<repo@ref:pattern>").addOption(jsonOpt()).action(doGlobFile);

const diff = program.command("diff").description("compare files between commits");
diff.command("file").argument("<new-repo@ref[:/path]>").argument("[old-repo@ref[:/path]]")
  .addOption(jsonOpt()).action(doDiffFile);

program.command("revert").argument("<repo@branch>")
  .description("restore an old commit's files as a new commit on the branch")
  .requiredOption("--to <commit>", "the commit to restore (id, branch^N, or repo@ref)")
  .option("-m, --message <text>", "commit message")
  .action(async (ref, opts) => {
    const { revert } = await lib();
    const c = await revert(await openStore(), ref, {
      to: opts.to,
      ...(opts.message !== undefined ? { message: opts.message } : {}),
    });
    out(`${c.commit.repo}@${c.id}\n`);
  });

program.command("verify").description("check every hash, chain and link in the store")
  .addOption(jsonOpt())
  .action(async (opts) => {
    const { verifyStore } = await lib();
    const r = await verifyStore(await openStore());
    if (opts.json) return json({ ok: true, ...r });
    out(
      `ok: ${r.entries} ledger entries, ${r.commits} commits, ${r.trees} trees, ${r.files} files, ${r.objects} objects verified\n`,
    );
  });

program.command("gc").description("delete objects no kept ledger entry reaches")
  .option("--dry-run", "report what would be freed, delete nothing")
  .addOption(jsonOpt())
  .action(async (opts) => {
    const { collectGarbage, formatSize } = await lib();
    const r = await collectGarbage(await openStore(), { dryRun: opts.dryRun ?? false });
    if (opts.json) return json(r);
    out(`${r.dryRun ? "would free" : "freed"} ${r.objects} objects (${formatSize(r.bytes)})\n`);
  });

// ---- the ≤1.8 grammar: verb-noun with positional repo, branch, path ----

const join = (repo: string, ref: string, path?: string) =>
  `${repo}@${ref}${path !== undefined ? `:${path}` : ""}`;

program.command("create-repo").argument("<repo>").option("-d, --description <text>")
  .description("(1.8) create a new repo").action(doCreateRepo);
program.command("list-repo").description("(1.8) list repos").addOption(jsonOpt()).action(
  doListRepo,
);
program.command("inspect-repo").argument("<repo>").addOption(jsonOpt()).action(doInspectRepo);
program.command("delete-repo").argument("<repo>").action(doDeleteRepo);
program.command("put-file").argument("<repo>").argument("<branch>").argument("[path]")
  .description("(1.8) put files into a new commit")
  .option("-f, --file <source...>", "a file, a folder with -r, or - for standard input")
  .option("-r, --recursive", "put a folder with everything in it")
  .option("-a, --append", "append instead of overwriting")
  .option("-m, --message <text>", "commit message")
  .option("-c, --commit", "accepted (every put is its own commit)")
  .option("--skip-special", "skip symlinks, FIFOs and devices")
  .action((repo, branch, path, opts) => doPutFile(join(repo, branch, path), opts));
program.command("get-file").argument("<repo>").argument("<ref>").argument("<path>")
  .option("-o, --output <path>").option("-r, --recursive")
  .action((repo, ref, path, opts) => doGetFile(join(repo, ref, path), opts));
program.command("list-file").argument("<repo>").argument("<ref>").argument("[path]")
  .addOption(jsonOpt())
  .action((repo, ref, path, opts) => doListFile(join(repo, ref, path), opts));
program.command("glob-file").argument("<repo>").argument("<ref>").argument("<pattern>")
  .addOption(jsonOpt())
  .action((repo, ref, pattern, opts) => doGlobFile(join(repo, ref, pattern), opts));
program.command("delete-file").argument("<repo>").argument("<ref>").argument("<path>")
  .action((repo, ref, path) => doDeleteFile(join(repo, ref, path), {}));
program.command("diff-file").argument("<repo>").argument("<ref>").argument("[path]")
  .argument("[old-repo]").argument("[old-ref]").argument("[old-path]").addOption(jsonOpt())
  .action((repo, ref, path, oldRepo, oldRef, oldPath, opts) =>
    doDiffFile(
      join(repo, ref, path),
      oldRepo && oldRef ? join(oldRepo, oldRef, oldPath) : undefined,
      opts,
    )
  );
program.command("list-commit").argument("<repo>").argument("[branch]")
  .option("-n, --number <n>").addOption(jsonOpt())
  .action((repo, branch, opts) => doListCommit(branch ? `${repo}@${branch}` : repo, opts));
program.command("inspect-commit").argument("<repo>").argument("<commit>").addOption(jsonOpt())
  .action((repo, commit, opts) => doInspectCommit(`${repo}@${commit}`, opts));
program.command("create-branch").argument("<repo>").argument("<branch>").option("--head <commit>")
  .action((repo, branch, opts) => doCreateBranch(`${repo}@${branch}`, opts));
program.command("list-branch").argument("<repo>").addOption(jsonOpt()).action(doListBranch);
program.command("delete-branch").argument("<repo>").argument("<branch>")
  .action((repo, branch) => doDeleteBranch(`${repo}@${branch}`));

/** Parse and run; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  program.exitOverride();
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  program.configureOutput({ writeOut: out, writeErr: err });
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0
      ) {
        return 0;
      }
      return 2;
    }
    const TuskError = await lib().then((l) => l.TuskError, () => null);
    if (TuskError && e instanceof TuskError) {
      err(`tusk: ${e.message}\n`);
      if (e.exitCode === 2) err('(run "tusk --help" for usage)\n');
      return e.exitCode;
    }
    err(
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
