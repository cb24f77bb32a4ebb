/**
 * Scale of the store, run by `deno task bench` (issue 15, benchmarks 1 and 2): how the cost
 * of one command grows with the store, each a curve at three sizes with its ratio to the
 * smallest size (and to a baseline measured in the same run where one does comparable work).
 *
 * 1. commits: `put file` of one file on a store whose ledger holds 1k, 10k and 100k commits,
 *    beside `git add` + `git commit` of one file in a git repo of as many commits (made by
 *    `git fast-import`), the sizes interleaved round by round, in wall and CPU time
 *    (`_scale_commits.ts`). Target: the 100k case at most 1.2× the 1k case.
 * 2. files: `put file` of one file into a repo of 1k, 100k and 1M files, laid out nested
 *    (√n folders of √n files) and flat (one folder of n files). Target: at most 2× from 1k
 *    to 1M. Then `list file -n 20 --after <middle name>` of the flat folder: time to its
 *    first line of output (target < 200 ms at 1M), beside `tusk list repo` (start-up) on
 *    the same store; and `verify` of the nested repo in µs per file (target ≤ 10 µs at 1M),
 *    with its CPU time and peak memory, beside `sha256sum` of the store's pack files (the
 *    bytes verify re-hashes). Each section builds only the layouts it times.
 * 3. packs: `get file` of one file on a store of 10, 100 and 1,000 small packs, against the
 *    same store once its packs are merged; and the amortised cost of merging at the end of a
 *    write: 80 puts of 16 files, the mean of all against the mean of those that did not merge
 *    (target ≤ 1.1×).
 * 4. ledger: in the process, `since()` of the last two entries (the scheduler's look after a
 *    commit) and a commit found by id prefix on ledgers of 1k, 10k and 100k entries, each
 *    beside reading and decoding the whole ledger, as both did before.
 *
 * Fixtures are built through the store's library (`_scale_fixtures.ts`): a million files
 * in one transaction, a hundred thousand commits as loose objects and ledger lines written
 * in one go, not a million CLI calls. Pick sections by argument: `scale_store_bench.ts
 * commits`, `… files`, `… list`, `… verify` (`files` builds the repos the other two use),
 * `… packs`, `… ledger`.
 * `SCALE_STORE_SVG=docs/scale-store.svg` also writes the curves as a plot.
 */
import { ROOT } from "../_helpers.ts";
import { benchCommits } from "./_scale_commits.ts";
import {
  filesStore,
  FLAT_FOLDER,
  ledgerFile,
  packFolder,
  packsStore,
  REPO,
} from "./_scale_fixtures.ts";
import { Layout } from "../../lib/store/layout.ts";
import { Ledger } from "../../lib/store/ledger.ts";
import type { LedgerEntry } from "../../lib/store/state.ts";
import { Store } from "../../lib/store/store.ts";
import { scratchFolder } from "./_fixtures.ts";
import { alternate, measure, measureTusk, syncAll, tuskArgs } from "./_process.ts";
import { formatMiB, formatMs, loadAverage, markdownTable, median, spread } from "./_report.ts";

const RUNS = 5;
const FILE_SIZES = [1_000, 100_000, 1_000_000];
const PACK_SIZES = [10, 100, 1_000];
const LEDGER_SIZES = [1_000, 10_000, 100_000];

/** One point of a curve. */
export interface Point {
  readonly curve: string;
  readonly size: number;
  /** The figure (ms, or µs per file for verify). */
  readonly value: number;
  readonly unit: "ms" | "µs/file" | "µs";
  readonly baseline?: { readonly label: string; readonly value: number };
  readonly runs: string;
}

const points: Point[] = [];

function show(value: number, unit: Point["unit"]): string {
  if (unit === "µs") return value >= 1000 ? formatMs(value / 1000) : `${value.toFixed(1)} µs`;
  return unit === "ms" ? formatMs(value) : `${value.toFixed(2)} µs/file`;
}

/** Record a point and print its line. */
function add(p: Point): void {
  points.push(p);
  const base = p.baseline
    ? `, ${p.baseline.label} ${show(p.baseline.value, p.unit)} (${
      (p.value / p.baseline.value).toFixed(2)
    }x)`
    : "";
  console.log(
    `  ${p.curve} at ${p.size.toLocaleString("en")}: ${show(p.value, p.unit)}${base} [${p.runs}]`,
  );
}

// ---- 1. commits: in _scale_commits.ts ----

