/** `tusk metrics show|diff` and `tusk plots`: the metrics a branch's commits hold. */
import type { MetricsSide } from "../lib/metrics.ts";
import { formatAge, formatTable } from "../lib/format/format.ts";
import { formatChange, formatMetric, formatParams, headlineColumns } from "../lib/format/metric.ts";
import { count } from "./_count.ts";
import { type CliContext, load } from "./context.ts";

type Metrics = typeof import("../lib/metrics.ts");

/** The metrics verbs: their lean surface, not the whole library (see lib/metrics.ts). */
const verbs = () => load<Metrics>("../lib/metrics.ts");

/** Characters of a commit id a table shows. */
const SHORT = 8;

const short = (id: string | null) => id === null ? "-" : id.slice(0, SHORT);

/** `tusk metrics show <repo@branch[:/path]>`: one row per commit holding the file, newest first. */
export async function metricsShow(
  cli: CliContext,
  [ref]: [string],
  o: { number: string | undefined; metric: string[]; all: boolean; json: boolean },
): Promise<void> {
  const store = await cli.store();
  const limit = count(o.number);
  const lib = await verbs();
  const rows = await lib.metricsShow(store, ref, {
    ...(limit ? { limit } : {}),
    ...(o.metric.length ? { metrics: o.metric } : {}),
  });
  if (o.json) return cli.json(rows);
  if (rows.length === 0) {
    const at = ref.indexOf(":", ref.indexOf("@"));
    cli.err(`No commit of ${ref} holds ${at < 0 ? "/metrics.json" : "that file"}: no metrics\n`);
    return;
  }
  const names = lib.metricNames(rows);
  const columns = o.metric.length || o.all ? names : headlineColumns(names);
  const withParams = rows.some((r) => Object.keys(r.params).length > 0);
  const withError = rows.some((r) => r.error !== undefined);
  const now = store.now();
  cli.out(formatTable(
    [
      "COMMIT",
      "AGE",
      "INPUTS",
      ...(withParams ? ["PARAMS"] : []),
      ...columns,
      ...(withError ? ["ERROR"] : []),
    ],
    rows.map((r) => [
      short(r.commit),
      formatAge(r.time, now),
      r.inputs.map((i) => `${i.repo}@${short(i.commit)}`).join(" ") || "-",
      ...(withParams ? [formatParams(r.params) || "-"] : []),
      ...columns.map((c) => {
        const v = r.metrics[c];
        return v === undefined ? "-" : formatMetric(v);
      }),
      ...(withError ? [r.error === undefined ? "" : `${r.path}: ${r.error}`] : []),
    ]),
  ));
}

/** A side of a diff for people: `model@1a2b3c4d (C=1)`. */
function sideText(s: MetricsSide): string {
  const params = formatParams(s.params);
  return `${s.repo}@${short(s.commit)}${params ? ` (${params})` : ""}`;
}

/** `tusk metrics diff <ref> [<ref>]`: each metric's old and new value and the change. */
export async function metricsDiff(
  cli: CliContext,
  [first, second]: [string, string | undefined],
  o: { metric: string[]; all: boolean; json: boolean },
): Promise<void> {
  const store = await cli.store();
  const lib = await verbs();
  const diff = await lib.metricsDiff(store, second === undefined ? [first] : [first, second]);
  let metrics = diff.metrics;
  if (o.metric.length && metrics.length) {
    const keep = new Set(lib.pickMetrics(o.metric, metrics.map((m) => m.name)));
    metrics = metrics.filter((m) => keep.has(m.name));
  }
  if (!o.all) metrics = metrics.filter((m) => m.state !== "unchanged");
  if (o.json) return cli.json({ ...diff, metrics });
  const sides = [diff.old, diff.new] as const;
  for (const [name, s] of [["old", sides[0]], ["new", sides[1]]] as const) {
    if (s.error !== undefined) {
      cli.err(`${name}: ${s.repo}@${short(s.commit)}:${s.path} cannot be read: ${s.error}\n`);
    }
  }
  cli.out(`${sideText(diff.old)} → ${sideText(diff.new)}\n`);
  if (sides.some((s) => s.error !== undefined)) return;
  if (!diff.old.found && !diff.new.found) {
    cli.out(`Neither commit holds ${diff.new.path}: no metrics to compare\n`);
    return;
  }
  if (metrics.length === 0) {
    cli.out("No metric changed (--all shows every metric)\n");
    return;
  }
  cli.out(formatTable(
    ["METRIC", "OLD", "NEW", "CHANGE"],
    metrics.map((m) => [
      m.name,
      m.old === null ? "-" : formatMetric(m.old),
      m.new === null ? "-" : formatMetric(m.new),
      m.change === null ? m.state : formatChange(m.change),
    ]),
  ));
}

/** `tusk plots <repo@branch[:/path]> -o FILE.svg|FILE.html`: draw the metrics. */
export async function plots(
  cli: CliContext,
  [ref]: [string],
  o: { output: string; metric: string[]; number: string | undefined },
): Promise<void> {
  const lib = await verbs();
  lib.plotFormat(o.output);
  const limit = count(o.number);
  const r = await lib.plots(await cli.store(), ref, {
    output: o.output,
    cwd: cli.cwd,
    ...(o.metric.length ? { metrics: o.metric } : {}),
    ...(limit ? { limit } : {}),
  });
  cli.out(
    `Wrote ${r.path}: ${r.metrics.join(", ")} over ${r.commits} commit${
      r.commits === 1 ? "" : "s"
    }` + (r.confusion ? `, and the confusion matrix of ${short(r.confusion)}` : "") + "\n",
  );
}
