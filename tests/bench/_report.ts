/**
 * Statistics and formatting for the benchmarks (medians, ranges, durations, sizes, the load
 * average), and the report of the pipeline and iris benchmarks: one line per benchmark as
 * it finishes (tusk's figure, the baseline measured in the same run, their ratio, the
 * target and PASS / MISS), indented detail lines, and a closing markdown table.
 */

/** How a figure is printed. */
export type Unit = "ms" | "ms/datum" | "MiB" | "requests";

/** A target: tusk's figure itself (`value`) or tusk / baseline (`ratio`), below a limit. */
export interface Target {
  readonly of: "value" | "ratio";
  /** `<` for "under", `≤` for "at most". */
  readonly op: "<" | "≤";
  readonly limit: number;
}

/** One benchmark's result. */
export interface Row {
  readonly name: string;
  /** How the figure was taken, e.g. "median of 20", "1 run". */
  readonly runs: string;
  readonly unit: Unit;
  readonly tusk: number;
  readonly baseline?: { readonly label: string; readonly value: number };
  readonly target?: Target;
}

/** A duration: "41.2 ms", "412 ms", "1.62 s". */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** KiB as whole MiB: "58 MiB". */
export function formatMiB(kib: number): string {
  return `${Math.round(kib / 1024)} MiB`;
}

/** A markdown table of `head` and the rows of `body`, each column padded to its widest cell. */
export function markdownTable(head: readonly string[], body: readonly string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [fmt(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(fmt)]
    .join("\n");
}

/** A figure in its unit. */
export function formatValue(value: number, unit: Unit): string {
  switch (unit) {
    case "ms":
      return formatMs(value);
    case "ms/datum":
      return `${value.toFixed(2)} ms/datum`;
    case "MiB":
      return `${value.toFixed(0)} MiB`;
    case "requests":
      return `${value.toFixed(0)} requests`;
  }
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new TypeError("Cannot take the median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The largest value, ignoring nulls; null when there is none. */
export function maxOf(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.max(...known) : null;
}

/** "min–max" of a list of durations, for detail lines. */
export function spread(values: readonly number[]): string {
  return `${formatMs(Math.min(...values))}–${formatMs(Math.max(...values))}`;
}

/** tusk / baseline, or null without a baseline. */
export function ratioOf(row: Row): number | null {
  return row.baseline ? row.tusk / row.baseline.value : null;
}

/** "PASS" or "MISS" against the target; "info" for a row without one. */
export function verdict(row: Row): "PASS" | "MISS" | "info" {
  const t = row.target;
  if (!t) return "info";
  const value = t.of === "ratio" ? ratioOf(row) : row.tusk;
  if (value === null) return "info";
  return (t.op === "<" ? value < t.limit : value <= t.limit) ? "PASS" : "MISS";
}

/** The target as written: a ratio limit keeps its digits (1.05x), a whole one shows 2.0x. */
function targetText(row: Row): string {
  const t = row.target;
  if (!t) return "-";
  return t.of === "ratio"
    ? `${t.op} ${Number.isInteger(t.limit) ? t.limit.toFixed(1) : t.limit}x`
    : `${t.op} ${formatValue(t.limit, row.unit)}`;
}

function ratioText(row: Row): string {
  const r = ratioOf(row);
  return r === null ? "-" : `${r.toFixed(2)}x`;
}

/** Collects rows, printing each as it comes, and renders the closing table. */
export class Report {
  readonly rows: Row[] = [];

  /** Record a row and print its line. */
  add(row: Row): void {
    this.rows.push(row);
    let text = `${row.name} (${row.runs}): tusk ${formatValue(row.tusk, row.unit)}`;
    if (row.baseline) {
      text += `, ${row.baseline.label} ${formatValue(row.baseline.value, row.unit)}, ratio ${
        ratioText(row)
      }`;
    }
    text += `, target ${targetText(row)}  ${verdict(row)}`;
    console.log(text);
  }

  /** Print an indented detail line under the current benchmark. */
  detail(text: string): void {
    console.log(`    ${text}`);
  }

  /** The rows as a markdown table. */
  table(): string {
    const head = ["Benchmark", "tusk", "Baseline (same run)", "Ratio", "Target", "Result"];
    const body = this.rows.map((r) => [
      `${r.name} (${r.runs})`,
      formatValue(r.tusk, r.unit),
      r.baseline ? `${r.baseline.label}: ${formatValue(r.baseline.value, r.unit)}` : "-",
      ratioText(r),
      targetText(r),
      verdict(r),
    ]);
    return markdownTable(head, body);
  }

  /** "3 passed, 1 missed, 2 for information". */
  counts(): string {
    const v = this.rows.map(verdict);
    const n = (x: string) => v.filter((y) => y === x).length;
    return `${n("PASS")} passed, ${n("MISS")} missed, ${n("info")} for information`;
  }

  /**
   * Print the closing summary: the table, the counts, how many benchmarks could not run
   * (`broken`), the total time since `startedMs` and the load average.
   */
  async printSummary(broken: number, startedMs: number): Promise<void> {
    console.log(`\nSummary\n\n${this.table()}\n`);
    console.log(
      `${this.counts()}, ${broken} could not run; total ${
        formatMs(performance.now() - startedMs)
      }; load average ${await loadAverage()}`,
    );
  }
}

/** One benchmark of a report: its numbered title ("1. trigger latency") and its body. */
export type Section = readonly [title: string, run: (dir: string) => Promise<void>];

/**
 * Run `sections` in turn, each in a folder of its own (`<root>/<its number>`, removed after)
 * under a heading with the load average, printing its time after it. A section that throws
 * is printed and counted, not rethrown; returns how many could not run.
 */
export async function runSections(root: string, sections: readonly Section[]): Promise<number> {
  let broken = 0;
  for (const [i, [title, run]] of sections.entries()) {
    const t0 = performance.now();
    console.log(`\n${title} (load average ${await loadAverage()})`);
    const dir = `${root}/${i + 1}`;
    try {
      await run(dir);
    } catch (err) {
      broken++;
      console.log(`  ERROR: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    console.log(`    (${formatMs(performance.now() - t0)})`);
  }
  return broken;
}

/**
 * The 1-minute load average: other work on the machine makes every figure noisier. Read
 * through `cat`, which needs no --allow-sys (Deno reads nothing under /proc without -A).
 */
export async function loadAverage(): Promise<string> {
  try {
    const r = await new Deno.Command("cat", { args: ["/proc/loadavg"], stdout: "piped" }).output();
    return new TextDecoder().decode(r.stdout).split(" ")[0] || "?";
  } catch {
    return "?";
  }
}
