/**
 * Benchmarks of stages that are host programs: the iris tutorial with its own Python pipeline
 * (pipelines/iris-python: Pachyderm's specs unchanged, pytrain.py and pyinfer.py run by the
 * host's python3 inside the sandbox) through tusk, against the same two scripts run bare;
 * and what the sandbox adds to one datum (python3 started by the runner in bwrap against
 * python3 started bare). Each prints tusk's figure, the baseline, the ratio, the target and
 * PASS / MISS; a markdown table closes the report.
 *
 * 7. The tutorial through the real CLI, one process per step, in a fresh store: init, create
 *    repo training and attributes, put iris.csv, create pipeline python_train and
 *    python_infer (each snapshots the code folder and checks python3 in the sandbox), put
 *    the test attributes (inference runs, one datum per file as Pachyderm runs it) — against
 *    `pytrain.py` and then `pyinfer.py` once per attributes file, bare, as the pipeline runs
 *    them. Runs alternate; medians of 5. Target ≤ 1.3×. A detail line gives the baseline
 *    of one `pyinfer.py` over the whole folder too.
 * 8. Per-datum sandbox overhead: `python3 -c pass` started as tusk starts a stage (the exact
 *    command the runner builds: its move into a pids cgroup made beforehand where there is
 *    one, bwrap with its namespaces and mounts, the task limit) against `python3 -c pass`
 *    spawned bare; target ≤ 15 ms added. And a whole datum through `runStage()` (its folders, the supervisor's
 *    watches, the harvest) for information. Runs alternate; medians of 30.
 *
 *   apt-get install -y bubblewrap python3-sklearn python3-pandas
 *   deno run --allow-read --allow-write --allow-env --allow-run tests/bench/python_bench.ts
 */
import { ROOT } from "../_helpers.ts";
import { type JobRecord, listJobs, Store } from "../../lib/mod.ts";
import { resolveHostProgram, trialProgram } from "../../lib/runner/host_program.ts";
import { hostTools } from "../../lib/runner/detect.ts";
import {
  hostStageCommand,
  hostSystem,
  taskLimitText,
  writeSandboxEtc,
} from "../../lib/runner/host_stage.ts";
import type { SandboxCommand } from "../../lib/runner/sandbox.ts";
import { runStage } from "../../lib/runner/run_stage.ts";
import { scratchFolder } from "./_fixtures.ts";
import { alternate, between, timeCommand, timeTusk } from "./_process.ts";
import { formatMs, loadAverage, median, Report, runSections, spread } from "./_report.ts";

const PY = `${ROOT}/pipelines/iris-python`;
const DATA = `${ROOT}/data`;
const TUTORIAL_RUNS = 5;
const OVERHEAD_RUNS = 30;

/** The newest job of `pipeline`, checked to have succeeded. */
async function lastJob(store: string, pipeline: string): Promise<JobRecord> {
  const jobs = await listJobs(await Store.open(store), { pipeline });
  const job = jobs.sort((a, b) => a.created.localeCompare(b.created)).at(-1);
  if (!job || job.state !== "SUCCESS") {
    throw new Error(`The last ${pipeline} job ended ${job?.state ?? "missing"}: ${job?.reason}`);
  }
  return job;
}

/** The stage processes' time of the datums a job ran. */
function stageMs(job: JobRecord): number {
  return job.datums.filter((d) => d.state !== "SKIPPED").reduce((s, d) => s + d.durationMs, 0);
}

// ---- 7. the tutorial ----

interface TutorialRun {
  readonly steps: { readonly name: string; readonly ms: number }[];
  readonly totalMs: number;
  readonly train: JobRecord;
  readonly infer: JobRecord;
  readonly store: string;
}

