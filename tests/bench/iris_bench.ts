/**
 * Iris benchmarks: the tutorial's workload through tusk against the tutorial's own Python
 * scripts (tests/bench/baseline/pytrain.py and pyinfer.py, scikit-learn and pandas run by
 * Debian's /usr/bin/python3) on the same files, measured in the same run. Each prints
 * tusk's figure, the baseline, the ratio, the target and PASS / MISS; a markdown table
 * closes the report. Stores live in a scratch folder under /tmp, removed at the end.
 *
 * 5. The whole tutorial through the real CLI, one process per step, in a fresh store:
 *    init, create repo training and attributes, put iris.csv, create pipeline train.json
 *    (bundles the stage, trains the model), create pipeline infer.json, put the test
 *    attributes (runs inference) — store, sandbox and provenance included — against
 *    `pytrain.py` + `pyinfer.py`. Runs alternate; medians of 5. Target ≤ 1.0×. The detail
 *    lines break tusk's time down per step, and into CLI start-up, bundling (timed through
 *    the library), job and stage process.
 * 6. Inference on one 1,000,000-row attributes file with an existing model: `tusk put file`
 *    of the file (the infer pipeline's job runs in-process) and that job alone (from its
 *    record), against `pyinfer.py` on the same file; medians of 3. Target ≤ 1.0×. Peak
 *    memory of the stage process and of Python, from VmHWM in /proc polled every 20 ms.
 *
 *   apt-get install -y python3-sklearn python3-pandas   # the baseline's libraries
 *   deno run --allow-read --allow-write --allow-env --allow-run tests/bench/iris_bench.ts
 */
import { ROOT } from "../_helpers.ts";
import { detectSandbox, type JobRecord, listJobs, Store } from "../../lib/mod.ts";
import { snapshotStage } from "../../lib/pipeline/code.ts";
import { scratchFolder } from "./_fixtures.ts";
import {
  alternate,
  between,
  type ProcessPeak,
  timeCommand,
  type Timed,
  timeTusk,
} from "./_process.ts";
import { formatMs, loadAverage, median, Report, runSections, spread } from "./_report.ts";

const PYTHON = "/usr/bin/python3";
const BASELINE = new URL("./baseline/", import.meta.url).pathname;
const IRIS = `${ROOT}/pipelines/iris`;
const DATA = `${ROOT}/data`;
const TUTORIAL_RUNS = 5;
const BIG_RUNS = 3;
const BIG_ROWS = 1_000_000;
const PEAK_EVERY_MS = 20;

// ---- helpers ----

/** The jobs of `pipeline` in the store at `store`, oldest first. */
async function jobsOf(store: string, pipeline: string): Promise<JobRecord[]> {
  const jobs = await listJobs(await Store.open(store), { pipeline });
  return jobs.sort((a, b) => a.created.localeCompare(b.created));
}

/** The newest job of `pipeline`, checked to have succeeded. */
async function lastJob(store: string, pipeline: string): Promise<JobRecord> {
  const job = (await jobsOf(store, pipeline)).at(-1);
  if (!job || job.state !== "SUCCESS") {
    throw new Error(`The last ${pipeline} job ended ${job?.state ?? "missing"}: ${job?.reason}`);
  }
  return job;
}

/** Time of the datums that ran (not skipped) in a job: their stage processes. */
function stageMs(job: JobRecord): number {
  return job.datums.filter((d) => d.state !== "SKIPPED").reduce((s, d) => s + d.durationMs, 0);
}

/** The peak of the stage process (a Deno process below the CLI) among `peaks`. */
function stagePeak(peaks: readonly ProcessPeak[]): ProcessPeak | null {
  const stages = peaks.filter((p) => !p.root && p.name === "deno");
  return stages.sort((a, b) => b.peakKiB - a.peakKiB)[0] ?? null;
}