// ---- 2. files ----

/** Milliseconds from spawning `tusk args…` to its first byte on stdout (it must exit 0). */
async function firstOutputMs(store: string, args: readonly string[]): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: tuskArgs(args),
    cwd: ROOT,
    env: { NO_COLOR: "1", TUSK_STORE: store },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  });
  const start = performance.now();
  const proc = child.spawn();
  let first = -1;
  for await (const chunk of proc.stdout) {
    if (first < 0 && chunk.length > 0) first = performance.now() - start;
  }
  const status = await proc.status;
  if (!status.success || first < 0) throw new Error(`"tusk ${args.join(" ")}" failed`);
  return first;
}

/** Every pack file of a store, for `sha256sum`. */
async function packFiles(store: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${store}/packs`)) {
    if (e.name.endsWith(".pack")) out.push(`${store}/packs/${e.name}`);
  }
  return out;
}

async function benchFiles(root: string, sections: ReadonlySet<string>): Promise<void> {
  console.log(`\n2. files: one file into a repo of n files (load average ${await loadAverage()})`);
  const src = `${root}/src`;
  await Deno.mkdir(src, { recursive: true });
  // `files` times both layouts, `verify` the nested one and `list` the flat one: only the
  // fixtures some asked section uses are built.
  const layouts = (["nested", "flat"] as const).filter((layout) =>
    sections.has("files") || sections.has(layout === "nested" ? "verify" : "list")
  );
  for (const n of FILE_SIZES) {
    for (const layout of layouts) {
      const dir = `${root}/files-${layout}-${n}`;
      const t0 = performance.now();
      const { store } = await filesStore(dir, n, layout);
      console.log(
        `  (${n.toLocaleString("en")} files, ${layout}, built in ${
          formatMs(performance.now() - t0)
        })`,
      );
      const folder = layout === "flat" ? FLAT_FOLDER : "d0000";
      if (sections.has("files")) {
        const ms: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          await Deno.writeTextFile(`${src}/new.txt`, `one more, ${i}, ${crypto.randomUUID()}\n`);
          await syncAll();
          const m = await measureTusk(store, [
            "put",
            "file",
            `${REPO}@master:/${folder}/new-${i}.txt`,
            "-f",
            `${src}/new.txt`,
          ]);
          ms.push(m.ms);
        }
        add({
          curve: `files (${layout}): put file`,
          size: n,
          value: median(ms),
          unit: "ms",
          runs: `median of ${RUNS}, ${spread(ms)}`,
        });
      }
      if (sections.has("list") && layout === "flat") {
        const middle = `f${String(Math.floor(n / 2)).padStart(7, "0")}.txt`;
        const page = [
          "list",
          "file",
          `${REPO}@master:/${FLAT_FOLDER}`,
          "-n",
          "20",
          "--after",
          middle,
        ];
        const { tusk, baseline } = await alternate(
          RUNS,
          () => firstOutputMs(store, page),
          () => firstOutputMs(store, ["list", "repo"]),
        );
        add({
          curve: "list file -n 20 (flat): first line",
          size: n,
          value: median(tusk),
          unit: "ms",
          baseline: { label: "list repo (start-up)", value: median(baseline) },
          runs: `median of ${RUNS}, ${spread(tusk)}`,
        });
      }
      if (sections.has("verify") && layout === "nested") {
        const runs = n >= 1_000_000 ? 1 : 3;
        const ms: number[] = [];
        const cpu: number[] = [];
        const peaks: number[] = [];
        const sums: number[] = [];
        const packs = await packFiles(store);
        const load = await loadAverage();
        for (let i = 0; i < runs; i++) {
          const m = await measureTusk(store, ["verify"]);
          ms.push(m.ms);
          if (m.cpuMs !== null) cpu.push(m.cpuMs);
          if (m.peakKiB !== null) peaks.push(m.peakKiB);
          sums.push((await measure("sha256sum", packs)).ms);
        }
        const usage = [
          cpu.length ? `CPU ${formatMs(median(cpu))}` : "",
          peaks.length ? `peak ${formatMiB(Math.max(...peaks))}` : "",
          `load ${load}`,
        ].filter(Boolean).join(", ");
        add({
          curve: "verify (nested)",
          size: n,
          value: (median(ms) * 1000) / n,
          unit: "µs/file",
          baseline: { label: "sha256sum of the packs", value: (median(sums) * 1000) / n },
          runs: `${runs === 1 ? "1 run" : `median of ${runs}`}; ${usage}`,
        });
      }
      await Deno.remove(dir, { recursive: true });
    }
  }
}

// ---- 3. packs ----

/** The number of packs (with an index) in a store. */
async function packCount(store: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(`${store}/packs`)) if (e.name.endsWith(".idx")) n++;
  return n;
}

/**
 * `get file` of one file on a store of n packs as small puts leave them, against the same
 * store once its packs are merged (a copy, merged as the end of a write merges them, run
 * alternately); then the amortised cost of merging: 80 puts of 16 files (each writes a
 * pack) on a fresh store, the mean of all against the mean of those that did not merge.
 */
async function benchPacks(root: string): Promise<void> {
  console.log(`
3. packs: get file on a store of n packs (load average ${await loadAverage()})`);
  for (const n of PACK_SIZES) {
    const dir = `${root}/packs-${n}`;
    const t0 = performance.now();
    const store = await packsStore(dir, n);
    const merged = `${root}/packs-${n}-merged/.tusk`;
    await Deno.mkdir(`${root}/packs-${n}-merged`);
    await measure("cp", ["-a", store, merged]);
    const s = await Store.open(merged);
    const m0 = performance.now();
    let rounds = 0;
    while (await s.objects.consolidate() > 0) rounds++;
    const mergeMs = performance.now() - m0;
    s.objects.close();
    console.log(
      `  (${n} packs built in ${formatMs(m0 - t0)}; merged in ${rounds} round(s), ${
        formatMs(mergeMs)
      }, to ${await packCount(merged)} pack(s))`,
    );
    const target = `${REPO}@master:/${packFolder(n >> 1)}/f07.txt`;
    const { tusk, baseline } = await alternate(
      RUNS,
      () => measureTusk(store, ["get", "file", target]),
      () => measureTusk(merged, ["get", "file", target]),
    );
    const before = tusk.map((m) => m.ms);
    const after = baseline.map((m) => m.ms);
    add({
      curve: "packs: get file, unmerged",
      size: n,
      value: median(before),
      unit: "ms",
      runs: `median of ${RUNS}, ${spread(before)}`,
    });
    add({
      curve: "packs: get file, merged",
      size: n,
      value: median(after),
      unit: "ms",
      baseline: { label: "unmerged", value: median(before) },
      runs: `median of ${RUNS}, ${spread(after)}`,
    });
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(`${root}/packs-${n}-merged`, { recursive: true });
  }
  const PUTS = 80;
  const dir = `${root}/packs-puts`;
  const store = `${dir}/.tusk`;
  await Deno.mkdir(dir, { recursive: true });
  await Store.init(store);
  await measureTusk(store, ["create", "repo", REPO]);
  const plain: number[] = [];
  const merging: number[] = [];
  let packs = 0;
  for (let p = 0; p < PUTS; p++) {
    const src = `${dir}/src-${p}`;
    await Deno.mkdir(src);
    for (let i = 0; i < 16; i++) await Deno.writeTextFile(`${src}/f${i}`, `put ${p}, file ${i}\n`);
    await syncAll();
    const m = await measureTusk(store, ["put", "file", "-r", `${REPO}@master:/p${p}`, "-f", src]);
    const now = await packCount(store);
    (now < packs + 1 ? merging : plain).push(m.ms);
    packs = now;
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const all = [...plain, ...merging];
  console.log(
    `  ${PUTS} puts of 16 files: ${merging.length} merged (${
      merging.map((x) => formatMs(x)).join(", ")
    }), the others median ${formatMs(median(plain))}; ${packs} pack(s) at the end`,
  );
  add({
    curve: "packs: put of 16 files, amortised",
    size: PUTS,
    value: mean(all),
    unit: "ms",
    baseline: { label: "mean of the puts that did not merge", value: mean(plain) },
    runs: `mean of ${PUTS}, ${merging.length} merging`,
  });
  await Deno.remove(dir, { recursive: true });
}

// ---- 4. ledger ----

/** Every ledger entry with seq ≥ `seq`, as `since()` read it before: the whole file, forwards. */
async function* sinceForwards(path: string, seq: number): AsyncGenerator<LedgerEntry> {
  const text = await Deno.readTextFile(path);
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    if (nl < 0) break;
    const entry = JSON.parse(text.slice(pos, nl)) as LedgerEntry;
    pos = nl + 1;
    if (entry.seq >= seq) yield entry;
  }
}

/** The commits matching `prefix` among `entries`, as resolving a commit id prefix does. */
async function matches(entries: AsyncIterable<LedgerEntry>, prefix: string): Promise<number> {
  let found = 0;
  for await (const entry of entries) {
    for (const c of entry.changes) {
      if (c.type === "commit" && c.repo === REPO && c.commit.startsWith(prefix)) found++;
    }
  }
  return found;
}

/** The median of `runs` timings of `fn`, in µs. */
async function timeUs(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const us: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    us.push((performance.now() - t) * 1000);
  }
  return us;
}

/**
 * In the process, as the scheduler and `resolve` call them: `since()` of the entries after
 * the last two (what the scheduler reads when it sees a new commit) and a commit found by an
 * 8-digit prefix, on ledgers of 1k, 10k and 100k `put file` entries; each beside reading the
 * whole ledger forwards and decoding every line, as both did before (same run, alternated).
 */
async function benchLedger(root: string): Promise<void> {
  console.log(`
4. ledger: reads of a ledger of n entries (load average ${await loadAverage()})`);
  const runs = 31;
  for (const n of LEDGER_SIZES) {
    const dir = `${root}/ledger-${n}`;
    const ids = await ledgerFile(dir, n);
    const ledger = new Ledger(new Layout(dir));
    const path = `${dir}/ledger`;
    const entries = async (it: AsyncIterable<{ entry: LedgerEntry }>) => {
      const out: LedgerEntry[] = [];
      for await (const { entry } of it) out.push(entry);
      return out;
    };
    const since = await alternate(
      runs,
      () => timeUs(1, () => entries(ledger.since(n - 1))),
      () => timeUs(1, () => Array.fromAsync(sinceForwards(path, n - 1))),
    );
    if ((await entries(ledger.since(n - 1))).length !== 2) throw new Error("since() is wrong");
    const newer = since.tusk.flat();
    const older = since.baseline.flat();
    add({
      curve: "ledger: since() of the last 2",
      size: n,
      value: median(newer),
      unit: "µs",
      baseline: { label: "whole ledger read", value: median(older) },
      runs: `median of ${runs}, ${spread(newer.map((x) => x / 1000))}`,
    });
    const prefix = ids[n >> 1]!.slice(0, 8);
    const lookup = () =>
      matches(
        (async function* () {
          for await (const { entry } of ledger.holding(`"commit":"${prefix}`, 1)) yield entry;
        })(),
        prefix,
      );
    if (await lookup() !== 1) throw new Error("the prefix lookup is wrong");
    const found = await alternate(
      runs,
      () => timeUs(1, lookup),
      () => timeUs(1, () => matches(sinceForwards(path, 1), prefix)),
    );
    const a = found.tusk.flat();
    const b = found.baseline.flat();
    add({
      curve: "ledger: commit by id prefix",
      size: n,
      value: median(a),
      unit: "µs",
      baseline: { label: "every line decoded", value: median(b) },
      runs: `median of ${runs}, ${spread(a.map((x) => x / 1000))}`,
    });
    await Deno.remove(dir, { recursive: true });
  }
}

