/**
 * The metrics benchmarks, run by `deno task bench`: `tusk metrics show` over a model branch
 * of 1,000 commits (target under 1 s, start-up included), beside `tusk list commit` of the
 * same branch as the yardstick measured in the same run; `tusk plots` over 10 and 1,000
 * commits (vega and vega-lite load included); and what metrics.json costs the training job:
 * the iris training job (train.json) against the same job with a stage that fits the model
 * and writes model.json and model.txt but no metrics (no cross-validation fits), on the same
 * store, runs alternating (target: at most 1.5×).
 */
import { ROOT } from "../_helpers.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { type JobRecord, listJobs } from "../../lib/mod.ts";
import { Store } from "../../lib/store/store.ts";
import { irisMetrics, putText } from "../_metrics.ts";
import { scratchFolder } from "./_fixtures.ts";
import { alternate, between, measureTusk, timeTusk } from "./_process.ts";
import { formatMs, loadAverage, median, Report, runSections, spread } from "./_report.ts";

const RUNS = 5;

/**
 * A store in `dir` whose `model@master` has `n` commits, each holding a metrics.json of its
 * own (no two alike, as no two models' are).
 */
async function modelBranch(dir: string, n: number): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const store = await Store.init(`${dir}/.tusk`);
  await createRepo(store, "model");
  for (let i = 0; i < n; i++) {
    const cv = 0.9 + (i % 9) / 100;
    await putText(store, dir, "model@master", irisMetrics(1 / (1 + i), cv + 0.01, cv));
  }
  return `${dir}/.tusk`;
}

async function benchShow(dir: string, report: Report): Promise<void> {
  const store = await modelBranch(dir, 1000);
  await measureTusk(store, ["metrics", "show", "model@master"]);
  const { tusk, baseline } = await alternate(
    RUNS,
    () => measureTusk(store, ["metrics", "show", "model@master", "--json"]),
    () => measureTusk(store, ["list", "commit", "model@master", "--json"]),
  );
  const show = tusk.map((m) => m.ms);
  const list = baseline.map((m) => m.ms);
  report.add({
    name: "metrics show, 1,000 commits",
    runs: `median of ${RUNS}`,
    unit: "ms",
    tusk: median(show),
    baseline: { label: "list commit of the same branch", value: median(list) },
    target: { of: "value", op: "<", limit: 1000 },
  });
  report.detail(`ranges: metrics show ${spread(show)}, list commit ${spread(list)}`);
}

async function benchPlots(dir: string, report: Report): Promise<void> {
  const store = await modelBranch(dir, 1000);
  for (const n of [10, 1000]) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const args = ["plots", "model@master", "-n", String(n), "-o", `${dir}/p.svg`];
      times.push((await measureTusk(store, args)).ms);
    }
    report.add({
      name: `plots -o p.svg, ${n.toLocaleString("en")} commits`,
      runs: `median of ${RUNS}`,
      unit: "ms",
      tusk: median(times),
    });
    report.detail(`range ${spread(times)}`);
  }
}

const TRAIN_RUNS = 7;

/**
 * The stage of the training job without metrics: train.ts's fit and model files, and
 * nothing of its cross-validation. Lives beside a copy of the iris stages.
 */
const NO_METRICS_STAGE = `import { readTrainingSet, writeModel } from "./iris.ts";
import { readParams, settingsOf } from "./params.ts";
import { fit, summaryOf } from "./train.ts";

const [training, out, parameters] = Deno.args;
const settings = settingsOf(parameters ? await readParams(parameters) : {}, "svm");
const model = fit(await readTrainingSet(training!), settings);
await writeModel(out!, { model, summary: summaryOf(model) });
`;

/** The newest job of `pipeline` on `store`, which must have run its datum and succeeded. */
async function newestJob(store: string, pipeline: string): Promise<JobRecord> {
  const jobs = await listJobs(await Store.open(store), { pipeline });
  const job = jobs.sort((a, b) => a.created.localeCompare(b.created)).at(-1);
  if (!job || job.state !== "SUCCESS" || job.progress.processed !== 1) {
    throw new Error(`The last ${pipeline} job did not run its datum: ${job?.state} ${job?.reason}`);
  }
  return job;
}

