/**
 * Scale of jobs, the event journal and the dashboard (prints, asserts nothing): each a curve
 * at 1,000, 10,000 and 100,000 jobs in history, with ratios against the smallest size
 * measured in the same run.
 *
 * - `jobs`: `tusk list job -n 20`, `tusk inspect job <12-hex prefix>` (median of 7 each) and
 *   `tusk list job` without `-n` (its first row, whole run and peak RSS; median of 3), the
 *   sizes taken in turn in each round. Target: flat (the 100,000 case ≤ 1.2× the 1,000 case)
 *   for `-n 20`, `inspect` and the streamed listing's first row. The streamed listing is also
 *   run once with V8's old generation capped at 32 MiB, which it must finish within: it holds
 *   a piece of rows, never the whole history (uncapped, V8 collects lazily and the peak grows
 *   with the length of the run).
 * - `journal`: the events of every job written through the journal writer with its default
 *   rotation: the bytes kept on disk against the bytes written (target: bounded, the same at
 *   every size), and the bytes a dashboard replays (its current segment).
 * - `dashboard`: `tusk up` attached to that journal (another "process" holds the lease) in a
 *   120 × 36 tmux pane: the first frame and the frame with the newest job (target < 1 s at
 *   100,000), and its RSS idle (peak over 3 s) against a bare Ink + React app started with the
 *   same Deno flags and environment (the `up` task's) in the same pane, measured in the same
 *   run (target ≤ 1.3×). With `SCALE_JOBS_BASE=<another checkout>`, each size is also run by
 *   that checkout's `main.ts` in the same rounds, alternating which goes first, and the
 *   paired ratios (this checkout over that one, per round) are printed.
 *
 *   deno run --allow-read --allow-write --allow-env --allow-run tests/bench/scale_jobs_bench.ts [jobs] [journal] [dashboard]
 *
 * Fixtures are written through the library, not by running jobs: job ids go into each
 * pipeline's job index with `JobIndex.add()` (one append of every id, as `save()` adds one),
 * then the records (two datums each, ~1.3 KiB) are written as `JobStore.save()` writes them,
 * 64 at a time; the journal is each job's events (created, states, two datums with a log line
 * each) appended through `JournalWriter`, one append per job, so it rotates as a scheduler's
 * would. 100,000 jobs take about a minute to build.
 */
import { Store } from "../../lib/store/store.ts";
import { JobIndex } from "../../lib/pipeline/job_index.ts";
import type { JobRecord } from "../../lib/pipeline/jobs.ts";
import { JournalWriter } from "../../lib/scheduler/journal.ts";
import { MAIN, ROOT, TUSK_PERMS } from "../_helpers.ts";
import { jobEvents, jobId } from "../tui/_events.ts";
import { Pane, tuskUpLine } from "../tui/_tmux.ts";
import { startBareInk } from "./_ink.ts";
import { envWords, measureTusk, taskEnv, taskV8Flags, tuskArgs } from "./_process.ts";
import { formatMiB, formatMs, loadAverage, median, spread } from "./_report.ts";

/** `SCALE_JOBS_SIZES=1000,5000` measures other sizes (the first is the baseline). */
/** Runs of the quick commands (`list job -n 20`, `inspect job`), and of `list job`. */
const QUICK_RUNS = 7;
const LIST_RUNS = 3;
/** Rounds of the dashboard (each: the bare Ink app, then every size), or `SCALE_JOBS_UP_RUNS`. */
const UP_RUNS = Number(Deno.env.get("SCALE_JOBS_UP_RUNS") || 3);
/** Another checkout whose `tusk up` runs beside this one's in each round (paired). */
const BASE = Deno.env.get("SCALE_JOBS_BASE") || undefined;

/** V8 flags of a `list job` run whose old generation is capped: it must still finish. */
const CAPPED = "--v8-flags=--max-semi-space-size=8,--max-old-space-size=32";

const SIZES = Deno.env.get("SCALE_JOBS_SIZES")?.split(",").map(Number) ?? [1_000, 10_000, 100_000];
const PIPELINES = ["train", "infer"];
/** `tusk up` and the bare Ink app run with the `up` task's V8 flags, or `SCALE_JOBS_UP_FLAGS`. */
const UP_FLAGS = Deno.env.get("SCALE_JOBS_UP_FLAGS")?.split(" ").filter(Boolean) ??
  taskV8Flags("up");
