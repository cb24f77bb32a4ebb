/**
 * `tusk plots` as data: Vega-Lite specs (as DVC's plots) of metrics over a branch's
 * commits, oldest to newest, beside the newest confusion matrix as a heatmap, and the HTML
 * page that holds the rendered SVG and the spec. Pure: the rendering is `plot_render.ts`'s.
 */
import type { TopLevelSpec } from "vega-lite";
import { formatParams } from "./metric.ts";

/** One commit on a plot's x axis, oldest first. */
export interface PlotCommit {
  readonly id: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** Values of the plotted metrics this commit has. */
  readonly values: Readonly<Record<string, number>>;
}

/** What a plot shows. */
export interface PlotData {
  /** `repo@branch`, the plot's title. */
  readonly title: string;
  /** The plotted metrics, in the order asked. */
  readonly metrics: readonly string[];
  /** Oldest first. */
  readonly commits: readonly PlotCommit[];
  /** The newest confusion matrix and the commit it is from. */
  readonly confusion?: {
    readonly commit: string;
    readonly labels: readonly string[];
    readonly matrix: readonly (readonly number[])[];
  };
}

/** Characters of an id a plot shows. */
const SHORT = 8;
/** Longest x-axis label, in characters. */
const LABEL_MAX = 24;
/** Above this many commits, the points carry no value labels (they would overlap). */
const VALUE_LABELS_MAX = 24;
/** Above this many commits, the line has no point marks. */
const POINTS_MAX = 60;

/**
 * A label per commit: its parameters (`C=0.01`), or its short id when it has none; a label
 * two commits share gets the short id added (`C=1 (1a2b3c4d)`), so every label is unique.
 */
export function commitLabels(commits: readonly PlotCommit[]): string[] {
  const base = commits.map((c) => {
    const p = formatParams(c.params);
    return p.length > LABEL_MAX ? `${p.slice(0, LABEL_MAX - 1)}…` : p;
  });
  const seen = new Map<string, number>();
  for (const b of base) seen.set(b, (seen.get(b) ?? 0) + 1);
  return base.map((b, i) => {
    const id = commits[i]!.id.slice(0, SHORT);
    if (b === "") return id;
    return seen.get(b)! > 1 ? `${b} (${id})` : b;
  });
}

function metricChart(data: PlotData): Record<string, unknown> {
  const labels = commitLabels(data.commits);
  const values = data.commits.flatMap((c, n) =>
    data.metrics.filter((m) => Object.hasOwn(c.values, m)).map((metric) => ({
      n,
      commit: c.id.slice(0, SHORT),
      label: labels[n]!,
      metric,
      value: c.values[metric]!,
    }))
  );
  const several = data.metrics.length > 1;
  const layer: Record<string, unknown>[] = [{
    mark: { type: "line", point: data.commits.length <= POINTS_MAX },
  }];
  if (data.commits.length <= VALUE_LABELS_MAX) {
    layer.push({
      mark: { type: "text", dy: -10, fontSize: 10 },
      encoding: { text: { field: "value", type: "quantitative", format: ".4~f" } },
    });
  }
  return {
    title: `${
      data.metrics.length > 2 ? `${data.metrics.length} metrics` : data.metrics.join(", ")
    } over ${data.commits.length} commit${data.commits.length === 1 ? "" : "s"}`,
    width: Math.min(720, Math.max(240, 56 * data.commits.length)),
    height: 240,
    data: { values },
    encoding: {
      x: {
        field: "label",
        type: "ordinal",
        sort: { field: "n", op: "min", order: "ascending" },
        title: "commit (oldest → newest)",
        axis: { labelAngle: -35, labelLimit: 160, labelOverlap: true },
      },
      y: {
        field: "value",
        type: "quantitative",
        scale: { zero: false, nice: true },
        title: several ? "value" : data.metrics[0],
      },
      ...(several
        ? {
          color: {
            field: "metric",
            type: "nominal",
            title: "metric",
            sort: [...data.metrics],
            legend: { labelLimit: 400 },
          },
        }
        : {}),
    },
    layer,
  };
}

function heatmap(confusion: NonNullable<PlotData["confusion"]>): Record<string, unknown> {
  const { labels, matrix } = confusion;
  const values = matrix.flatMap((row, i) =>
    row.map((count, j) => ({ actual: labels[i]!, predicted: labels[j]!, count }))
  );
  // A loop, not Math.max(...counts): a large matrix has more cells than a call has arguments.
  const max = values.reduce((m, v) => Math.max(m, v.count), 0);
  const side = Math.min(480, Math.max(180, 48 * labels.length));
  return {
    title: `confusion matrix of ${confusion.commit.slice(0, SHORT)} (newest)`,
    width: side,
    height: side,
    data: { values },
    encoding: {
      x: {
        field: "predicted",
        type: "nominal",
        sort: [...labels],
        title: "predicted",
        axis: { labelAngle: -35 },
      },
      y: { field: "actual", type: "nominal", sort: [...labels], title: "actual" },
    },
    layer: [
      {
        mark: "rect",
        encoding: {
          color: {
            field: "count",
            type: "quantitative",
            title: "rows",
            scale: { scheme: "blues" },
          },
        },
      },
      {
        mark: { type: "text", fontSize: 12 },
        encoding: {
          text: { field: "count", type: "quantitative" },
          color: {
            condition: { test: `datum.count > ${max / 2}`, value: "white" },
            value: "black",
          },
        },
      },
    ],
  };
}

/** The Vega-Lite spec of `data`: the metric chart, then the heatmap under it. */
export function plotSpec(data: PlotData): TopLevelSpec {
  const charts = [metricChart(data), ...(data.confusion ? [heatmap(data.confusion)] : [])];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: data.title, anchor: "start", fontSize: 16 },
    background: "white",
    padding: 12,
    spacing: 36,
    resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
    vconcat: charts,
  } as unknown as TopLevelSpec;
}

/** `text` safe inside HTML text and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The id of the `<script type="application/json">` element that holds the spec. */
export const SPEC_ELEMENT_ID = "vega-lite-spec";

/**
 * A page that needs no network and no script: the rendered SVG inline, and the Vega-Lite
 * spec as JSON in `<script type="application/json" id="vega-lite-spec">` for whoever wants
 * to render it again (vega-embed, the Vega editor).
 */
export function plotPage(title: string, svg: string, spec: TopLevelSpec): string {
  // `<` as \u003c: the JSON cannot close the script element or open a comment.
  const json = JSON.stringify(spec, null, 2).replace(/</g, "\\u003c");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(`tusk plots: ${title}`)}</title>
<style>body { font-family: sans-serif; margin: 24px; background: #fff; }</style>
</head>
<body>
<figure>
${svg}
</figure>
<script type="application/json" id="${SPEC_ELEMENT_ID}">
${json}
</script>
</body>
</html>
`;
}