async function benchTraining(dir: string, report: Report): Promise<void> {
  // A checkout of the iris stages (import map and lock included), plus the stage without metrics.
  const iris = `${dir}/checkout/pipelines/iris`;
  await Deno.mkdir(iris, { recursive: true });
  for (const f of ["deno.json", "deno.lock"]) {
    await Deno.copyFile(`${ROOT}/${f}`, `${dir}/checkout/${f}`);
  }
  for await (const e of Deno.readDir(`${ROOT}/pipelines/iris`)) {
    if (e.isFile) await Deno.copyFile(`${ROOT}/pipelines/iris/${e.name}`, `${iris}/${e.name}`);
  }
  await Deno.writeTextFile(`${iris}/train_no_metrics.ts`, NO_METRICS_STAGE);
  const spec = JSON.parse(await Deno.readTextFile(`${iris}/train.json`));
  spec.pipeline.name = "model_no_metrics";
  spec.transform.cmd[2] = "train_no_metrics.ts";
  await Deno.writeTextFile(`${iris}/train_no_metrics.json`, JSON.stringify(spec, null, 2));

  const store = `${dir}/.tusk`;
  await timeTusk(store, ["init"]);
  await timeTusk(store, ["create", "repo", "training"]);
  await timeTusk(store, [
    "put",
    "file",
    "training@master:/iris.csv",
    "-f",
    `${ROOT}/data/iris.csv`,
  ]);
  await timeTusk(store, ["create", "pipeline", "-f", `${iris}/train.json`]);
  await timeTusk(store, ["create", "pipeline", "-f", `${iris}/train_no_metrics.json`]);
  const rerun = async (name: string, file: string) => {
    await timeTusk(store, ["update", "pipeline", "--reprocess", "-f", `${iris}/${file}`]);
    return await newestJob(store, name);
  };
  const { tusk, baseline } = await alternate(
    TRAIN_RUNS,
    () => rerun("model", "train.json"),
    () => rerun("model_no_metrics", "train_no_metrics.json"),
  );
  const jobMs = (j: JobRecord) => between(j.started, j.finished);
  const stageMs = (j: JobRecord) => j.datums[0]!.durationMs;
  report.add({
    name: "training job with metrics.json (5 CV fits)",
    runs: `median of ${TRAIN_RUNS}`,
    unit: "ms",
    tusk: median(tusk.map(jobMs)),
    baseline: { label: "the same job without metrics", value: median(baseline.map(jobMs)) },
    target: { of: "ratio", op: "≤", limit: 1.5 },
  });
  report.detail(
    `jobs: with ${spread(tusk.map(jobMs))}, without ${spread(baseline.map(jobMs))}; ` +
      `stage processes: with ${formatMs(median(tusk.map(stageMs)))}, ` +
      `without ${formatMs(median(baseline.map(stageMs)))}`,
  );
}

/** Run the metrics benchmarks and print the report; 1 when one could not run. */
export async function main(): Promise<number> {
  const started = performance.now();
  const report = new Report();
  let broken: number;
  {
    using scratch = await scratchFolder("/tmp", "tusk-bench-metrics-");
    console.log(
      `tusk metrics benchmarks: deno ${Deno.version.deno}, scratch ${scratch.path}, ` +
        `load average ${await loadAverage()}`,
    );
    broken = await runSections(scratch.path, [
      ["7. metrics show over 1,000 model commits", (d) => benchShow(d, report)],
      ["8. plots over 10 and 1,000 commits", (d) => benchPlots(d, report)],
      ["9. the training job with and without metrics", (d) => benchTraining(d, report)],
    ]);
  }
  await report.printSummary(broken, started);
  console.log(`(${formatMs(performance.now() - started)} in all)`);
  return broken ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