/** Both also run with the environment the `up` task sets, or `SCALE_JOBS_UP_ENV` (`A=1 B=2`). */
const UP_ENV = envWords(Deno.env.get("SCALE_JOBS_UP_ENV")) ?? taskEnv("up");
const ORIGIN = Date.UTC(2025, 0, 1);
/** Jobs one per ~5 minutes: 100,000 of them span about a year. */
const STEP_MS = 5 * 60 * 1000;

const svgArg = Deno.args.find((a) => a.startsWith("--svg="));
const asked = new Set(Deno.args.filter((a) => !a.startsWith("--")));
const run = (section: string) => asked.size === 0 || asked.has(section);

/** The record of job `n` (ids sort by `n`, as real ids by time), of pipeline `p`. */
function record(n: number, p: string): JobRecord {
  const id = jobId(n);
  const t = (ms: number) => new Date(ORIGIN + n * STEP_MS + ms).toISOString();
  const hash = (c: string) => c.repeat(64);
  return {
    id,
    pipeline: p,
    pipelineSeq: 3,
    version: 1,
    specHash: hash("a"),
    codeHash: hash("b"),
    inputs: [{ name: "data", repo: "data", branch: "master", commit: hash("c") }],
    trigger: hash(((n % 15) + 1).toString(16)),
    state: n % 50 === 0 ? "FAILURE" : "SUCCESS",
    created: t(0),
    started: t(5),
    finished: t(900),
    restart: 0,
    progress: { total: 2, processed: 2, skipped: 0, failed: 0, recovered: 0 },
    outputCommit: hash("d"),
    datums: [0, 1].map((i) => ({
      id: `${n.toString(16).padStart(8, "0")}${i}`.padEnd(32, "e"),
      hash: hash("f"),
      state: "SUCCESS" as const,
      inputs: [{ name: "data", repo: "data", commit: hash("c"), path: `/f${i}.csv` }],
      tries: 1,
      durationMs: 120,
      exitCode: 0,
      logs: hash("1"),
      outputTree: hash("2"),
      outputSize: 6,
    })),
  };
}

/** Pipeline of job `n`. */
const pipelineOf = (n: number) => PIPELINES[n % PIPELINES.length]!;

/** A store holding `count` finished jobs, written through the library (see the module doc). */
async function jobsStore(dir: string, count: number): Promise<Store> {
  const store = await Store.init(`${dir}/.tusk`);
  for (const p of PIPELINES) {
    const ids: string[] = [];
    for (let n = 1; n <= count; n++) if (pipelineOf(n) === p) ids.push(jobId(n));
    await Deno.mkdir(store.layout.jobDir(p), { recursive: true });
    await new JobIndex(store.layout, p).add(ids);
  }
  const enc = new TextEncoder();
  for (let n = 1; n <= count; n += 64) {
    const batch: Promise<void>[] = [];
    for (let k = n; k < Math.min(n + 64, count + 1); k++) {
      const p = pipelineOf(k);
      batch.push(
        Deno.writeFile(store.layout.job(p, jobId(k)), enc.encode(JSON.stringify(record(k, p)))),
      );
    }
    await Promise.all(batch);
  }
  return store;
}

/** Write the events of `count` jobs through the journal writer; returns the bytes written. */
function writeJournal(store: Store, count: number): number {
  const writer = new JournalWriter(store.layout.events);
  const enc = new TextEncoder();
  let bytes = 0;
  try {
    for (let n = 1; n <= count; n++) {
      const events = jobEvents(n, { pipeline: pipelineOf(n), t0: n * STEP_MS, datums: 2 });
      const line = enc.encode(events.map((e) => JSON.stringify(e) + "\n").join(""));
      writer.append(line);
      bytes += line.length;
    }
  } finally {
    writer.close();
  }
  return bytes;
}

/** Bytes of the journal on disk: its current segment and every older one kept. */
async function journalOnDisk(
  store: Store,
): Promise<{ bytes: number; segments: number; current: number }> {
  const current = (await Deno.stat(store.layout.events)).size;
  let bytes = current;
  let segments = 0;
  try {
    for await (const e of Deno.readDir(`${store.root}/events`)) {
      if (!e.name.endsWith(".jsonl")) continue;
      bytes += (await Deno.stat(`${store.root}/events/${e.name}`)).size;
      segments++;
    }
  } catch {
    // not rotated yet
  }
  return { bytes, segments, current };
}

