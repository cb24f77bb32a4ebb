/**
 * The store benchmarks, run by `deno task bench`. Each one runs the real `tusk` CLI as a
 * subprocess and a baseline (cp + sync, git) in the same run, on the same file system,
 * and prints both times, their ratio and the target; a summary table follows. Runs
 * alternate between tusk and the baseline, `sync` runs before each timed run, and nothing
 * else is dropped. A missed target is reported, not fatal: the exit code is 1 only when a
 * benchmark could not run.
 */
import {
  freshGit,
  freshStore,
  gitOptions,
  oneMoreFile,
  scratchFolder,
  writeRandomFile,
  writeSmallFiles,
} from "./_fixtures.ts";
import {
  alternate,
  measure,
  type Measured,
  measureTusk,
  memoryMethod,
  syncAll,
} from "./_process.ts";
import { formatMiB, formatMs, loadAverage, markdownTable, maxOf, median } from "./_report.ts";

/** One line of the report. */
interface Row {
  readonly name: string;
  readonly tuskMs: number;
  readonly runs: number;
  readonly baseline?: { readonly label: string; readonly ms: number };
  /** Pass when tusk / baseline is at most this. */
  readonly maxRatio?: number;
  readonly peakKiB: number | null;
  /** Pass when the peak RSS is below this many MiB. */
  readonly maxPeakMiB?: number;
  /** Cost per file, e.g. "12.3 µs/file". */
  readonly perFile?: string;
}

/** What every benchmark gets: the scratch folder and tusk's fixed cost per command. */
interface Context {
  readonly root: string;
  /** Median time of `tusk list repo` on a store with one empty repo. */
  readonly startupMs: number;
}

const GIB = 1 << 30;
const REPO = "data";
const SMALL_RUNS = 5;
const BIG_RUNS = 3;

/** "PASS" when every target of the row is met, "MISS" when one is not, "info" without targets. */
function verdict(row: Row): "PASS" | "MISS" | "info" {
  const checks: boolean[] = [];
  if (row.maxRatio !== undefined && row.baseline) {
    checks.push(row.tuskMs / row.baseline.ms <= row.maxRatio);
  }
  if (row.maxPeakMiB !== undefined) {
    checks.push(row.peakKiB !== null && row.peakKiB / 1024 < row.maxPeakMiB);
  }
  if (checks.length === 0) return "info";
  return checks.every(Boolean) ? "PASS" : "MISS";
}

function ratioText(row: Row): string {
  return row.baseline ? `${(row.tuskMs / row.baseline.ms).toFixed(2)}x` : "-";
}

function line(row: Row): string {
  let text = `${row.name.padEnd(30)} tusk ${formatMs(row.tuskMs).padStart(9)}`;
  if (row.baseline) {
    text += `   ${row.baseline.label} ${formatMs(row.baseline.ms).padStart(9)}   ratio ${
      ratioText(row).padStart(6)
    }`;
    if (row.maxRatio !== undefined) text += `  (target ≤ ${row.maxRatio}x)`;
  }
  if (row.perFile) text += `   ${row.perFile}`;
  if (row.peakKiB !== null) {
    text += `  peak RSS ${formatMiB(row.peakKiB)}`;
    if (row.maxPeakMiB !== undefined) text += ` (target < ${row.maxPeakMiB} MiB)`;
  }
  return `${text}  ${verdict(row)}`;
}

function summary(rows: readonly Row[]): string {
  const head = [
    "Benchmark",
    "tusk",
    "Baseline",
    "Ratio",
    "Target",
    "Per file",
    "Peak RSS",
    "Result",
  ];
  const body = rows.map((r) => [
    `${r.name} (${r.runs === 1 ? "1 run" : `median of ${r.runs}`})`,
    formatMs(r.tuskMs),
    r.baseline ? `${r.baseline.label} ${formatMs(r.baseline.ms)}` : "-",
    ratioText(r),
    [
      r.maxRatio !== undefined ? `≤ ${r.maxRatio}x` : "",
      r.maxPeakMiB !== undefined ? `RSS < ${r.maxPeakMiB} MiB` : "",
    ].filter(Boolean).join(", ") || "-",
    r.perFile ?? "-",
    r.peakKiB !== null ? formatMiB(r.peakKiB) : "-",
    verdict(r),
  ]);
  return markdownTable(head, body);
}

function report(rows: Row[], row: Row): void {
  rows.push(row);
  console.log(line(row));
}

/** Free bytes on the file system holding `dir`. */
async function freeBytes(dir: string): Promise<number> {
  const r = await new Deno.Command("df", { args: ["-Pk", dir], stdout: "piped" }).output();
  const last = new TextDecoder().decode(r.stdout).trim().split("\n").pop() ?? "";
  return Number(last.split(/\s+/)[3]) * 1024;
}

