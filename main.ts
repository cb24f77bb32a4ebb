/**
 * `tusk`: the command line. Declares both of Pachyderm's grammars (`create repo` and
 * `create-repo`), calls lib/, prints, and maps errors to exit codes: 0 ok, 1 the operation
 * failed, 2 usage or input error, 70 a bug.
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";

type Pfs = typeof import("./lib/pfs.ts");
let pfsPromise: Promise<Pfs> | undefined;
/** The store verbs alone, for commands that touch no pipeline: a quicker start. */
function pfs(): Promise<Pfs> {
  return pfsPromise ??= import("./lib/pfs.ts");
}

type Lib = typeof import("./lib/mod.ts");
let libPromise: Promise<Lib> | undefined;
/** The library, imported on first use so `--help` stays fast. */
function lib(): Promise<Lib> {
  return libPromise ??= import("./lib/mod.ts");
}

const encoder = new TextEncoder();

/** `--sandbox` got a value other than auto, deno or bwrap. */
class InvalidSandboxFlag extends Error {
  constructor(value: string) {
    super(`Invalid --sandbox "${value}": use auto, deno or bwrap`);
  }
}
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
  const { Store, NoStoreError } = await pfs();
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
  .option("--sandbox <mode>", "how stages are sandboxed: auto, deno or bwrap (default: auto)")
  .showSuggestionAfterError(true)
  .showHelpAfterError('(run "tusk --help" for usage)')
  .hook("preAction", (cmd) => {
    storeFlag = cmd.opts().store;
    const sb = cmd.opts().sandbox;
    if (sb !== undefined) {
      if (sb !== "auto" && sb !== "deno" && sb !== "bwrap") {
        throw new InvalidSandboxFlag(sb);
      }
      sandboxFlag = sb;
    }
  });

program.command("init")
  .description("create a new store (.tusk in the current folder, or --store DIR)")
  .action(async () => {
    const { Store, STORE_DIR } = await pfs();
    const dir = absolute(storeFlag || Deno.env.get("TUSK_STORE") || STORE_DIR);
    await Store.init(dir);
    out(`Initialised an empty tusk store in ${dir}\n`);
  });

// ---- repos ----

async function doCreateRepo(name: string, opts: { description?: string }) {
  const { createRepo } = await pfs();
  await createRepo(
    await openStore(),
    name,
    opts.description ? { description: opts.description } : {},
  );
}

async function doListRepo(opts: { json?: boolean }) {
  const { listRepos, formatTable, formatAge, formatSize } = await pfs();
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
  const { inspectRepo, formatAge, formatSize } = await pfs();
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
  const { deleteRepo } = await pfs();
  await deleteRepo(await openStore(), name);
}

// ---- files ----

interface PutOpts {
  wait?: boolean;
  file?: string[];
  recursive?: boolean;
  append?: boolean;
  message?: string;
  skipSpecial?: boolean;
}

async function doPutFile(target: string, opts: PutOpts) {
  const { putFile, formatSize } = await pfs();
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
  await afterCommit(store, opts.wait);
}

async function doGetFile(ref: string, opts: { output?: string; recursive?: boolean }) {
  const { getFile } = await pfs();
  const r = await getFile(await openStore(), ref, {
    recursive: opts.recursive ?? false,
    cwd: userCwd(),
    ...(opts.output ? { output: opts.output } : {}),
  });
  if (r.stream) await r.stream.pipeTo(Deno.stdout.writable, { preventClose: true });
}

async function doListFile(ref: string, opts: { json?: boolean }) {
  const { listFile, formatTable, formatSize } = await pfs();
  const files = await listFile(await openStore(), ref);
  if (opts.json) return json(files);
  out(formatTable(
    ["NAME", "TYPE", "SIZE"],
    files.map((f) => [f.path, f.type, formatSize(f.size)]),
  ));
}

async function doGlobFile(ref: string, opts: { json?: boolean }) {
  const { globFile, formatTable, formatSize } = await pfs();
  const files = await globFile(await openStore(), ref);
  if (opts.json) return json(files);
  out(formatTable(
    ["NAME", "TYPE", "SIZE"],
    files.map((f) => [f.path, f.type, formatSize(f.size)]),
  ));
}