/** `tusk list job` without -n: ms to its first row, to its end, and its peak RSS (KiB). */
async function streamedList(
  store: Store,
  args: readonly string[] = tuskArgs(["list", "job"]),
): Promise<{ firstMs: number; ms: number; peakKiB: number | null; rows: number }> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", TUSK_STORE: store.root },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let firstMs = NaN;
  let lines = 0;
  let peakKiB: number | null = null;
  const poll = setInterval(async () => {
    const kib = await vmKiB(child.pid, "VmHWM").catch(() => NaN);
    if (Number.isFinite(kib)) peakKiB = Math.max(peakKiB ?? 0, kib);
  }, 20);
  for await (const chunk of child.stdout) {
    for (const b of chunk) {
      if (b !== 10) continue;
      lines++;
      // The header is line 1: the first job's row is line 2.
      if (lines === 2) firstMs = performance.now() - t0;
    }
  }
  const status = await child.status;
  clearInterval(poll);
  if (!status.success) throw new Error(`tusk list job exited ${status.code}`);
  return { firstMs, ms: performance.now() - t0, peakKiB, rows: lines - 1 };
}

/** Read a /proc file through `cat` (Deno reads /proc only with --allow-all). */
async function proc(path: string): Promise<string> {
  const r = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
    .output();
  if (!r.success) throw new Error(`cannot read ${path}`);
  return new TextDecoder().decode(r.stdout);
}

/** A `Vm…` line of /proc/<pid>/status in KiB. */
async function vmKiB(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(await proc(`/proc/${pid}/status`));
  return m ? Number(m[1]) : NaN;
}

/** Peak RSS of `pid` over `ms` (KiB), sampled every 250 ms. */
async function peakOver(pid: number, ms: number): Promise<number> {
  let peak = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    peak = Math.max(peak, await vmKiB(pid, "VmRSS"));
    await new Promise((r) => setTimeout(r, 250));
  }
  return peak;
}

/** `tusk up` attached to the journal of `store`: first frame, newest job shown, idle RSS. */
async function dashboard(
  store: Store,
  newest: string,
  main?: string,
): Promise<{ firstMs: number; fullMs: number; rssKiB: number; hwmKiB: number }> {
  // Hold the lease as a "daemon" so `tusk up` attaches to the journal instead of serving.
  await Deno.writeTextFile(
    store.layout.lease,
    JSON.stringify({ pid: Deno.pid, start: "", mode: "daemon", since: new Date().toISOString() }),
  );
  await using pane = await Pane.open(120, 36);
  const t0 = performance.now();
  await pane.run(
    tuskUpLine(store.root, { denoFlags: UP_FLAGS, env: UP_ENV, ...(main ? { main } : {}) }),
  );
  await pane.waitFor((s) => s.includes("q quit"), "the first frame", 60_000);
  const firstMs = performance.now() - t0;
  await pane.waitFor((s) => s.includes(`▸ ${newest.slice(0, 12)}`), "the newest job", 60_000);
  const fullMs = performance.now() - t0;
  const pid = await pane.childPid();
  if (!pid) throw new Error("Cannot find the pid of tusk up");
  const rssKiB = await peakOver(pid, 3000);
  const hwmKiB = await vmKiB(pid, "VmHWM");

  await pane.keys("q");
  const code = await pane.exitStatus();
  if (code !== 0) throw new Error(`tusk up exited ${code}`);
  return { firstMs, fullMs, rssKiB, hwmKiB };
}

/** The runtime floor: a bare Ink + React app in the same pane size, flags and environment. */
async function bareInk(): Promise<{ firstMs: number; rssKiB: number }> {
  await using pane = await Pane.open(120, 36);
  const { firstMs, pid } = await startBareInk(pane, UP_FLAGS, UP_ENV);
  const rssKiB = await peakOver(pid, 3000);
  await pane.keys("q");
  await pane.exitStatus();
  return { firstMs, rssKiB };
}