async function fsType(dir: string): Promise<string> {
  const r = await new Deno.Command("df", { args: ["-PT", dir], stdout: "piped" }).output();
  const last = new TextDecoder().decode(r.stdout).trim().split("\n").pop() ?? "";
  return last.split(/\s+/)[1] ?? "?";
}

async function version(cmd: string, args: string[]): Promise<string> {
  const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(r.stdout).split("\n")[0]!.trim();
}

function medianMs(runs: readonly Measured[]): number {
  return median(runs.map((r) => r.ms));
}

function peak(runs: readonly Measured[]): number | null {
  return maxOf(runs.map((r) => r.peakKiB));
}

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if (b === 10) n++;
  return n;
}

// ---- 0. start-up ----

/**
 * Warm Deno's caches, then take the fixed cost every tusk command pays (runtime start,
 * module load, store open) with `list repo` on a store with one empty repo; `git status` in
 * an empty repo for scale. Returns tusk's median.
 */
async function benchStartup(root: string, rows: Row[]): Promise<number> {
  const store = `${root}/warm-store`;
  const git = `${root}/warm-git`;
  const tree = `${root}/warm-tree`;
  try {
    await freshStore(store, REPO);
    await measureTusk(store, ["list", "repo"]);
    const tusk: Measured[] = [];
    for (let i = 0; i < SMALL_RUNS; i++) tusk.push(await measureTusk(store, ["list", "repo"]));
    await Deno.mkdir(tree);
    await freshGit(git, tree);
    const status: Measured[] = [];
    for (let i = 0; i < SMALL_RUNS; i++) {
      status.push(await measure("git", ["status", "--short"], gitOptions(git, tree)));
    }
    report(rows, {
      name: "start-up (list repo, empty)",
      runs: SMALL_RUNS,
      tuskMs: medianMs(tusk),
      baseline: { label: "git status", ms: medianMs(status) },
      peakKiB: peak(tusk),
    });
    return medianMs(tusk);
  } finally {
    for (const p of [store, git, tree]) await Deno.remove(p, { recursive: true }).catch(() => {});
  }
}

// ---- 1. one large file ----

async function benchLargeFile({ root }: Context, rows: Row[]): Promise<void> {
  const src = `${root}/big-src.bin`;
  try {
    await writeRandomFile(src, GIB);
    const { tusk, baseline } = await alternate(
      BIG_RUNS,
      async (i) => {
        const store = `${root}/big-store-${i}`;
        try {
          await freshStore(store, REPO);
          await syncAll();
          return await measureTusk(store, ["put", "file", `${REPO}@master:/big`, "-f", src]);
        } finally {
          await Deno.remove(store, { recursive: true }).catch(() => {});
        }
      },
      async (i) => {
        const dest = `${root}/big-copy-${i}.bin`;
        try {
          await syncAll();
          return await measure("sh", ["-c", 'cp "$1" "$2" && sync "$2"', "sh", src, dest]);
        } finally {
          await Deno.remove(dest).catch(() => {});
        }
      },
    );
    report(rows, {
      name: "put file 1 GiB",
      runs: BIG_RUNS,
      tuskMs: medianMs(tusk),
      baseline: { label: "cp+sync", ms: medianMs(baseline) },
      maxRatio: 1.5,
      peakKiB: peak(tusk),
      maxPeakMiB: 100,
    });
    await benchGetLargeFile(root, src, rows);
  } finally {
    await Deno.remove(src).catch(() => {});
  }
}

/**
 * `get file -o` of the 1 GiB file, its hash checked as it is copied, against copying it and
 * checking its hash by hand (`cp` + `sha256sum`).
 */
async function benchGetLargeFile(root: string, src: string, rows: Row[]): Promise<void> {
  const store = `${root}/get-store`;
  try {
    await freshStore(store, REPO);
    await measureTusk(store, ["put", "file", `${REPO}@master:/big`, "-f", src]);
    const { tusk, baseline } = await alternate(
      BIG_RUNS,
      async (i) => {
        const dest = `${root}/got-${i}.bin`;
        try {
          await syncAll();
          return await measureTusk(store, ["get", "file", `${REPO}@master:/big`, "-o", dest]);
        } finally {
          await Deno.remove(dest).catch(() => {});
        }
      },
      async (i) => {
        const dest = `${root}/cat-${i}.bin`;
        try {
          await syncAll();
          return await measure("sh", ["-c", 'cp "$1" "$2" && sha256sum "$2"', "sh", src, dest]);
        } finally {
          await Deno.remove(dest).catch(() => {});
        }
      },
    );
    report(rows, {
      name: "get file 1 GiB -o",
      runs: BIG_RUNS,
      tuskMs: medianMs(tusk),
      baseline: { label: "cp+sha256sum", ms: medianMs(baseline) },
      maxRatio: 1,
      peakKiB: peak(tusk),
      maxPeakMiB: 100,
    });
  } finally {
    await Deno.remove(store, { recursive: true }).catch(() => {});
  }
}