/** Run a baseline script with Debian's Python. */
async function python(script: string, args: readonly string[], peak = false): Promise<Timed> {
  return await timeCommand(PYTHON, [`${BASELINE}/${script}`, ...args], {
    ...(peak ? { peakEveryMs: PEAK_EVERY_MS } : {}),
  });
}

/** The lines of a text file, trailing newlines dropped. */
async function lines(path: string): Promise<string[]> {
  return (await Deno.readTextFile(path)).trimEnd().split("\n");
}

// ---- 5. the tutorial ----

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
    ["put file training (iris.csv)", ["put", "file", "training@master", "-f", `${input}/iris.csv`]],
    ["create pipeline train.json", ["create", "pipeline", "-f", `${IRIS}/train.json`]],
    ["create pipeline infer.json", ["create", "pipeline", "-f", `${IRIS}/infer.json`]],
    ["put file attributes (test/)", [
      "put",
      "file",
      "attributes@master",
      "-r",
      "-f",
      `${input}/test/.`,
    ]],
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

async function benchTutorial(root: string, report: Report): Promise<void> {
  const input = `${root}/input`;
  await Deno.mkdir(`${input}/test`, { recursive: true });
  await Deno.mkdir(`${input}/training`, { recursive: true });
  await Deno.copyFile(`${DATA}/iris.csv`, `${input}/iris.csv`);
  await Deno.copyFile(`${DATA}/iris.csv`, `${input}/training/iris.csv`);
  for await (const e of Deno.readDir(`${DATA}/test`)) {
    if (e.isFile) await Deno.copyFile(`${DATA}/test/${e.name}`, `${input}/test/${e.name}`);
  }

  const { tusk, baseline } = await alternate(
    TUTORIAL_RUNS,
    (i) => tutorialThroughTusk(`${root}/tusk-${i}`, input),
    async (i) => {
      const out = `${root}/python-${i}`;
      const train = await python("pytrain.py", [`${input}/training`, `${out}/model`]);
      const infer = await python("pyinfer.py", [`${out}/model`, `${input}/test`, `${out}/out`]);
      return { train: train.ms, infer: infer.ms, out: `${out}/out` };
    },
  );

  // Same predictions, or the comparison means nothing.
  for (const name of ["1", "2"]) {
    const got = await timeTusk(tusk[0]!.store, ["get", "file", `inference@master:/${name}`]);
    const expected = await lines(`${baseline[0]!.out}/${name}`);
    if (got.stdout.trimEnd().split("\n").join() !== expected.join()) {
      throw new Error(`tusk and pyinfer.py disagree on ${name}: ${got.stdout} vs ${expected}`);
    }
  }

  const pyTotals = baseline.map((b) => b.train + b.infer);
  report.add({
    name: "iris tutorial end to end",
    runs: `median of ${TUTORIAL_RUNS}`,
    unit: "ms",
    tusk: median(tusk.map((r) => r.totalMs)),
    baseline: { label: "pytrain.py + pyinfer.py", value: median(pyTotals) },
    target: { of: "ratio", op: "≤", limit: 1.0 },
  });
  report.detail(
    `tusk ${spread(tusk.map((r) => r.totalMs))}; Python ${spread(pyTotals)} (pytrain.py ` +
      `${formatMs(median(baseline.map((b) => b.train)))}, pyinfer.py ` +
      `${formatMs(median(baseline.map((b) => b.infer)))}); predictions agree`,
  );

  // Where tusk's time goes.
  const store = tusk[0]!.store;
  const startup: number[] = [];
  for (let i = 0; i < 5; i++) startup.push((await timeTusk(store, ["list", "repo"])).ms);
  const bundle = async (script: string) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await snapshotStage(`${IRIS}/${script}`);
      times.push(performance.now() - t);
    }
    return median(times);
  };
  const bundleTrain = await bundle("train_svm.ts");
  const bundleInfer = await bundle("infer.ts");
  const imports: number[] = [];
  for (let i = 0; i < 3; i++) {
    imports.push(
      (await timeCommand(PYTHON, ["-c", "import pandas, joblib, sklearn.svm"])).ms,
    );
  }
  const stepNames = tusk[0]!.steps.map((s) => s.name);
  const stepMedian = (name: string) =>
    median(tusk.map((r) => r.steps.find((s) => s.name === name)!.ms));
  const jobMs = (f: (r: TutorialRun) => JobRecord) =>
    median(tusk.map((r) => between(f(r).created, f(r).finished)));
  const stageOf = (f: (r: TutorialRun) => JobRecord) => median(tusk.map((r) => stageMs(f(r))));
  report.detail(
    `per step (median): ${stepNames.map((n) => `${n} ${formatMs(stepMedian(n))}`).join("; ")}`,
  );
  report.detail(
    `CLI start-up (tusk list repo) ${formatMs(median(startup))} × ${stepNames.length} steps; ` +
      `bundling (deno info + deno bundle, through the library) train_svm.ts ` +
      `${formatMs(bundleTrain)}, infer.ts ${formatMs(bundleInfer)}; training job ` +
      `${formatMs(jobMs((r) => r.train))} of which the stage process ` +
      `${formatMs(stageOf((r) => r.train))}; inference job ${formatMs(jobMs((r) => r.infer))} ` +
      `of which the stage process ${formatMs(stageOf((r) => r.infer))}`,
  );
  report.detail(
    `Python's fixed cost: importing pandas, joblib and sklearn.svm takes ` +
      `${formatMs(median(imports))}, paid by each of the two scripts`,
  );
}