// ---- report ----

const TARGETS: Record<string, { readonly limit: number; readonly text: string }> = {
  "commits: put file": { limit: 1.2, text: "largest ≤ 1.2x smallest" },
  "commits: put file, CPU time": { limit: 1.2, text: "largest ≤ 1.2x smallest" },
  "files (nested): put file": { limit: 2, text: "largest ≤ 2x smallest" },
  "files (flat): put file": { limit: 2, text: "largest ≤ 2x smallest" },
  "ledger: since() of the last 2": { limit: 1.2, text: "largest ≤ 1.2x smallest" },
};

/** The closing table: each point with its ratio to the smallest size of its curve. */
function summary(): string {
  const smallest = new Map<string, number>();
  for (const p of points) if (!smallest.has(p.curve)) smallest.set(p.curve, p.value);
  const body = points.map((p) => {
    const first = smallest.get(p.curve)!;
    const ratio = p.value / first;
    const last = points.filter((q) => q.curve === p.curve).at(-1) === p;
    const target = TARGETS[p.curve];
    let verdict = "-";
    if (last && target) verdict = ratio <= target.limit ? "PASS" : "MISS";
    if (last && p.curve.startsWith("list file") && p.size >= 1_000_000) {
      verdict = p.value < 200 ? "PASS" : "MISS";
    }
    if (last && p.curve === "packs: get file, merged" && p.baseline) {
      verdict = p.value < p.baseline.value ? "PASS" : "MISS";
    }
    if (p.curve === "packs: put of 16 files, amortised" && p.baseline) {
      verdict = p.value <= 1.1 * p.baseline.value ? "PASS" : "MISS";
    }
    if (last && p.curve.startsWith("verify") && p.size >= 1_000_000) {
      verdict = p.value <= 10 ? "PASS" : "MISS";
    }
    return [
      p.curve,
      p.size.toLocaleString("en"),
      show(p.value, p.unit),
      `${ratio.toFixed(2)}x`,
      p.baseline ? `${p.baseline.label}: ${show(p.baseline.value, p.unit)}` : "-",
      p.baseline ? `${(p.value / p.baseline.value).toFixed(2)}x` : "-",
      verdict,
    ];
  });
  return markdownTable(
    ["Curve", "Size", "tusk", "vs smallest", "Baseline (same run)", "vs baseline", "Target"],
    body,
  );
}

