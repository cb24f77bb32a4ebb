/**
 * Pipeline benchmarks. Each prints tusk's figure, a baseline measured in the same run, the
 * ratio, the target and PASS / MISS; a markdown table closes the report. Stores live in a
 * scratch folder under /tmp, removed at the end.
 *
 * 1. Trigger latency. `tusk up --headless` serves a store with a trivial pipeline; another
 *    process commits with `tusk put file --no-wait`, 20 times (after one warm-up). Latency
 *    is the time of the `job:created` event in events.jsonl minus the ledger's mtime taken
 *    right after the commit (when the ledger entry was appended; the commit's own `time`
 *    field, taken when its transaction began, is reported too). Baseline: a bare
 *    `Deno.watchFs` on the store folder in this process, seeing the same appends. Also the
 *    end-to-end time from spawning `put file` to `job:created`. Target: median < 50 ms.
 * 2. 1,000 datums (glob `/*` over 1,000 tiny files) of a trivial copy stage, through the
 *    CLI (`create pipeline` runs the job in-process); the job's time comes from its record
 *    (created → finished). With datumBatching: job time / 1,000, median of 3 fresh stores
 *    (target < 2 ms), against the file-system floor of a folder per datum (plain Deno
 *    calls, timed before each run). Without: job time / 1,000 and the time a datum holds
 *    one of the parallel workers, against `runStage()` of the same bundle called directly
 *    through the library (the bare cost of one sandboxed Deno process; median of 20, one
 *    at a time and two at once). Target ≤ 1.2×.
 * 3. Skipping 10,000 unchanged datums. A pipeline (glob `/*.txt`, batched so the set-up is
 *    quick) has processed 10,000 files; then a commit adds one `.csv` file, so the next job
 *    plans 10,000 datums and skips them all. Job time from its record, median of 3. Target
 *    < 1 s. Its phases are then timed through the library (planning, the datum index, the
 *    walk of the reused output trees) to show what dominates.
 * 4. Sandbox overhead. The trivial stage run through `runStage()` in bwrap and in deno mode
 *    (supervised: process group, memory monitor, output harvest) and as the bare sandboxed
 *    commands, against a bare `deno run` of the same bundle; median of 20 each, the variants
 *    interleaved. No target: the ratios are reported.
 *
 *   deno run --allow-read --allow-write --allow-env --allow-run tests/bench/pipeline_bench.ts
 */
import { ROOT } from "../_helpers.ts";
import {
  detectSandbox,
  type JobRecord,
  listJobs,
  readJournal,
  Store,
  type TuskEvent,
} from "../../lib/mod.ts";
import { leaseHolder } from "../../lib/scheduler/lease.ts";
import { planDatums } from "../../lib/pipeline/datums.ts";
import { JobStore } from "../../lib/pipeline/jobs.ts";
import { pipelineOf, readBundle } from "../../lib/pipeline/pipelines.ts";
import { hostTools } from "../../lib/runner/detect.ts";
import { runStage } from "../../lib/runner/run_stage.ts";
import { type SandboxMode, stageCommand } from "../../lib/runner/sandbox.ts";
import type { LedgerEntry } from "../../lib/store/state.ts";
import { checkedJob, scratchFolder } from "./_fixtures.ts";
import { between, timeTusk, tuskArgs } from "./_process.ts";
import { formatMs, loadAverage, median, Report, runSections, spread } from "./_report.ts";

