/**
 * The metrics benchmarks, run by `deno task bench`: `tusk metrics show` over a model branch
 * of 1,000 commits (target under 1 s, start-up included), beside `tusk list commit` of the
 * same branch as the yardstick measured in the same run, and `tusk plots` over 10 and
 * 1,000 commits (vega and vega-lite load included).
 */
import { createRepo } from "../../lib/commands/repo.ts";
import { Store } from "../../lib/store/store.ts";
import { irisMetrics, putText } from "../_metrics.ts";
import { scratchFolder } from "./_fixtures.ts";
import { alternate, measureTusk } from "./_process.ts";
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
    ]);
  }
  await report.printSummary(broken, started);
  console.log(`(${formatMs(performance.now() - started)} in all)`);
  return broken ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
