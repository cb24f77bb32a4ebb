/**
 * Scale of datums (issue 15, benchmark 4): a batched job over 1,000, 10,000 and 100,000
 * one-line files (glob `/*`, the trivial copy stage with `datumBatching`), run through the
 * real CLI (`create pipeline` runs the job in-process, so that process is the supervisor).
 *
 * 1. Run. Per-datum cost (job time from its record, created → finished, divided by the
 *    datums) at each size, its ratio to the smallest size's, and its ratio to a baseline
 *    measured in the same run: one bare Deno process running the same stage script over the
 *    same files laid out in a folder (no tusk, no sandbox, no store). Peak RSS (VmHWM, GNU
 *    time's %M) of the supervisor.
 * 2. Skip. On the same stores, a commit that changes one file: the next job runs 1 datum and
 *    skips all the others. Job time from its record, and the command's wall time and peak
 *    RSS. Target at 100,000: < 2 s.
 *
 * The input repo is built through the library in one commit (one object batch), not by
 * `put file`, so that the set-up stays short. Sizes and sections are selectable:
 *
 *   deno run --allow-read --allow-write --allow-env --allow-run tests/bench/scale_datums_bench.ts \
 *     [run|skip …] [--sizes 1000,10000,100000] [--runs N] [--json FILE] [--svg FILE] \
 *     [--keep DIR | --from DIR]
 *
 * `--svg FILE` plots the curves (per-datum cost of tusk and of the baseline, by size) with
 * the project's own Vega-Lite renderer; `--plot RESULTS.json --svg FILE` plots the results
 * a `--json` run saved, without running anything.
 *
 * (`skip` needs `run`'s stores, so `skip` alone runs the jobs first without reporting them.
 * `--keep DIR` keeps each size's last store in DIR; `--from DIR` takes copies of the stores a
 * `--keep` run left there instead of running the jobs, so `skip --from DIR` times the skip
 * alone, even at 100,000 datums.)
 */
import { listJobs, Store } from "../../lib/mod.ts";
import { diffDatums } from "../../lib/pipeline/datums.ts";
import type { PfsInput } from "../../lib/pipeline/spec/input.ts";
import { JobStore, recordPieces } from "../../lib/pipeline/jobs.ts";
import { pipelineOf } from "../../lib/pipeline/pipelines.ts";
import { spliceOutputs } from "../../lib/scheduler/merge_outputs.ts";
import { planFromDiff } from "../../lib/scheduler/plan_diff.ts";
import { writeTree } from "../../lib/runner/workspace.ts";
import type { Edit } from "../../lib/store/store.ts";
import { checkedJob, scratchFolder } from "./_fixtures.ts";
import { between, measure, measureTusk, timeTusk } from "./_process.ts";
import { formatMiB, formatMs, loadAverage, median, Report, runSections } from "./_report.ts";

const STAGE = new URL("./stages/copy.ts", import.meta.url).pathname;
const PIPELINE = "copy";
const DEFAULT_SIZES = [1_000, 10_000, 100_000];

/** What one size gave. */
interface SizeResult {
  readonly size: number;
  /** Job time (created → finished) per datum, ms; median of the runs. */
  readonly perDatumMs: number;
  /** The bare process's time per file, ms; median of the runs. */
  readonly barePerDatumMs: number;
  /** Wall time of `create pipeline` (bundle + job), ms. */
  readonly commandMs: number;
  /** Peak RSS of the supervisor, KiB. */
  readonly peakKiB: number;
  /** The changed-one-file job: its time, the command's wall time and peak RSS. */
  skip?: { jobMs: number; commandMs: number; peakKiB: number; phases: string };
}

/** Write `count` one-line files `f<i>.txt` into `dir`, for the bare baseline. */
async function writeFiles(dir: string, count: number): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const width = String(count - 1).length;
  const utf8 = new TextEncoder();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await Deno.writeFile(`${dir}/${fileName(i, width)}`, utf8.encode(lineOf(i)));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

function fileName(i: number, width: number): string {
  return `f${String(i).padStart(width, "0")}.txt`;
}

function lineOf(i: number): string {
  return `datum ${i}\n`;
}

/**
 * A store at `<dir>/.tusk` whose repo `data` holds `count` one-line files in one commit,
 * made through the library; the copy stage and its batched spec beside it.
 */