async function tutorialThroughTusk(dir: string, input: string): Promise<TutorialRun> {
  const store = `${dir}/.tusk`;
  const steps: [string, string[]][] = [
    ["init", ["init"]],
    ["create repo training", ["create", "repo", "training"]],
    ["create repo attributes", ["create", "repo", "attributes"]],
    ["put file training", ["put", "file", "training@master", "-f", `${input}/training/iris.csv`]],
    ["create pipeline python_train", [
      "create",
      "pipeline",
      "-f",
      `${PY}/python_train.pipeline.json`,
    ]],
    ["create pipeline python_infer", [
      "create",
      "pipeline",
      "-f",
      `${PY}/python_infer.pipeline.json`,
    ]],
    ["put file attributes", ["put", "file", "attributes@master", "-r", "-f", `${input}/test/.`]],
  ];
  const done: TutorialRun["steps"] = [];
  for (const [name, args] of steps) done.push({ name, ms: (await timeTusk(store, args)).ms });
  return {
    steps: done,
    totalMs: done.reduce((s, x) => s + x.ms, 0),
    train: await lastJob(store, "model"),
    infer: await lastJob(store, "inference"),
    store,
  };
}

async function benchTutorial(root: string, python: string, report: Report): Promise<void> {
  const input = `${root}/input`;
  await Deno.mkdir(`${input}/test`, { recursive: true });
  await Deno.mkdir(`${input}/training`, { recursive: true });
  await Deno.copyFile(`${DATA}/iris.csv`, `${input}/training/iris.csv`);
  const files: string[] = [];
  for await (const e of Deno.readDir(`${DATA}/test`)) {
    if (!e.isFile) continue;
    files.push(e.name);
    await Deno.mkdir(`${input}/one/${e.name}`, { recursive: true });
    await Deno.copyFile(`${DATA}/test/${e.name}`, `${input}/test/${e.name}`);
    await Deno.copyFile(`${DATA}/test/${e.name}`, `${input}/one/${e.name}/${e.name}`);
  }
  files.sort();

  const { tusk, baseline } = await alternate(
    TUTORIAL_RUNS,
    (i) => tutorialThroughTusk(`${root}/tusk-${i}`, input),
    async (i) => {
      const out = `${root}/python-${i}`;
      await Deno.mkdir(`${out}/model`, { recursive: true });
      await Deno.mkdir(`${out}/out`, { recursive: true });
      const train = await timeCommand(python, [
        `${PY}/pytrain.py`,
        `${input}/training`,
        `${out}/model`,
      ]);
      // One process per attributes file, as the pipeline (and Pachyderm) runs it.
      let infer = 0;
      for (const f of files) {
        infer += (await timeCommand(python, [
          `${PY}/pyinfer.py`,
          `${out}/model`,
          `${input}/one/${f}`,
          `${out}/out`,
        ])).ms;
      }
      return { train: train.ms, infer, out: `${out}/out` };
    },
  );

  // Same predictions, or the comparison means nothing.
  for (const name of ["1", "2"]) {
    const got = await timeTusk(tusk[0]!.store, ["get", "file", `inference@master:/${name}`]);
    const expected = await Deno.readTextFile(`${baseline[0]!.out}/${name}`);
    if (got.stdout !== expected) {
      throw new Error(`tusk and pyinfer.py disagree on ${name}: ${got.stdout} vs ${expected}`);
    }
  }
  const oneProcess: number[] = [];
  for (let i = 0; i < 3; i++) {
    const out = `${root}/python-all-${i}`;
    await Deno.mkdir(out, { recursive: true });
    oneProcess.push(
      (await timeCommand(python, [
        `${PY}/pyinfer.py`,
        `${baseline[0]!.out}/../model`,
        `${input}/test`,
        out,
      ])).ms,
    );
  }

  const pyTotals = baseline.map((b) => b.train + b.infer);
  report.add({
    name: "iris tutorial, Python stages, end to end",
    runs: `median of ${TUTORIAL_RUNS}`,
    unit: "ms",
    tusk: median(tusk.map((r) => r.totalMs)),
    baseline: { label: "pytrain.py + pyinfer.py per file, bare", value: median(pyTotals) },
    target: { of: "ratio", op: "≤", limit: 1.3 },
  });
  const stepNames = tusk[0]!.steps.map((s) => s.name);
  const stepMedian = (name: string) =>
    median(tusk.map((r) => r.steps.find((s) => s.name === name)!.ms));
  const jobMs = (f: (r: TutorialRun) => JobRecord) =>
    median(tusk.map((r) => between(f(r).created, f(r).finished)));
  const stageOf = (f: (r: TutorialRun) => JobRecord) => median(tusk.map((r) => stageMs(f(r))));
  report.detail(
    `tusk ${spread(tusk.map((r) => r.totalMs))}; bare ${spread(pyTotals)} (pytrain.py ` +
      `${formatMs(median(baseline.map((b) => b.train)))}, pyinfer.py × ${files.length} ` +
      `${formatMs(median(baseline.map((b) => b.infer)))}); one pyinfer.py over the whole ` +
      `folder ${formatMs(median(oneProcess))}; predictions agree`,
  );
  report.detail(
    `per step (median): ${stepNames.map((n) => `${n} ${formatMs(stepMedian(n))}`).join("; ")}`,
  );
  report.detail(
    `training job ${formatMs(jobMs((r) => r.train))} of which the stage process ` +
      `${formatMs(stageOf((r) => r.train))}; inference job ${formatMs(jobMs((r) => r.infer))} ` +
      `of which the stage processes ${formatMs(stageOf((r) => r.infer))}`,
  );
}