// ---- 2 and 3. ten thousand small files ----

const LAYOUT_10K = [
  { folder: "", count: 100 },
  ...Array.from({ length: 9 }, (_, i) => ({ folder: `part-${i}`, count: 1100 })),
];

async function benchSmallFiles({ root }: Context, rows: Row[]): Promise<void> {
  const tree = `${root}/small-10k`;
  const made = await writeSmallFiles(tree, LAYOUT_10K, { seed: 10 });
  console.log(`  (${made.files} files, ${made.bytes} bytes in ${LAYOUT_10K.length - 1} folders)`);

  // 2. put the whole folder into a fresh store vs git add + commit into a fresh repo.
  const { tusk, baseline } = await alternate(
    SMALL_RUNS,
    async (i) => {
      const store = `${root}/small-store-${i}`;
      try {
        await freshStore(store, REPO);
        await syncAll();
        return await measureTusk(store, ["put", "file", `${REPO}@master`, "-r", "-f", `${tree}/.`]);
      } finally {
        await Deno.remove(store, { recursive: true }).catch(() => {});
      }
    },
    async (i) => {
      const git = `${root}/small-git-${i}`;
      try {
        await freshGit(git, tree);
        await syncAll();
        return await measure(
          "sh",
          ["-c", "git add -A && git commit -q -m x"],
          gitOptions(git, tree),
        );
      } finally {
        await Deno.remove(git, { recursive: true }).catch(() => {});
      }
    },
  );
  report(rows, {
    name: "put file -r 10,000 files",
    runs: SMALL_RUNS,
    tuskMs: medianMs(tusk),
    baseline: { label: "git add+commit", ms: medianMs(baseline) },
    maxRatio: 1.0,
    peakKiB: peak(tusk),
  });

  // 3. one new file into a repo that already holds the 10,000.
  const store = `${root}/one-store`;
  const git = `${root}/one-git`;
  const single = `${root}/one-src`;
  try {
    await freshStore(store, REPO);
    await measureTusk(store, ["put", "file", `${REPO}@master`, "-r", "-f", `${tree}/.`]);
    const part = await measureTusk(store, ["list", "file", `${REPO}@master:/part-0`]);
    if (countLines(part.stdout) - 1 !== LAYOUT_10K[1]!.count) {
      throw new Error(`"put file -r" did not put the folder's files at the top of the repo`);
    }
    await freshGit(git, tree);
    await measure("sh", ["-c", "git add -A && git commit -q -m x"], gitOptions(git, tree));
    const one = await oneMoreFile(store, git, tree, single, { repo: REPO, runs: SMALL_RUNS });
    report(rows, {
      name: "put 1 file into 10,000",
      runs: SMALL_RUNS,
      tuskMs: medianMs(one.tusk),
      baseline: { label: "git add+commit", ms: medianMs(one.baseline) },
      maxRatio: 1.0,
      peakKiB: peak(one.tusk),
    });
  } finally {
    for (const p of [store, git, single, tree]) {
      await Deno.remove(p, { recursive: true }).catch(() => {});
    }
  }
}

// ---- 4. a repo of one hundred thousand files ----

const FLAT = 10_000;
const LAYOUT_100K = [
  { folder: "", count: FLAT, prefix: "r" },
  { folder: "dir", count: FLAT },
  ...Array.from({ length: 80 }, (_, i) => ({
    folder: `sub/p${String(i).padStart(2, "0")}`,
    count: 1000,
  })),
];