/** The curves as a Vega-Lite line chart: each measure over its value at the smallest size. */
function plotSpec() {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "tusk at scale: cost over the cost at 1,000 jobs",
      subtitle: `load average ${loadNow}; flat is 1.0`,
    },
    width: 520,
    height: 300,
    data: { values: curves },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "jobs",
        type: "quantitative",
        scale: { type: "log" },
        axis: { values: SIZES, format: ",d" },
        title: "jobs in history",
      },
      y: {
        field: "ratio",
        type: "quantitative",
        scale: { type: "log" },
        title: "× the 1,000-job figure",
      },
      color: {
        field: "measure",
        type: "nominal",
        title: null,
        legend: { orient: "bottom", columns: 2, labelLimit: 320 },
      },
    },
  } as const;
}

// ---- the report ----

const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
/** Rows of the closing table. */
const table: string[][] = [];
/** Each curve's points, for the plot: its value at each size over its value at the first. */
const curves: { measure: string; jobs: number; ratio: number }[] = [];

function curve(measure: string, values: readonly number[]): void {
  values.forEach((v, i) => curves.push({ measure, jobs: SIZES[i]!, ratio: v / values[0]! }));
}

function row(
  name: string,
  values: readonly number[],
  format: (v: number) => string,
  target?: { ok: boolean; text: string },
) {
  const base = values[0]!;
  const cells = values.map((v) => format(v));
  const ratios = values.map((v) => x(v, base));
  table.push([
    name,
    ...cells,
    ratios[ratios.length - 1]!,
    target?.text ?? "-",
    target ? verdict(target.ok) : "info",
  ]);
  console.log(
    `  ${name}: ${
      SIZES.map((n, i) => `${n.toLocaleString("en")} ${cells[i]} (${ratios[i]})`).join(", ")
    }` +
      (target ? `  target ${target.text}: ${verdict(target.ok)}` : ""),
  );
}