/**
 * The curves as an SVG (`SCALE_STORE_SVG=docs/scale-store.svg`): each figure over its
 * curve's smallest size, against the size on a log scale, rendered by the Vega-Lite renderer
 * `tusk plots` uses.
 */
export async function plot(points: readonly Point[]): Promise<string> {
  const { renderSvg } = await import("../../lib/format/plot_render.ts");
  const smallest = new Map<string, number>();
  for (const p of points) if (!smallest.has(p.curve)) smallest.set(p.curve, p.value);
  const values = points.filter((p) => !p.curve.endsWith("amortised")).map((p) => ({
    curve: p.curve,
    size: p.size,
    ratio: Number((p.value / smallest.get(p.curve)!).toFixed(3)),
  }));
  return await renderSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "tusk: cost of one command as the store grows (÷ the smallest size)",
    width: 520,
    height: 300,
    data: { values },
    layer: [
      {
        mark: { type: "line", point: true },
        encoding: {
          x: {
            field: "size",
            type: "quantitative",
            scale: { type: "log" },
            title: "commits or files",
          },
          y: { field: "ratio", type: "quantitative", title: "× the smallest size" },
          color: {
            field: "curve",
            type: "nominal",
            title: null,
            legend: { orient: "bottom", columns: 2, labelLimit: 300 },
          },
        },
      },
      {
        data: { values: [{}] },
        mark: { type: "rule", strokeDash: [4, 4], color: "gray" },
        encoding: { y: { datum: 2 } },
      },
    ],
  });
}

