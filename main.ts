/**
 * `tusk`: the command line. Declares both of Pachyderm's grammars (`create repo` and
 * `create-repo`) as a table of commands, calls lib/, prints, and maps errors to exit codes:
 * 0 ok, 1 the operation failed, 2 usage or input error, 70 a bug. Only the parser and the
 * error classes load up front; each verb imports lib/pfs.ts (store verbs) or lib/mod.ts.
 */
import { alias, type AliasSpec } from "./lib/cli/alias.ts";
import {
  type Command,
  command,
  commandTree,
  flag,
  group,
  list,
  negated,
  type OptionValues,
  parseCommandLine,
  program,
  unsupported,
  value,
} from "./lib/cli/command_line.ts";
import { InvalidArgumentError, TuskError } from "./lib/errors.ts";

/**
 * Import a module of this checkout on first use, by a specifier Deno cannot read ahead of
 * time: for a literal `import("./lib/mod.ts")`, `deno run` prepares that module's whole
 * graph (npm packages included) before main.ts starts, ~10 ms on every command.
 */
function load<T>(path: string): Promise<T> {
  return import(new URL(path, import.meta.url).href);
}

type Pfs = typeof import("./lib/pfs.ts");
let pfsPromise: Promise<Pfs> | undefined;
/** The store verbs alone, for commands that touch no pipeline: a quicker start. */
function pfs(): Promise<Pfs> {
  return pfsPromise ??= load<Pfs>("./lib/pfs.ts");
}

type Lib = typeof import("./lib/mod.ts");
let libPromise: Promise<Lib> | undefined;
/** The library, imported on first use so `--help` stays fast. */
function lib(): Promise<Lib> {
  return libPromise ??= load<Lib>("./lib/mod.ts");
}

type Format = typeof import("./lib/format/format.ts");
/** The escaping of what tusk prints, loaded first thing in `main()`. */
let format: Format;

const encoder = new TextEncoder();

/** Write all of `bytes`: a write to a pipe may take only part of them. */
function writeAllSync(to: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += to.writeSync(bytes.subarray(off));
}
/**
 * Print text for people on stdout: anything that came from a stage or a user is in it, so
 * every control or invisible character but the line breaks is escaped (`printable()`).
 */