async function benchHundredThousand(
  { root, startupMs }: Context,
  rows: Row[],
): Promise<void> {
  const tree = `${root}/files-100k`;
  const store = `${root}/big-repo-store`;
  const git = `${root}/big-repo-git`;
  const single = `${root}/big-repo-one`;
  try {
    const start = performance.now();
    const made = await writeSmallFiles(tree, LAYOUT_100K, { seed: 100 });
    const createMs = performance.now() - start;
    console.log(
      `  (${made.files} files, ${made.bytes} bytes written with Deno.writeFile in ${
        formatMs(createMs)
      })`,
    );
    const files = made.files;
    const per = (ms: number, n: number) =>
      `${((ms * 1000) / n).toFixed(1)} µs/file (${
        (((ms - startupMs) * 1000) / n).toFixed(1)
      } net of start-up)`;

    await freshStore(store, REPO);
    await syncAll();
    const put = await measureTusk(store, [
      "put",
      "file",
      `${REPO}@master`,
      "-r",
      "-f",
      `${tree}/.`,
    ]);
    await freshGit(git, tree);
    await syncAll();
    const add = await measure(
      "sh",
      ["-c", "git add -A && git commit -q -m x"],
      gitOptions(git, tree),
    );
    report(rows, {
      name: "put file -r 100,000 files",
      runs: 1,
      tuskMs: put.ms,
      baseline: { label: "git add+commit", ms: add.ms },
      peakKiB: put.peakKiB,
      perFile: per(put.ms, files),
    });

    await syncAll();
    const verify: Measured[] = [];
    for (let i = 0; i < BIG_RUNS; i++) verify.push(await measureTusk(store, ["verify"]));
    report(rows, {
      name: "verify 100,000 files",
      runs: BIG_RUNS,
      tuskMs: medianMs(verify),
      peakKiB: peak(verify),
      perFile: per(medianMs(verify), files),
    });

    const listings: [string, string, number][] = [
      ["list file /dir (10,000)", `${REPO}@master:/dir`, FLAT],
      ["list file / (10,002)", `${REPO}@master`, FLAT + 2],
    ];
    for (const [name, ref, expected] of listings) {
      const runs: Measured[] = [];
      for (let i = 0; i < SMALL_RUNS; i++) {
        runs.push(await measureTusk(store, ["list", "file", ref]));
      }
      const listed = countLines(runs[0]!.stdout) - 1;
      if (listed !== expected) {
        throw new Error(`"list file ${ref}" listed ${listed} entries, expected ${expected}`);
      }
      report(rows, {
        name,
        runs: SMALL_RUNS,
        tuskMs: medianMs(runs),
        peakKiB: peak(runs),
        perFile: per(medianMs(runs), listed),
      });
    }

    // One more file into the 100,000: should cost about what it costs into 10,000.
    const one = await oneMoreFile(store, git, tree, single, { repo: REPO, runs: SMALL_RUNS });
    report(rows, {
      name: "put 1 file into 100,000",
      runs: SMALL_RUNS,
      tuskMs: medianMs(one.tusk),
      baseline: { label: "git add+commit", ms: medianMs(one.baseline) },
      peakKiB: peak(one.tusk),
    });
  } finally {
    for (const p of [store, git, single, tree]) {
      await Deno.remove(p, { recursive: true }).catch(() => {});
    }
  }
}

// ---- driver ----

async function main(): Promise<number> {
  const started = performance.now();
  const base = "/tmp";
  const free = await freeBytes(base);
  const rows: Row[] = [];
  let broken = 0;
  {
    // The scratch folder is removed at the end of this block, before the summary.
    using scratch = await scratchFolder(base, "tusk-bench-");
    const root = scratch.path;
    console.log(
      `tusk store benchmarks: ${Deno.version.deno} (deno), ${await version("git", [
        "--version",
      ])}, ${navigator.hardwareConcurrency} CPUs`,
    );
    console.log(
      `scratch ${root} (${await fsType(root)}, ${(free / GIB).toFixed(0)} GiB free); ` +
        `peak memory: ${await memoryMethod()}; times are medians of ${SMALL_RUNS} runs ` +
        `(${BIG_RUNS} for 1 GiB and verify), sync before each timed run; ` +
        `load average ${await loadAverage()}`,
    );
    console.log("\nstart-up");
    let startupMs = 0;
    try {
      startupMs = await benchStartup(root, rows);
    } catch (err) {
      broken++;
      console.log(`  ERROR: ${err instanceof Error ? err.message : String(err)}`);
    }
    const ctx: Context = { root, startupMs };

    const benches: [string, (ctx: Context, rows: Row[]) => Promise<void>, number][] = [
      ["large file (1 GiB): put, get", benchLargeFile, 4 * GIB],
      ["10,000 small files", benchSmallFiles, GIB / 4],
      ["100,000 files", benchHundredThousand, 2 * GIB],
    ];
    // `main.ts large` runs only the sections whose name holds "large" (any case).
    const only = Deno.args.map((a) => a.toLowerCase());
    for (const [name, bench, needs] of benches) {
      if (only.length && !only.some((a) => name.toLowerCase().includes(a))) continue;
      console.log(`\n${name}`);
      if ((await freeBytes(root)) < needs) {
        console.log(`  skipped: needs ${(needs / GIB).toFixed(2)} GiB free in ${base}`);
        continue;
      }
      try {
        await bench(ctx, rows);
      } catch (err) {
        broken++;
        console.log(`  ERROR: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  console.log(`\nSummary\n\n${summary(rows)}\n`);
  const missed = rows.filter((r) => verdict(r) === "MISS").length;
  console.log(
    `${rows.filter((r) => verdict(r) === "PASS").length} passed, ${missed} missed, ${broken} ` +
      `could not run; total ${formatMs(performance.now() - started)}; ` +
      `load average ${await loadAverage()}`,
  );
  return broken ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