// ---- 6. one million rows ----

/** A deterministic attributes file of `rows` rows near the tutorial's measurements. */
async function writeBigAttributes(path: string, rows: number): Promise<void> {
  const base = (await Deno.readTextFile(`${DATA}/iris.csv`)).split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split(",").slice(0, 4).map(Number));
  let state = 7;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    const row = base[i % base.length]!;
    out.push(row.map((v) => (v + Math.floor(random() * 3 - 1) / 10).toFixed(1)).join(","));
  }
  await Deno.writeTextFile(path, out.join("\n") + "\n");
}

async function benchMillion(root: string, report: Report): Promise<void> {
  const big = `${root}/big/big.csv`;
  await Deno.mkdir(`${root}/big`, { recursive: true });
  await writeBigAttributes(big, BIG_ROWS);
  const size = (await Deno.stat(big)).size;

  // An existing model and the infer pipeline, as after the tutorial.
  const store = `${root}/store/.tusk`;
  for (
    const args of [
      ["init"],
      ["create", "repo", "training"],
      ["create", "repo", "attributes"],
      ["put", "file", "training@master", "-f", `${DATA}/iris.csv`],
      ["create", "pipeline", "-f", `${IRIS}/train.json`],
      ["create", "pipeline", "-f", `${IRIS}/infer.json`],
    ]
  ) await timeTusk(store, args);
  const pyModel = `${root}/py-model`;
  await python("pytrain.py", [DATA, pyModel]);

  const { tusk, baseline } = await alternate(
    BIG_RUNS,
    async (i) => {
      if (i > 0) {
        await timeTusk(store, [
          "delete",
          "file",
          `attributes@master:/big-${i - 1}.csv`,
          "--no-wait",
        ]);
      }
      const run = await timeTusk(store, [
        "put",
        "file",
        `attributes@master:/big-${i}.csv`,
        "-f",
        big,
      ], {
        peakEveryMs: PEAK_EVERY_MS,
      });
      const job = await lastJob(store, "inference");
      if (job.progress.processed !== 1) throw new Error(`Job ${job.id} did not run its datum`);
      return { run, job };
    },
    async (i) => {
      const out = `${root}/py-out-${i}`;
      const run = await python("pyinfer.py", [pyModel, `${root}/big`, out], true);
      return { run, out };
    },
  );

  const got = `${root}/tusk-big`;
  await timeTusk(store, ["get", "file", `inference@master:/big-${BIG_RUNS - 1}`, "-o", got]);
  const same =
    (await Deno.readTextFile(got)) === (await Deno.readTextFile(`${baseline[0]!.out}/big`));

  const pyMs = median(baseline.map((b) => b.run.ms));
  report.add({
    name: "inference on 1,000,000 rows: put file + job",
    runs: `median of ${BIG_RUNS}`,
    unit: "ms",
    tusk: median(tusk.map((t) => t.run.ms)),
    baseline: { label: "pyinfer.py", value: pyMs },
    target: { of: "ratio", op: "≤", limit: 1.0 },
  });
  report.add({
    name: "inference on 1,000,000 rows: the job alone",
    runs: `median of ${BIG_RUNS}`,
    unit: "ms",
    tusk: median(tusk.map((t) => between(t.job.created, t.job.finished))),
    baseline: { label: "pyinfer.py", value: pyMs },
    target: { of: "ratio", op: "≤", limit: 1.0 },
  });
  const stagePeaks = tusk.map((t) => stagePeak(t.run.peaks)?.peakKiB ?? 0);
  const cliPeaks = tusk.map((t) => t.run.peaks.find((p) => p.root)?.peakKiB ?? 0);
  const pyPeaks = baseline.map((b) => b.run.peaks.find((p) => p.root)?.peakKiB ?? 0);
  report.add({
    name: "inference on 1,000,000 rows: peak RSS",
    runs: `max of ${BIG_RUNS}`,
    unit: "MiB",
    tusk: Math.max(...stagePeaks) / 1024,
    baseline: { label: "pyinfer.py", value: Math.max(...pyPeaks) / 1024 },
  });
  report.detail(
    `file ${(size / 1e6).toFixed(1)} MB; put file ${spread(tusk.map((t) => t.run.ms))}, ` +
      `stage process ${formatMs(median(tusk.map((t) => stageMs(t.job))))} (median); ` +
      `pyinfer.py ${spread(baseline.map((b) => b.run.ms))}; peak RSS is the stage process's ` +
      `(the CLI process itself: ${(Math.max(...cliPeaks) / 1024).toFixed(0)} MiB); ` +
      `predictions ${same ? "agree" : "DIFFER"}`,
  );
  if (!same) throw new Error("tusk and pyinfer.py disagree on the 1,000,000 rows");
}