async function buildStore(dir: string, count: number): Promise<{ store: string; spec: string }> {
  await Deno.mkdir(dir, { recursive: true });
  const store = `${dir}/.tusk`;
  await timeTusk(store, ["init"]);
  await timeTusk(store, ["create", "repo", "data"]);
  const s = await Store.open(store);
  const width = String(count - 1).length;
  const utf8 = new TextEncoder();
  await s.transact(async (tx) => {
    await tx.commit("data", "master", async () => {
      const edits: Edit[] = [];
      for (let i = 0; i < count; i++) {
        const bytes = utf8.encode(lineOf(i));
        const hash = await tx.batch.add(bytes);
        edits.push({ op: "put", path: [fileName(i, width)], hash, size: bytes.length });
      }
      return await writeTree(s, edits, tx.batch);
    }, { message: `${count} one-line files`, origin: "user" });
  });
  await Deno.copyFile(STAGE, `${dir}/copy.ts`);
  const spec = `${dir}/copy.json`;
  await Deno.writeTextFile(
    spec,
    JSON.stringify({
      pipeline: { name: PIPELINE },
      description: "Copies every file of repo data, one datum per file, batched.",
      transform: {
        cmd: ["deno", "run", "copy.ts", "/pfs/data/", "/pfs/out/"],
        datumBatching: true,
      },
      input: { pfs: { repo: "data", glob: "/*" } },
    }),
  );
  return { store, spec };
}

/** The newest job of the pipeline, checked to have ended as expected. */
async function newestJob(store: string, expect: { processed: number; skipped: number }) {
  const [job] = await listJobs(await Store.open(store), { pipeline: PIPELINE, limit: 1 });
  return checkedJob(job, expect);
}

/** One bare Deno process copying the `count` files of `files` (the stage, unsandboxed). */
async function bareRun(dir: string, files: string): Promise<number> {
  const out = `${dir}/bare-out`;
  await Deno.remove(out, { recursive: true }).catch(() => {});
  const r = await measure(Deno.execPath(), [
    "run",
    "--quiet",
    `--allow-read=${files},${dir}`,
    `--allow-write=${out}`,
    STAGE,
    files,
    out,
  ]);
  await Deno.remove(out, { recursive: true });
  return r.ms;
}

/** Run the job over `size` files `runs` times (a fresh store each), and the baseline. */
async function runSize(root: string, size: number, runs: number): Promise<SizeResult> {
  const files = `${root}/files-${size}`;
  await writeFiles(files, size);
  const perDatum: number[] = [];
  const bare: number[] = [];
  const command: number[] = [];
  const peaks: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = `${root}/size-${size}-${i}`;
    if (i > 0) await Deno.remove(`${root}/size-${size}-${i - 1}`, { recursive: true });
    const { store, spec } = await buildStore(dir, size);
    bare.push(await bareRun(root, files) / size);
    const m = await measureTusk(store, ["create", "pipeline", "-f", spec]);
    const job = await newestJob(store, { processed: size, skipped: 0 });
    perDatum.push(between(job.created, job.finished) / size);
    command.push(m.ms);
    peaks.push(m.peakKiB ?? 0);
  }
  await Deno.remove(files, { recursive: true });
  return {
    size,
    perDatumMs: median(perDatum),
    barePerDatumMs: median(bare),
    commandMs: median(command),
    peakKiB: Math.max(...peaks),
  };
}

/** On the last store of `size`, change one file and time the job that skips the rest. */
async function skipSize(root: string, r: SizeResult, runs: number): Promise<void> {
  const dir = `${root}/size-${r.size}-${runs - 1}`;
  const store = `${dir}/.tusk`;
  const width = String(r.size - 1).length;
  const jobMs: number[] = [];
  const commandMs: number[] = [];
  const peaks: number[] = [];
  for (let i = 0; i < runs; i++) {
    const src = `${dir}/changed-${i}.txt`;
    await Deno.writeTextFile(src, `changed ${i}\n`);
    const m = await measureTusk(store, [
      "put",
      "file",
      `data@master:/${fileName(i, width)}`,
      "-f",
      src,
    ]);
    const job = await newestJob(store, { processed: 1, skipped: r.size - 1 });
    jobMs.push(between(job.created, job.finished));
    commandMs.push(m.ms);
    peaks.push(m.peakKiB ?? 0);
  }
  r.skip = {
    jobMs: median(jobMs),
    commandMs: median(commandMs),
    peakKiB: Math.max(...peaks),
    phases: await skipPhases(store),
  };
}

/**
 * What a job that skips its datums spends its time on, timed again through the library on
 * the newest job (planned from the diff against the job before it): the whole plan, and in
 * it reading the job before, the diff of the input trees and reading the datum index (whole,
 * as the plan timed here does, the mark being the newest job's; and only what it gained since
 * that mark, as the next job does); then splicing the output and encoding the job record.
 */