const STAGE = new URL("./stages/copy.ts", import.meta.url).pathname;
const PIPELINE = "copy";
const COMMITS = 20;
const BARE_RUNS = 20;
const SKIP_RUNS = 3;
const BATCHED_RUNS = 3;
const FINAL = new Set(["SUCCESS", "FAILURE", "KILLED", "UNRUNNABLE"]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- set-up ----

/** Write `count` tiny files of distinct content, `f0000.<ext>`…, into `dir`. */
async function writeTinyFiles(dir: string, count: number, ext: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const width = String(count - 1).length;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await Deno.writeTextFile(`${dir}/f${String(i).padStart(width, "0")}.${ext}`, `datum ${i}\n`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** A store at `<dir>/.tusk` holding repo `data`, and the copy stage with its spec in `dir`. */
async function copySetup(
  dir: string,
  options: { glob: string; batching: boolean },
): Promise<{ store: string; specFile: string }> {
  await Deno.mkdir(dir, { recursive: true });
  const store = `${dir}/.tusk`;
  await timeTusk(store, ["init"]);
  await timeTusk(store, ["create", "repo", "data"]);
  await Deno.copyFile(STAGE, `${dir}/copy.ts`);
  const specFile = `${dir}/copy.json`;
  await Deno.writeTextFile(
    specFile,
    JSON.stringify(
      {
        pipeline: { name: PIPELINE },
        description: "Copies every file of repo data (a benchmark's trivial stage).",
        transform: {
          cmd: ["deno", "run", "copy.ts", "/pfs/data/", "/pfs/out/"],
          ...(options.batching ? { datumBatching: true } : {}),
        },
        input: { pfs: { repo: "data", glob: options.glob } },
      },
      null,
      2,
    ),
  );
  return { store, specFile };
}

/** The pipeline's jobs, oldest first. */
async function jobsOf(store: string): Promise<JobRecord[]> {
  const jobs = await listJobs(await Store.open(store), { pipeline: PIPELINE });
  return jobs.sort((a, b) => a.created.localeCompare(b.created));
}

/** The newest job, checked to have succeeded with the expected datum counts. */
async function lastJob(
  store: string,
  expect: { processed: number; skipped: number },
): Promise<JobRecord> {
  return checkedJob((await jobsOf(store)).at(-1), expect);
}

/** The stage bundle the pipeline of `store` runs, written to `path`. */
async function bundleOf(store: string, path: string): Promise<void> {
  const s = await Store.open(store);
  const bytes = await readBundle(s, await pipelineOf(await s.state(), PIPELINE));
  await Deno.writeFile(path, bytes);
}

/** A one-file datum workspace for calling runStage() directly. */
async function bareWorkspace(dir: string): Promise<{ inDir: string; out: string; tmp: string }> {
  const inDir = `${dir}/pfs/data`;
  await Deno.mkdir(inDir, { recursive: true });
  await Deno.writeTextFile(`${inDir}/f0000.txt`, "datum 0\n");
  await Deno.mkdir(`${dir}/scratch`, { recursive: true });
  return { inDir, out: `${dir}/out`, tmp: `${dir}/scratch` };
}

/**
 * The file-system floor of a batched datum: what any run with a folder per datum must do
 * at least, in plain Deno calls. For each of `count` datums: make its input folder (three
 * levels), write its input file, make its out folder and write its output; then remove it
 * all. Returns the wall time.
 */
async function fileSystemFloor(dir: string, count: number): Promise<number> {
  const bytes = new TextEncoder().encode("datum\n");
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    await Deno.mkdir(`${dir}/in/${i}/pfs/data`, { recursive: true });
    await Deno.writeFile(`${dir}/in/${i}/pfs/data/f.txt`, bytes, { mode: 0o444 });
    await Deno.mkdir(`${dir}/out/${i}`, { recursive: true });
    await Deno.writeFile(`${dir}/out/${i}/f.txt`, bytes);
  }
  await Deno.remove(dir, { recursive: true });
  return performance.now() - start;
}

/** Run the copy bundle once through runStage(); returns its wall time. */
async function bareRunStage(bundle: string, dir: string, mode: SandboxMode): Promise<number> {
  const ws = await bareWorkspace(dir);
  const start = performance.now();
  const r = await runStage({
    bundle,
    args: ["/pfs/data/", "/pfs/out/"],
    inputs: [{ name: "data", dir: ws.inDir }],
    outDir: ws.out,
    scratchDir: ws.tmp,
    mode,
  });
  const ms = performance.now() - start;
  if (r.outcome !== "ok" || r.outputs.length !== 1) {
    throw new Error(`The bare stage run failed (${r.outcome}): ${r.message}\n${r.stderr}`);
  }
  return ms;
}

// ---- 1. trigger latency ----

interface TriggerSample {
  /** job:created − ledger mtime after the commit, or null when the mtime was not the commit's. */
  readonly append: number | null;
  /** job:created − the commit's `time` field (its transaction's start). */
  readonly commitTime: number;
  /** job:created − spawn of `put file`. */
  readonly endToEnd: number;
  /** Ledger mtime − spawn of `put file`. */
  readonly putOnly: number | null;
  /** Bare watcher's first ledger event − ledger mtime. */
  readonly watch: number | null;
}

async function benchTrigger(root: string, report: Report): Promise<void> {
  const dir = `${root}/trigger`;
  const { store, specFile } = await copySetup(dir, { glob: "/*", batching: false });
  await timeTusk(store, ["create", "pipeline", "-f", specFile]);
  const storeObj = await Store.open(store);

  const up = new Deno.Command(Deno.execPath(), {
    args: tuskArgs(["up", "--headless"]),
    cwd: ROOT,
    env: { NO_COLOR: "1", TUSK_STORE: store },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let upLog = "";
  const decoder = new TextDecoder();
  const drain = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeTo(
      new WritableStream({
        write(chunk) {
          upLog = (upLog + decoder.decode(chunk)).slice(-4000);
        },
      }),
    ).catch(() => {});
  const drained = Promise.all([drain(up.stdout), drain(up.stderr)]);

  // A bare watcher on the same folder: the floor of any watch-based reaction.
  const watcher = Deno.watchFs(store, { recursive: false });
  let watchSeen: number | null = null;
  const watching = (async () => {
    for await (const ev of watcher) {
      if (watchSeen === null && ev.paths.some((p) => p.endsWith("/ledger"))) {
        watchSeen = Date.now();
      }
    }
  })();

  const samples: TriggerSample[] = [];
  try {
    const ready = Date.now() + 30_000;
    while ((await leaseHolder(storeObj))?.mode !== "daemon") {
      if (Date.now() > ready) throw new Error(`tusk up did not start:\n${upLog}`);
      await sleep(20);
    }
    await sleep(300);
    const journal = `${store}/events.jsonl`;
    let offset = 0;
    for (let i = 0; i <= COMMITS; i++) {
      const src = `${dir}/c${i}.txt`;
      await Deno.writeTextFile(src, `commit ${i}\n`);
      watchSeen = null;
      const spawned = Date.now();
      await timeTusk(store, ["put", "file", `data@master:/c${i}.txt`, "-f", src, "--no-wait"]);
      const mtime = (await Deno.stat(`${store}/ledger`)).mtime!.getTime();
      const lines = (await Deno.readTextFile(`${store}/ledger`)).trimEnd().split("\n");
      let entry: LedgerEntry | null = null;
      let commit: string | null = null;
      let isLast = false;
      for (let k = lines.length - 1; k >= 0 && !entry; k--) {
        const e = JSON.parse(lines[k]!) as LedgerEntry;
        const move = e.changes.find((c) => c.type === "branch:move" && c.repo === "data");
        if (move && move.type === "branch:move") {
          entry = e;
          commit = move.to;
          isLast = k === lines.length - 1;
        }
      }
      if (!entry || !commit) throw new Error("Cannot find the commit in the ledger");

      let created: Extract<TuskEvent, { type: "job:created" }> | null = null;
      let state: string | null = null;
      const deadline = Date.now() + 60_000;
      while (state === null) {
        if (Date.now() > deadline) throw new Error(`No job finished for commit ${commit}`);
        const r = await readJournal(journal, offset);
        offset = r.offset;
        for (const e of r.events) {
          if (e.type === "job:created" && e.inputs.includes(`data@${commit}`)) created = e;
          if (created && e.type === "job:state" && e.job === created.job && FINAL.has(e.state)) {
            state = e.state;
          }
        }
        if (state === null) await sleep(10);
      }
      if (state !== "SUCCESS" || !created) throw new Error(`The job of commit ${i} ended ${state}`);
      const at = Date.parse(created.time);
      if (i > 0) {
        samples.push({
          append: isLast ? at - mtime : null,
          commitTime: at - Date.parse(entry.time),
          endToEnd: at - spawned,
          putOnly: isLast ? mtime - spawned : null,
          watch: isLast && watchSeen !== null ? watchSeen - mtime : null,
        });
      }
      await sleep(150);
    }
  } finally {
    watcher.close();
    await watching;
    try {
      up.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const killer = setTimeout(() => {
      try {
        up.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, 5000);
    await up.status;
    clearTimeout(killer);
    await drained;
  }

  const known = (f: (s: TriggerSample) => number | null) =>
    samples.map(f).filter((v): v is number => v !== null);
  const append = known((s) => s.append);
  const watch = known((s) => s.watch);
  report.add({
    name: "commit → job:created (tusk up)",
    runs: `median of ${append.length}`,
    unit: "ms",
    tusk: median(append),
    ...(watch.length ? { baseline: { label: "bare Deno.watchFs", value: median(watch) } } : {}),
    target: { of: "value", op: "<", limit: 50 },
  });
  report.detail(
    `ledger append → job:created: ${spread(append)}; from the commit's time field ` +
      `(transaction start): median ${formatMs(median(samples.map((s) => s.commitTime)))}; ` +
      `${COMMITS - append.length} of ${COMMITS} commits had the job's output land first`,
  );
  const putOnly = known((s) => s.putOnly);
  report.add({
    name: "spawn put file --no-wait → job:created",
    runs: `median of ${samples.length}`,
    unit: "ms",
    tusk: median(samples.map((s) => s.endToEnd)),
    ...(putOnly.length
      ? { baseline: { label: "spawn → ledger append", value: median(putOnly) } }
      : {}),
  });
}

// ---- 2. one thousand datums ----

async function benchThousand(root: string, report: Report, mode: SandboxMode): Promise<void> {
  const files = `${root}/files-1k`;
  await writeTinyFiles(files, 1000, "txt");
  const width = navigator.hardwareConcurrency;

  // Batched: a fresh store each run; the job is short, so take the median of a few.
  const batchedRuns: number[] = [];
  const createRuns: number[] = [];
  const floorRuns: number[] = [];
  for (let i = 0; i < BATCHED_RUNS; i++) {
    const b = await copySetup(`${root}/batched-${i}`, { glob: "/*", batching: true });
    await timeTusk(b.store, ["put", "file", "data@master", "-r", "-f", `${files}/.`]);
    floorRuns.push(await fileSystemFloor(`${root}/floor`, 1000));
    createRuns.push((await timeTusk(b.store, ["create", "pipeline", "-f", b.specFile])).ms);
    const job = await lastJob(b.store, { processed: 1000, skipped: 0 });
    batchedRuns.push(between(job.created, job.finished));
    if (i < BATCHED_RUNS - 1) await Deno.remove(`${root}/batched-${i}`, { recursive: true });
  }
  const batchedMs = median(batchedRuns);

  // The bare cost of one sandboxed stage process: runStage() on the same bundle.
  const bare = `${root}/bare`;
  await Deno.mkdir(bare, { recursive: true });
  const bundle = `${bare}/stage.js`;
  await bundleOf(`${root}/batched-${BATCHED_RUNS - 1}/.tusk`, bundle);
  await bareRunStage(bundle, `${bare}/warm`, mode);
  const sequential: number[] = [];
  for (let i = 0; i < BARE_RUNS; i++) {
    sequential.push(await bareRunStage(bundle, `${bare}/s`, mode));
  }
  const together: number[] = [];
  await Promise.all(Array.from({ length: width }, async (_, lane) => {
    for (let i = 0; i < Math.ceil(BARE_RUNS / width); i++) {
      together.push(await bareRunStage(bundle, `${bare}/lane-${lane}`, mode));
    }
  }));
  const bareMs = median(sequential);
  const bareTogether = median(together);

  report.add({
    name: "1,000 datums, datumBatching: job time per datum",
    runs: `median of ${BATCHED_RUNS}`,
    unit: "ms/datum",
    tusk: batchedMs / 1000,
    baseline: { label: "file-system floor", value: median(floorRuns) / 1000 },
    target: { of: "value", op: "<", limit: 2 },
  });
  report.detail(
    `jobs ${batchedRuns.map(formatMs).join(", ")} for 1,000 datums in ${
      Math.min(width, 1000)
    } batches; create pipeline (bundle + job) ${createRuns.map(formatMs).join(", ")}; ` +
      `the floor (per datum: 3 folders and a file in, a folder and a file out, all removed ` +
      `after; plain Deno calls) ${floorRuns.map(formatMs).join(", ")} per 1,000; one bare ` +
      `runStage ${formatMs(bareMs)}`,
  );

  const u = await copySetup(`${root}/unbatched`, { glob: "/*", batching: false });
  await timeTusk(u.store, ["put", "file", "data@master", "-r", "-f", `${files}/.`]);
  const uRun = await timeTusk(u.store, ["create", "pipeline", "-f", u.specFile]);
  const uJob = await lastJob(u.store, { processed: 1000, skipped: 0 });
  const unbatchedMs = between(uJob.created, uJob.finished);
  const stageMs = uJob.datums.map((d) => d.durationMs);

  report.add({
    name: `1,000 datums, unbatched: job time per datum (${width} in parallel)`,
    runs: "1 run",
    unit: "ms/datum",
    tusk: unbatchedMs / 1000,
    baseline: { label: `bare runStage, median of ${BARE_RUNS}`, value: bareMs },
    target: { of: "ratio", op: "≤", limit: 1.2 },
  });
  report.add({
    name: "1,000 datums, unbatched: time a datum holds a worker",
    runs: "1 run",
    unit: "ms/datum",
    tusk: (unbatchedMs * width) / 1000,
    baseline: { label: `bare runStage, ${width} at once`, value: bareTogether },
    target: { of: "ratio", op: "≤", limit: 1.2 },
  });
  report.detail(
    `job ${formatMs(unbatchedMs)}; create pipeline ${formatMs(uRun.ms)}; inside the job the ` +
      `stage process itself (spawn → exit) took median ${formatMs(median(stageMs))} per datum, ` +
      `so tusk's own per-datum work (workspace, harvest, ingest, logs, index) is ` +
      `${formatMs((unbatchedMs * width) / 1000 - median(stageMs))} per worker; ` +
      `bare runStage one at a time ${spread(sequential)}, ${width} at once ${spread(together)}`,
  );
}

// ---- 3. skipping ten thousand datums ----

async function benchSkip(root: string, report: Report): Promise<void> {
  const files = `${root}/files-10k`;
  await writeTinyFiles(files, 10_000, "txt");
  const dir = `${root}/skip`;
  const s = await copySetup(dir, { glob: "/*.txt", batching: true });
  const put = await timeTusk(s.store, ["put", "file", "data@master", "-r", "-f", `${files}/.`]);
  const first = await timeTusk(s.store, ["create", "pipeline", "-f", s.specFile]);
  const firstJob = await lastJob(s.store, { processed: 10_000, skipped: 0 });
  const firstMs = between(firstJob.created, firstJob.finished);
  report.detail(
    `set-up: put 10,000 files ${formatMs(put.ms)}; first job (10,000 datums, batched) ` +
      `${formatMs(firstMs)} = ${(firstMs / 10_000).toFixed(2)} ms/datum; create pipeline ` +
      `${formatMs(first.ms)}`,
  );

  const jobMs: number[] = [];
  const cliMs: number[] = [];
  let job: JobRecord | null = null;
  for (let i = 0; i < SKIP_RUNS; i++) {
    const src = `${dir}/extra-${i}.csv`;
    await Deno.writeTextFile(src, `not a datum ${i}\n`);
    const run = await timeTusk(s.store, ["put", "file", `data@master:/extra-${i}.csv`, "-f", src]);
    job = await lastJob(s.store, { processed: 0, skipped: 10_000 });
    jobMs.push(between(job.created, job.finished));
    cliMs.push(run.ms);
  }
  report.add({
    name: "skip 10,000 unchanged datums: job time",
    runs: `median of ${SKIP_RUNS}`,
    unit: "ms",
    tusk: median(jobMs),
    target: { of: "value", op: "<", limit: 1000 },
  });

  // What the job spends its time on, phase by phase, through the library.
  const store = await Store.open(s.store);
  const p = await pipelineOf(await store.state(), PIPELINE);
  const commits = new Map(job!.inputs.map((i) => [i.name, { repo: i.repo, commit: i.commit }]));
  let t = performance.now();
  await store.objects.has("0".repeat(64));
  const packIndexMs = performance.now() - t;
  t = performance.now();
  const datums = await planDatums(store, p.parsed.input, commits, {
    salt: p.parsed.salt,
    codeHash: p.codeHash,
  });
  const planMs = performance.now() - t;
  t = performance.now();
  const index = await new JobStore(store).datumIndex(PIPELINE);
  const indexMs = performance.now() - t;
  t = performance.now();
  let outputs = 0;
  for (const d of job!.datums) {
    for await (const _ of store.walk(d.outputTree!, [])) outputs++;
  }
  const walkMs = performance.now() - t;
  t = performance.now();
  const record = JSON.stringify(job);
  const encodeMs = performance.now() - t;
  report.detail(
    `jobs ${jobMs.map(formatMs).join(", ")}; put file (CLI, with the job) ` +
      `${cliMs.map(formatMs).join(", ")}`,
  );
  report.detail(
    `phases, timed again through the library: load the pack indexes ${
      formatMs(packIndexMs)
    }, plan ${datums.length} datums ${
      formatMs(planMs)
    }, read the datum index (${index.size} entries) ${formatMs(indexMs)}, walk the ` +
      `${outputs} reused outputs for the merge ${formatMs(walkMs)}, encode the job record ` +
      `(${(record.length / 1e6).toFixed(1)} MB, saved 3 times) ${formatMs(encodeMs)}`,
  );
}

// ---- 4. sandbox overhead ----

async function benchSandbox(root: string, report: Report, mode: SandboxMode): Promise<void> {
  const dir = `${root}/sandbox`;
  const b = await copySetup(`${dir}/src`, { glob: "/*", batching: false });
  await timeTusk(b.store, ["create", "pipeline", "-f", b.specFile]);
  const bundle = `${dir}/stage.js`;
  await bundleOf(b.store, bundle);
  const tools = await hostTools();

  const fresh = async (name: string) => {
    const ws = await bareWorkspace(`${dir}/${name}`);
    await Deno.remove(ws.out, { recursive: true }).catch(() => {});
    await Deno.mkdir(ws.out);
    return ws;
  };
  const spawn = async (program: string, args: readonly string[], opts: {
    env?: Record<string, string>;
    clearEnv?: boolean;
    cwd: string;
  }) => {
    const start = performance.now();
    const r = await new Deno.Command(program, {
      args: [...args],
      cwd: opts.cwd,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.clearEnv ? { clearEnv: true } : {}),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const ms = performance.now() - start;
    if (!r.success) {
      throw new Error(`"${program}" failed: ${new TextDecoder().decode(r.stderr)}`);
    }
    return ms;
  };
  const raw = (m: SandboxMode) => async () => {
    const ws = await fresh(`raw-${m}`);
    const c = stageCommand({
      bundle,
      args: ["/pfs/data/", "/pfs/out/"],
      inputs: [{ name: "data", dir: ws.inDir }],
      outDir: ws.out,
      scratchDir: ws.tmp,
      mode: m,
    }, tools);
    return await spawn(c.program, c.args, { env: { ...c.env }, clearEnv: true, cwd: c.cwd });
  };
  const variants: [string, () => Promise<number>][] = [
    ["bare deno run", async () => {
      const ws = await fresh("bare");
      return await spawn(
        Deno.execPath(),
        ["run", "--quiet", "--allow-read", "--allow-write", bundle, ws.inDir, ws.out],
        { cwd: ws.tmp },
      );
    }],
    ["deno-mode command", raw("deno")],
    ["runStage(deno)", () => bareRunStage(bundle, `${dir}/run-deno`, "deno")],
  ];
  if (mode === "bwrap") {
    variants.push(
      ["bwrap command", raw("bwrap")],
      ["runStage(bwrap)", () => bareRunStage(bundle, `${dir}/run-bwrap`, "bwrap")],
    );
  } else report.detail("bwrap does not work here: its variants are left out");
  const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (const [, run] of variants) await run();
  for (let i = 0; i < BARE_RUNS; i++) {
    for (let k = 0; k < variants.length; k++) {
      const [name, run] = variants[(i + k) % variants.length]!;
      times.get(name)!.push(await run());
    }
  }
  const bareMs = median(times.get("bare deno run")!);
  for (const [name] of variants.slice(1)) {
    report.add({
      name: `sandbox: ${name}`,
      runs: `median of ${BARE_RUNS}`,
      unit: "ms",
      tusk: median(times.get(name)!),
      baseline: { label: "bare deno run", value: bareMs },
    });
  }
  const line = [...times].map(([name, t]) => `${name} ${spread(t)}`).join("; ");
  report.detail(`ranges: ${line}`);
  if (mode === "bwrap") {
    report.detail(
      `runStage(bwrap) / runStage(deno): ${
        (median(times.get("runStage(bwrap)")!) / median(times.get("runStage(deno)")!)).toFixed(2)
      }x; runStage(bwrap) − bwrap command (tusk's supervision): ${
        formatMs(median(times.get("runStage(bwrap)")!) - median(times.get("bwrap command")!))
      }`,
    );
  }
}

// ---- driver ----

/** Run the pipeline benchmarks and print the report; 1 when one could not run. */
export async function main(): Promise<number> {
  const started = performance.now();
  const report = new Report();
  let broken: number;
  {
    // The scratch folder is removed at the end of this block, before the summary.
    using scratch = await scratchFolder("/tmp", "tusk-bench-pipelines-");
    const root = scratch.path;
    const sandbox = await detectSandbox("auto");
    console.log(
      `tusk pipeline benchmarks: deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} ` +
        `CPUs, sandbox ${sandbox.mode}, scratch ${root}, load average ${await loadAverage()}`,
    );
    broken = await runSections(root, [
      ["4. sandbox overhead", (d) => benchSandbox(d, report, sandbox.mode)],
      ["1. trigger latency", (d) => benchTrigger(d, report)],
      ["2. 1,000 datums of a trivial stage", (d) => benchThousand(d, report, sandbox.mode)],
      ["3. skipping 10,000 unchanged datums", (d) => benchSkip(d, report)],
    ]);
  }
  await report.printSummary(broken, started);
  return broken ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