async function doDiffFile(newRef: string, oldRef: string | undefined, opts: { json?: boolean }) {
  const { diffFile, formatTable, formatSize } = await pfs();
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

async function doDeleteFile(ref: string, opts: { message?: string; wait?: boolean }) {
  const { deleteFile } = await pfs();
  const store = await openStore();
  await deleteFile(store, ref, opts.message !== undefined ? { message: opts.message } : {});
  await afterCommit(store, opts.wait);
}

// ---- commits and branches ----

async function doListCommit(ref: string, opts: { json?: boolean; number?: string }) {
  const { listCommit, formatTable, formatAge, formatSize } = await pfs();
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
  const { inspectCommit, formatAge, formatSize } = await pfs();
  const store = await openStore();
  const c = await inspectCommit(store, ref);
  const tree = c.provenance ? await (await lib()).provenance(store, c.repo, c.id) : null;
  if (opts.json) return json(tree ? { ...c, upstream: tree.inputs } : c);
  let text = `Commit: ${c.repo}@${c.id}\nOriginal Branch: ${c.branch}\n`;
  if (c.heads.length) text += `Head of: ${c.heads.join(", ")}\n`;
  text += `Parent: ${short(c.parent)}\nFinished: ${formatAge(c.time, store.now())} (${c.time})\n` +
    `Size: ${formatSize(c.size)}\nOrigin: ${c.origin.toUpperCase()}\nTree: ${c.tree}\n`;
  if (c.revertOf) text += `Reverts to: ${c.revertOf}\n`;
  if (c.message) text += `Description: ${c.message}\n`;
  if (tree) {
    text += `Pipeline: ${c.provenance?.pipeline ?? "-"} (job ${c.provenance?.job ?? "-"})\n` +
      `Spec: ${c.provenance?.spec ?? "-"}\nCode: ${c.provenance?.code ?? "-"}\nProvenance:\n`;
    const walk = (nodes: typeof tree.inputs, depth: number) => {
      for (const n of nodes) {
        text += `${"  ".repeat(depth)}${n.repo}@${n.commit}` +
          (n.pipeline ? ` (pipeline ${n.pipeline}, job ${n.job}, code ${n.code})` : "") + "\n";
        walk(n.inputs, depth + 1);
      }
    };
    walk(tree.inputs, 1);
  }
  out(text);
}

async function doCreateBranch(ref: string, opts: { head?: string; wait?: boolean }) {
  const { createBranch } = await pfs();
  const store = await openStore();
  await createBranch(store, ref, opts.head !== undefined ? { head: opts.head } : {});
  await afterCommit(store, opts.wait);
}

async function doListBranch(repo: string, opts: { json?: boolean }) {
  const { listBranch, formatTable } = await pfs();
  const branches = await listBranch(await openStore(), repo);
  if (opts.json) return json(branches);
  out(formatTable(["BRANCH", "HEAD"], branches.map((b) => [b.name, short(b.head)])));
}

async function doDeleteBranch(ref: string) {
  const { deleteBranch } = await pfs();
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
  .option("--no-wait", "do not run the jobs this commit triggers now")
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
  .option("--no-wait", "do not run the jobs this commit triggers now")
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
  .option("--no-wait", "do not run the jobs this commit triggers now")
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
  .option("--no-wait", "do not run the jobs this commit triggers now")
  .option("-m, --message <text>", "commit message")
  .action(async (ref, opts) => {
    const { revert } = await pfs();
    const store = await openStore();
    const c = await revert(store, ref, {
      to: opts.to,
      ...(opts.message !== undefined ? { message: opts.message } : {}),
    });
    out(`${c.commit.repo}@${c.id}\n`);
    await afterCommit(store, opts.wait);
  });

program.command("verify").description("check every hash, chain and link in the store")
  .addOption(jsonOpt())
  .action(async (opts) => {
    const { verify } = await lib();
    const r = await verify(await openStore());
    if (opts.json) return json({ ok: true, ...r });
    out(
      `ok: ${r.entries} ledger entries, ${r.commits} commits, ${r.trees} trees, ${r.files} files, ${r.objects} objects verified\n`,
    );
  });

program.command("gc").description("delete objects no kept ledger entry reaches")
  .option("--dry-run", "report what would be freed, delete nothing")
  .addOption(jsonOpt())
  .action(async (opts) => {
    const { gc, formatSize } = await lib();
    const r = await gc(await openStore(), { dryRun: opts.dryRun ?? false });
    if (opts.json) return json(r);
    out(`${r.dryRun ? "would free" : "freed"} ${r.objects} objects (${formatSize(r.bytes)})\n`);
  });

// ---- pipelines, jobs, datums ----

let sandboxFlag: "auto" | "deno" | "bwrap" = "auto";

async function sandboxMode() {
  const { detectSandbox } = await lib();
  const env = Deno.env.get("TUSK_SANDBOX");
  const requested = sandboxFlag !== "auto"
    ? sandboxFlag
    : (env as typeof sandboxFlag | undefined) ?? "auto";
  return await detectSandbox(requested);
}

/** After a command made commits: run the jobs they triggered, unless --no-wait. */
async function afterCommit(
  store: Awaited<ReturnType<typeof openStore>>,
  wait: boolean | undefined,
) {
  if (wait === false) return;
  // Checked on the raw state so that a store without pipelines never loads their code.
  if (Object.keys((await store.state()).meta["pipeline"] ?? {}).length === 0) return;
  const { runInline, EventBus } = await lib();
  const { mode, reason } = await sandboxMode();
  if (mode === "deno" && Deno.stderr.isTerminal()) err(`tusk: ${reason}\n`);
  const tty = Deno.stderr.isTerminal();
  const bus = new EventBus({ journal: `${store.root}/events.jsonl` });
  bus.on((e) => {
    if (e.type === "job:state" && tty) {
      const p = e.progress;
      err(
        `\r\x1b[2Kjob ${
          e.job.slice(0, 12)
        } ${e.pipeline}: ${p.processed} + ${p.skipped} / ${p.total} ${e.state}`,
      );
      if (["SUCCESS", "FAILURE", "KILLED", "UNRUNNABLE"].includes(e.state)) err("\n");
    }
  });
  const { ran, daemon } = await runInline(store, { sandbox: mode, bus });
  bus.close();
  if (daemon !== null && tty) err(`tusk: the scheduler (pid ${daemon}) runs the triggered jobs\n`);
  for (const j of ran) {
    if (j.state !== "SUCCESS") {
      err(`tusk: job ${j.id} of pipeline ${j.pipeline} ended ${j.state}: ${j.reason ?? ""}\n`);
    }
  }
}

async function doCreatePipeline(
  opts: { file: string; wait?: boolean; reprocess?: boolean },
  update: boolean,
) {
  const { createPipeline } = await lib();
  const store = await openStore();
  await createPipeline(store, absolute(opts.file), { update, reprocess: opts.reprocess ?? false });
  await afterCommit(store, opts.wait);
}

async function doListPipeline(opts: { json?: boolean }) {
  const { listPipelines, formatTable, formatAge } = await lib();
  const store = await openStore();
  const ps = await listPipelines(store);
  if (opts.json) return json(ps);
  const now = store.now();
  out(formatTable(
    ["NAME", "VERSION", "INPUT", "CREATED", "STATE / LAST JOB", "DESCRIPTION"],
    ps.map((p) => [
      p.name,
      String(p.version),
      p.input,
      formatAge(p.created, now),
      `${p.state} / ${(p.lastJobState ?? "-").toLowerCase()}`,
      p.description,
    ]),
  ));
}

async function doInspectPipeline(name: string, opts: { json?: boolean }) {
  const { inspectPipeline, formatAge } = await lib();
  const store = await openStore();
  const p = await inspectPipeline(store, name);
  if (opts.json) return json(p);
  out(
    `Name: ${p.name}\nVersion: ${p.version}\nState: ${p.state}\nCreated: ${
      formatAge(p.created, store.now())
    }\n` +
      `Input: ${p.input}\nOutput Branch: ${p.outputBranch}\nSpec: ${p.specHash}\nCode: ${p.codeHash}\n` +
      `Stage modules: ${p.modules.join(", ")}\nLast job: ${p.lastJob ?? "-"} ${
        p.lastJobState ?? ""
      }\n` +
      (p.description ? `Description: ${p.description}\n` : "") +
      `Spec JSON:\n${JSON.stringify(p.spec, null, 2)}\n`,
  );
}

function progressText(p: { processed: number; skipped: number; total: number; failed: number }) {
  return `${p.processed} + ${p.skipped} / ${p.total}${p.failed ? ` (${p.failed} failed)` : ""}`;
}

async function doListJob(opts: { json?: boolean; pipeline?: string; number?: string }) {
  const { listJobs, formatTable, formatAge, humanDuration } = await lib();
  const store = await openStore();
  const jobs = await listJobs(store, {
    ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
    ...(opts.number ? { limit: Number(opts.number) } : {}),
  });
  if (opts.json) return json(jobs);
  const now = store.now();
  out(formatTable(
    ["ID", "PIPELINE", "OUTPUT COMMIT", "STARTED", "DURATION", "RESTART", "PROGRESS", "STATE"],
    jobs.map((j) => [
      j.id,
      j.pipeline,
      j.outputCommit ? `${j.pipeline}@${j.outputCommit.slice(0, 32)}` : "-",
      formatAge(j.started ?? j.created, now),
      j.finished && j.started ? humanDuration(Date.parse(j.finished) - Date.parse(j.started)) : "-",
      String(j.restart),
      progressText(j.progress),
      j.state.toLowerCase(),
    ]),
  ));
}

async function doInspectJob(id: string, opts: { json?: boolean }) {
  const { inspectJob, formatAge } = await lib();
  const store = await openStore();
  const j = await inspectJob(store, id);
  if (opts.json) return json(j);
  out(
    `ID: ${j.id}\nPipeline: ${j.pipeline} (version ${j.version})\nState: ${j.state}\n` +
      (j.reason ? `Reason: ${j.reason}\n` : "") +
      `Started: ${formatAge(j.started ?? j.created, store.now())}\nProgress: ${
        progressText(j.progress)
      }\n` +
      `Output commit: ${j.outputCommit ?? "-"}\nInputs:\n` +
      j.inputs.map((i) => `  ${i.name}: ${i.repo}@${i.commit ?? "-"} (${i.branch})\n`).join("") +
      `Spec: ${j.specHash}\nCode: ${j.codeHash}\n`,
  );
}

async function doListDatum(job: string, opts: { json?: boolean }) {
  const { listDatums, formatTable, humanDuration } = await lib();
  const datums = await listDatums(await openStore(), job);
  if (opts.json) return json(datums);
  out(formatTable(
    ["ID", "FILES", "STATUS", "TIME"],
    datums.map((d) => [
      d.id,
      d.inputs.map((i) => `${i.repo}@${i.commit.slice(0, 12)}:${i.path}`).join(", "),
      d.state.toLowerCase(),
      d.state === "SKIPPED" ? "-" : humanDuration(d.durationMs),
    ]),
  ));
}

async function doLogs(
  opts: { job?: string; pipeline?: string; datum?: string; follow?: boolean; json?: boolean },
) {
  const { logs, readJournal } = await lib();
  const store = await openStore();
  const lines = await logs(store, {
    ...(opts.job ? { job: opts.job } : {}),
    ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
    ...(opts.datum ? { datum: opts.datum } : {}),
  });
  for (const l of lines) out(opts.json ? JSON.stringify(l) + "\n" : `${l.line}\n`);
  if (!opts.follow) return;
  const journal = `${store.root}/events.jsonl`;
  let offset = (await Deno.stat(journal).catch(() => ({ size: 0 }))).size;
  while (true) {
    const r = await readJournal(journal, offset);
    offset = r.offset;
    for (const e of r.events) {
      if (e.type !== "stage:log") continue;
      if (opts.job && !e.job.startsWith(opts.job)) continue;
      if (opts.pipeline && e.pipeline !== opts.pipeline) continue;
      if (opts.datum && !e.datum.startsWith(opts.datum)) continue;
      out(opts.json ? JSON.stringify(e) + "\n" : `${e.line}\n`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pipelineCmds = {
  create: create.command("pipeline").description("create a pipeline from a Pachyderm spec")
    .requiredOption("-f, --file <spec.json>", "the pipeline spec (Pachyderm JSON)")
    .option("--no-wait", "do not run the triggered jobs now")
    .action((opts) => doCreatePipeline(opts, false)),
};
void pipelineCmds;
program.command("update").description("update a pipeline").command("pipeline")
  .requiredOption("-f, --file <spec.json>", "the new pipeline spec")
  .option("--reprocess", "re-run every datum, even those done before with the same inputs and code")
  .option("--no-wait", "do not run the triggered jobs now")
  .action((opts) => doCreatePipeline(opts, true));
list.command("pipeline").description("list pipelines").addOption(jsonOpt()).action(doListPipeline);
list.command("job").description("list jobs, newest first")
  .option("-p, --pipeline <name>", "only this pipeline's jobs").option(
    "-n, --number <n>",
    "at most n",
  )
  .addOption(jsonOpt()).action(doListJob);
list.command("datum").argument("<job>").description("list a job's datums").addOption(jsonOpt())
  .action(doListDatum);
inspect.command("pipeline").argument("<name>").addOption(jsonOpt()).action(doInspectPipeline);
inspect.command("job").argument("<job>").addOption(jsonOpt()).action(doInspectJob);
del.command("pipeline").argument("<name>").description("delete a pipeline and its output repo")
  .action(async (name) => {
    const { deletePipeline } = await lib();
    await deletePipeline(await openStore(), name);
  });
const start = program.command("start").description("resume a pipeline");
start.command("pipeline").argument("<name>").option("--no-wait", "do not run triggered jobs now")
  .action(async (name, opts) => {
    const { setPipelineStopped } = await lib();
    const store = await openStore();
    await setPipelineStopped(store, name, false);
    await afterCommit(store, opts.wait);
  });
const stop = program.command("stop").description("pause a pipeline or stop a job");
stop.command("pipeline").argument("<name>").action(async (name) => {
  const { setPipelineStopped } = await lib();
  await setPipelineStopped(await openStore(), name, true);
});
stop.command("job").argument("<job>").action(async (id) => {
  const { stopJob } = await lib();
  const j = await stopJob(await openStore(), id);
  out(`${j.id}\n`);
});
program.command("restart").description("re-run datums").command("datum").argument("<job>")
  .argument("[datum]").option("--no-wait", "do not run now")
  .action(async (job, datum, opts) => {
    const { restartDatum } = await lib();
    const store = await openStore();
    await restartDatum(store, job, datum);
    await afterCommit(store, opts.wait);
  });
program.command("logs").description("print datum logs")
  .option("--job <id>", "this job's logs").option("-p, --pipeline <name>", "this pipeline's logs")
  .option("--datum <id>", "this datum's logs").option("-f, --follow", "keep printing new lines")
  .addOption(jsonOpt()).action(doLogs);
program.command("plan").argument("<pipeline>").description(
  "which datums the next job would run or skip, and why",
)
  .addOption(jsonOpt())
  .action(async (name, opts) => {
    const { plan, formatTable } = await lib();
    const r = await plan(await openStore(), name);
    if (opts.json) return json(r);
    if (!r.trigger) return out("nothing to run: an input branch has no commits yet\n");
    out(
      formatTable(
        ["DATUM", "ACTION", "WHY", "INPUTS"],
        r.rows.map((x) => [x.datum, x.action, x.why, x.inputs.join(", ")]),
      ),
    );
  });
program.command("lineage").argument("<repo@ref:/path>")
  .description("which input files, model and code made this file").addOption(jsonOpt())
  .action(async (ref, opts) => {
    const { lineage } = await lib();
    const l = await lineage(await openStore(), ref);
    if (opts.json) return json(l);
    const show = (x: typeof l, depth: number): string => {
      const pad = "  ".repeat(depth);
      let s = `${pad}${x.repo}@${x.commit}:${x.path}\n`;
      if (!x.pipeline) return s + `${pad}  made by: a user commit (${x.origin})\n`;
      s += `${pad}  made by: pipeline ${x.pipeline}, job ${x.job}, datum ${x.datum ?? "?"}\n`;
      s += `${pad}  code: ${x.code ?? "-"}\n${pad}  spec: ${x.spec ?? "-"}\n`;
      for (const i of x.inputs) {
        s += `${pad}  input ${i.name}: ${i.repo}@${i.commit} ${i.files.join(", ")}\n`;
      }
      for (const u of x.upstream) s += show(u, depth + 1);
      return s;
    };
    out(show(l, 0));
  });
const waitCmd = program.command("wait").description("wait for jobs to finish");
waitCmd.command("commit").argument("<repo@branch>").description(
  "wait until every downstream job of the branch head finished",
)
  .addOption(jsonOpt())
  .action(async (ref, opts) => {
    const { settled, parseRef } = await lib();
    const store = await openStore();
    const r = parseRef(ref);
    while (true) {
      const s = await settled(store, r.repo);
      if (s.done) {
        if (opts.json) return json(s.jobs);
        for (const j of s.jobs) out(`${j.pipeline} ${j.id} ${j.state}\n`);
        return;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  });
waitCmd.command("job").argument("<job>").addOption(jsonOpt()).action(async (id, opts) => {
  const { waitJob } = await lib();
  const j = await waitJob(await openStore(), id);
  if (opts.json) return json(j);
  out(`${j.id} ${j.state}\n`);
});
program.command("draw").description("draw the pipeline DAG").command("pipeline")
  .action(async () => {
    const { drawPipelines } = await lib();
    for (const l of await drawPipelines(await openStore())) out(l + "\n");
  });
program.command("run").description("run a cron pipeline's tick now").command("cron").argument(
  "<pipeline>",
)
  .option("--no-wait", "do not run the triggered job now")
  .action(async (name, opts) => {
    const { Scheduler, pipelineOf } = await lib();
    const store = await openStore();
    const p = pipelineOf(await store.state(), name);
    const { mode } = await sandboxMode();
    const s = new Scheduler(store, { sandbox: mode });
    await s.tick(p);
    s.bus.close();
    await afterCommit(store, opts.wait);
  });
program.command("up").description("run the scheduler (with the dashboard, or --headless)")
  .option("--headless", "plain log lines instead of the dashboard")
  .action(async (opts) => {
    const { Scheduler } = await lib();
    const store = await openStore();
    const { mode, reason } = await sandboxMode();
    const s = new Scheduler(store, { sandbox: mode });
    if (!opts.headless && Deno.stdout.isTerminal()) {
      const { LeaseHeldError, restartDatum, stopJob } = await lib();
      // React's production build: the development one makes every frame several times slower.
      if (!Deno.env.get("NODE_ENV")) Deno.env.set("NODE_ENV", "production");
      const { runDashboard, schedulerFeed } = await import("./tui/app.tsx");
      const ac = new AbortController();
      const serving = s.serve(ac.signal);
      try {
        await runDashboard({
          store,
          subscribe: schedulerFeed({ bus: s.bus, serving, journal: `${store.root}/events.jsonl` }),
          controls: { rerun: (id) => restartDatum(store, id), stop: (id) => stopJob(store, id) },
          sandbox: `${mode} (${reason})`,
          cronSchedule: () => s.cronSchedule,
        });
      } finally {
        ac.abort();
        await serving.catch((e) => {
          if (!(e instanceof LeaseHeldError)) throw e;
        });
        s.bus.close();
      }
      return;
    }
    out(`tusk up: store ${store.root}, sandbox ${mode} (${reason})\n`);
    s.bus.on((e) => {
      const { type, time, ...rest } = e;
      if (type === "stage:log") return;
      out(`${time} ${type} ${JSON.stringify(rest)}\n`);
    });
    const ac = new AbortController();
    const stopIt = () => ac.abort();
    Deno.addSignalListener("SIGINT", stopIt);
    Deno.addSignalListener("SIGTERM", stopIt);
    try {
      await s.serve(ac.signal);
    } finally {
      Deno.removeSignalListener("SIGINT", stopIt);
      Deno.removeSignalListener("SIGTERM", stopIt);
      s.bus.close();
    }
    out("tusk up: stopped\n");
  });
program.command("doctor").description(
  "check this machine and store: Deno, sandbox, scheduler, store health",
)
  .addOption(jsonOpt())
  .action(async (opts) => {
    const { detectSandbox, leaseHolder, verify, pipelinesOf, cronInputs, nextTick, humanDuration } =
      await lib();
    const store = await openStore();
    const sandbox = await detectSandbox("auto");
    const holder = await leaseHolder(store);
    const problems: string[] = [];
    let health = "ok";
    let healthy = true;
    try {
      await verify(store);
    } catch (e) {
      healthy = false;
      health = `BROKEN: ${
        (e as Error).message
      } — restore the store from a backup, or run "tusk verify" for details`;
      problems.push(`the store failed verification: ${health.slice("BROKEN: ".length)}`);
    }
    if (sandbox.mode === "deno") {
      problems.push(
        `stages run under Deno permissions only (${sandbox.reason}) — install bubblewrap ` +
          `("apt-get install bubblewrap") and allow unprivileged user namespaces for the OS sandbox`,
      );
    }
    const now = store.now();
    const cron: { pipeline: string; input: string; spec: string; next: string | null }[] = [];
    try {
      for (const p of pipelinesOf(await store.state())) {
        for (const c of cronInputs(p.parsed.input)) {
          const start = c.start ? new Date(c.start) : undefined;
          const next = p.stopped ? null : nextTick(c.spec, now, start).toISOString();
          cron.push({ pipeline: p.name, input: c.name, spec: c.spec, next });
        }
      }
    } catch { /* an unreadable store is reported by verify above */ }
    if (cron.some((c) => c.next !== null) && holder?.mode !== "daemon") {
      problems.push(
        'cron pipelines tick only while a scheduler runs — start one with "tusk up --headless"' +
          ' (or tick once with "tusk run cron <pipeline>")',
      );
    }
    const report = {
      deno: Deno.version.deno,
      store: store.root,
      health,
      sandbox: sandbox.mode,
      sandboxReason: sandbox.reason,
      scheduler: holder
        ? `${holder.mode} pid ${holder.pid} since ${holder.since}`
        : "not running (commands run their jobs in-process; start one with tusk up)",
      cron,
      problems,
    };
    if (opts.json) json(report);
    else {
      out(
        `Deno: ${report.deno}\nStore: ${report.store}\nHealth: ${report.health}\n` +
          `Sandbox: ${report.sandbox} (${report.sandboxReason})\nScheduler: ${report.scheduler}\n` +
          cron.map((c) =>
            `Cron: ${c.pipeline} input ${c.input} (${c.spec}) ${
              c.next === null
                ? "paused"
                : `next tick in ${humanDuration(Date.parse(c.next) - now.getTime())} (${c.next})`
            }\n`
          ).join("") +
          (problems.length === 0
            ? "Problems: none\n"
            : `Problems:\n${problems.map((x) => `  - ${x}\n`).join("")}`),
      );
    }
    if (!healthy) throw new (await lib()).IntegrityError("The store failed verification", {});
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
  .option("--no-wait", "do not run the jobs this commit triggers now")
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

program.command("create-pipeline").description("(1.8) create a pipeline from a spec")
  .requiredOption("-f, --file <spec.json>", "the pipeline spec (Pachyderm JSON)")
  .option("--no-wait", "do not run the triggered jobs now")
  .action((opts) => doCreatePipeline(opts, false));
program.command("update-pipeline").description("(1.8) update a pipeline")
  .requiredOption("-f, --file <spec.json>", "the new pipeline spec")
  .option("--reprocess", "re-run every datum")
  .option("--no-wait", "do not run the triggered jobs now")
  .action((opts) => doCreatePipeline(opts, true));
program.command("list-pipeline").description("(1.8) list pipelines").addOption(jsonOpt())
  .action(doListPipeline);
program.command("inspect-pipeline").argument("<name>").addOption(jsonOpt())
  .action(doInspectPipeline);
program.command("list-job").description("(1.8) list jobs")
  .option("-p, --pipeline <name>", "only this pipeline's jobs").option("-n, --number <n>")
  .addOption(jsonOpt()).action(doListJob);
program.command("inspect-job").argument("<job>").addOption(jsonOpt()).action(doInspectJob);

// ---- export, shell completion ----

program.command("export").description("export pipelines to run elsewhere")
  .command("pachyderm").argument("[pipeline...]", "pipelines to export (default: all)")
  .description("write Pachyderm specs, stage bundles and a README with the pachctl commands")
  .requiredOption("-o, --output <dir>", "folder to write into")
  .addOption(jsonOpt())
  .action(async (names, opts) => {
    const { exportPachyderm } = await lib();
    const r = await exportPachyderm(await openStore(), names, { output: absolute(opts.output) });
    if (opts.json) return json(r);
    for (const p of r.pipelines) {
      out(`${p.specFile} (stage ${p.stageFile}, code repo ${p.codeRepo})\n`);
      for (const d of p.dropped) err(`tusk: ${p.name}: left out ${d}\n`);
    }
    out(`${r.readme}: the pachctl commands that create the repos and pipelines, in order\n`);
  });

type AnyCommand = (typeof program.commands)[number];

/** The command tree as the completion scripts see it; hidden commands left out. */
function completionTree(
  cmd: AnyCommand,
  help = program.createHelp(),
): import("./lib/mod.ts").CompletionCommand {
  return {
    name: cmd.name(),
    aliases: cmd.aliases(),
    options: help.visibleOptions(cmd).map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => f !== undefined),
      name: o.name(),
      takesValue: o.required || o.optional,
      ...(o.argChoices ? { choices: o.argChoices } : {}),
    })),
    args: cmd.registeredArguments.map((a) => ({
      name: a.name(),
      variadic: a.variadic,
      ...(a.argChoices ? { choices: a.argChoices } : {}),
    })),
    commands: help.visibleCommands(cmd).map((c) => completionTree(c, help)),
  };
}

program.command("completions").description("print a shell completion script")
  .addArgument(
    program.createArgument("<shell>", "the shell to complete in").choices(
      ["bash", "zsh", "fish"] as const,
    ),
  )
  .addHelpText(
    "after",
    "\nbash: source <(tusk completions bash)   zsh: source <(tusk completions zsh)\n" +
      "fish: tusk completions fish > ~/.config/fish/completions/tusk.fish\n",
  )
  .action(async (shell) => {
    const { completionScript } = await lib();
    out(completionScript(shell, completionTree(program)));
  });

program.command("__complete", { hidden: true }).argument("<what>").argument("[arg]")
  .description("names for completion scripts: repos, branches <repo> or pipelines")
  .action(async (what, arg) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const { completionNames } = await lib();
      const names = await Promise.race([
        openStore().then((store) => completionNames(store, what, arg)),
        new Promise<string[]>((resolve) => timer = setTimeout(() => resolve([]), 2000)),
      ]);
      if (names.length > 0) out(names.join("\n") + "\n");
    } catch {
      // Completion stays silent: no store, or a store it cannot read, offers no names.
    } finally {
      clearTimeout(timer);
    }
  });

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
    if (e instanceof InvalidSandboxFlag) {
      err(`tusk: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0
      ) {
        return 0;
      }
      return 2;
    }
    const TuskError = await pfs().then((l) => l.TuskError, () => null);
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