async function main(): Promise<number> {
  const started = performance.now();
  const all = ["commits", "files", "list", "verify", "packs", "ledger"];
  const asked = Deno.args.map((a) => a.toLowerCase());
  const unknown = asked.filter((a) => !all.includes(a));
  if (unknown.length) {
    console.error(`Unknown section ${unknown.join(", ")}: pick from ${all.join(", ")}`);
    return 2;
  }
  const sections = new Set(asked.length ? asked : all);
  console.log(
    `tusk scale benchmarks (store): ${Deno.version.deno} (deno), ${navigator.hardwareConcurrency} CPUs, ` +
      `sections ${[...sections].join(", ")}; load average ${await loadAverage()}`,
  );
  let broken = 0;
  {
    using scratch = await scratchFolder("/tmp", "tusk-scale-");
    const tasks: [boolean, () => Promise<void>][] = [
      [sections.has("commits"), () => benchCommits(scratch.path, add)],
      [
        sections.has("files") || sections.has("list") || sections.has("verify"),
        () => benchFiles(scratch.path, sections),
      ],
      [sections.has("packs"), () => benchPacks(scratch.path)],
      [sections.has("ledger"), () => benchLedger(scratch.path)],
    ];
    for (const [wanted, run] of tasks) {
      if (!wanted) continue;
      try {
        await run();
      } catch (err) {
        broken++;
        console.log(`  ERROR: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      }
    }
  }
  console.log(`\nSummary\n\n${summary()}\n`);
  console.log(
    `${broken} could not run; total ${
      formatMs(performance.now() - started)
    }; load average ${await loadAverage()}`,
  );
  const svg = Deno.env.get("SCALE_STORE_SVG");
  if (svg) await Deno.writeTextFile(svg, await plot(points));
  return broken ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