// ---- driver ----

async function pythonVersions(): Promise<string | null> {
  try {
    const r = await timeCommand(PYTHON, [
      "-c",
      "import sys, sklearn, pandas; print(sys.version.split()[0], sklearn.__version__, pandas.__version__)",
    ]);
    const [py, sk, pd] = r.stdout.trim().split(" ");
    return `Python ${py}, scikit-learn ${sk}, pandas ${pd}`;
  } catch {
    return null;
  }
}

/** Run the iris benchmarks and print the report; 1 when one could not run. */
export async function main(): Promise<number> {
  const started = performance.now();
  const versions = await pythonVersions();
  if (!versions) {
    console.log(
      `iris benchmarks: ${PYTHON} cannot import scikit-learn and pandas, the baseline's ` +
        `libraries: apt-get install -y python3-sklearn python3-pandas`,
    );
    return 1;
  }
  const report = new Report();
  let broken: number;
  {
    // The scratch folder is removed at the end of this block, before the summary.
    using scratch = await scratchFolder("/tmp", "tusk-bench-iris-");
    const root = scratch.path;
    const sandbox = await detectSandbox("auto");
    console.log(
      `tusk iris benchmarks: deno ${Deno.version.deno}, ${versions} (${PYTHON}), ` +
        `${navigator.hardwareConcurrency} CPUs, sandbox ${sandbox.mode}, scratch ${root}, ` +
        `load average ${await loadAverage()}`,
    );
    broken = await runSections(root, [
      ["5. the iris tutorial end to end", (d) => benchTutorial(d, report)],
      ["6. inference on one 1,000,000-row file", (d) => benchMillion(d, report)],
    ]);
  }
  await report.printSummary(broken, started);
  return broken ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