async function skipPhases(storeDir: string): Promise<string> {
  const cold = async () => {
    const store = await Store.open(storeDir);
    await store.objects.has("0".repeat(64));
    return { store, jobs: new JobStore(store) };
  };
  let { store, jobs } = await cold();
  const [job, before] = await listJobs(store, { pipeline: PIPELINE, limit: 2 });
  const p = await pipelineOf(await store.state(), PIPELINE);
  let t = performance.now();
  const plan = await planFromDiff(store, jobs, p, job!, new Map());
  const planMs = performance.now() - t;
  if (!plan) return "phases through the library: the job could not be planned from the diff";
  t = performance.now();
  const spliced = await spliceOutputs(store, plan.baseTree, plan.leaving, plan.arriving);
  const spliceMs = performance.now() - t;
  ({ store, jobs } = await cold());
  t = performance.now();
  const earlier = await jobs.load(before!.id, PIPELINE);
  const loadMs = performance.now() - t;
  t = performance.now();
  const diffed = await diffDatums(
    store,
    p.parsed.input as PfsInput,
    { ...job!.inputs[0]!, commit: job!.inputs[0]!.commit!, earlier: earlier.inputs[0]!.commit! },
    {
      salt: p.parsed.salt,
      codeHash: p.codeHash,
      earlierPaths: earlier.datums.map((d) => d.inputs[0]!.path),
    },
  );
  const diffMs = performance.now() - t;
  t = performance.now();
  const index = await jobs.datumIndexOf(p);
  const indexMs = performance.now() - t;
  t = performance.now();
  // The newest job noted the index as it ended: what the next job reads of it.
  const after = await jobs.datumIndexAfter(p, job!.id);
  const afterMs = performance.now() - t;
  t = performance.now();
  let bytes = 0;
  for (const piece of recordPieces(job!)) bytes += piece.length;
  const encodeMs = performance.now() - t;
  const fresh = diffed?.filter((d) => "datum" in d).length ?? 0;
  return `phases through the library: plan ${plan.records.length} datums from the diff ` +
    `${formatMs(planMs)} (in it: read the job before ${formatMs(loadMs)}, diff the input ` +
    `trees (${fresh} datum(s) met afresh) ${formatMs(diffMs)}, read the datum index ` +
    `(${index.size}) ${formatMs(indexMs)}, or ${
      after
        ? `only what it gained since the newest job's mark ${formatMs(afterMs)}`
        : "no mark of the newest job"
    }), splice ${spliced?.edits.length ?? "-"} edit(s) ` +
    `into the output ${formatMs(spliceMs)}, encode the job record ` +
    `(${(bytes / 1e6).toFixed(1)} MB) ${formatMs(encodeMs)}`;
}

/** The curves of `results` as a Vega-Lite spec: ms per datum by size, tusk and baseline. */
function plotSpec(results: readonly SizeResult[]) {
  const values = results.flatMap((r) => [
    { datums: r.size, series: "tusk job (batched, sandboxed)", ms: r.perDatumMs },
    { datums: r.size, series: "one bare deno process", ms: r.barePerDatumMs },
    ...(r.skip
      ? [{ datums: r.size, series: "1 file changed: job time / datums", ms: r.skip.jobMs / r.size }]
      : []),
  ]);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Cost per datum by job size (lower is better; flat is the target)",
    width: 480,
    height: 260,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "datums",
        type: "quantitative",
        scale: { type: "log" },
        title: "datums in the job",
      },
      y: { field: "ms", type: "quantitative", scale: { type: "log" }, title: "ms per datum" },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        legend: { orient: "bottom", labelLimit: 400 },
      },
    },
  } as const;
}

/** Write the plot of `results` to `file` as SVG. */
async function writePlot(results: readonly SizeResult[], file: string): Promise<void> {
  const { renderSvg } = await import("../../lib/format/plot_render.ts");
  // deno-lint-ignore no-explicit-any
  await Deno.writeTextFile(file, await renderSvg(plotSpec(results) as any));
}

function fmtSize(n: number): string {
  return n.toLocaleString("en-US");
}

/** Run the datum-scale benchmarks; 1 when one could not run. */
export async function main(args: readonly string[]): Promise<number> {
  const started = performance.now();
  const svgFile = args.includes("--svg") ? args[args.indexOf("--svg") + 1] : undefined;
  if (args.includes("--plot")) {
    const saved = JSON.parse(await Deno.readTextFile(args[args.indexOf("--plot") + 1]!));
    if (!svgFile) throw new TypeError("--plot needs --svg FILE");
    await writePlot(saved as SizeResult[], svgFile);
    return 0;
  }
  const wanted = args.filter((a) => a === "run" || a === "skip");
  const sizesArg = args[args.indexOf("--sizes") + 1];
  const sizes = args.includes("--sizes") && sizesArg
    ? sizesArg.split(",").map(Number)
    : DEFAULT_SIZES;
  const runsArg = args[args.indexOf("--runs") + 1];
  const runs = args.includes("--runs") && runsArg ? Number(runsArg) : 1;
  const jsonFile = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;
  const sections = wanted.length ? wanted : ["run", "skip"];
  const report = new Report();
  const results: SizeResult[] = [];
  let broken: number;
  {
    using scratch = await scratchFolder("/tmp", "tusk-bench-datums-");
    const root = scratch.path;
    console.log(
      `tusk datum-scale benchmarks: deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} ` +
        `CPUs, sizes ${sizes.map(fmtSize).join(", ")}, ${runs} run(s) each, scratch ${root}, ` +
        `load average ${await loadAverage()}`,
    );
    const keep = args.includes("--keep") ? args[args.indexOf("--keep") + 1] : undefined;
    const from = args.includes("--from") ? args[args.indexOf("--from") + 1] : undefined;
    const work = keep ?? `${root}/work`;
    broken = await runSections(root, [
      ["1. a batched job over one-line files", async () => {
        for (const size of sizes) {
          if (from) {
            // The last store a `--keep` run left of this size, whatever its number of runs.
            let kept: string | undefined;
            for await (const e of Deno.readDir(from)) {
              if (e.name.startsWith(`size-${size}-`) && (!kept || e.name > kept)) kept = e.name;
            }
            if (!kept) throw new Error(`No store of ${size} datums in ${from}`);
            await Deno.mkdir(work, { recursive: true });
            const cp = new Deno.Command("cp", {
              args: ["-a", `${from}/${kept}`, `${work}/size-${size}-${runs - 1}`],
            });
            if (!(await cp.output()).success) throw new Error(`Cannot copy ${from}/${kept}`);
            results.push({
              size,
              perDatumMs: NaN,
              barePerDatumMs: NaN,
              commandMs: NaN,
              peakKiB: NaN,
            });
            continue;
          }
          const r = await runSize(work, size, runs);
          results.push(r);
          if (!sections.includes("run")) continue;
          const first = results[0]!;
          report.add({
            name: `${fmtSize(size)} datums, batched: job time per datum`,
            runs: runs > 1 ? `median of ${runs}` : "1 run",
            unit: "ms/datum",
            tusk: r.perDatumMs,
            baseline: { label: "one bare deno process", value: r.barePerDatumMs },
          });
          report.detail(
            `vs ${fmtSize(first.size)}: ${(r.perDatumMs / first.perDatumMs).toFixed(2)}x; ` +
              `create pipeline ${formatMs(r.commandMs)}; supervisor peak RSS ${
                formatMiB(r.peakKiB)
              }`,
          );
          if (size === Math.max(...sizes)) {
            report.add({
              name: `${fmtSize(size)} datums: supervisor peak RSS`,
              runs: runs > 1 ? `max of ${runs}` : "1 run",
              unit: "MiB",
              tusk: r.peakKiB / 1024,
              target: { of: "value", op: "≤", limit: 200 },
            });
          }
        }
      }],
      ...(sections.includes("skip")
        ? [
          ["2. one file changed: skipping the rest", async () => {
            for (const r of results) {
              await skipSize(work, r, runs);
              report.add({
                name: `${fmtSize(r.size)} datums, 1 changed: job time`,
                runs: runs > 1 ? `median of ${runs}` : "1 run",
                unit: "ms",
                tusk: r.skip!.jobMs,
                ...(r.size === Math.max(...sizes)
                  ? { target: { of: "value" as const, op: "<" as const, limit: 2000 } }
                  : {}),
              });
              report.detail(
                `put file (command) ${formatMs(r.skip!.commandMs)}; peak RSS ${
                  formatMiB(r.skip!.peakKiB)
                }`,
              );
              report.detail(r.skip!.phases);
            }
          }] as const,
        ]
        : []),
    ]);
  }
  if (jsonFile) await Deno.writeTextFile(jsonFile, JSON.stringify(results, null, 2));
  if (svgFile && results.length > 0) await writePlot(results, svgFile);
  await report.printSummary(broken, started);
  return broken ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