const started = performance.now();
const loadNow = await loadAverage();
console.log(`scale: jobs, journal and dashboard; load average ${loadNow}`);
const root = await Deno.makeTempDir({ prefix: "tusk-bench-scale-jobs-" });
try {
  const stores: Store[] = [];
  for (const n of SIZES) {
    const t0 = performance.now();
    const store = await jobsStore(`${root}/${n}`, n);
    stores.push(store);
    console.log(
      `  fixture: ${n.toLocaleString("en")} job records and their index in ${
        formatMs(performance.now() - t0)
      }`,
    );
  }

  if (run("jobs")) {
    console.log(`\njobs (load average ${await loadAverage()})`);
    // Rounds go through every size in turn, so a change of the machine's load falls on all.
    const a: number[][] = SIZES.map(() => []);
    const b: number[][] = SIZES.map(() => []);
    const m: number[][] = SIZES.map(() => []);
    const s: { firstMs: number; ms: number; peakKiB: number | null }[][] = SIZES.map(() => []);
    const cappedRss: number[] = SIZES.map(() => NaN);
    for (let k = 0; k < QUICK_RUNS; k++) {
      for (const [i, store] of stores.entries()) {
        const r = await measureTusk(store.root, ["list", "job", "-n", "20"]);
        a[i]!.push(r.ms);
        m[i]!.push(r.peakKiB ?? NaN);
        const target = jobId(Math.floor(SIZES[i]! / 3)).slice(0, 12);
        b[i]!.push((await measureTusk(store.root, ["inspect", "job", target])).ms);
        if (k >= LIST_RUNS) continue;
        const l = await streamedList(store);
        if (l.rows !== SIZES[i]) throw new Error(`list job printed ${l.rows} rows of ${SIZES[i]}`);
        s[i]!.push(l);
      }
    }
    for (const [i, store] of stores.entries()) {
      const capped = await streamedList(store, [
        "run",
        "--quiet",
        ...TUSK_PERMS,
        CAPPED,
        MAIN,
        "list",
        "job",
      ]);
      if (capped.rows !== SIZES[i]) {
        throw new Error(`capped list job printed ${capped.rows} rows of ${SIZES[i]}`);
      }
      cappedRss[i] = capped.peakKiB ?? NaN;
    }
    const listN = a.map(median);
    const inspect = b.map(median);
    const listRss = m.map(median);
    const first = s.map((runs) => median(runs.map((r) => r.firstMs)));
    const whole = s.map((runs) => median(runs.map((r) => r.ms)));
    const rss = s.map((runs) => median(runs.map((r) => r.peakKiB ?? NaN)));
    for (const [i, n] of SIZES.entries()) {
      console.log(
        `  ${n.toLocaleString("en")} jobs: list job -n 20 ${formatMs(listN[i]!)} (${
          spread(a[i]!)
        }), ` +
          `inspect job ${formatMs(inspect[i]!)} (${spread(b[i]!)}), list job: first row ` +
          `${formatMs(first[i]!)}, all ${formatMs(whole[i]!)}, peak RSS ${formatMiB(rss[i]!)} ` +
          `(old generation capped: ${formatMiB(cappedRss[i]!)})`,
      );
    }
    const flat = (v: number[]) => ({ ok: v[v.length - 1]! / v[0]! <= 1.2, text: "≤ 1.2×" });
    row(`list job -n 20 (median of ${QUICK_RUNS})`, listN, formatMs, flat(listN));
    row("list job -n 20, peak RSS", listRss, formatMiB);
    row(`inspect job <prefix> (median of ${QUICK_RUNS})`, inspect, formatMs, flat(inspect));
    row(`list job, first row (median of ${LIST_RUNS})`, first, formatMs, flat(first));
    row(`list job, all rows (median of ${LIST_RUNS})`, whole, formatMs);
    row(
      "list job, per job",
      whole.map((ms, i) => ms / SIZES[i]!),
      (v) => `${(v * 1000).toFixed(0)} µs`,
    );
    row("list job, peak RSS", rss, formatMiB);
    row("list job, old generation capped at 32 MiB: peak RSS", cappedRss, formatMiB);
    curve("list job -n 20", listN);
    curve("inspect job <prefix>", inspect);
    curve("list job (streamed): first row", first);
    curve("list job (streamed, old generation capped): peak RSS", cappedRss);
  }

  const written: number[] = [];
  const kept: number[] = [];
  const replayed: number[] = [];
  if (run("journal") || run("dashboard")) {
    console.log(`\njournal (load average ${await loadAverage()})`);
    for (const [i, store] of stores.entries()) {
      const t0 = performance.now();
      written.push(writeJournal(store, SIZES[i]!));
      const disk = await journalOnDisk(store);
      kept.push(disk.bytes);
      replayed.push(disk.current);
      console.log(
        `  ${SIZES[i]!.toLocaleString("en")} jobs: ${
          (written[i]! / 2 ** 20).toFixed(1)
        } MiB written in ` +
          `${formatMs(performance.now() - t0)}; kept ${(disk.bytes / 2 ** 20).toFixed(1)} MiB in ` +
          `${disk.segments} older segments + the current (${
            (disk.current / 2 ** 20).toFixed(2)
          } MiB)`,
      );
    }
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    row("journal written", written, mib);
    curve("event journal: bytes kept", kept);
    row("journal kept on disk", kept, mib, {
      ok: kept[kept.length - 1]! <= 5 * 4 * 2 ** 20 + 2 ** 20,
      text: "bounded (≤ 21 MiB)",
    });
    row("journal replayed by the dashboard", replayed, mib, {
      ok: replayed.every((b) => b <= 4 * 2 ** 20 + 2 ** 20),
      text: "≤ one segment",
    });
  }

  if (run("dashboard")) {
    const env = Object.entries(UP_ENV).map(([k, v]) => `${k}=${v}`).join(" ") || "none";
    console.log(
      `\ndashboard (load average ${await loadAverage()}; both apps: ${UP_FLAGS.join(" ")}, ` +
        `environment ${env})`,
    );
    // Each round: the bare Ink app, then every size; medians over the rounds.
    const floors: { firstMs: number; rssKiB: number }[] = [];
    type UpRun = { firstMs: number; fullMs: number; rssKiB: number; hwmKiB: number };
    const runs: UpRun[][] = SIZES.map(() => []);
    const baseRuns: UpRun[][] = SIZES.map(() => []);
    const show = (d: UpRun) =>
      `${formatMs(d.firstMs)} / ${formatMs(d.fullMs)} ${formatMiB(d.rssKiB)} (peak ${
        formatMiB(d.hwmKiB)
      })`;
    for (let k = 0; k < UP_RUNS; k++) {
      const floor = await bareInk();
      floors.push(floor);
      const line = [`bare Ink ${formatMs(floor.firstMs)} ${formatMiB(floor.rssKiB)}`];
      for (const [i, store] of stores.entries()) {
        const newest = jobId(SIZES[i]!);
        const size = SIZES[i]!.toLocaleString("en");
        if (!BASE) {
          const d = await dashboard(store, newest);
          runs[i]!.push(d);
          line.push(`${size}: ${show(d)}`);
          continue;
        }
        // Paired with the other checkout, which goes first in every other round.
        const baseFirst = k % 2 === 0;
        const a = await dashboard(store, newest, baseFirst ? `${BASE}/main.ts` : undefined);
        const b = await dashboard(store, newest, baseFirst ? undefined : `${BASE}/main.ts`);
        const [own, base] = baseFirst ? [b, a] : [a, b];
        runs[i]!.push(own);
        baseRuns[i]!.push(base);
        line.push(`${size}: ${show(own)}, base ${show(base)}`);
      }
      console.log(
        `  round ${k + 1} (first frame / newest job shown, RSS idle): ${line.join("; ")}`,
      );
    }
    const floorKiB = median(floors.map((f) => f.rssKiB));
    const floorMs = median(floors.map((f) => f.firstMs));
    const firstF = runs.map((r) => median(r.map((d) => d.firstMs)));
    const full = runs.map((r) => median(r.map((d) => d.fullMs)));
    const rssUp = runs.map((r) => median(r.map((d) => d.rssKiB)));
    console.log(
      `  bare Ink + React app: first frame ${formatMs(floorMs)}, RSS ${formatMiB(floorKiB)} ` +
        `(medians of ${UP_RUNS})`,
    );
    row(`dashboard first frame (median of ${UP_RUNS})`, firstF, formatMs, {
      ok: firstF[firstF.length - 1]! < 1000,
      text: "< 1 s",
    });
    row(`dashboard, newest job shown (median of ${UP_RUNS})`, full, formatMs, {
      ok: full[full.length - 1]! < 1000,
      text: "< 1 s",
    });
    row(`dashboard RSS idle (median of ${UP_RUNS})`, rssUp, formatMiB);
    if (BASE) {
      const paired = (f: (d: UpRun) => number) =>
        runs.map((r, i) => median(r.map((d, k) => f(d) / f(baseRuns[i]![k]!))));
      const pairedLine = (name: string, f: (d: UpRun) => number) =>
        console.log(
          `  ${name}, this checkout / ${BASE} (median of the paired ratios): ${
            paired(f).map((r, i) => `${SIZES[i]!.toLocaleString("en")} ${r.toFixed(2)}×`)
              .join(", ")
          }`,
        );
      row(
        `base checkout: first frame (median of ${UP_RUNS})`,
        baseRuns.map((r) => median(r.map((d) => d.firstMs))),
        formatMs,
      );
      row(
        `base checkout: RSS idle (median of ${UP_RUNS})`,
        baseRuns.map((r) => median(r.map((d) => d.rssKiB))),
        formatMiB,
      );
      pairedLine("first frame", (d) => d.firstMs);
      pairedLine("newest job shown", (d) => d.fullMs);
      pairedLine("RSS idle", (d) => d.rssKiB);
    }
    curve("dashboard: first frame", firstF);
    curve("dashboard: RSS", rssUp);
    const ratios = rssUp.map((k) => k / floorKiB);
    table.push([
      `dashboard RSS / bare Ink + React (${formatMiB(floorKiB)}, first frame ${formatMs(floorMs)})`,
      ...ratios.map((r) => `${r.toFixed(2)}×`),
      "-",
      "≤ 1.3×",
      verdict(ratios.every((r) => r <= 1.3)),
    ]);
  }

  const head = [
    "benchmark",
    ...SIZES.map((n) => `${n.toLocaleString("en")} jobs`),
    "100k / 1k",
    "target",
    "result",
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(`\nSummary\n\n${line(head)}\n${line(widths.map((w) => "-".repeat(w)))}`);
  for (const r of table) console.log(line(r));
  console.log(
    `\ntotal ${formatMs(performance.now() - started)}; load average ${await loadAverage()}`,
  );
  if (svgArg) {
    const { renderSvg } = await import("../../lib/format/plot_render.ts");
    const file = svgArg.slice("--svg=".length);
    await Deno.writeTextFile(file, await renderSvg(plotSpec()));
    console.log(`plot: ${file}`);
  }
} finally {
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