// ---- 8. per-datum sandbox overhead ----

/** Spawn `c` as the runner does (empty environment, no terminal); throws when it fails. */
async function spawn(c: SandboxCommand): Promise<number> {
  const t = performance.now();
  const out = await new Deno.Command(c.program, {
    args: [...c.args],
    env: { ...c.env },
    clearEnv: true,
    cwd: c.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t;
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return ms;
}

async function benchOverhead(root: string, python: string, report: Report): Promise<void> {
  const code = `${root}/code`;
  const etc = `${root}/etc`;
  const input = `${root}/in/data`;
  await Deno.mkdir(code, { recursive: true });
  await Deno.mkdir(input, { recursive: true });
  await Deno.writeTextFile(`${input}/a.txt`, "alpha\n");
  await writeSandboxEtc(etc);
  const host = { program: python, codeDir: code, etcDir: etc };
  const tools = await hostTools();
  const system = await hostSystem();
  const spec = {
    bundle: "",
    args: ["-c", "pass"],
    inputs: [{ name: "data", dir: input }],
    outDir: `${root}/out`,
    scratchDir: `${root}/scratch`,
    mode: "bwrap" as const,
  };
  for (const d of [spec.outDir, `${spec.scratchDir}/tmp`, `${spec.scratchDir}/shm`]) {
    await Deno.mkdir(d, { recursive: true });
  }
  const bare = { program: python, args: ["-c", "pass"], env: {}, cwd: root };
  /**
   * The command the runner builds for a datum, in a pids cgroup where there is one: made by
   * the first run and there for the next, as the runner makes each datum's while the one
   * before runs.
   */
  const sandboxed = () =>
    hostStageCommand(spec, host, tools, system, {
      cgroup: system.pidsCgroup ? `${system.pidsCgroup}/tusk-bench-${Deno.pid}-1` : undefined,
    });
  let n = 0;
  /** A whole datum through the runner: its folders, the supervisor, the harvest. */
  const datum = async () => {
    const dir = `${root}/datum-${n++}`;
    const t = performance.now();
    const r = await runStage({
      ...spec,
      host,
      outDir: `${dir}/out`,
      scratchDir: `${dir}/scratch`,
    });
    if (r.outcome !== "ok") throw new Error(`python3 -c pass in the sandbox: ${r.message}`);
    return performance.now() - t;
  };
  /** The same command without the pids cgroup: what a stage starts with where tusk is not root. */
  const uncounted = () => hostStageCommand(spec, host, tools, system);
  try {
    await spawn(sandboxed()); // warm the page cache for bwrap and its mounts
    await datum();
    const started = await alternate(OVERHEAD_RUNS, () => spawn(sandboxed()), () => spawn(bare));
    const plain = system.pidsCgroup
      ? await alternate(OVERHEAD_RUNS, () => spawn(uncounted()), () => spawn(bare))
      : null;
    const through = await alternate(OVERHEAD_RUNS, () => datum(), () => spawn(bare));
    const base = median(started.baseline);
    report.add({
      name: "python3 started in the sandbox vs bare",
      runs: `median of ${OVERHEAD_RUNS}`,
      unit: "ms",
      tusk: median(started.tusk),
      baseline: { label: "python3 -c pass, bare", value: base },
    });
    report.add({
      name: "time the sandbox adds to a datum's start",
      runs: `median of ${OVERHEAD_RUNS}`,
      unit: "ms",
      tusk: median(started.tusk) - base,
      target: { of: "value", op: "≤", limit: 15 },
    });
    report.add({
      name: "a datum through the runner (folders, supervisor, harvest) vs bare",
      runs: `median of ${OVERHEAD_RUNS}`,
      unit: "ms",
      tusk: median(through.tusk),
      baseline: { label: "python3 -c pass, bare", value: median(through.baseline) },
    });
    if (plain) {
      report.add({
        name: "the same without the pids cgroup (a stage where tusk is not root)",
        runs: `median of ${OVERHEAD_RUNS}`,
        unit: "ms",
        tusk: median(plain.tusk) - median(plain.baseline),
        target: { of: "value", op: "≤", limit: 15 },
      });
    }
    const min = (xs: readonly number[]) => formatMs(Math.min(...xs));
    report.detail(
      `sandboxed start ${spread(started.tusk)} (min ${min(started.tusk)}); bare ` +
        `${spread(started.baseline)} (min ${min(started.baseline)}); ` +
        (plain
          ? `without the cgroup ${spread(plain.tusk)} (min ${min(plain.tusk)}), bare ` +
            `${spread(plain.baseline)} (min ${min(plain.baseline)}); `
          : "") +
        `through the runner ${spread(through.tusk)} (min ${min(through.tusk)}); ` +
        `process limit: ${taskLimitText(system)}`,
    );
  } finally {
    if (system.pidsCgroup && tools.bash) {
      await new Deno.Command(tools.bash, {
        args: ["-c", `rmdir "${system.pidsCgroup}"/tusk-bench-${Deno.pid}-* 2>/dev/null; true`],
      }).output();
    }
  }
}

// ---- driver ----

/** Run the host-program benchmarks and print the report; 1 when one could not run. */
export async function main(): Promise<number> {
  const started = performance.now();
  let python: string;
  try {
    python = (await resolveHostProgram("python3", { field: "transform.cmd", sandbox: "auto" }))
      .path;
  } catch (err) {
    console.log(`python benchmarks: ${(err as Error).message}`);
    return 1;
  }
  const versions = await timeCommand(python, [
    "-c",
    "import sys, sklearn, pandas; print(sys.version.split()[0], sklearn.__version__, pandas.__version__)",
  ]).catch(() => null);
  if (!versions || !(await trialProgram(python)).ok) {
    console.log(
      `python benchmarks: ${python} cannot import scikit-learn and pandas, or bwrap does not ` +
        `run it: apt-get install -y bubblewrap python3-sklearn python3-pandas`,
    );
    return 1;
  }
  const [py, sk, pd] = versions.stdout.trim().split(" ");
  const report = new Report();
  let broken: number;
  {
    using scratch = await scratchFolder("/tmp", "tusk-bench-python-");
    const root = scratch.path;
    console.log(
      `tusk host-program benchmarks: deno ${Deno.version.deno}, Python ${py}, scikit-learn ` +
        `${sk}, pandas ${pd} (${python}), ${navigator.hardwareConcurrency} CPUs, scratch ` +
        `${root}, load average ${await loadAverage()}`,
    );
    broken = await runSections(root, [
      ["7. the iris tutorial with its Python pipeline", (d) => benchTutorial(d, python, report)],
      ["8. per-datum sandbox overhead", (d) => benchOverhead(d, python, report)],
    ]);
  }
  await report.printSummary(broken, started);
  return broken ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