function out(text: string): void {
  outExact(format.printable(text, { keepNewlines: true }));
}
/** Print on stderr, escaped as `out()` does. */
function err(text: string): void {
  errExact(format.printable(text, { keepNewlines: true }));
}
/** Print text as it is: JSON, `logs --raw`, completion scripts. */
function outExact(text: string): void {
  writeAllSync(Deno.stdout, encoder.encode(text));
}
/** Write to stderr as it is: the progress line's own cursor codes. */
function errExact(text: string): void {
  writeAllSync(Deno.stderr, encoder.encode(text));
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

function json(data: unknown): void {
  outExact(JSON.stringify(data, null, 2) + "\n");
}

function short(id: string | null): string {
  return id ?? "-";
}

// ---- options several commands share ----

const JSON_OPTION = { json: flag("print JSON for scripts") };
type JsonOpts = OptionValues<typeof JSON_OPTION>;

const DESCRIPTION_OPTION = {
  description: value("text", "what the repo holds", { short: "d" }),
};

const PUT_OPTIONS = {
  file: list("source", "a file, a folder with -r, or - for standard input", { short: "f" }),
  recursive: flag("put a folder with everything in it", { short: "r" }),
  append: flag("append to files instead of overwriting them", { short: "a" }),
  message: value("text", "commit message", { short: "m" }),
  commit: flag("accepted for pachctl 1.8 (every put is its own commit)", { short: "c" }),
  skipSpecial: flag("skip symlinks, FIFOs and devices with a warning instead of failing"),
  wait: negated("do not run the jobs this commit triggers now"),
};

const GET_OPTIONS = {
  output: value("path", "write to this file (a folder with -r)", { short: "o" }),
  recursive: flag("get a folder with everything in it", { short: "r" }),
};

const HEAD_OPTION = {
  head: value("commit", "commit or branch to point at (repo@ref or ref)"),
};

const LIST_COMMIT_OPTIONS = {
  number: value("n", "show at most n commits", { short: "n" }),
  ...JSON_OPTION,
};

const CREATE_PIPELINE_OPTIONS = {
  file: value("spec.json", "the pipeline spec (Pachyderm JSON)", { short: "f", required: true }),
  wait: negated("do not run the triggered jobs now"),
};

const UPDATE_PIPELINE_OPTIONS = {
  file: value("spec.json", "the new pipeline spec", { short: "f", required: true }),
  reprocess: flag(
    "re-run every datum, even those done before with the same inputs and code",
  ),
  wait: negated("do not run the triggered jobs now"),
};

const LOGS_OPTIONS = {
  job: value("id", "this job's logs"),
  pipeline: value("name", "this pipeline's logs", { short: "p" }),
  datum: value("id", "this datum's logs"),
  follow: flag("keep printing new lines", { short: "f" }),
  raw: flag("print stage output as it was written (control characters are escaped otherwise)"),
  ...JSON_OPTION,
};

const LIST_JOB_OPTIONS = {
  pipeline: value("name", "only this pipeline's jobs", { short: "p" }),
  number: value("n", "at most n", { short: "n" }),
  ...JSON_OPTION,
};

// ---- repos ----

async function doCreateRepo(name: string, opts: { description: string | undefined }) {
  const { createRepo } = await pfs();
  await createRepo(
    await openStore(),
    name,
    opts.description ? { description: opts.description } : {},
  );
}

async function doListRepo(opts: JsonOpts) {
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

async function doInspectRepo(name: string, opts: JsonOpts) {
  const { inspectRepo, formatAge, formatSize, printable } = await pfs();
  const store = await openStore();
  const r = await inspectRepo(store, name);
  if (opts.json) return json(r);
  out(
    `Name: ${r.name}\nDescription: ${printable(r.description)}\nCreated: ${
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

async function doPutFile(target: string, opts: OptionValues<typeof PUT_OPTIONS>) {
  const { putFile, formatSize } = await pfs();
  const store = await openStore();
  const tty = Deno.stderr.isTerminal();
  let last = 0;
  const result = await putFile(store, target, {
    sources: opts.file,
    recursive: opts.recursive,
    append: opts.append,
    skipSpecial: opts.skipSpecial,
    cwd: userCwd(),
    ...(opts.message !== undefined ? { message: opts.message } : {}),
    ...(tty
      ? {
        onProgress: (done: number, total: number) => {
          const now = Date.now();
          if (total < 16 << 20 || (now - last < 100 && done < total)) return;
          last = now;
          const pct = total ? Math.floor((done / total) * 100) : 100;
          errExact(`\r\x1b[2Kputting ${formatSize(done)} / ${formatSize(total)} (${pct}%)`);
          if (done >= total) errExact("\r\x1b[2K");
        },
      }
      : {}),
  });
  for (const s of result.skipped) {
    err(`tusk: skipped ${JSON.stringify(s)}: not a regular file or folder\n`);
  }
  await afterCommit(store, opts.wait);
}

async function doGetFile(ref: string, opts: OptionValues<typeof GET_OPTIONS>) {
  const { getFile } = await pfs();
  const r = await getFile(await openStore(), ref, {
    recursive: opts.recursive,
    cwd: userCwd(),
    ...(opts.output ? { output: opts.output } : {}),
  });
  if (r.stream) await r.stream.pipeTo(Deno.stdout.writable, { preventClose: true });
}

async function doListFile(ref: string, opts: JsonOpts) {
  const { listFile, formatTable, formatSize, printableName } = await pfs();
  const files = await listFile(await openStore(), ref);
  if (opts.json) return json(files);
  out(formatTable(
    ["NAME", "TYPE", "SIZE"],
    files.map((f) => [printableName(f.path), f.type, formatSize(f.size)]),
  ));
}

async function doGlobFile(ref: string, opts: JsonOpts) {
  const { globFile, formatTable, formatSize, printableName } = await pfs();
  const files = await globFile(await openStore(), ref);
  if (opts.json) return json(files);
  out(formatTable(
    ["NAME", "TYPE", "SIZE"],
    files.map((f) => [printableName(f.path), f.type, formatSize(f.size)]),
  ));
}

async function doDiffFile(newRef: string, oldRef: string | undefined, opts: JsonOpts) {
  const { diffFile, formatTable, formatSize, printableName } = await pfs();
  const rows = await diffFile(await openStore(), newRef, oldRef);
  if (opts.json) return json(rows);
  out(formatTable(
    ["CHANGE", "NAME", "SIZE"],
    rows.map((r) => [
      r.change,
      printableName(r.path),
      r.change === "removed"
        ? formatSize(r.oldSize ?? 0)
        : r.change === "added"
        ? formatSize(r.newSize ?? 0)
        : `${formatSize(r.oldSize ?? 0)} -> ${formatSize(r.newSize ?? 0)}`,
    ]),
  ));
}

async function doDeleteFile(ref: string, opts: { message: string | undefined; wait: boolean }) {
  const { deleteFile } = await pfs();
  const store = await openStore();
  await deleteFile(store, ref, opts.message !== undefined ? { message: opts.message } : {});
  await afterCommit(store, opts.wait);
}

// ---- commits and branches ----

/** The value of `-n <n>`: a whole number of at least 1. */
function count(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) {
    throw new InvalidArgumentError(`Invalid -n "${text}": give a whole number of at least 1`, {
      option: "-n",
      value: text,
    });
  }
  return Number(text);
}

async function doListCommit(ref: string, opts: OptionValues<typeof LIST_COMMIT_OPTIONS>) {
  const { listCommit, formatTable, formatAge, formatSize } = await pfs();
  const store = await openStore();
  const limit = count(opts.number);
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

async function doInspectCommit(ref: string, opts: JsonOpts) {
  const { inspectCommit, formatAge, formatSize, printable } = await pfs();
  const store = await openStore();
  const c = await inspectCommit(store, ref);
  const tree = c.provenance ? await (await lib()).provenance(store, c.repo, c.id) : null;
  if (opts.json) return json(tree ? { ...c, upstream: tree.inputs } : c);
  let text = `Commit: ${c.repo}@${c.id}\nOriginal Branch: ${c.branch}\n`;
  if (c.heads.length) text += `Head of: ${c.heads.join(", ")}\n`;
  text += `Parent: ${short(c.parent)}\nFinished: ${formatAge(c.time, store.now())} (${c.time})\n` +
    `Size: ${formatSize(c.size)}\nOrigin: ${c.origin.toUpperCase()}\nTree: ${c.tree}\n`;
  if (c.revertOf) text += `Reverts to: ${c.revertOf}\n`;
  if (c.message) text += `Description: ${printable(c.message)}\n`;
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

async function doCreateBranch(ref: string, opts: { head: string | undefined; wait: boolean }) {
  const { createBranch } = await pfs();
  const store = await openStore();
  await createBranch(store, ref, opts.head !== undefined ? { head: opts.head } : {});
  await afterCommit(store, opts.wait);
}

async function doListBranch(repo: string, opts: JsonOpts) {
  const { listBranch, formatTable } = await pfs();
  const branches = await listBranch(await openStore(), repo);
  if (opts.json) return json(branches);
  out(formatTable(["BRANCH", "HEAD"], branches.map((b) => [b.name, short(b.head)])));
}

async function doDeleteBranch(ref: string) {
  const { deleteBranch } = await pfs();
  await deleteBranch(await openStore(), ref);
}

async function doRevert(
  ref: string,
  opts: { to: string; message: string | undefined; wait: boolean },
) {
  const { revert } = await pfs();
  const store = await openStore();
  const c = await revert(store, ref, {
    to: opts.to,
    ...(opts.message !== undefined ? { message: opts.message } : {}),
  });
  out(`${c.commit.repo}@${c.id}\n`);
  await afterCommit(store, opts.wait);
}

async function doVerify(opts: JsonOpts) {
  const { verify } = await lib();
  const r = await verify(await openStore());
  if (opts.json) return json({ ok: true, ...r });
  out(
    `ok: ${r.entries} ledger entries, ${r.commits} commits, ${r.trees} trees, ${r.files} files, ${r.objects} objects verified\n`,
  );
}

async function doGc(opts: { dryRun: boolean; json: boolean }) {
  const { gc, formatSize } = await lib();
  const r = await gc(await openStore(), { dryRun: opts.dryRun });
  if (opts.json) return json(r);
  out(`${r.dryRun ? "would free" : "freed"} ${r.objects} objects (${formatSize(r.bytes)})\n`);
}

// ---- pipelines, jobs, datums ----

type SandboxFlag = "auto" | "deno" | "bwrap";
let sandboxFlag: SandboxFlag = "auto";

async function sandboxMode() {
  const { detectSandbox } = await lib();
  const env = Deno.env.get("TUSK_SANDBOX");
  const requested = sandboxFlag !== "auto"
    ? sandboxFlag
    : (env as SandboxFlag | undefined) ?? "auto";
  return await detectSandbox(requested);
}

/** After a command made commits: run the jobs they triggered, unless --no-wait. */
async function afterCommit(
  store: Awaited<ReturnType<typeof openStore>>,
  wait: boolean,
) {
  if (!wait) return;
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
      errExact("\r\x1b[2K");
      err(
        `job ${
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
  opts: { file: string; wait: boolean; reprocess?: boolean },
  update: boolean,
) {
  const { createPipeline } = await lib();
  const store = await openStore();
  await createPipeline(store, absolute(opts.file), { update, reprocess: opts.reprocess ?? false });
  await afterCommit(store, opts.wait);
}

async function doListPipeline(opts: JsonOpts) {
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

async function doInspectPipeline(name: string, opts: JsonOpts) {
  const { inspectPipeline, formatAge, printable, printableName } = await lib();
  const store = await openStore();
  const p = await inspectPipeline(store, name);
  if (opts.json) return json(p);
  out(
    `Name: ${p.name}\nVersion: ${p.version}\nState: ${p.state}\nCreated: ${
      formatAge(p.created, store.now())
    }\n` +
      `Input: ${p.input}\nOutput Branch: ${p.outputBranch}\nSpec: ${p.specHash}\nCode: ${p.codeHash}\n` +
      `Stage modules: ${p.modules.map(printableName).join(", ")}\nLast job: ${p.lastJob ?? "-"} ${
        p.lastJobState ?? ""
      }\n` +
      (p.description ? `Description: ${printable(p.description)}\n` : "") +
      `Spec JSON:\n${JSON.stringify(p.spec, null, 2)}\n`,
  );
}

function progressText(p: { processed: number; skipped: number; total: number; failed: number }) {
  return `${p.processed} + ${p.skipped} / ${p.total}${p.failed ? ` (${p.failed} failed)` : ""}`;
}

async function doListJob(opts: OptionValues<typeof LIST_JOB_OPTIONS>) {
  const { listJobs, formatTable, formatAge, humanDuration } = await lib();
  const store = await openStore();
  const limit = count(opts.number);
  const jobs = await listJobs(store, {
    ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
    ...(limit !== undefined ? { limit } : {}),
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

async function doInspectJob(id: string, opts: JsonOpts) {
  const { inspectJob, formatAge, printable } = await lib();
  const store = await openStore();
  const j = await inspectJob(store, id);
  if (opts.json) return json(j);
  out(
    `ID: ${j.id}\nPipeline: ${j.pipeline} (version ${j.version})\nState: ${j.state}\n` +
      (j.reason ? `Reason: ${printable(j.reason)}\n` : "") +
      (j.rerunOf ? `Re-run of: ${j.rerunOf}${j.reprocess ? " (every datum again)" : ""}\n` : "") +
      `Started: ${formatAge(j.started ?? j.created, store.now())}\nProgress: ${
        progressText(j.progress)
      }\n` +
      `Output commit: ${j.outputCommit ?? "-"}\nInputs:\n` +
      j.inputs.map((i) => `  ${i.name}: ${i.repo}@${i.commit ?? "-"} (${i.branch})\n`).join("") +
      `Spec: ${j.specHash}\nCode: ${j.codeHash}\n`,
  );
}

async function doListDatum(job: string, opts: JsonOpts) {
  const { listDatums, formatTable, humanDuration, printableName } = await lib();
  const datums = await listDatums(await openStore(), job);
  if (opts.json) return json(datums);
  out(formatTable(
    ["ID", "FILES", "STATUS", "TIME"],
    datums.map((d) => [
      d.id,
      d.inputs.map((i) => `${i.repo}@${i.commit.slice(0, 12)}:${printableName(i.path)}`).join(", "),
      d.state.toLowerCase(),
      d.state === "SKIPPED" ? "-" : humanDuration(d.durationMs),
    ]),
  ));
}

async function doInspectDatum(job: string, datum: string, opts: JsonOpts) {
  const { inspectDatum, formatSize, humanDuration } = await lib();
  const d = await inspectDatum(await openStore(), job, datum);
  if (opts.json) return json(d);
  out(
    `ID: ${d.id}\nJob: ${d.job} (pipeline ${d.pipeline})\nState: ${d.state}\nHash: ${d.hash}\n` +
      `Inputs:\n` +
      d.inputs.map((i) => `  ${i.name}: ${i.repo}@${i.commit}:${i.path}\n`).join("") +
      `Tries: ${d.tries}\n` +
      (d.state === "SKIPPED" ? "" : `Duration: ${humanDuration(d.durationMs)}\n`) +
      `Exit code: ${d.exitCode ?? "-"}\n` +
      (d.message ? `Message: ${d.message}\n` : "") +
      (d.reusedFrom ? `Output reused from job: ${d.reusedFrom}\n` : "") +
      (d.outputTree ? `Output: ${d.outputTree} (${formatSize(d.outputSize ?? 0)})\n` : "") +
      `Logs: tusk logs --job ${d.job} --datum ${d.id}\n`,
  );
}

async function doLogs(
  opts: OptionValues<typeof LOGS_OPTIONS>,
) {
  const { logs, readJournal, inspectJob } = await lib();
  const store = await openStore();
  // The whole id: a later job that shares the prefix given is not this job.
  const jobId = opts.job ? (await inspectJob(store, opts.job)).id : undefined;
  const lines = await logs(store, {
    ...(opts.job ? { job: opts.job } : {}),
    ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
    ...(opts.datum ? { datum: opts.datum } : {}),
  });
  // Stage output is escaped like everything else printed, unless --raw asks for it as it was.
  const print = (line: string) => (opts.raw ? outExact : out)(`${line}\n`);
  for (const l of lines) opts.json ? outExact(JSON.stringify(l) + "\n") : print(l.line);
  if (!opts.follow) return;
  const journal = `${store.root}/events.jsonl`;
  let offset = (await Deno.stat(journal).catch(() => ({ size: 0 }))).size;
  while (true) {
    const r = await readJournal(journal, offset);
    offset = r.offset;
    for (const e of r.events) {
      if (e.type !== "stage:log") continue;
      if (jobId !== undefined && e.job !== jobId) continue;
      if (opts.pipeline && e.pipeline !== opts.pipeline) continue;
      if (opts.datum && !e.datum.startsWith(opts.datum)) continue;
      opts.json ? outExact(JSON.stringify(e) + "\n") : print(e.line);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function doDeletePipeline(name: string) {
  const { deletePipeline } = await lib();
  await deletePipeline(await openStore(), name);
}

async function doStartPipeline(name: string, opts: { wait: boolean }) {
  const { setPipelineStopped } = await lib();
  const store = await openStore();
  await setPipelineStopped(store, name, false);
  await afterCommit(store, opts.wait);
}

async function doStopPipeline(name: string) {
  const { setPipelineStopped } = await lib();
  await setPipelineStopped(await openStore(), name, true);
}

async function doStopJob(id: string) {
  const { stopJob } = await lib();
  const j = await stopJob(await openStore(), id);
  out(`${j.id}\n`);
}

async function doRestartDatum(job: string, datum: string | undefined, opts: { wait: boolean }) {
  const { restartDatum } = await lib();
  const store = await openStore();
  await restartDatum(store, job, datum);
  await afterCommit(store, opts.wait);
}

async function doPlan(name: string, opts: JsonOpts) {
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
}

async function doLineage(ref: string, opts: JsonOpts) {
  const { lineage, printableName } = await lib();
  const l = await lineage(await openStore(), ref);
  if (opts.json) return json(l);
  const show = (x: typeof l, depth: number): string => {
    const pad = "  ".repeat(depth);
    let s = `${pad}${x.repo}@${x.commit}:${printableName(x.path)}\n`;
    if (!x.pipeline) return s + `${pad}  made by: a user commit (${x.origin})\n`;
    s += `${pad}  made by: pipeline ${x.pipeline}, job ${x.job}, datum ${x.datum ?? "?"}\n`;
    s += `${pad}  code: ${x.code ?? "-"}\n${pad}  spec: ${x.spec ?? "-"}\n`;
    for (const i of x.inputs) {
      s += `${pad}  input ${i.name}: ${i.repo}@${i.commit} ${
        i.files.map(printableName).join(", ")
      }\n`;
    }
    for (const u of x.upstream) s += show(u, depth + 1);
    return s;
  };
  out(show(l, 0));
}

async function doWaitCommit(ref: string, opts: JsonOpts) {
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
}

async function doWaitJob(id: string, opts: JsonOpts) {
  const { waitJob } = await lib();
  const j = await waitJob(await openStore(), id);
  if (opts.json) return json(j);
  out(`${j.id} ${j.state}\n`);
}

async function doDrawPipeline() {
  const { drawPipelines } = await lib();
  for (const l of await drawPipelines(await openStore())) out(l + "\n");
}

async function doRunCron(name: string, opts: { wait: boolean }) {
  const { Scheduler, pipelineOf } = await lib();
  const store = await openStore();
  const p = pipelineOf(await store.state(), name);
  const { mode } = await sandboxMode();
  const s = new Scheduler(store, { sandbox: mode });
  await s.tick(p);
  s.bus.close();
  await afterCommit(store, opts.wait);
}

async function doUp(opts: { headless: boolean }) {
  const { Scheduler } = await lib();
  const store = await openStore();
  const { mode, reason } = await sandboxMode();
  const s = new Scheduler(store, { sandbox: mode });
  if (!opts.headless && Deno.stdout.isTerminal()) {
    const { LeaseHeldError, rerunJob, stopJob } = await lib();
    // React's production build: the development one makes every frame several times slower.
    if (!Deno.env.get("NODE_ENV")) Deno.env.set("NODE_ENV", "production");
    const { runDashboard, schedulerFeed } = await load<typeof import("./tui/app.tsx")>(
      "./tui/app.tsx",
    );
    const ac = new AbortController();
    const serving = s.serve(ac.signal);
    try {
      await runDashboard({
        store,
        subscribe: schedulerFeed({ bus: s.bus, serving, journal: `${store.root}/events.jsonl` }),
        controls: {
          rerun: async (id, pipeline) => {
            const r = await rerunJob(store, `${pipeline}@${id}`);
            s.wake();
            return `Re-running job ${id.slice(0, 12)} as a new job on the same inputs: ` +
              (r.reprocess ? "every datum runs again" : "datums that succeeded are reused");
          },
          stop: (id) => stopJob(store, id),
        },
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
    await s.serve(ac.signal, {
      onError: (e) => err(`tusk up: ${e instanceof Error ? e.message : String(e)}\n`),
    });
  } finally {
    Deno.removeSignalListener("SIGINT", stopIt);
    Deno.removeSignalListener("SIGTERM", stopIt);
    s.bus.close();
  }
  out("tusk up: stopped\n");
}

async function doDoctor(opts: JsonOpts) {
  const { detectSandbox, leaseHolder, verify, pipelinesOf, inputLeaves, nextTick, humanDuration } =
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
      for (const c of inputLeaves(p.parsed.input, "cron")) {
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
}

async function doExportPachyderm(names: string[], opts: { output: string; json: boolean }) {
  const { exportPachyderm } = await lib();
  const r = await exportPachyderm(await openStore(), names, { output: absolute(opts.output) });
  if (opts.json) return json(r);
  for (const p of r.pipelines) {
    out(`${p.specFile} (stage ${p.stageFile}, code repo ${p.codeRepo})\n`);
    for (const d of p.dropped) err(`tusk: ${p.name}: left out ${d}\n`);
  }
  out(`${r.readme}: the pachctl commands that create the repos and pipelines, in order\n`);
}

/** `tusk __complete`: names for the completion scripts, silent on any failure. */
async function doComplete(what: string, arg: string | undefined) {
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
}

// ---- the command table: the 2.x grammar (verb noun), then the 1.x one (verb-noun) ----

/**
 * pachctl 1.x's hyphenated commands (≤ 1.8), each the 1.x form of a 2.x command: its own
 * positional arguments and the templates that make the 2.x ones of them; the options are the
 * 2.x command's. In 1.x form `put-file` appends, as pachctl 1.x did, and `-o` overwrites.
 */
const PACHCTL_1X: Readonly<Record<string, AliasSpec>> = {
  "create-repo": { for: "create repo" },
  "list-repo": { for: "list repo" },
  "inspect-repo": { for: "inspect repo" },
  "delete-repo": { for: "delete repo" },
  "put-file": {
    for: "put file",
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
    description: "(1.x) put files into a new commit, appending to files that exist (-o overwrites)",
  },
  "get-file": { for: "get file", args: ["<repo>", "<ref>", "<path>"], to: ["{repo}@{ref}:{path}"] },
  "list-file": {
    for: "list file",
    args: ["<repo>", "<ref>", "[path]"],
    to: ["{repo}@{ref}[:{path}]"],
  },
  "glob-file": {
    for: "glob file",
    args: ["<repo>", "<ref>", "<pattern>"],
    to: ["{repo}@{ref}:{pattern}"],
  },
  "diff-file": {
    for: "diff file",
    args: ["<repo>", "<ref>", "[path]", "[old-repo]", "[old-ref]", "[old-path]"],
    to: ["{repo}@{ref}[:{path}]", "[{old-repo}@{old-ref}[:{old-path}]]"],
  },
  "delete-file": {
    for: "delete file",
    args: ["<repo>", "<ref>", "<path>"],
    to: ["{repo}@{ref}:{path}"],
  },
  "list-commit": { for: "list commit", args: ["<repo>", "[branch]"], to: ["{repo}[@{branch}]"] },
  "inspect-commit": {
    for: "inspect commit",
    args: ["<repo>", "<commit>"],
    to: ["{repo}@{commit}"],
  },
  "flush-commit": {
    for: "wait commit",
    args: [{ usage: "<repo>", help: "the repo, or repo@commit" }, "[commit]"],
    to: ["{repo}[@{commit}]"],
  },
  "create-branch": { for: "create branch", args: ["<repo>", "<branch>"], to: ["{repo}@{branch}"] },
  "list-branch": { for: "list branch" },
  "delete-branch": { for: "delete branch", args: ["<repo>", "<branch>"], to: ["{repo}@{branch}"] },
  "create-pipeline": { for: "create pipeline" },
  "update-pipeline": { for: "update pipeline" },
  "list-pipeline": { for: "list pipeline" },
  "inspect-pipeline": { for: "inspect pipeline" },
  "delete-pipeline": { for: "delete pipeline" },
  "start-pipeline": { for: "start pipeline" },
  "stop-pipeline": { for: "stop pipeline" },
  "list-job": { for: "list job" },
  "inspect-job": { for: "inspect job" },
  "stop-job": { for: "stop job" },
  "list-datum": { for: "list datum" },
  "inspect-datum": { for: "inspect datum" },
  "restart-datum": { for: "restart datum" },
  "get-logs": { for: "logs" },
  "garbage-collect": { for: "gc" },
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

/** The 2.x commands, then their 1.x forms and the 1.x commands tusk lacks. */
function withPachctl1x(commands: Record<string, Command>): Record<string, Command> {
  const all = { ...commands };
  for (const [name, spec] of Object.entries(PACHCTL_1X)) {
    all[name] = alias(commands, name, spec, "(1.x)");
  }
  for (const [name, instead] of Object.entries(PACHCTL_1X_LACKING)) {
    all[name] = unsupported(`tusk has no "${name}" (pachctl 1.x): ${instead}`);
  }
  return all;
}

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
  commands: withPachctl1x({
    init: command({
      description: "create a new store (.tusk in the current folder, or --store DIR)",
      run: async () => {
        const { Store, STORE_DIR } = await pfs();
        const dir = absolute(storeFlag || Deno.env.get("TUSK_STORE") || STORE_DIR);
        await Store.init(dir);
        out(`Initialised an empty tusk store in ${dir}\n`);
      },
    }),
    create: group("create a repo, branch or pipeline", {
      repo: command({
        description: "create a new repo",
        args: ["<repo>"],
        options: DESCRIPTION_OPTION,
        run: ([repo], o) => doCreateRepo(repo, o),
      }),
      branch: command({
        description: "create a branch, or move it with --head",
        args: ["<repo@branch>"],
        options: { ...HEAD_OPTION, wait: negated("do not run the jobs this commit triggers now") },
        run: ([ref], o) => doCreateBranch(ref, o),
      }),
      pipeline: command({
        description: "create a pipeline from a Pachyderm spec",
        options: CREATE_PIPELINE_OPTIONS,
        run: (_, o) => doCreatePipeline(o, false),
      }),
    }),
    list: group("list repos, files, commits, branches, pipelines, jobs or datums", {
      repo: command({
        description: "list repos",
        options: JSON_OPTION,
        run: (_, o) => doListRepo(o),
      }),
      file: command({
        description: "list the files in a folder",
        args: ["<repo@ref[:/path]>"],
        options: JSON_OPTION,
        run: ([ref], o) => doListFile(ref, o),
      }),
      commit: command({
        description: "list commits, newest first",
        args: ["<repo[@branch]>"],
        options: LIST_COMMIT_OPTIONS,
        run: ([ref], o) => doListCommit(ref, o),
      }),
      branch: command({
        description: "list a repo's branches",
        args: ["<repo>"],
        options: JSON_OPTION,
        run: ([repo], o) => doListBranch(repo, o),
      }),
      pipeline: command({
        description: "list pipelines",
        options: JSON_OPTION,
        run: (_, o) => doListPipeline(o),
      }),
      job: command({
        description: "list jobs, newest first",
        options: LIST_JOB_OPTIONS,
        run: (_, o) => doListJob(o),
      }),
      datum: command({
        description: "list a job's datums",
        args: ["<job>"],
        options: JSON_OPTION,
        run: ([job], o) => doListDatum(job, o),
      }),
    }),
    inspect: group("show one repo, commit, pipeline or job in detail", {
      repo: command({
        description: "show a repo",
        args: ["<repo>"],
        options: JSON_OPTION,
        run: ([repo], o) => doInspectRepo(repo, o),
      }),
      commit: command({
        description: "show a commit and its provenance",
        args: ["<repo@ref>"],
        options: JSON_OPTION,
        run: ([ref], o) => doInspectCommit(ref, o),
      }),
      pipeline: command({
        description: "show a pipeline and its spec",
        args: ["<name>"],
        options: JSON_OPTION,
        run: ([name], o) => doInspectPipeline(name, o),
      }),
      job: command({
        description: "show a job",
        args: ["<job>"],
        options: JSON_OPTION,
        run: ([id], o) => doInspectJob(id, o),
      }),
      datum: command({
        description: "show one datum of a job",
        args: ["<job>", "<datum>"],
        options: JSON_OPTION,
        run: ([job, datum], o) => doInspectDatum(job, datum, o),
      }),
    }),
    delete: group("delete a repo, branch, file or pipeline", {
      repo: command({
        description: "delete a repo (its data becomes garbage for gc)",
        args: ["<repo>"],
        run: ([repo]) => doDeleteRepo(repo),
      }),
      branch: command({
        description: "delete a branch",
        args: ["<repo@branch>"],
        run: ([ref]) => doDeleteBranch(ref),
      }),
      file: command({
        description: "delete a file or folder in a new commit",
        args: ["<repo@branch:/path>"],
        options: {
          message: value("text", "commit message", { short: "m" }),
          wait: negated("do not run the jobs this commit triggers now"),
        },
        run: ([ref], o) => doDeleteFile(ref, o),
      }),
      pipeline: command({
        description: "delete a pipeline and its output repo",
        args: ["<name>"],
        run: ([name]) => doDeletePipeline(name),
      }),
    }),
    put: group("put files into a repo", {
      file: command({
        description: "put files into a new commit (overwrites; --append appends)",
        args: ["<repo@branch[:/path]>"],
        options: PUT_OPTIONS,
        run: ([target], o) => doPutFile(target, o),
      }),
    }),
    get: group("get file contents", {
      file: command({
        description: "print a file, or write files with -o",
        args: ["<repo@ref:/path>"],
        options: GET_OPTIONS,
        run: ([ref], o) => doGetFile(ref, o),
      }),
    }),
    glob: group("match files with a glob pattern", {
      file: command({
        description: "list the files matching a pattern",
        args: ["<repo@ref:pattern>"],
        options: JSON_OPTION,
        run: ([ref], o) => doGlobFile(ref, o),
      }),
    }),
    diff: group("compare files between commits", {
      file: command({
        description: "list what changed (against the parent commit by default)",
        args: ["<new-repo@ref[:/path]>", "[old-repo@ref[:/path]]"],
        options: JSON_OPTION,
        run: ([newRef, oldRef], o) => doDiffFile(newRef, oldRef, o),
      }),
    }),
    revert: command({
      description: "restore an old commit's files as a new commit on the branch",
      args: ["<repo@branch>"],
      options: {
        to: value("commit", "the commit to restore (id, branch^N, or repo@ref)", {
          required: true,
        }),
        wait: negated("do not run the jobs this commit triggers now"),
        message: value("text", "commit message", { short: "m" }),
      },
      run: ([ref], o) => doRevert(ref, o),
    }),
    verify: command({
      description: "check every hash, chain and link in the store",
      options: JSON_OPTION,
      run: (_, o) => doVerify(o),
    }),
    gc: command({
      description: "delete objects no kept ledger entry reaches",
      options: {
        dryRun: flag("report what would be freed, delete nothing"),
        ...JSON_OPTION,
      },
      run: (_, o) => doGc(o),
    }),
    update: group("update a pipeline", {
      pipeline: command({
        description: "update a pipeline from a new spec",
        options: UPDATE_PIPELINE_OPTIONS,
        run: (_, o) => doCreatePipeline(o, true),
      }),
    }),
    start: group("resume a pipeline", {
      pipeline: command({
        description: "resume a stopped pipeline",
        args: ["<name>"],
        options: { wait: negated("do not run triggered jobs now") },
        run: ([name], o) => doStartPipeline(name, o),
      }),
    }),
    stop: group("pause a pipeline or stop a job", {
      pipeline: command({
        description: "start no new jobs of a pipeline until it is started again",
        args: ["<name>"],
        run: ([name]) => doStopPipeline(name),
      }),
      job: command({
        description: "stop a running job",
        args: ["<job>"],
        run: ([id]) => doStopJob(id),
      }),
    }),
    restart: group("re-run datums", {
      datum: command({
        description: "re-run a job's failed datums (or one datum)",
        args: ["<job>", "[datum]"],
        options: { wait: negated("do not run now") },
        run: ([job, datum], o) => doRestartDatum(job, datum, o),
      }),
    }),
    logs: command({
      description: "print datum logs",
      options: LOGS_OPTIONS,
      run: (_, o) => doLogs(o),
    }),
    plan: command({
      description: "which datums the next job would run or skip, and why",
      args: ["<pipeline>"],
      options: JSON_OPTION,
      run: ([name], o) => doPlan(name, o),
    }),
    lineage: command({
      description: "which input files, model and code made this file",
      args: ["<repo@ref:/path>"],
      options: JSON_OPTION,
      run: ([ref], o) => doLineage(ref, o),
    }),
    wait: group("wait for jobs to finish", {
      commit: command({
        description: "wait until every downstream job of the branch head finished",
        args: ["<repo@branch>"],
        options: JSON_OPTION,
        run: ([ref], o) => doWaitCommit(ref, o),
      }),
      job: command({
        description: "wait until a job finished",
        args: ["<job>"],
        options: JSON_OPTION,
        run: ([id], o) => doWaitJob(id, o),
      }),
    }),
    draw: group("draw the pipeline DAG", {
      pipeline: command({ description: "draw the pipeline DAG as text", run: doDrawPipeline }),
    }),
    run: group("run a cron pipeline's tick now", {
      cron: command({
        description: "commit a tick to a cron pipeline's input now",
        args: ["<pipeline>"],
        options: { wait: negated("do not run the triggered job now") },
        run: ([name], o) => doRunCron(name, o),
      }),
    }),
    up: command({
      description: "run the scheduler (with the dashboard, or --headless)",
      options: { headless: flag("plain log lines instead of the dashboard") },
      run: (_, o) => doUp(o),
    }),
    doctor: command({
      description: "check this machine and store: Deno, sandbox, scheduler, store health",
      options: JSON_OPTION,
      run: (_, o) => doDoctor(o),
    }),

    export: group("export pipelines to run elsewhere", {
      pachyderm: command({
        description: "write Pachyderm specs, stage bundles and a README with the pachctl commands",
        args: [{ usage: "[pipeline...]", help: "pipelines to export (default: all)" }],
        options: {
          output: value("dir", "folder to write into", { short: "o", required: true }),
          ...JSON_OPTION,
        },
        run: ([names], o) => doExportPachyderm(names, o),
      }),
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
      run: async ([shell]) => {
        const { completionScript } = await lib();
        outExact(completionScript(shell, commandTree(tusk)));
      },
    }),
    __complete: command({
      description: "names for completion scripts: repos, branches <repo> or pipelines",
      args: ["<what>", "[arg]"],
      hidden: true,
      run: ([what, arg]) => doComplete(what, arg),
    }),
  }),
});

/** Parse and run; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  format = await load<Format>("./lib/format/format.ts");
  try {
    const call = parseCommandLine(tusk, args);
    switch (call.kind) {
      case "help":
        (call.error ? err : out)(call.text);
        return call.error ? 2 : 0;
      case "version":
        out(`${call.text}\n`);
        return 0;
      case "run":
        if (call.globals.store === "") {
          throw new InvalidArgumentError('Invalid --store "": give the store\'s folder', {
            option: "--store",
          });
        }
        storeFlag = call.globals.store;
        sandboxFlag = call.globals.sandbox ?? "auto";
        await call.run();
        return 0;
    }
  } catch (e) {
    // The reader went away (`tusk list file … | head`): stop quietly, as a process killed
    // by SIGPIPE would, with its exit status.
    if (e instanceof Deno.errors.BrokenPipe) return 141;
    if (e instanceof TuskError) {
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
